-- Test-only: the cluster-wide roles of a hosted Supabase project, created by the bootstrap
-- superuser supabase_admin once per cluster (roles are not per database). Never part of the
-- migrations. Mirrors supabase/postgres (migrations/db): postgres is demoted to a
-- non-superuser with createrole, createdb, replication and bypassrls; the Data API roles and
-- their timeouts are those PostgREST logs in and switches to.

do $$
begin
    if not exists (select from pg_catalog.pg_roles where rolname = 'postgres') then
        create role postgres;
    end if;
    if not exists (select from pg_catalog.pg_roles where rolname = 'anon') then
        create role anon nologin;
    end if;
    if not exists (select from pg_catalog.pg_roles where rolname = 'authenticated') then
        create role authenticated nologin;
    end if;
    if not exists (select from pg_catalog.pg_roles where rolname = 'service_role') then
        create role service_role nologin;
    end if;
    if not exists (select from pg_catalog.pg_roles where rolname = 'authenticator') then
        create role authenticator;
    end if;
    if not exists (select from pg_catalog.pg_roles where rolname = 'supabase_auth_admin') then
        create role supabase_auth_admin;
    end if;
end
$$;

alter role postgres nosuperuser createdb createrole login replication bypassrls;
alter role postgres set search_path = "$user", public, extensions;  -- noqa: RF05
alter role anon nologin inherit;
alter role authenticated nologin inherit;
alter role service_role nologin inherit bypassrls;
alter role authenticator login noinherit;
alter role supabase_auth_admin noinherit createrole login;

-- (role grants in a block: sqlfluff does not parse GRANT role TO role)
do $$
begin
    grant anon, authenticated, service_role to authenticator;
    grant anon, authenticated, service_role to postgres;
    grant pg_read_all_data, pg_signal_backend, pg_monitor to postgres;
end
$$;

-- What PostgREST's connections get on hosted Supabase
alter role authenticator set statement_timeout = '8s';
alter role authenticator set lock_timeout = '8s';
alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';

-- The maintenance database belongs to supabase_admin, as on hosted projects; postgres works in it.
grant all on database postgres to postgres;
