-- The fold's dead letter: journal rows the fold could not add to the rollups.

create table if not exists llm.usage_journal_rejects (
    id bigint generated always as identity primary key,
    rejected_at timestamptz not null default now(),
    request_log_id bigint,
    occurred_at timestamptz,
    user_id uuid,
    journal_row jsonb not null,
    sqlstate text not null,
    error text not null
);
comment on table llm.usage_journal_rejects is
'Dead letters of the usage fold: journal rows llm.fold_usage() could not add to the rollups (e.g. a time outside the calendar, a name too long for an index, logged before 0.2.0 bounded them), moved here with the error and its SQLSTATE so they never block the rows after them. Their usage is not in the rollups. Admins read and delete them.';
comment on column llm.usage_journal_rejects.journal_row is 'The llm.usage_journal row as JSON, every column.';
comment on column llm.usage_journal_rejects.sqlstate is 'SQLSTATE of the error that stopped the row.';
alter table llm.usage_journal_rejects enable row level security;
revoke all on llm.usage_journal_rejects from anon, authenticated, service_role;
grant select, delete on llm.usage_journal_rejects to authenticated, service_role;
