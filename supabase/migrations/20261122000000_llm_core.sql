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

-- ---------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------

create table if not exists llm.settings (
    key text primary key check (key ~ '^[a-z][a-z0-9_]*$'),
    value_type text not null check (
        value_type in ('boolean', 'integer', 'numeric', 'text', 'interval', 'cron', 'jsonb')
    ),
    value jsonb not null,
    default_value jsonb not null,
    description text not null,
    updated_at timestamptz not null default now(),
    updated_by uuid
);
comment on table llm.settings is
'Typed package settings. Read by admins; changed only through llm.set_setting().';
comment on column llm.settings.value_type is
'Type every value must have: boolean, integer, numeric, text, interval, cron or jsonb.';
comment on column llm.settings.value is 'Current value, as JSON of the declared type.';
comment on column llm.settings.default_value is 'Value restored by llm.reset_setting().';
comment on column llm.settings.updated_by is 'auth.uid() of the admin who last changed it.';

create table if not exists llm.admins (
    user_id uuid primary key references auth.users (id) on delete cascade,
    note text,
    granted_at timestamptz not null default now()
);
comment on table llm.admins is
'Package admins: users who read every row of every llm table. Managed by the service role.';

create table if not exists llm.user_aliases (
    user_id uuid primary key,
    identifier text not null unique,
    created_at timestamptz not null default now()
);
comment on table llm.user_aliases is
'Original non-UUID user identifiers (e.g. user-123) behind the UUIDs llm.user_uuid() made.';
comment on column llm.user_aliases.user_id is
'uuid_v5(6ba7b810-9dad-11d1-80b4-00c04fd430c8, identifier).';

create table if not exists llm.jobs (
    name text primary key check (name ~ '^llm_[a-z0-9_]+$'),
    schedule_setting text not null references llm.settings (key),
    command text not null,
    description text not null,
    enabled boolean not null default true
);
comment on table llm.jobs is
'Maintenance jobs of the package; llm.sync_jobs() mirrors them into pg_cron when present.';
comment on column llm.jobs.schedule_setting is 'Setting (of type cron) holding the schedule.';
comment on column llm.jobs.command is 'SQL the job runs; also runnable by hand.';

-- ---------------------------------------------------------------------------------------
-- Functions: settings
-- ---------------------------------------------------------------------------------------

-- Validates a value against a setting type so a bad value is refused before it is stored.
create or replace function llm.check_setting_value(p_key text, p_type text, p_value jsonb)
returns jsonb
language plpgsql
immutable
set search_path = ''
as $$
declare
    v_text text := p_value #>> '{}';
begin
    if p_value is null or jsonb_typeof(p_value) = 'null' then
        raise exception 'setting % must not be null', p_key using errcode = '22023';
    end if;
    if p_type = 'boolean' and jsonb_typeof(p_value) <> 'boolean' then
        raise exception 'setting % must be a boolean, got %', p_key, p_value
            using errcode = '22023';
    elsif p_type = 'integer' and (jsonb_typeof(p_value) <> 'number' or v_text !~ '^-?\d+$') then
        raise exception 'setting % must be an integer, got %', p_key, p_value
            using errcode = '22023';
    elsif p_type = 'numeric' and jsonb_typeof(p_value) <> 'number' then
        raise exception 'setting % must be a number, got %', p_key, p_value
            using errcode = '22023';
    elsif p_type in ('text', 'interval', 'cron') and jsonb_typeof(p_value) <> 'string' then
        raise exception 'setting % must be a string, got %', p_key, p_value
            using errcode = '22023';
    elsif p_type = 'interval' then
        begin
            perform v_text::interval;
        exception when others then
            raise exception 'setting % must be an interval, got %', p_key, p_value
                using errcode = '22023';
        end;
    elsif p_type = 'cron' and v_text !~ '^(@(hourly|daily|weekly|monthly|yearly)|\d+ seconds|(\S+\s+){4}\S+)$'
        then
        raise exception 'setting % must be a cron schedule, got %', p_key, p_value
            using errcode = '22023';
    end if;
    return p_value;
end;
$$;
comment on function llm.check_setting_value(text, text, jsonb) is
'Raises 22023 unless the value fits the setting type; returns the value.';

-- JSON-object arguments (metadata, parameters): NULL means none, any other JSON type is refused.
create or replace function llm.check_metadata(p_value jsonb, p_field text)
returns jsonb
language plpgsql
immutable
set search_path = ''
as $$
begin
    if p_value is null or jsonb_typeof(p_value) = 'null' then
        return '{}'::jsonb;
    end if;
    if jsonb_typeof(p_value) <> 'object' then
        raise exception '% must be a JSON object, got %', p_field, jsonb_typeof(p_value)
            using errcode = '22023';
    end if;
    return p_value;
end;
$$;
comment on function llm.check_metadata(jsonb, text) is
'Returns metadata as a JSON object ({} for NULL); any other JSON type raises 22023 naming the field.';

-- Declares a setting (used by migrations). Re-running keeps the current value.
create or replace function llm.define_setting(
    p_key text, p_type text, p_default jsonb, p_description text
)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
    perform llm.check_setting_value(p_key, p_type, p_default);
    insert into llm.settings as s (key, value_type, value, default_value, description)
    values (p_key, p_type, p_default, p_default, p_description)
    on conflict (key) do update
        set value_type = excluded.value_type,
            default_value = excluded.default_value,
            description = excluded.description
        where (s.value_type, s.default_value, s.description)
            is distinct from (excluded.value_type, excluded.default_value, excluded.description);
end;
$$;
comment on function llm.define_setting(text, text, jsonb, text) is
'Declares a package setting with its type, default and description; keeps an existing value.';

-- Reads a setting; a typo in a key is an error, never a silent NULL.
create or replace function llm.setting(p_key text)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v jsonb;
begin
    select s.value into v from llm.settings as s where s.key = p_key;
    if not found then
        raise exception 'unknown llm setting "%"', p_key using errcode = '42704';
    end if;
    return v;
end;
$$;
comment on function llm.setting(text) is 'Current value of a setting as JSON (42704 if unknown).';

-- Text form of a setting, for casting: llm.setting_text('x')::integer. plpgsql (not SQL) so
-- its plan is cached: it is on every hot path.
create or replace function llm.setting_text(p_key text)
returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v text;
begin
    select s.value #>> '{}' into v from llm.settings as s where s.key = p_key;
    if not found then
        raise exception 'unknown llm setting "%"', p_key using errcode = '42704';
    end if;
    return v;
end;
$$;
comment on function llm.setting_text(text) is 'Current value of a setting as text.';

-- ---------------------------------------------------------------------------------------
-- Functions: callers, admins and users
-- ---------------------------------------------------------------------------------------

-- The API role the request runs as, also inside SECURITY DEFINER functions. The caller
-- helpers are plpgsql so their plans are cached: they run on every request.
create or replace function llm.request_role()
returns text
language plpgsql
stable
set search_path = ''
as $$
begin
    return coalesce(nullif(current_setting('role', true), 'none'), session_user::text);
end;
$$;
comment on function llm.request_role() is
'Role of the caller: authenticated, anon, service_role, or the login role of a direct session.';

-- True for backends: the service role, the database owner, pg_cron jobs.
create or replace function llm.is_backend()
returns boolean
language plpgsql
stable
set search_path = ''
as $$
begin
    return llm.request_role() not in ('anon', 'authenticated');
end;
$$;
comment on function llm.is_backend() is
'True unless the caller is anon or authenticated (service_role, postgres, pg_cron jobs).';

-- Package admin check used by every admin policy.
create or replace function llm.is_admin()
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    if llm.request_role() <> 'authenticated' then
        return false;
    end if;
    return coalesce(
        (auth.jwt() -> 'app_metadata' -> llm.setting_text('admin_claim')) = 'true'::jsonb, false
    )
    or exists (select from llm.admins as a where a.user_id = auth.uid());
end;
$$;
comment on function llm.is_admin() is
'True when the authenticated caller is listed in llm.admins or has app_metadata.<admin_claim> = true.';

-- Raises 42501 unless the caller is a backend or a package admin.
create or replace function llm.require_admin(p_action text)
returns void
language plpgsql
stable
set search_path = ''
as $$
begin
    if not (llm.is_backend() or llm.is_admin()) then
        raise exception 'only package admins or the service role may %', p_action
            using errcode = '42501';
    end if;
end;
$$;
comment on function llm.require_admin(text) is
'Raises insufficient_privilege (42501) unless the caller is the service role or a package admin.';

-- Maps any user identifier to a UUID so non-UUID ids are never rejected or lost.
create or replace function llm.user_uuid(identifier text)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_hash bytea;
    v_id uuid;
begin
    if identifier is null or identifier !~ '\S' then
        raise exception 'user_id must be a UUID or a non-empty identifier, got %',
            coalesce(quote_literal(identifier), 'NULL')
            using errcode = '22023';
    end if;
    if identifier ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
        return identifier::uuid;
    end if;
    -- RFC 4122 name-based UUID, version 5, in the DNS namespace: the same value as
    -- Python's uuid.uuid5(uuid.NAMESPACE_DNS, identifier).
    v_hash := extensions.digest(
        '\x6ba7b8109dad11d180b400c04fd430c8'::bytea || convert_to(identifier, 'UTF8'), 'sha1'
    );
    v_hash := set_byte(v_hash, 6, (get_byte(v_hash, 6) & 15) | 80);
    v_hash := set_byte(v_hash, 8, (get_byte(v_hash, 8) & 63) | 128);
    v_id := encode(substring(v_hash from 1 for 16), 'hex')::uuid;
    if not exists (select from llm.user_aliases as a where a.user_id = v_id) then
        begin
            insert into llm.user_aliases (user_id, identifier)
            values (v_id, identifier)
            on conflict do nothing;
        exception when read_only_sql_transaction then
            null;  -- a read-only request still gets its UUID; the alias is stored on a write
        end;
    end if;
    return v_id;
end;
$$;
comment on function llm.user_uuid(text) is
'UUIDs pass through; any other non-empty identifier maps to uuid_v5(NAMESPACE_DNS, identifier) and is remembered in llm.user_aliases. NULL or blank raises 22023.';

-- Shows a user the way reports should: the original identifier when there is one.
create or replace function llm.user_label(p_user_id uuid)
returns text
language sql
stable
security definer
set search_path = ''
as $$
    select coalesce(
        (select a.identifier from llm.user_aliases as a where a.user_id = p_user_id),
        p_user_id::text
    );
$$;
comment on function llm.user_label(uuid) is
'Original identifier of a user (e.g. user-123) when it was not a UUID, else the UUID as text.';

-- Resolves the user_id argument of an API function for the current caller.
create or replace function llm.resolve_user(p_user_id text, p_admin_may_name_others boolean)
returns uuid
language plpgsql
set search_path = ''
as $$
declare
    v_uid uuid := auth.uid();
    v_user uuid;
begin
    if llm.is_backend() then
        if p_user_id is null then
            raise exception 'user_id is required when calling as %', llm.request_role()
                using errcode = '22023';
        end if;
        return llm.user_uuid(p_user_id);
    end if;
    if llm.request_role() <> 'authenticated' or v_uid is null then
        raise exception 'sign in to use this function' using errcode = '42501';
    end if;
    if p_user_id is null then
        return v_uid;
    end if;
    v_user := llm.user_uuid(p_user_id);
    if v_user <> v_uid and not (p_admin_may_name_others and llm.is_admin()) then
        raise exception 'user_id % is not the signed-in user', p_user_id
            using errcode = '42501';
    end if;
    return v_user;
end;
$$;
comment on function llm.resolve_user(text, boolean) is
'user_id argument handling: backends must name a user; authenticated callers default to auth.uid() and may name another user only if admin and allowed (else 42501).';

-- ---------------------------------------------------------------------------------------
-- Functions: settings API and jobs
-- ---------------------------------------------------------------------------------------

-- Changes a setting (admins and the service role); resyncs jobs when a schedule changes.
create or replace function llm.set_setting(key text, value jsonb)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_type text;
begin
    perform llm.require_admin('change settings');
    select s.value_type into v_type from llm.settings as s where s.key = set_setting.key;
    if not found then
        raise exception 'unknown llm setting "%"', set_setting.key using errcode = '42704';
    end if;
    perform llm.check_setting_value(set_setting.key, v_type, set_setting.value);
    update llm.settings as s
    set value = set_setting.value, updated_at = now(), updated_by = auth.uid()
    where s.key = set_setting.key;
    if v_type = 'cron' then
        perform llm.sync_jobs();
    end if;
    return set_setting.value;
end;
$$;
comment on function llm.set_setting(text, jsonb) is
'Sets a package setting after checking its type (22023) and name (42704); admins and service role only.';

-- Restores a setting to its default.
create or replace function llm.reset_setting(key text)
returns jsonb
language sql
security definer
set search_path = ''
as $$
    select llm.set_setting(
        reset_setting.key,
        coalesce(
            (select s.default_value from llm.settings as s where s.key = reset_setting.key),
            'null'::jsonb
        )
    );
$$;
comment on function llm.reset_setting(text) is 'Restores a setting to its default value.';

-- Declares a maintenance job (used by migrations) and schedules it when pg_cron is present.
create or replace function llm.register_job(
    p_name text, p_schedule_setting text, p_command text, p_description text
)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
    insert into llm.jobs as j (name, schedule_setting, command, description)
    values (p_name, p_schedule_setting, p_command, p_description)
    on conflict (name) do update
        set schedule_setting = excluded.schedule_setting,
            command = excluded.command,
            description = excluded.description
        where (j.schedule_setting, j.command, j.description)
            is distinct from (excluded.schedule_setting, excluded.command, excluded.description);
    perform llm.sync_jobs();
end;
$$;
comment on function llm.register_job(text, text, text, text) is
'Declares a named maintenance job whose schedule lives in a cron setting; idempotent.';

-- Mirrors llm.jobs into pg_cron: schedules enabled jobs, unschedules disabled ones.
create or replace function llm.sync_jobs()
returns table (job_name text, schedule text, command text, scheduled boolean)
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_cron boolean := exists (select from pg_catalog.pg_extension where extname = 'pg_cron');
    v_cron_schema text := 'cron';  -- resolved at run time: pg_cron may be absent
    j record;
begin
    for j in
        select jb.name, jb.command, jb.enabled, llm.setting_text(jb.schedule_setting) as sched
        from llm.jobs as jb
        order by jb.name
    loop
        if v_cron and j.enabled then
            -- named pg_cron jobs are replaced in place, so this is idempotent
            execute format('select %I.schedule($1, $2, $3)', v_cron_schema)
                using j.name, j.sched, j.command;
        elsif v_cron then
            execute format('select %1$I.unschedule(jobid) from %1$I.job where jobname = $1', v_cron_schema)
                using j.name;
        end if;
        job_name := j.name;
        schedule := j.sched;
        command := j.command;
        scheduled := v_cron and j.enabled;
        return next;
    end loop;
end;
$$;
comment on function llm.sync_jobs() is
'Schedules every enabled llm job in pg_cron (by name, idempotent); without pg_cron reports them as unscheduled.';

-- Turns a job on or off.
create or replace function llm.set_job_enabled(job_name text, enabled boolean)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
    perform llm.require_admin('change jobs');
    update llm.jobs as j set enabled = set_job_enabled.enabled
    where j.name = set_job_enabled.job_name;
    if not found then
        raise exception 'unknown llm job "%"', set_job_enabled.job_name using errcode = '42704';
    end if;
    perform llm.sync_jobs();
    return set_job_enabled.enabled;
end;
$$;
comment on function llm.set_job_enabled(text, boolean) is
'Enables or disables a package job and resyncs pg_cron; admins and service role only.';

-- ---------------------------------------------------------------------------------------
-- Settings of the core
-- ---------------------------------------------------------------------------------------

select llm.define_setting(
    'admin_claim', 'text', '"llm_admin"',
    'app_metadata claim that marks a package admin when it is JSON true.'
);
select llm.define_setting(
    'period_timezone', 'text', '"UTC"',
    'Time zone in which days, weeks, months and years of usage periods are computed.'
);

-- ---------------------------------------------------------------------------------------
-- Policies
-- ---------------------------------------------------------------------------------------

alter table llm.settings enable row level security;
alter table llm.admins enable row level security;
alter table llm.user_aliases enable row level security;
alter table llm.jobs enable row level security;

drop policy if exists "Admins read settings" on llm.settings;
create policy "Admins read settings" on llm.settings
for select to authenticated using ((select llm.is_admin()));
comment on policy "Admins read settings" on llm.settings is
'Package admins see every setting; changes go through llm.set_setting().';

drop policy if exists "Admins read the admin list" on llm.admins;
create policy "Admins read the admin list" on llm.admins
for select to authenticated using ((select llm.is_admin()));
comment on policy "Admins read the admin list" on llm.admins is
'Package admins see who else is an admin.';

drop policy if exists "Users read their own admin row" on llm.admins;
create policy "Users read their own admin row" on llm.admins
for select to authenticated using (user_id = (select auth.uid()));
comment on policy "Users read their own admin row" on llm.admins is
'A user can see whether they are an admin.';

drop policy if exists "Users read their own alias" on llm.user_aliases;
create policy "Users read their own alias" on llm.user_aliases
for select to authenticated using (user_id = (select auth.uid()) or (select llm.is_admin()));
comment on policy "Users read their own alias" on llm.user_aliases is
'A user sees the identifier behind their own UUID; admins see all.';

drop policy if exists "Admins read jobs" on llm.jobs;
create policy "Admins read jobs" on llm.jobs
for select to authenticated using ((select llm.is_admin()));
comment on policy "Admins read jobs" on llm.jobs is 'Package admins see the maintenance jobs.';

-- ---------------------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------------------

grant usage on schema llm to anon, authenticated, service_role;

revoke all on all tables in schema llm from anon, authenticated, service_role;
grant select on llm.settings, llm.admins, llm.user_aliases, llm.jobs to authenticated;
grant select on llm.settings, llm.user_aliases, llm.jobs to service_role;
grant select, insert, update, delete on llm.admins to service_role;

revoke execute on all functions in schema llm from public, anon;
grant execute on function
llm.setting(text),
llm.setting_text(text),
llm.request_role(),
llm.is_backend(),
llm.is_admin(),
llm.require_admin(text),
llm.user_uuid(text),
llm.user_label(uuid),
llm.resolve_user(text, boolean),
llm.set_setting(text, jsonb),
llm.reset_setting(text),
llm.set_job_enabled(text, boolean)
to authenticated, service_role;
grant execute on function llm.sync_jobs() to service_role;
