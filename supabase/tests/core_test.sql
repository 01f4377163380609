-- pgTAP tests of the core, runnable with `supabase test db` (and by pytest).
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(8);

select has_schema('llm', 'schema llm exists');
select has_table('llm', 'settings', 'settings table exists');
select has_function('llm', 'user_uuid', array['text'], 'llm.user_uuid(text) exists');
select is(
    llm.user_uuid('user-123'),
    '3a1b8473-3492-5076-98f9-b2dfa6d37933'::uuid,
    'identifiers map to uuid_v5(NAMESPACE_DNS, identifier)'
);
select is(
    llm.user_uuid('0b6f1c4e-3c8a-4f55-9a41-2f5d0d1b8a10'),
    '0b6f1c4e-3c8a-4f55-9a41-2f5d0d1b8a10'::uuid,
    'UUIDs pass through'
);
select throws_ok($$select llm.user_uuid('  ')$$, '22023', null, 'blank identifiers are rejected');
select throws_ok($$select llm.user_uuid(null)$$, '22023', null, 'NULL identifiers are rejected');
select ok(
    not has_function_privilege('anon', 'llm.user_uuid(text)', 'execute'),
    'anon cannot execute llm functions'
);

select * from finish();
rollback;
