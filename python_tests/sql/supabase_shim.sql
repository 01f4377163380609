-- Test-only stand-in for what a hosted Supabase database provides before the package is
-- installed, applied by the bootstrap superuser supabase_admin to each database (the roles come
-- from supabase_roles.sql, once per cluster): schema auth (owned by supabase_admin) with
-- auth.users and the JWT helper functions, with the grants hosted projects give postgres on
-- them; schema extensions with the extensions Supabase pre-creates (pgcrypto: vector is created
-- by the package as postgres, as supautils lets it on hosted Supabase); pg_cron in pg_catalog where
-- it can be created, with the cron grants Supabase gives postgres; and the supabase_realtime
-- publication, owned by postgres. Never part of the migrations. The harness skips it on a
-- server where auth.users already exists (supabase start).

set local client_min_messages = warning;

create schema if not exists auth authorization supabase_admin;
create schema if not exists extensions;
grant all on schema auth to supabase_auth_admin;
grant usage on schema auth to anon, authenticated, service_role;
grant usage on schema extensions to anon, authenticated, service_role;
grant all on schema extensions to postgres;

create extension if not exists pgcrypto with schema extensions;

create table if not exists auth.users (
    id uuid primary key default gen_random_uuid(),
    aud text default 'authenticated',
    role text default 'authenticated',
    email text unique,
    raw_app_meta_data jsonb default '{"provider": "email", "providers": ["email"]}',
    raw_user_meta_data jsonb default '{}',
    created_at timestamptz default now(),
    updated_at timestamptz default now(),
    deleted_at timestamptz
);

create or replace function auth.uid() returns uuid
language sql stable
as $$
    select coalesce(
        nullif(current_setting('request.jwt.claim.sub', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
    )::uuid;
$$;

create or replace function auth.role() returns text
language sql stable
as $$
    select coalesce(
        nullif(current_setting('request.jwt.claim.role', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
    )::text;
$$;

create or replace function auth.email() returns text
language sql stable
as $$
    select coalesce(
        nullif(current_setting('request.jwt.claim.email', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
    )::text;
$$;

create or replace function auth.jwt() returns jsonb
language sql stable
as $$
    select coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
    )::jsonb;
$$;

-- As on hosted projects: Supabase Auth owns its tables and functions; postgres may use them
-- all (and so create triggers on auth.users), but owns none of them.
alter table auth.users owner to supabase_auth_admin;
alter function auth.uid() owner to supabase_auth_admin;
alter function auth.role() owner to supabase_auth_admin;
alter function auth.email() owner to supabase_auth_admin;
alter function auth.jwt() owner to supabase_auth_admin;
grant execute on function auth.uid(), auth.role(), auth.email(), auth.jwt()
to anon, authenticated, service_role;
grant usage on schema auth to postgres;
grant all on all tables in schema auth to postgres;
grant all on all sequences in schema auth to postgres;
grant all on all routines in schema auth to postgres;

-- pg_cron can only be created in cron.database_name; Supabase creates it for postgres
-- (supautils) and grants what extensions.grant_pg_cron_access() grants.
do $$
begin
    if exists (select from pg_catalog.pg_available_extensions where name = 'pg_cron') then
        begin
            create extension if not exists pg_cron with schema pg_catalog;
        exception when others then
            null;  -- not this database: the package schedules nothing here
        end;
    end if;
    if exists (select from pg_catalog.pg_extension where extname = 'pg_cron') then
        grant usage on schema cron to postgres with grant option;
        alter default privileges in schema cron grant all on tables to postgres with grant option;
        alter default privileges in schema cron
        grant all on functions to postgres with grant option;
        alter default privileges in schema cron
        grant all on sequences to postgres with grant option;
        grant all privileges on all tables in schema cron to postgres with grant option;
        revoke all on table cron.job from postgres;
        grant select on table cron.job to postgres with grant option;
        revoke trigger on cron.job_run_details from postgres;
    end if;
end
$$;

do $$
begin
    if not exists (select from pg_catalog.pg_publication where pubname = 'supabase_realtime') then
        create publication supabase_realtime;
    end if;
end
$$;
alter publication supabase_realtime owner to postgres;
