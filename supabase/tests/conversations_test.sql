-- pgTAP tests of conversations, runnable with `supabase test db` (and by pytest).
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(10);

select has_table('llm', 'conversations', 'conversations table exists');
select has_table('llm', 'messages', 'messages table exists');
select has_function(
    'llm', 'append_chat_message',
    array['text', 'text', 'text', 'text', 'jsonb', 'text', 'integer', 'integer', 'integer'],
    'append_chat_message exists with the chat-session parameters'
);

select set_config('role', 'service_role', true);
select is(
    llm.create_conversation(user_id => 'pgtap-user', conversation_id => 'pgtap-conv'),
    'pgtap-conv',
    'create_conversation returns the client id'
);
select is(
    (llm.add_message('pgtap-conv', 'user', 'hello', '{"tokens": 3}')).seq,
    1::bigint,
    'the first message gets seq 1'
);
select is(
    (llm.add_message('pgtap-conv', 'assistant', 'hi', '{"tokens": 4}')).seq,
    2::bigint,
    'the next one gets seq 2'
);
select is(
    (llm.get_conversation('pgtap-conv')).total_tokens,
    7::bigint,
    'the conversation token total is the sum of its messages'
);
select results_eq(
    $$select content from llm.get_messages('pgtap-conv')$$,
    array['hello', 'hi'],
    'get_messages returns the messages oldest first'
);
select throws_ok(
    $$select llm.add_message('no-such-conversation', 'user', 'lost?')$$,
    'P0002', null, 'an unknown conversation id is an error, not a silent loss'
);
select throws_ok(
    $$select llm.add_message('pgtap-conv', 'robot', 'x')$$,
    '22023', null, 'an unknown role is refused'
);

select * from finish();
rollback;
