-- Usage rollups per user and period, their members, and the journal index the fold reads.

create index if not exists usage_journal_user_id_occurred_at_idx
on llm.usage_journal (user_id, occurred_at);

create table if not exists llm.usage_rollups (
    user_id uuid,
    period_type text not null check (period_type in ('daily', 'weekly', 'monthly', 'yearly')),
    period_start date not null,
    provider text not null,
    model text not null,
    request_type llm.request_type not null,
    requests bigint not null default 0,
    failed_requests bigint not null default 0,
    prompt_tokens bigint not null default 0,
    completion_tokens bigint not null default 0,
    cached_tokens bigint not null default 0,
    cache_write_tokens bigint not null default 0,
    total_tokens bigint not null default 0,
    audio_seconds numeric not null default 0,
    cost_usd numeric not null default 0,
    cache_hits bigint not null default 0,
    saved_tokens bigint not null default 0,
    saved_cost_usd numeric not null default 0,
    last_activity timestamptz,
    updated_at timestamptz not null default now(),
    constraint usage_rollups_key unique nulls not distinct (
        user_id, period_type, period_start, provider, model, request_type
    ),
    constraint usage_rollups_period_start_check check (
        period_type = 'daily'
        or period_start = date_trunc(
            case period_type when 'weekly' then 'week' when 'monthly' then 'month' else 'year' end,
            period_start::timestamp
        )::date
    )
-- each fold updates its rows in place: room on their page keeps the update off the indexes
) with (fillfactor = 50);
comment on table llm.usage_rollups is
'Usage totals per user, period, provider, model and request type, folded from llm.usage_journal by llm.fold_usage(). Exact usage = these rows + the unfolded journal rows (view llm.usage_live). Written only by the package''s functions.';
comment on column llm.usage_rollups.user_id is 'User the usage belongs to; NULL for requests of no user.';
comment on column llm.usage_rollups.period_type is 'daily, weekly (ISO weeks, from Monday), monthly or yearly.';
comment on column llm.usage_rollups.period_start is
'First day of the period, in the period_timezone setting in force when the usage was folded.';
comment on column llm.usage_rollups.failed_requests is 'Requests logged with success = false.';
comment on column llm.usage_rollups.prompt_tokens is 'Input tokens billed (cache hits count 0; see saved_tokens).';
comment on column llm.usage_rollups.total_tokens is 'Tokens billed: the tokens_total of requests that were not cache hits.';
comment on column llm.usage_rollups.cost_usd is 'Cost in USD of the priced requests (unpriced ones add nothing).';
comment on column llm.usage_rollups.cache_hits is 'Requests answered from a response cache.';
comment on column llm.usage_rollups.saved_tokens is 'Tokens the cache hits did not spend.';
comment on column llm.usage_rollups.saved_cost_usd is 'What the cache hits would have cost at registry prices.';
comment on column llm.usage_rollups.last_activity is 'Time of the latest request folded into the row.';

create index if not exists usage_rollups_period_idx
on llm.usage_rollups (period_type, period_start);
alter table llm.usage_rollups enable row level security;
revoke all on llm.usage_rollups from anon, authenticated, service_role;
grant select on llm.usage_rollups to authenticated, service_role;

create table if not exists llm.usage_rollup_members (
    user_id uuid not null,
    period_type text not null check (period_type in ('daily', 'weekly', 'monthly', 'yearly')),
    period_start date not null,
    member_type text not null check (member_type in ('conversation', 'agent')),
    member_id uuid not null,
    constraint usage_rollup_members_pkey primary key (
        user_id, period_type, period_start, member_type, member_id
    )
);
comment on table llm.usage_rollup_members is
'The distinct conversations and agents of each user and period, folded with the rollups, so distinct counts stay exact when folding incrementally.';
comment on column llm.usage_rollup_members.member_type is 'conversation or agent.';
comment on column llm.usage_rollup_members.member_id is 'conversation_id or agent_id of a logged request.';

create index if not exists usage_rollup_members_period_idx
on llm.usage_rollup_members (period_type, period_start);
alter table llm.usage_rollup_members enable row level security;
revoke all on llm.usage_rollup_members from anon, authenticated, service_role;
grant select on llm.usage_rollup_members to authenticated, service_role;
