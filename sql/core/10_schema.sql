-- The llm schema and the extensions it needs (pgcrypto, vector; pg_cron where it can be created).

-- llm core: the `llm` schema, its extensions, typed settings, package admins,
-- caller helpers, user identifiers (llm.user_uuid) and the pg_cron job registry.
-- Every later migration builds on these objects.
create schema if not exists llm;
comment on schema llm is
'LLM data layer: conversations, response cache, request log, usage metering and quotas.';
create schema if not exists extensions;
create extension if not exists pgcrypto with schema extensions;
create extension if not exists vector with schema extensions;

-- pg_cron can only be created in the database named by cron.database_name; anywhere else
-- (or where it is not installed) the jobs are simply not scheduled and run by hand.
do $$
begin
    if exists (select from pg_catalog.pg_available_extensions where name = 'pg_cron') then
        begin
            create extension if not exists pg_cron with schema pg_catalog;
        exception when others then
            raise notice 'pg_cron not created here (%); llm jobs must be run by hand', sqlerrm;
        end;
    end if;
end
$$;
do $$
begin
    if not exists (
        select from pg_catalog.pg_extension
        where extname = 'pgcrypto' and extnamespace = 'extensions'::regnamespace
    ) then
        raise exception 'llm needs pgcrypto in schema extensions (found it elsewhere)'
            using hint = 'alter extension pgcrypto set schema extensions';
    end if;
end
$$;
grant usage on schema llm to anon, authenticated, service_role;
