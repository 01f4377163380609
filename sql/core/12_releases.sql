-- The releases installed in this database, newest last; llm.version() reads it.

create table if not exists llm.releases (
    version text primary key check (version ~ '^\d+\.\d+\.\d+$'),
    installed_at timestamptz not null default now()
);
comment on table llm.releases is
'Package releases applied to this database (by a migration or the bundle), with when each was applied.';
alter table llm.releases enable row level security;
revoke all on llm.releases from anon, authenticated, service_role;
grant select on llm.releases to authenticated, service_role;
