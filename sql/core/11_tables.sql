-- Tables of the core: typed settings, package admins, user aliases, the job registry.

create table if not exists llm.settings (
    key text primary key check (key ~ '^[a-z][a-z0-9_]*$'),
    value_type text not null check (
        value_type in ('boolean', 'integer', 'numeric', 'text', 'interval', 'cron', 'jsonb', 'timezone')
    ),
    value jsonb not null,
    default_value jsonb not null,
    description text not null,
    min_value jsonb,
    max_value jsonb,
    updated_at timestamptz not null default now(),
    updated_by uuid
);
comment on table llm.settings is
'Typed package settings. Read by admins; changed only through llm.set_setting().';
comment on column llm.settings.value_type is
'Type every value must have: boolean, integer, numeric, text, interval, cron, jsonb or timezone.';
comment on column llm.settings.value is 'Current value, as JSON of the declared type.';
comment on column llm.settings.default_value is 'Value restored by llm.reset_setting().';
-- min_value, max_value: commented by the 0.1.0--0.2.0 upgrade step that adds them
comment on column llm.settings.updated_by is 'auth.uid() of the admin who last changed it.';
alter table llm.settings enable row level security;
revoke all on llm.settings from anon, authenticated, service_role;
grant select on llm.settings to authenticated;
grant select on llm.settings to service_role;

create table if not exists llm.admins (
    user_id uuid primary key references auth.users (id) on delete cascade,
    note text,
    granted_at timestamptz not null default now()
);
comment on table llm.admins is
'Package admins: users who read every row of every llm table. Managed by the service role.';
alter table llm.admins enable row level security;
revoke all on llm.admins from anon, authenticated, service_role;
grant select on llm.admins to authenticated;
grant select, insert, update, delete on llm.admins to service_role;

create table if not exists llm.user_aliases (
    user_id uuid primary key,
    identifier text not null unique,
    created_at timestamptz not null default now()
);
comment on table llm.user_aliases is
'Original non-UUID user identifiers (e.g. user-123) behind the UUIDs llm.user_uuid() made.';
comment on column llm.user_aliases.user_id is
'uuid_v5(6ba7b810-9dad-11d1-80b4-00c04fd430c8, identifier).';
alter table llm.user_aliases enable row level security;
revoke all on llm.user_aliases from anon, authenticated, service_role;
grant select on llm.user_aliases to authenticated;
grant select on llm.user_aliases to service_role;

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
alter table llm.jobs enable row level security;
revoke all on llm.jobs from anon, authenticated, service_role;
grant select on llm.jobs to authenticated;
grant select on llm.jobs to service_role;
