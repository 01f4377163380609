-- Quotas, open reservations and backfill runs.

create table if not exists llm.usage_quotas (
    user_id uuid,
    quota_period text not null check (quota_period in ('daily', 'weekly', 'monthly', 'yearly')),
    token_limit bigint check (token_limit >= 0),
    cost_limit numeric check (cost_limit >= 0 and cost_limit < 'infinity'),
    request_limit bigint check (request_limit >= 0),
    hard boolean not null default true,
    updated_at timestamptz not null default now(),
    updated_by uuid,
    constraint usage_quotas_key unique nulls not distinct (user_id, quota_period)
);
comment on table llm.usage_quotas is
'Usage limits per period: a row with user_id NULL is the default for everyone, a user''s own row replaces it for that period. Set with llm.set_user_quota().';
comment on column llm.usage_quotas.user_id is 'User the quota applies to; NULL for the default of every user.';
comment on column llm.usage_quotas.token_limit is 'Tokens billed per period; NULL means unlimited.';
comment on column llm.usage_quotas.cost_limit is 'USD per period; NULL means unlimited.';
comment on column llm.usage_quotas.request_limit is 'Requests per period; NULL means unlimited.';
comment on column llm.usage_quotas.hard is
'true: llm.reserve_quota() refuses what would exceed it; false: only reported by llm.check_user_quota().';
comment on column llm.usage_quotas.updated_by is 'auth.uid() of the admin who set it (NULL for the service role).';
alter table llm.usage_quotas enable row level security;
revoke all on llm.usage_quotas from anon, authenticated, service_role;
grant select on llm.usage_quotas to authenticated, service_role;

create table if not exists llm.quota_reservations (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null,
    tokens bigint not null check (tokens >= 0),
    cost_usd numeric not null default 0 check (cost_usd >= 0 and cost_usd < 'infinity'),
    created_at timestamptz not null default now(),
    expires_at timestamptz not null
);
comment on table llm.quota_reservations is
'Open quota reservations made by llm.reserve_quota(): counted as used until settled by logging the request (log_request(reservation_id => ...)), released, or expired.';
comment on column llm.quota_reservations.tokens is 'Tokens reserved for a request in flight.';
comment on column llm.quota_reservations.cost_usd is 'USD reserved for a request in flight.';
comment on column llm.quota_reservations.expires_at is
'After this instant the reservation no longer counts; llm.sweep_quota_reservations() deletes it.';

create index if not exists quota_reservations_user_id_expires_at_idx
on llm.quota_reservations (user_id, expires_at);

-- no index on expires_at alone: the sweep reads the open reservations once every few minutes,
-- while every reservation would write it
drop index if exists llm.quota_reservations_expires_at_idx;

alter table llm.quota_reservations enable row level security;
revoke all on llm.quota_reservations from anon, authenticated, service_role;
grant select on llm.quota_reservations to authenticated, service_role;

create table if not exists llm.usage_backfills (
    id bigint generated always as identity primary key,
    from_day date not null,
    to_day date not null,
    batch_periods integer not null check (batch_periods between 1 and 366),
    period_type text check (period_type in ('daily', 'weekly', 'monthly', 'yearly')),
    next_start date,
    periods_done integer not null default 0,
    periods_skipped integer not null default 0,
    rollup_rows bigint not null default 0,
    status text not null default 'pending' check (status in ('pending', 'running', 'done')),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    finished_at timestamptz,
    constraint usage_backfills_range_check check (to_day >= from_day)
);
comment on table llm.usage_backfills is
'Resumable rollup backfills over a range of days: each run of llm.run_usage_backfill() recomputes the next batch of periods and records where to resume.';
comment on column llm.usage_backfills.from_day is 'First day of the range (period_timezone).';
comment on column llm.usage_backfills.to_day is 'Last day of the range, included.';
comment on column llm.usage_backfills.batch_periods is 'Periods recomputed per batch.';
comment on column llm.usage_backfills.period_type is 'Period type in progress (daily, then weekly, monthly, yearly).';
comment on column llm.usage_backfills.next_start is 'Start of the next period to recompute.';
comment on column llm.usage_backfills.periods_skipped is
'Periods that start before the raw request log''s retention horizon and were left as folded.';
alter table llm.usage_backfills enable row level security;
revoke all on llm.usage_backfills from anon, authenticated, service_role;
grant select on llm.usage_backfills to authenticated, service_role;
