-- llm usage metering: exact, real-time usage rollups per user, period (day, ISO week, month,
-- year), provider, model and request type, folded from the request log's usage journal by a
-- frequent job (reads add the part not folded yet, so logging needs no trigger); quotas and
-- budgets on tokens, cost and requests with atomic reservations; the seed APIs
-- record_token_usage, get_user_token_usage, check_user_quota and aggregate_user_token_usage;
-- resumable backfill, a legacy chat-metadata importer, rollup retention, reports and views.

-- ---------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------

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
);
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

-- ---------------------------------------------------------------------------------------
-- Indexes
-- ---------------------------------------------------------------------------------------

create index if not exists usage_journal_user_id_occurred_at_idx
on llm.usage_journal (user_id, occurred_at);
create index if not exists usage_rollups_period_idx
on llm.usage_rollups (period_type, period_start);
create index if not exists usage_rollup_members_period_idx
on llm.usage_rollup_members (period_type, period_start);
create index if not exists quota_reservations_user_id_expires_at_idx
on llm.quota_reservations (user_id, expires_at);
create index if not exists quota_reservations_expires_at_idx
on llm.quota_reservations (expires_at);

-- ---------------------------------------------------------------------------------------
-- Functions: periods
-- ---------------------------------------------------------------------------------------

-- Checks a period name argument so a typo is an error naming the field, not an empty result.
create or replace function llm.check_period_type(p_field text, p_value text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
begin
    if p_value is null then
        raise exception '% is required (daily, weekly, monthly or yearly)', p_field
            using errcode = '22004';
    end if;
    if p_value not in ('daily', 'weekly', 'monthly', 'yearly') then
        raise exception '% must be daily, weekly, monthly or yearly, got %', p_field, quote_literal(p_value)
            using errcode = '22023';
    end if;
    return p_value;
end;
$$;
comment on function llm.check_period_type(text, text) is
'Returns the period type, or raises 22004 (NULL) or 22023 (not daily, weekly, monthly or yearly) naming the field.';

-- First day of the period containing a local time: days, ISO weeks (Monday), months, years.
-- Without `set search_path` (every name is qualified), like llm.usage_periods: a SET clause
-- would stop the planner from inlining it, and each call would cost a planned SQL function.
create or replace function llm.period_floor(p_period_type text, p_local timestamp)
returns date
language sql
immutable
as $$
    select case p_period_type
        when 'daily' then p_local::date
        when 'weekly' then pg_catalog.date_trunc('week', p_local)::date
        when 'monthly' then pg_catalog.date_trunc('month', p_local)::date
        when 'yearly' then pg_catalog.date_trunc('year', p_local)::date
    end;
$$;
comment on function llm.period_floor(text, timestamp) is
'First day of the daily, weekly (ISO, Monday), monthly or yearly period containing a local time. Inlinable (no SET clause).';

-- Length of a period, to step from one period start to the next (inlinable, as above).
create or replace function llm.period_step(p_period_type text)
returns interval
language sql
immutable
as $$
    select case p_period_type
        when 'daily' then interval '1 day'
        when 'weekly' then interval '7 days'
        when 'monthly' then interval '1 month'
        when 'yearly' then interval '1 year'
    end;
$$;
comment on function llm.period_step(text) is
'Length of a daily, weekly, monthly or yearly period. Inlinable (no SET clause).';

-- The four periods an instant belongs to, so folding and reading bucket usage the same way.
-- Deliberately without `set search_path` (every name is qualified): a SET clause would stop
-- the planner from inlining it into the fold and the live views, which call it once per row.
create or replace function llm.usage_periods(p_at timestamptz, p_tz text)
returns table (period_type text, period_start date)
language sql
immutable
as $$
    select v.period_type, v.period_start
    from (select pg_catalog.timezone(p_tz, p_at) as local_time) as l
    cross join lateral (
        values
        ('daily', l.local_time::date),
        ('weekly', pg_catalog.date_trunc('week', l.local_time)::date),
        ('monthly', pg_catalog.date_trunc('month', l.local_time)::date),
        ('yearly', pg_catalog.date_trunc('year', l.local_time)::date)
    ) as v (period_type, period_start);
$$;
comment on function llm.usage_periods(timestamptz, text) is
'The daily, weekly (ISO, Monday), monthly and yearly period starts of an instant in a time zone. Inlinable (no SET clause).';

-- Start of the period containing an instant, in the period_timezone setting.
create or replace function llm.usage_period_start(p_period_type text, p_at timestamptz)
returns date
language sql
stable
set search_path = ''
as $$
    select llm.period_floor(p_period_type, p_at at time zone llm.setting_text('period_timezone'));
$$;
comment on function llm.usage_period_start(text, timestamptz) is
'First day of the daily, weekly, monthly or yearly period containing an instant, in the period_timezone setting.';

-- Instants where a period starts and ends, for reset times and raw-log windows.
create or replace function llm.usage_period_bounds(
    p_period_type text, p_period_start date, out starts_at timestamptz, out ends_at timestamptz
)
language sql
stable
set search_path = ''
as $$
    select
        p_period_start::timestamp at time zone llm.setting_text('period_timezone'),
        (p_period_start + llm.period_step(p_period_type))::timestamp
        at time zone llm.setting_text('period_timezone');
$$;
comment on function llm.usage_period_bounds(text, date) is
'Start (included) and end (excluded) instants of the period beginning on a day, in the period_timezone setting.';

-- How far back the raw request log is complete, so recomputing never erases folded history.
create or replace function llm.raw_usage_kept_since()
returns timestamptz
language sql
stable
set search_path = ''
as $$
    select case
        when llm.setting_text('request_log_retention_days')::integer <= 0 then '-infinity'::timestamptz
        else ((now() at time zone 'UTC')::date - llm.setting_text('request_log_retention_days')::integer)
            ::timestamp at time zone 'UTC'
    end;
$$;
comment on function llm.raw_usage_kept_since() is
'Earliest instant from which the raw request log is still complete (request_log_retention_days); -infinity when it is kept forever.';

-- The quota row in force for each period of a user: their own, else the default.
-- Without `set search_path` (every name is qualified), so the planner inlines it into
-- llm.reserve_quota's statements instead of calling a function twice per reservation.
create or replace function llm.effective_quotas(p_user_id uuid)
returns setof llm.usage_quotas
language sql
stable
as $$
    select distinct on (q.quota_period) q.*
    from llm.usage_quotas as q
    where q.user_id = p_user_id or q.user_id is null
    order by q.quota_period, q.user_id nulls last;
$$;
comment on function llm.effective_quotas(uuid) is
'For each quota period, the user''s own quota row if any, else the default row (user_id NULL). Inlinable (no SET clause).';

-- ---------------------------------------------------------------------------------------
-- Views (security invoker: users see their own usage, admins everyone's)
-- ---------------------------------------------------------------------------------------

create or replace view llm.usage_live with (security_invoker = true) as
with tz as materialized (select llm.setting_text('period_timezone') as name)

select
    r.user_id,
    r.period_type,
    r.period_start,
    r.provider,
    r.model,
    r.request_type,
    r.requests,
    r.failed_requests,
    r.prompt_tokens,
    r.completion_tokens,
    r.cached_tokens,
    r.cache_write_tokens,
    r.total_tokens,
    r.audio_seconds,
    r.cost_usd,
    r.cache_hits,
    r.saved_tokens,
    r.saved_cost_usd,
    r.last_activity
from llm.usage_rollups as r
union all
select
    j.user_id,
    p.period_type,
    p.period_start,
    j.provider,
    j.model,
    j.request_type,
    j.requests::bigint as requests,
    (case when j.success then 0 else j.requests end)::bigint as failed_requests,
    j.prompt_tokens::bigint as prompt_tokens,
    j.completion_tokens::bigint as completion_tokens,
    j.cached_tokens::bigint as cached_tokens,
    j.cache_write_tokens::bigint as cache_write_tokens,
    j.total_tokens::bigint as total_tokens,
    coalesce(j.audio_seconds, 0) as audio_seconds,
    coalesce(j.cost_usd, 0) as cost_usd,
    (case when j.cache_hit then j.requests else 0 end)::bigint as cache_hits,
    j.saved_tokens::bigint as saved_tokens,
    coalesce(j.saved_cost_usd, 0) as saved_cost_usd,
    case when j.requests > 0 then j.occurred_at end as last_activity
from llm.usage_journal as j
cross join tz
cross join lateral llm.usage_periods(j.occurred_at, tz.name) as p;
comment on view llm.usage_live is
'Exact, real-time usage: the rollup rows plus the journal rows not folded yet, bucketed the same way (daily, weekly, monthly, yearly in period_timezone). Sum it per user and period; read it in one statement.';

create or replace view llm.usage_members_live with (security_invoker = true) as
with tz as materialized (select llm.setting_text('period_timezone') as name)

select
    m.user_id,
    m.period_type,
    m.period_start,
    m.member_type,
    m.member_id
from llm.usage_rollup_members as m
union all
select
    j.user_id,
    p.period_type,
    p.period_start,
    t.member_type,
    t.member_id
from llm.usage_journal as j
cross join tz
cross join lateral llm.usage_periods(j.occurred_at, tz.name) as p
cross join
    lateral (
        values ('conversation', j.conversation_id), ('agent', j.agent_id)
    ) as t (member_type, member_id)
where j.user_id is not null and t.member_id is not null;
comment on view llm.usage_members_live is
'Conversations and agents of each user and period, folded or not (may repeat: count distinct).';

create or replace view llm.daily_usage_summary with (security_invoker = true) as
select
    l.period_start as date,
    l.provider,
    l.model,
    l.request_type,
    sum(l.requests) as count,
    sum(l.failed_requests) as failed_count,
    sum(l.total_tokens) as total_tokens,
    sum(l.cost_usd) as total_cost,
    sum(l.cache_hits) as cache_hits,
    sum(l.saved_cost_usd) as saved_cost
from llm.usage_live as l
where l.period_type = 'daily'
group by l.period_start, l.provider, l.model, l.request_type;
comment on view llm.daily_usage_summary is
'Requests (count), tokens and cost (total_cost, USD) per day (period_timezone), provider, model and request type, from the rollups, real time. Users see their own usage, admins everyone''s.';

create or replace view llm.user_token_usage with (security_invoker = true) as
select
    l.user_id,
    (llm.usage_period_bounds(l.period_type, l.period_start)).starts_at as period_start,
    (llm.usage_period_bounds(l.period_type, l.period_start)).ends_at as period_end,
    l.period_type,
    sum(l.prompt_tokens) as total_prompt_tokens,
    sum(l.completion_tokens) as total_completion_tokens,
    sum(l.total_tokens) as total_tokens,
    sum(l.cost_usd) as total_cost_usd,
    sum(l.requests) as message_count,
    (
        select count(distinct m.member_id) from llm.usage_members_live as m
        where m.user_id = l.user_id and m.period_type = l.period_type
            and m.period_start = l.period_start and m.member_type = 'conversation'
    ) as conversation_count,
    array(
        select distinct m.member_id from llm.usage_members_live as m
        where m.user_id = l.user_id and m.period_type = l.period_type
            and m.period_start = l.period_start and m.member_type = 'agent'
        order by m.member_id
    ) as agent_ids,
    max(l.last_activity) as last_activity
from llm.usage_live as l
where l.user_id is not null
group by l.user_id, l.period_type, l.period_start;
comment on view llm.user_token_usage is
'Per user and period (daily, weekly, monthly, yearly): prompt, completion and total tokens, cost, requests (message_count), distinct conversations, agents used and last activity; the shape of a user_token_usage table, real time. Users see their own, admins everyone''s.';

create or replace view llm.user_usage_stats with (security_invoker = true) as
select
    l.user_id,
    l.period_type,
    l.period_start,
    (l.period_start + llm.period_step(l.period_type))::date - 1 as period_end,
    sum(l.total_tokens) as tokens_consumed,
    sum(l.requests) as requests_count,
    sum(l.cost_usd) as cost_usd,
    (
        select q.token_limit from llm.effective_quotas(l.user_id) as q
        where q.quota_period = l.period_type
    ) as quota_limit
from llm.usage_live as l
where l.user_id is not null
group by l.user_id, l.period_type, l.period_start;
comment on view llm.user_usage_stats is
'Per user and period: tokens_consumed, requests_count, cost and the token quota_limit in force, with period_start and period_end (last day, included) as dates; the shape of a user_usage_stats table, real time.';

-- ---------------------------------------------------------------------------------------
-- Functions: exact usage
-- ---------------------------------------------------------------------------------------

-- Exact usage of one user in one period, for quota checks: the period's rollup rows and the
-- sum of the user's unfolded journal rows of the period, both through an index. The journal
-- rows are found by time range, not by bucketing each row into its four periods as
-- llm.usage_live does; the range is widened by a day on each side (local times are less
-- than a day from UTC) and each row's local time then decides, so the rows are exactly the
-- ones llm.usage_periods buckets there, even where a daylight-saving change makes midnight
-- ambiguous. Without `set search_path` (every name is qualified), so it is inlined; pass a
-- variable or column as p_tz, not an expression (it is used once per journal row). Callers
-- set enable_bitmapscan = off: the journal and the reservations are queues whose deleted
-- rows stay in the indexes until vacuum, and only a plain index scan marks those entries
-- dead, so that later checks skip them instead of visiting their heap pages again.
create or replace function llm.period_usage(
    p_user_id uuid, p_period_type text, p_period_start date, p_tz text
)
returns table (requests bigint, tokens bigint, cost_usd numeric, unfolded_rows bigint)
language sql
stable
as $$
    select
        coalesce(r.requests, 0) + j.requests,
        coalesce(r.tokens, 0) + j.tokens,
        coalesce(r.cost_usd, 0) + j.cost_usd,
        j.unfolded_rows
    from (
        -- computed once per call (offset 0 keeps it from being expanded into each row's test)
        select
            p_period_start::timestamp as starts,
            (p_period_start + llm.period_step(p_period_type))::timestamp as ends,
            p_period_start = llm.period_floor(p_period_type, p_period_start) as is_period
        offset 0
    ) as b
    cross join lateral (
        select
            sum(x.requests)::bigint as requests,
            sum(x.total_tokens)::bigint as tokens,
            sum(x.cost_usd) as cost_usd
        from llm.usage_rollups as x
        where x.user_id = p_user_id
            and x.period_type = p_period_type
            and x.period_start = p_period_start
    ) as r
    cross join lateral (
        select
            coalesce(sum(x.requests), 0)::bigint as requests,
            coalesce(sum(x.total_tokens), 0)::bigint as tokens,
            coalesce(sum(x.cost_usd), 0) as cost_usd,
            count(*) as unfolded_rows
        from llm.usage_journal as x
        where b.is_period
            and x.user_id = p_user_id
            and x.occurred_at >= (b.starts at time zone 'UTC') - interval '1 day'
            and x.occurred_at < (b.ends at time zone 'UTC') + interval '1 day'
            and pg_catalog.timezone(p_tz, x.occurred_at) >= b.starts
            and pg_catalog.timezone(p_tz, x.occurred_at) < b.ends
    ) as j;
$$;
comment on function llm.period_usage(uuid, text, date, text) is
'Requests, billed tokens and cost of a user in one period whose days are in time zone p_tz (rollups plus unfolded journal rows, summed by index ranges), and how many unfolded journal rows that took. Inlinable (no SET clause). Internal: read it in one statement.';

-- Exact usage of one user in one period: folded rollups plus unfolded journal rows.
create or replace function llm.usage_totals(p_user_id uuid, p_period_type text, p_period_start date)
returns table (requests bigint, tokens bigint, cost_usd numeric)
language plpgsql
stable
set search_path = ''
set enable_bitmapscan = off
as $$
declare
    v_tz text := llm.setting_text('period_timezone');
begin
    -- plpgsql keeps the plan of this query; stable, so it reads the caller's snapshot
    return query
    select u.requests, u.tokens, u.cost_usd
    from llm.period_usage(p_user_id, p_period_type, p_period_start, v_tz) as u;
end;
$$;
comment on function llm.usage_totals(uuid, text, date) is
'Requests, billed tokens and cost of a user in one period (rollups plus unfolded journal rows), from one snapshot.';

-- ---------------------------------------------------------------------------------------
-- Functions: folding and recomputing
-- ---------------------------------------------------------------------------------------

-- Moves journal rows into the rollups in one transaction: the rows leave the journal exactly
-- when their usage enters the rollups, so reads never count them twice. Rows another folder
-- holds are skipped, so folders never wait for each other; rollup rows are written in a fixed
-- order, so they cannot deadlock. The caller holds the fold lock in shared mode.
create or replace function llm.fold_journal(p_max_rows integer, p_user_id uuid)
returns bigint
language plpgsql
set search_path = ''
as $$
declare
    v_tz text := llm.setting_text('period_timezone');
    v_rows tid [];
    v_folded bigint;
begin
    if p_user_id is null then
        v_rows := array(
            select b.ctid from llm.usage_journal as b limit p_max_rows for update skip locked
        );
    else
        -- oldest first, through the (user_id, occurred_at) index, never a scan of the journal
        v_rows := array(
            select b.ctid from llm.usage_journal as b
            where b.user_id = p_user_id
            order by b.occurred_at
            limit p_max_rows
            for update skip locked
        );
    end if;
    if cardinality(v_rows) = 0 then
        return 0;
    end if;

    with batch as (
        delete from llm.usage_journal as j
        where j.ctid = any(v_rows)
        returning j.*
    ),

    bucketed as (
        select b.*, p.period_type, p.period_start
        from batch as b
        cross join lateral llm.usage_periods(b.occurred_at, v_tz) as p
    ),

    rolled as (
        insert into llm.usage_rollups as r (
            user_id, period_type, period_start, provider, model, request_type, requests,
            failed_requests, prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens,
            total_tokens, audio_seconds, cost_usd, cache_hits, saved_tokens, saved_cost_usd,
            last_activity
        )
        select
            k.user_id, k.period_type, k.period_start, k.provider, k.model, k.request_type,
            sum(k.requests),
            coalesce(sum(k.requests) filter (where not k.success), 0),
            sum(k.prompt_tokens),
            sum(k.completion_tokens),
            sum(k.cached_tokens),
            sum(k.cache_write_tokens),
            sum(k.total_tokens),
            coalesce(sum(k.audio_seconds), 0),
            coalesce(sum(k.cost_usd), 0),
            coalesce(sum(k.requests) filter (where k.cache_hit), 0),
            sum(k.saved_tokens),
            coalesce(sum(k.saved_cost_usd), 0),
            max(k.occurred_at) filter (where k.requests > 0)
        from bucketed as k
        group by k.user_id, k.period_type, k.period_start, k.provider, k.model, k.request_type
        -- a fixed order, so concurrent writers of the same rows cannot deadlock
        order by k.user_id, k.period_type, k.period_start, k.provider, k.model, k.request_type
        on conflict on constraint usage_rollups_key do update
            set requests = r.requests + excluded.requests,
                failed_requests = r.failed_requests + excluded.failed_requests,
                prompt_tokens = r.prompt_tokens + excluded.prompt_tokens,
                completion_tokens = r.completion_tokens + excluded.completion_tokens,
                cached_tokens = r.cached_tokens + excluded.cached_tokens,
                cache_write_tokens = r.cache_write_tokens + excluded.cache_write_tokens,
                total_tokens = r.total_tokens + excluded.total_tokens,
                audio_seconds = r.audio_seconds + excluded.audio_seconds,
                cost_usd = r.cost_usd + excluded.cost_usd,
                cache_hits = r.cache_hits + excluded.cache_hits,
                saved_tokens = r.saved_tokens + excluded.saved_tokens,
                saved_cost_usd = r.saved_cost_usd + excluded.saved_cost_usd,
                last_activity = greatest(r.last_activity, excluded.last_activity),
                updated_at = now()
    ),

    members as (
        insert into llm.usage_rollup_members (user_id, period_type, period_start, member_type, member_id)
        select distinct m.user_id, m.period_type, m.period_start, m.member_type, m.member_id
        from bucketed as k
        cross join lateral (
            values
            (k.user_id, k.period_type, k.period_start, 'conversation', k.conversation_id),
            (k.user_id, k.period_type, k.period_start, 'agent', k.agent_id)
        ) as m (user_id, period_type, period_start, member_type, member_id)
        where m.user_id is not null and m.member_id is not null
        order by 1, 2, 3, 4, 5
        on conflict do nothing
    )

    select count(*) into v_folded from batch;
    return v_folded;
end;
$$;
comment on function llm.fold_journal(integer, uuid) is
'Folds up to p_max_rows journal rows (of one user, or of anyone when p_user_id is NULL) into llm.usage_rollups and llm.usage_rollup_members, deleting them in the same transaction; skips rows another folder holds. Returns the rows folded. Internal: callers hold the fold lock in shared mode.';

-- One fold transaction, one at a time: a call that finds another one running has nothing to do.
create or replace function llm.fold_usage(max_rows integer default null)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_max integer := coalesce(fold_usage.max_rows, llm.setting_text('usage_fold_batch_rows')::integer);
begin
    perform llm.require_admin('fold usage');
    if v_max < 1 then
        raise exception 'max_rows must be >= 1, got %', v_max using errcode = '22023';
    end if;
    if not pg_catalog.pg_try_advisory_xact_lock(pg_catalog.hashtextextended('llm.fold_usage job', 0))
        -- a recompute holds the fold lock exclusively while it replaces rollups
        or not pg_catalog.pg_try_advisory_xact_lock_shared(
            pg_catalog.hashtextextended('llm.usage_rollups fold', 0)
        ) then
        return 0;
    end if;
    return llm.fold_journal(v_max, null);
end;
$$;
comment on function llm.fold_usage(integer) is
'Folds up to max_rows (default: setting usage_fold_batch_rows) rows of llm.usage_journal into llm.usage_rollups and llm.usage_rollup_members, deleting them in the same transaction. One at a time: returns 0 at once when another is running (or a recompute is). Returns the rows folded. Admins and service role; each batch of the llm_usage_fold job (llm.run_usage_fold) is one call.';

-- The fold job: folds the journal in batches of usage_fold_batch_rows rows, committing after
-- each one, so no fold transaction holds a busy user's rollup rows for long (reservations
-- that fold that user's rows inline give up after a few milliseconds rather than wait).
-- A procedure, for COMMIT: hence no SET clause and not security definer (llm.fold_usage
-- checks the caller); call it outside a transaction block, as pg_cron does.
create or replace procedure llm.run_usage_fold(max_batches integer default 100)
language plpgsql
as $$
declare
    v_batch integer := llm.setting_text('usage_fold_batch_rows')::integer;
    v_folded bigint;
begin
    if run_usage_fold.max_batches is null or run_usage_fold.max_batches < 1 then
        raise exception 'max_batches must be >= 1, got %',
            coalesce(run_usage_fold.max_batches::text, 'NULL')
            using errcode = '22023';
    end if;
    for i in 1..run_usage_fold.max_batches loop
        v_folded := llm.fold_usage(v_batch);
        commit;
        -- a short batch emptied the journal (or another fold is running)
        exit when v_folded < v_batch;
    end loop;
end;
$$;
comment on procedure llm.run_usage_fold is
'The llm_usage_fold job: folds the usage journal into the rollups in batches of usage_fold_batch_rows rows, each committed on its own, until the journal is empty or max_batches batches are done; stops at once when another fold is running. Call it outside a transaction block. Admins and service role.';

-- Recomputes periods of rollups from the raw log (repair and backfill). Rows still in the
-- journal are subtracted, because the fold will add them later.
create or replace function llm.rebuild_usage_rollups(
    p_period_type text, p_first date, p_last date, p_user_id uuid, p_all_users boolean
)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_tz text := llm.setting_text('period_timezone');
    v_from timestamptz := (llm.usage_period_bounds(p_period_type, p_first)).starts_at;
    v_to timestamptz := (llm.usage_period_bounds(p_period_type, p_last)).ends_at;
    v_rows bigint;
begin
    if v_from < llm.raw_usage_kept_since() then
        raise exception 'cannot recompute % usage from %: the raw request log is only complete from % (request_log_retention_days)',
            p_period_type, v_from, llm.raw_usage_kept_since()
            using errcode = '22023',
                hint = 'rollups older than that stay as folded; recompute a later window';
    end if;
    -- no folder may move journal rows while the window is being replaced
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('llm.usage_rollups fold', 0));

    delete from llm.usage_rollups as r
    where r.period_type = p_period_type
        and r.period_start between p_first and p_last
        and (p_all_users or r.user_id is not distinct from p_user_id);
    delete from llm.usage_rollup_members as m
    where m.period_type = p_period_type
        and m.period_start between p_first and p_last
        and (p_all_users or m.user_id = p_user_id);

    insert into llm.usage_rollups (
        user_id, period_type, period_start, provider, model, request_type, requests,
        failed_requests, prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens,
        total_tokens, audio_seconds, cost_usd, cache_hits, saved_tokens, saved_cost_usd,
        last_activity
    )
    select
        x.user_id, p_period_type, llm.period_floor(p_period_type, x.occurred_at at time zone v_tz),
        x.provider, x.model, x.request_type,
        sum(x.requests), sum(x.failed_requests), sum(x.prompt_tokens), sum(x.completion_tokens),
        sum(x.cached_tokens), sum(x.cache_write_tokens), sum(x.total_tokens),
        coalesce(sum(x.audio_seconds), 0), coalesce(sum(x.cost_usd), 0), sum(x.cache_hits),
        sum(x.saved_tokens), coalesce(sum(x.saved_cost_usd), 0), max(x.last_activity)
    from (
        -- the raw log, measured the way log_request journals it ...
        select
            r.user_id, r.created_at as occurred_at, r.provider, r.model, r.request_type,
            1 as requests,
            (not r.success)::integer as failed_requests,
            case when r.cache_hit then 0 else r.prompt_tokens end as prompt_tokens,
            case when r.cache_hit then 0 else r.completion_tokens end as completion_tokens,
            case when r.cache_hit then 0 else r.cached_tokens end as cached_tokens,
            case when r.cache_hit then 0 else r.cache_write_tokens end as cache_write_tokens,
            case when r.cache_hit then 0 else r.tokens_total end as total_tokens,
            r.audio_seconds,
            r.cost_usd,
            r.cache_hit::integer as cache_hits,
            case when r.cache_hit then r.tokens_total else 0 end as saved_tokens,
            r.saved_cost_usd,
            r.created_at as last_activity
        from llm.request_logs as r
        where r.created_at >= v_from and r.created_at < v_to
            and (p_all_users or r.user_id is not distinct from p_user_id)
        union all
        -- ... minus what is still in the journal
        select
            j.user_id, j.occurred_at, j.provider, j.model, j.request_type,
            -j.requests,
            -(case when j.success then 0 else j.requests end),
            -j.prompt_tokens,
            -j.completion_tokens,
            -j.cached_tokens,
            -j.cache_write_tokens,
            -j.total_tokens,
            -j.audio_seconds,
            -j.cost_usd,
            -(case when j.cache_hit then j.requests else 0 end),
            -j.saved_tokens,
            -j.saved_cost_usd,
            null
        from llm.usage_journal as j
        where j.occurred_at >= v_from and j.occurred_at < v_to
            and (p_all_users or j.user_id is not distinct from p_user_id)
    ) as x
    group by 1, 2, 3, 4, 5, 6
    having sum(x.requests) <> 0
    order by 1, 2, 3, 4, 5, 6;
    get diagnostics v_rows = row_count;

    insert into llm.usage_rollup_members (user_id, period_type, period_start, member_type, member_id)
    select distinct
        r.user_id, p_period_type, llm.period_floor(p_period_type, r.created_at at time zone v_tz),
        m.member_type, m.member_id
    from llm.request_logs as r
    cross join lateral (
        values ('conversation', r.conversation_id), ('agent', r.agent_id)
    ) as m (member_type, member_id)
    where r.created_at >= v_from and r.created_at < v_to
        and r.user_id is not null
        and (p_all_users or r.user_id = p_user_id)
        and m.member_id is not null
    on conflict do nothing;
    return v_rows;
end;
$$;
comment on function llm.rebuild_usage_rollups(text, date, date, uuid, boolean) is
'Replaces the rollups of the p_period_type periods starting from p_first to p_last (one user, or all when p_all_users) by the raw log''s sums minus the unfolded journal rows. Raises 22023 when the raw log no longer covers the window. Returns the rollup rows written. Internal.';

-- Seed API: recompute one user's usage for a window from the raw log (idempotent).
create or replace function llm.aggregate_user_token_usage(
    p_user_id uuid,
    p_period_start timestamptz,
    p_period_end timestamptz,
    p_period_type varchar
)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_type text := llm.check_period_type('p_period_type', p_period_type);
begin
    perform llm.require_admin('recompute usage');
    if p_user_id is null then
        raise exception 'p_user_id is required' using errcode = '22004';
    end if;
    if p_period_start is null or p_period_end is null then
        raise exception 'p_period_start and p_period_end are required' using errcode = '22004';
    end if;
    if not (isfinite(p_period_start) and isfinite(p_period_end)) or p_period_end <= p_period_start then
        raise exception 'p_period_end (%) must be a finite time after p_period_start (%)',
            p_period_end, p_period_start
            using errcode = '22023';
    end if;
    perform llm.rebuild_usage_rollups(
        v_type,
        llm.usage_period_start(v_type, p_period_start),
        llm.usage_period_start(v_type, p_period_end - interval '1 microsecond'),
        p_user_id,
        false
    );
end;
$$;
comment on function llm.aggregate_user_token_usage(uuid, timestamptz, timestamptz, varchar) is
'Recomputes from the raw request log the p_period_type (daily, weekly, monthly or yearly) rollups of one user for every period overlapping [p_period_start, p_period_end). Idempotent; usage not folded yet is left to the fold, so nothing is counted twice. 22023 when the raw log no longer covers the window. Admins and service role.';

-- Registers a resumable recompute of a range of days for every user.
create or replace function llm.start_usage_backfill(
    from_day date, to_day date, batch_periods integer default 7
)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_id bigint;
begin
    perform llm.require_admin('backfill usage');
    if start_usage_backfill.from_day is null or start_usage_backfill.to_day is null then
        raise exception 'from_day and to_day are required' using errcode = '22004';
    end if;
    if start_usage_backfill.to_day < start_usage_backfill.from_day then
        raise exception 'to_day (%) is before from_day (%)', start_usage_backfill.to_day, start_usage_backfill.from_day
            using errcode = '22023';
    end if;
    if start_usage_backfill.batch_periods is null
        or start_usage_backfill.batch_periods not between 1 and 366 then
        raise exception 'batch_periods must be between 1 and 366, got %',
            coalesce(start_usage_backfill.batch_periods::text, 'NULL')
            using errcode = '22023';
    end if;
    insert into llm.usage_backfills as b (from_day, to_day, batch_periods)
    values (start_usage_backfill.from_day, start_usage_backfill.to_day, start_usage_backfill.batch_periods)
    returning b.id into v_id;
    return v_id;
end;
$$;
comment on function llm.start_usage_backfill(date, date, integer) is
'Queues a recompute of every user''s daily, weekly, monthly and yearly rollups for the periods overlapping [from_day, to_day] (days in period_timezone), batch_periods periods per batch. Returns its id; llm.run_usage_backfill() (job llm_usage_backfill) does the work. Admins and service role.';

-- Runs the next batches of queued backfills; progress is committed with each call.
create or replace function llm.run_usage_backfill(max_batches integer default 10)
returns table (
    backfill_id bigint, period_type text, first_period date, last_period date,
    rollup_rows bigint, skipped_periods integer, status text
)
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_types constant text[] := array['daily', 'weekly', 'monthly', 'yearly'];
    v_batches integer := 0;
    v_last date;
    v_next text;
    b record;
begin
    perform llm.require_admin('backfill usage');
    if run_usage_backfill.max_batches is null or run_usage_backfill.max_batches < 1 then
        raise exception 'max_batches must be >= 1, got %',
            coalesce(run_usage_backfill.max_batches::text, 'NULL')
            using errcode = '22023';
    end if;
    while v_batches < run_usage_backfill.max_batches loop
        select * into b
        from llm.usage_backfills as f
        where f.status <> 'done'
        order by f.id
        limit 1
        for update skip locked;
        exit when not found;
        backfill_id := b.id;
        if b.period_type is null then
            b.period_type := v_types[1];
            b.next_start := llm.period_floor(v_types[1], b.from_day);
        end if;
        v_last := llm.period_floor(b.period_type, b.to_day);
        if b.next_start > v_last then
            -- this period type is done: go on with the next one, or finish
            v_next := v_types[array_position(v_types, b.period_type) + 1];
            update llm.usage_backfills as f
            set period_type = v_next,
                next_start = llm.period_floor(v_next, b.from_day),
                status = case when v_next is null then 'done' else 'running' end,
                finished_at = case when v_next is null then now() end,
                updated_at = now()
            where f.id = b.id;
            if v_next is null then
                period_type := null;
                first_period := null;
                last_period := null;
                rollup_rows := null;
                skipped_periods := null;
                status := 'done';
                return next;
            end if;
            continue;
        end if;
        period_type := b.period_type;
        first_period := b.next_start;
        last_period := least(
            (b.next_start + (b.batch_periods - 1) * llm.period_step(b.period_type))::date, v_last
        );
        -- periods the raw log no longer covers keep their folded totals
        skipped_periods := 0;
        while first_period <= last_period
            and (llm.usage_period_bounds(b.period_type, first_period)).starts_at < llm.raw_usage_kept_since() loop
            first_period := (first_period + llm.period_step(b.period_type))::date;
            skipped_periods := skipped_periods + 1;
        end loop;
        rollup_rows := 0;
        if first_period <= last_period then
            rollup_rows := llm.rebuild_usage_rollups(b.period_type, first_period, last_period, null, true);
        end if;
        update llm.usage_backfills as f
        set period_type = b.period_type,
            next_start = (last_period + llm.period_step(b.period_type))::date,
            periods_done = f.periods_done + (
                select count(*) from generate_series(
                    b.next_start::timestamp, last_period::timestamp, llm.period_step(b.period_type)
                )
            ) - skipped_periods,
            periods_skipped = f.periods_skipped + skipped_periods,
            rollup_rows = f.rollup_rows + run_usage_backfill.rollup_rows,
            status = 'running',
            updated_at = now()
        where f.id = b.id;
        status := 'running';
        v_batches := v_batches + 1;
        return next;
    end loop;
end;
$$;
comment on function llm.run_usage_backfill(integer) is
'Recomputes up to max_batches batches of the queued backfills (llm.usage_backfills), oldest first, daily periods, then weekly, monthly and yearly. Periods older than the raw log''s retention are skipped and keep their folded totals. Progress is saved with the transaction, so an interrupted run resumes where the last committed one stopped. Returns one row per batch. Admins and service role.';

-- Imports usage kept in legacy chat-message metadata (processingDetails) into the log.
create or replace function llm.import_legacy_usage(messages jsonb)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_item jsonb;
    v_position integer := 0;
    v_details jsonb;
    v_request_id text;
    v_imported integer := 0;
    v_already integer := 0;
    v_skipped integer := 0;
    v_state text;
    v_message text;
begin
    if jsonb_typeof(import_legacy_usage.messages) is distinct from 'array' then
        raise exception 'messages must be a JSON array of chat messages, got %',
            coalesce(jsonb_typeof(import_legacy_usage.messages), 'NULL')
            using errcode = '22023';
    end if;
    begin
        for v_item in select e from jsonb_array_elements(import_legacy_usage.messages) as e loop
            if jsonb_typeof(v_item) is distinct from 'object' then
                raise exception 'a message must be a JSON object, got %', jsonb_typeof(v_item)
                    using errcode = '22023';
            end if;
            v_details := v_item #> '{metadata,processingDetails}';
            if coalesce(v_item ->> 'role', '') <> 'assistant' or jsonb_typeof(v_details) is distinct from 'object' then
                v_skipped := v_skipped + 1;
            else
                if llm.request_field(v_item, 'id', 'uuid') is null then
                    raise exception 'id is required (the message id makes the import idempotent)'
                        using errcode = '22004';
                end if;
                v_request_id := 'legacy-message:' || llm.request_field(v_item, 'id', 'uuid');
                if exists (select from llm.request_ids as r where r.request_id = v_request_id) then
                    v_already := v_already + 1;
                else
                    perform llm.log_request(
                        provider => coalesce(
                            llm.request_field(v_details, 'provider', 'text'),
                            llm.request_field(v_item -> 'metadata', 'provider', 'text'),
                            'unknown'
                        ),
                        model => coalesce(
                            llm.request_field(v_details, 'model', 'text'),
                            llm.request_field(v_item -> 'metadata', 'model', 'text'),
                            'unknown'
                        ),
                        user_id => llm.request_field(v_item, 'sender_user_id', 'text'),
                        prompt_tokens => coalesce(
                            llm.request_field(v_details, 'prompt_tokens', 'integer')::integer, 0
                        ),
                        completion_tokens => coalesce(
                            llm.request_field(v_details, 'completion_tokens', 'integer')::integer, 0
                        ),
                        total_tokens => llm.request_field(v_details, 'total_tokens', 'integer')::integer,
                        latency_ms => llm.request_field(
                            v_item -> 'metadata', 'processing_time_ms', 'integer'
                        )::integer,
                        request_id => v_request_id,
                        conversation_id => llm.request_field(v_item, 'conversation_id', 'uuid')::uuid,
                        agent_id => llm.request_field(v_item, 'sender_agent_id', 'uuid')::uuid,
                        message_id => llm.request_field(v_item, 'id', 'uuid')::uuid,
                        created_at => llm.request_field(v_item, 'created_at', 'time')::timestamptz,
                        metadata => jsonb_build_object('imported_from', 'chat message metadata'),
                        operation => 'legacy import'
                    );
                    v_imported := v_imported + 1;
                end if;
            end if;
            v_position := v_position + 1;
        end loop;
    exception when others then
        get stacked diagnostics v_state = returned_sqlstate, v_message = message_text;
        raise exception 'messages[%]: %', v_position, v_message using errcode = v_state;
    end;
    return jsonb_build_object('imported', v_imported, 'already_imported', v_already, 'skipped', v_skipped);
end;
$$;
comment on function llm.import_legacy_usage(jsonb) is
'Imports the usage of legacy chat messages (a JSON array of rows shaped like chat_messages_v2: id, conversation_id, sender_user_id, sender_agent_id, role, metadata.processingDetails.{prompt_tokens, completion_tokens, total_tokens, model, provider}, created_at) as logged requests; only assistant messages with processingDetails count. Idempotent (request_id legacy-message:<id>). All or nothing: a bad item raises its error prefixed with messages[i]. Returns {imported, already_imported, skipped}. Service role only.';

-- ---------------------------------------------------------------------------------------
-- Functions: recording usage (seed API)
-- ---------------------------------------------------------------------------------------

-- Seed API: records tokens consumed by one request, through the request log.
create or replace function llm.record_token_usage(
    user_id text,
    tokens_consumed integer,
    provider text,
    model text,
    request_metadata jsonb default '{}'
)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_user uuid := llm.resolve_user(record_token_usage.user_id, false);
    v_meta jsonb := llm.check_metadata(record_token_usage.request_metadata, 'request_metadata');
    v_prompt integer;
    v_completion integer;
    v_endpoint text;
begin
    if record_token_usage.tokens_consumed is null then
        raise exception 'tokens_consumed is required' using errcode = '22004';
    end if;
    if record_token_usage.tokens_consumed < 0 then
        raise exception 'tokens_consumed must be >= 0, got %', record_token_usage.tokens_consumed
            using errcode = '22023';
    end if;
    v_prompt := llm.request_field(v_meta, 'prompt_tokens', 'integer')::integer;
    v_completion := llm.request_field(v_meta, 'completion_tokens', 'integer')::integer;
    v_endpoint := llm.request_field(v_meta, 'endpoint', 'text');
    -- tokens not broken down count as completion tokens
    v_prompt := coalesce(v_prompt, greatest(record_token_usage.tokens_consumed - v_completion, 0), 0);
    v_completion := coalesce(v_completion, greatest(record_token_usage.tokens_consumed - v_prompt, 0));
    if v_prompt + v_completion > record_token_usage.tokens_consumed then
        raise exception 'request_metadata prompt_tokens + completion_tokens (%) exceed tokens_consumed (%)',
            v_prompt + v_completion, record_token_usage.tokens_consumed
            using errcode = '22023';
    end if;
    perform llm.log_request(
        provider => record_token_usage.provider,
        model => record_token_usage.model,
        request_type => case
            when v_endpoint ~* 'chat' then 'chat'
            when v_endpoint ~* 'embedding' then 'embedding'
            when v_endpoint ~* 'transcription' then 'transcription'
            when v_endpoint ~* 'speech' then 'speech'
            when v_endpoint ~* 'image' then 'image'
            when v_endpoint ~* 'moderation' then 'moderation'
            when v_endpoint ~* 'rerank' then 'rerank'
            when v_endpoint ~* 'completion' then 'completion'
            when v_endpoint is null then 'chat'
            else 'other'
        end,
        user_id => v_user::text,
        prompt_tokens => v_prompt,
        completion_tokens => v_completion,
        cached_tokens => coalesce(llm.request_field(v_meta, 'cached_tokens', 'integer')::integer, 0),
        total_tokens => record_token_usage.tokens_consumed,
        cost_usd => llm.request_field(v_meta, 'cost_usd', 'number')::numeric,
        request_id => llm.request_field(v_meta, 'request_id', 'text'),
        conversation_id => llm.request_field(v_meta, 'conversation_id', 'uuid')::uuid,
        agent_id => llm.request_field(v_meta, 'agent_id', 'uuid')::uuid,
        reservation_id => llm.request_field(v_meta, 'reservation_id', 'uuid')::uuid,
        operation => v_endpoint,
        metadata => v_meta
    );
    return true;
end;
$$;
comment on function llm.record_token_usage(text, integer, text, text, jsonb) is
'Records tokens consumed by one request as a logged request (llm.log_request) and returns true. request_metadata may carry prompt_tokens, completion_tokens (tokens not broken down count as completion), endpoint (sets request_type: chat/completions is chat, embeddings is embedding, ...), cached_tokens, cost_usd, request_id (idempotency), conversation_id, agent_id and reservation_id. Bad input raises 22004/22023 and records nothing. Service role only.';

-- ---------------------------------------------------------------------------------------
-- Functions: reading usage
-- ---------------------------------------------------------------------------------------

-- Seed API: usage statistics of one user for the last days, from the rollups.
create or replace function llm.get_user_token_usage(user_id text default null, days integer default 30)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
    v_user uuid := llm.resolve_user(get_user_token_usage.user_id, true);
    v_keep integer := llm.setting_text('usage_rollup_daily_retention_days')::integer;
    v_today date := llm.usage_period_start('daily', now());
    v_first date;
    v_result jsonb;
begin
    if get_user_token_usage.days is null then
        raise exception 'days is required' using errcode = '22004';
    end if;
    if get_user_token_usage.days < 1 or (v_keep > 0 and get_user_token_usage.days > v_keep) then
        raise exception 'days must be between 1 and % (usage_rollup_daily_retention_days), got %',
            case when v_keep > 0 then v_keep::text else 'any' end, get_user_token_usage.days
            using errcode = '22023';
    end if;
    v_first := v_today - (get_user_token_usage.days - 1);

    -- one statement, so folded and unfolded usage are read from one snapshot
    with usage as materialized (
        select l.*
        from llm.usage_live as l
        where l.user_id = v_user
            and l.period_type = 'daily'
            and l.period_start between v_first and v_today
    ),

    models as (
        select u.provider, u.model, sum(u.total_tokens) as tokens, sum(u.requests) as requests,
            sum(u.cost_usd) as cost_usd
        from usage as u
        group by u.provider, u.model
    ),

    providers as (
        select m.provider, jsonb_object_agg(
            m.model,
            jsonb_build_object('tokens', m.tokens, 'requests', m.requests, 'cost_usd', m.cost_usd)
        ) as models
        from models as m
        group by m.provider
    ),

    days as (
        select u.period_start, sum(u.total_tokens) as tokens, sum(u.requests) as requests,
            sum(u.cost_usd) as cost_usd
        from usage as u
        group by u.period_start
    ),

    members as (
        select
            count(distinct m.member_id) filter (where m.member_type = 'conversation') as conversations,
            coalesce(
                array_agg(distinct m.member_id) filter (where m.member_type = 'agent'), '{}'
            ) as agents
        from llm.usage_members_live as m
        where m.user_id = v_user
            and m.period_type = 'daily'
            and m.period_start between v_first and v_today
    )

    select jsonb_build_object(
        'user_id', v_user,
        'days', get_user_token_usage.days,
        'period_start', v_first,
        'period_end', v_today,
        'total_tokens', coalesce(sum(u.total_tokens), 0),
        'total_requests', coalesce(sum(u.requests), 0),
        'failed_requests', coalesce(sum(u.failed_requests), 0),
        'prompt_tokens', coalesce(sum(u.prompt_tokens), 0),
        'completion_tokens', coalesce(sum(u.completion_tokens), 0),
        'cached_tokens', coalesce(sum(u.cached_tokens), 0),
        'total_cost_usd', coalesce(sum(u.cost_usd), 0),
        'cache_hits', coalesce(sum(u.cache_hits), 0),
        'saved_tokens', coalesce(sum(u.saved_tokens), 0),
        'saved_cost_usd', coalesce(sum(u.saved_cost_usd), 0),
        'last_activity', max(u.last_activity),
        'conversation_count', (select m.conversations from members as m),
        'agent_ids', (select to_jsonb(m.agents) from members as m),
        'provider_breakdown', coalesce(
            (select jsonb_object_agg(p.provider, p.models) from providers as p), '{}'
        ),
        'daily_breakdown', coalesce(
            (
                select jsonb_agg(
                    jsonb_build_object(
                        'period_start', d.period_start,
                        'tokens_consumed', d.tokens,
                        'requests_count', d.requests,
                        'cost_usd', d.cost_usd
                    )
                    order by d.period_start desc
                )
                from days as d
            ),
            '[]'
        )
    ) into v_result
    from usage as u;
    return v_result;
end;
$$;
comment on function llm.get_user_token_usage(text, integer) is
'Usage of a user over the last days (today included, days in period_timezone, 1 to usage_rollup_daily_retention_days): total_tokens, total_requests, provider_breakdown {provider: {model: {tokens, requests, cost_usd}}}, daily_breakdown [{period_start, tokens_consumed, requests_count, cost_usd}] latest first, plus cost, prompt/completion/cached tokens, failures, cache hits and savings, conversation_count, agent_ids and last_activity. Exact and real time. Signed-in users read their own (user_id defaults to them); admins and the service role name anyone.';

-- Seed API: where a user stands against the quota of a period.
create or replace function llm.check_user_quota(user_id text default null, quota_period text default 'daily')
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
    v_user uuid := llm.resolve_user(check_user_quota.user_id, true);
    v_period text := llm.check_period_type('quota_period', check_user_quota.quota_period);
    v_start date := llm.usage_period_start(v_period, now());
    v_result jsonb;
begin
    with state as (
        select
            q.token_limit, q.cost_limit, q.request_limit, q.hard,
            case when q.user_id is not null then 'user' when q.quota_period is not null then 'default' end
            as source,
            u.tokens, u.cost_usd, u.requests,
            coalesce(r.tokens, 0) as reserved_tokens,
            coalesce(r.cost_usd, 0) as reserved_cost,
            coalesce(r.requests, 0) as reserved_requests
        from llm.usage_totals(v_user, v_period, v_start) as u
        left join llm.effective_quotas(v_user) as q on q.quota_period = v_period
        cross join (
            select sum(x.tokens) as tokens, sum(x.cost_usd) as cost_usd, count(*) as requests
            from llm.quota_reservations as x
            where x.user_id = v_user and x.expires_at > now()
        ) as r
    )

    select jsonb_build_object(
        'user_id', v_user,
        'quota_period', v_period,
        'is_over_quota', coalesce(
            s.tokens >= s.token_limit or s.cost_usd >= s.cost_limit or s.requests >= s.request_limit,
            false
        ),
        'tokens_used', s.tokens,
        'quota_limit', s.token_limit,
        'remaining', case when s.token_limit is not null then
            greatest(s.token_limit - s.tokens - s.reserved_tokens, 0) end,
        'unlimited', s.token_limit is null and s.cost_limit is null and s.request_limit is null,
        'hard', s.hard,
        'quota_source', s.source,
        'period_start', v_start,
        'reset_at', (llm.usage_period_bounds(v_period, v_start)).ends_at,
        'cost_used_usd', s.cost_usd,
        'cost_limit_usd', s.cost_limit,
        'cost_remaining_usd', case when s.cost_limit is not null then
            greatest(s.cost_limit - s.cost_usd - s.reserved_cost, 0) end,
        'requests_used', s.requests,
        'request_limit', s.request_limit,
        'requests_remaining', case when s.request_limit is not null then
            greatest(s.request_limit - s.requests - s.reserved_requests, 0) end,
        'tokens_reserved', s.reserved_tokens,
        'cost_reserved_usd', s.reserved_cost,
        'requests_reserved', s.reserved_requests
    ) into v_result
    from state as s;
    return v_result;
end;
$$;
comment on function llm.check_user_quota(text, text) is
'Usage of a user in the current daily, weekly, monthly or yearly period against their quota: is_over_quota (a limit reached), tokens_used, quota_limit (tokens; NULL = unlimited), remaining (limit - used - reserved, never below 0), plus unlimited, hard, quota_source (user or default), period_start, reset_at, cost and request usage, limits and remainders, and what open reservations hold. Exact and real time. Signed-in users read their own; admins and the service role name anyone.';

-- Expands a range of days into whole years, months and days, so long ranges read few rows.
create or replace function llm.usage_cover(p_from date, p_to date)
returns table (period_type text, period_start date)
language plpgsql
stable
set search_path = ''
as $$
declare
    v_day date := p_from;
    v_today date := llm.usage_period_start('daily', now());
    v_daily_days integer := llm.setting_text('usage_rollup_daily_retention_days')::integer;
    v_monthly_months integer := llm.setting_text('usage_rollup_monthly_retention_months')::integer;
begin
    while v_day < p_to loop
        if v_day = llm.period_floor('yearly', v_day) and v_day + interval '1 year' <= p_to then
            period_type := 'yearly';
        elsif v_day = llm.period_floor('monthly', v_day) and v_day + interval '1 month' <= p_to then
            period_type := 'monthly';
            if v_monthly_months > 0
                and v_day < llm.period_floor('monthly', v_today) - make_interval(months => v_monthly_months) then
                raise exception 'monthly usage before % is no longer kept (usage_rollup_monthly_retention_months = %)',
                    (llm.period_floor('monthly', v_today) - make_interval(months => v_monthly_months))::date,
                    v_monthly_months
                    using errcode = '22023', hint = 'start the range on the first day of a year';
            end if;
        else
            period_type := 'daily';
            if v_daily_days > 0 and v_day < v_today - v_daily_days then
                raise exception 'daily usage before % is no longer kept (usage_rollup_daily_retention_days = %)',
                    v_today - v_daily_days, v_daily_days
                    using errcode = '22023', hint = 'start and end older ranges on the first day of a month';
            end if;
        end if;
        period_start := v_day;
        return next;
        v_day := (v_day + llm.period_step(period_type))::date;
    end loop;
end;
$$;
comment on function llm.usage_cover(date, date) is
'Tiles the days [p_from, p_to) with whole years, then whole months, then days. Raises 22023 when a piece needs daily or monthly rollups that retention has already dropped.';

-- Admin report: every user ranked by tokens or cost over a range of days, with totals.
create or replace function llm.usage_report(
    since date default null, until date default null, rank_by text default 'tokens',
    max_users integer default 100
)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
    v_until date := coalesce(usage_report.until, llm.usage_period_start('daily', now()) + 1);
    v_since date := coalesce(usage_report.since, llm.period_floor('monthly', v_until - 1));
    v_result jsonb;
begin
    perform llm.require_admin('read the usage report');
    if usage_report.rank_by is null or usage_report.rank_by not in ('tokens', 'cost', 'requests') then
        raise exception 'rank_by must be tokens, cost or requests, got %',
            coalesce(quote_literal(usage_report.rank_by), 'NULL')
            using errcode = '22023';
    end if;
    if v_until <= v_since then
        raise exception 'until (%) must be after since (%)', v_until, v_since using errcode = '22023';
    end if;
    if usage_report.max_users is null or usage_report.max_users < 1 then
        raise exception 'max_users must be >= 1, got %', coalesce(usage_report.max_users::text, 'NULL')
            using errcode = '22023';
    end if;

    with cover as (
        select c.period_type, c.period_start from llm.usage_cover(v_since, v_until) as c
    ),

    per_user as (
        select
            l.user_id,
            sum(l.requests) as requests,
            sum(l.failed_requests) as failed_requests,
            sum(l.prompt_tokens) as prompt_tokens,
            sum(l.completion_tokens) as completion_tokens,
            sum(l.total_tokens) as total_tokens,
            sum(l.cost_usd) as cost_usd,
            sum(l.cache_hits) as cache_hits,
            sum(l.saved_cost_usd) as saved_cost_usd,
            max(l.last_activity) as last_activity
        from llm.usage_live as l
        join cover as c on c.period_type = l.period_type and c.period_start = l.period_start
        where l.period_start >= v_since and l.period_start < v_until
        group by l.user_id
    ),

    ranked as (
        select
            p.*,
            rank() over (
                order by case usage_report.rank_by
                    when 'tokens' then p.total_tokens
                    when 'cost' then p.cost_usd
                    else p.requests
                end desc
            ) as rank
        from per_user as p
    )

    select jsonb_build_object(
        'since', v_since,
        'until', v_until,
        'rank_by', usage_report.rank_by,
        'user_count', count(*) filter (where r.user_id is not null),
        'users', coalesce(
            jsonb_agg(
                jsonb_build_object(
                    'rank', r.rank,
                    'user_id', r.user_id,
                    'user_label', case when r.user_id is not null then llm.user_label(r.user_id) end,
                    'requests', r.requests,
                    'failed_requests', r.failed_requests,
                    'prompt_tokens', r.prompt_tokens,
                    'completion_tokens', r.completion_tokens,
                    'total_tokens', r.total_tokens,
                    'cost_usd', r.cost_usd,
                    'cache_hits', r.cache_hits,
                    'saved_cost_usd', r.saved_cost_usd,
                    'last_activity', r.last_activity
                )
                order by r.rank, r.user_id
            ) filter (where r.rank <= usage_report.max_users),
            '[]'
        ),
        'totals', jsonb_build_object(
            'requests', coalesce(sum(r.requests), 0),
            'failed_requests', coalesce(sum(r.failed_requests), 0),
            'prompt_tokens', coalesce(sum(r.prompt_tokens), 0),
            'completion_tokens', coalesce(sum(r.completion_tokens), 0),
            'total_tokens', coalesce(sum(r.total_tokens), 0),
            'cost_usd', coalesce(sum(r.cost_usd), 0),
            'cache_hits', coalesce(sum(r.cache_hits), 0),
            'saved_cost_usd', coalesce(sum(r.saved_cost_usd), 0)
        )
    ) into v_result
    from ranked as r;
    return v_result;
end;
$$;
comment on function llm.usage_report(date, date, text, integer) is
'Admin report over the days [since, until) (default: this month so far): users ranked by tokens, cost or requests (max_users of them; requests of no user rank with user_id NULL) and the totals of everyone. Reads yearly and monthly rollups for whole years and months and daily ones for the rest (22023 if retention dropped what is needed). Admins and service role.';

-- ---------------------------------------------------------------------------------------
-- Functions: quotas and reservations
-- ---------------------------------------------------------------------------------------

-- Sets a user's quota for a period, or the default for everyone (user_id NULL).
create or replace function llm.set_user_quota(
    user_id text,
    quota_period text,
    token_limit bigint default null,
    cost_limit numeric default null,
    request_limit bigint default null,
    hard boolean default true
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_user uuid;
    v_period text := llm.check_period_type('quota_period', set_user_quota.quota_period);
    v_row llm.usage_quotas;
begin
    perform llm.require_admin('set quotas');
    if set_user_quota.user_id is not null then
        v_user := llm.user_uuid(set_user_quota.user_id);
    end if;
    if set_user_quota.token_limit < 0 or set_user_quota.request_limit < 0 then
        raise exception '% must be >= 0 or NULL (unlimited), got %',
            case when set_user_quota.token_limit < 0 then 'token_limit' else 'request_limit' end,
            least(set_user_quota.token_limit, set_user_quota.request_limit)
            using errcode = '22023';
    end if;
    if not (set_user_quota.cost_limit >= 0 and set_user_quota.cost_limit < 'infinity'::numeric) then
        raise exception 'cost_limit must be a finite number >= 0 or NULL (unlimited), got %',
            set_user_quota.cost_limit
            using errcode = '22023';
    end if;
    if set_user_quota.hard is null then
        raise exception 'hard must be true (enforced) or false (reported only)' using errcode = '22004';
    end if;
    insert into llm.usage_quotas as q (
        user_id, quota_period, token_limit, cost_limit, request_limit, hard, updated_by
    )
    values (
        v_user, v_period, set_user_quota.token_limit, set_user_quota.cost_limit,
        set_user_quota.request_limit, set_user_quota.hard, auth.uid()
    )
    on conflict on constraint usage_quotas_key do update
        set token_limit = excluded.token_limit,
            cost_limit = excluded.cost_limit,
            request_limit = excluded.request_limit,
            hard = excluded.hard,
            updated_at = now(),
            updated_by = excluded.updated_by
    returning q.* into v_row;
    return to_jsonb(v_row);
end;
$$;
comment on function llm.set_user_quota(text, text, bigint, numeric, bigint, boolean) is
'Sets the quota of a user (user_id NULL: the default for everyone) for a daily, weekly, monthly or yearly period: token_limit, cost_limit (USD) and request_limit, each NULL for unlimited; hard (default true) is enforced by llm.reserve_quota(), soft is only reported. A user''s row replaces the default for that period. Returns the stored row. Admins and service role.';

-- Removes a user's own quota for a period, so the default applies again.
create or replace function llm.clear_user_quota(user_id text, quota_period text)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_period text := llm.check_period_type('quota_period', clear_user_quota.quota_period);
begin
    perform llm.require_admin('clear quotas');
    delete from llm.usage_quotas as q
    where q.user_id is not distinct from (
            case when clear_user_quota.user_id is not null then llm.user_uuid(clear_user_quota.user_id) end
        )
        and q.quota_period = v_period;
    return found;
end;
$$;
comment on function llm.clear_user_quota(text, text) is
'Deletes the quota of a user (or, with user_id NULL, the default) for a period; returns whether one existed. Admins and service role.';

-- Folds some of a busy user's journal rows for llm.reserve_quota without ever stalling it:
-- when rows or rollups are held by another transaction for longer than lock_timeout, it
-- gives up and leaves them to the fold job (which commits in short batches).
create or replace function llm.try_fold_user_journal(p_user_id uuid, p_max_rows integer)
returns bigint
language plpgsql
set search_path = ''
set lock_timeout = '5ms'
as $$
begin
    -- a recompute holds the fold lock exclusively while it replaces rollups
    if not pg_catalog.pg_try_advisory_xact_lock_shared(
            pg_catalog.hashtextextended('llm.usage_rollups fold', 0)
        ) then
        return 0;
    end if;
    return llm.fold_journal(p_max_rows, p_user_id);
exception when lock_not_available then
    return 0;
end;
$$;
comment on function llm.try_fold_user_journal(uuid, integer) is
'Folds up to p_max_rows unfolded journal rows of one user, or nothing if that would wait more than 5 ms for a lock (the fold job or a recompute holds them). Returns the rows folded. Internal: called by llm.reserve_quota().';

-- Atomically grants capacity for one request, or refuses it with HTTP 429 semantics.
create or replace function llm.reserve_quota(user_id text, tokens bigint, cost_usd numeric default 0)
returns uuid
language plpgsql
security definer
set search_path = ''
set enable_bitmapscan = off
as $$
declare
    -- only backends may call this, and resolve_user maps their UUIDs to themselves: the
    -- usual case skips that call
    v_user uuid := case
        when reserve_quota.user_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
            then reserve_quota.user_id::uuid
        else llm.resolve_user(reserve_quota.user_id, false)
    end;
    v_kinds constant text [] := array['token', 'cost', 'request'];
    v_requested numeric [] := array[reserve_quota.tokens, reserve_quota.cost_usd, 1];
    v_tz text;
    v_ttl interval;
    v_limited boolean;
    v_unfolded bigint := 0;
    v_reset_at timestamptz;
    v_id uuid;
    v record;
begin
    if reserve_quota.tokens is null then
        raise exception 'tokens is required' using errcode = '22004';
    end if;
    if reserve_quota.tokens < 0 then
        raise exception 'tokens must be >= 0, got %', reserve_quota.tokens using errcode = '22023';
    end if;
    if reserve_quota.cost_usd is null then
        raise exception 'cost_usd is required (0 when unknown)' using errcode = '22004';
    end if;
    if not (reserve_quota.cost_usd >= 0 and reserve_quota.cost_usd < 'infinity'::numeric) then
        raise exception 'cost_usd must be a finite number >= 0, got %', reserve_quota.cost_usd
            using errcode = '22023';
    end if;

    -- both settings and whether a hard quota applies, in one statement before any lock is
    -- taken (STRICT: a missing setting is an error, never a NULL)
    select
        tz.value #>> '{}',
        (ttl.value #>> '{}')::interval,
        exists (select from llm.effective_quotas(v_user) as q where q.hard)
    into strict v_tz, v_ttl, v_limited
    from llm.settings as tz
    cross join llm.settings as ttl
    where tz.key = 'period_timezone' and ttl.key = 'quota_reservation_ttl';

    if v_limited then
        -- one reserver per user at a time, until commit: no check-then-act window
        perform pg_catalog.pg_advisory_xact_lock(
            pg_catalog.hashtextextended('llm.quota_reservations/' || v_user::text, 0)
        );
        -- usage and open reservations of every hard quota's period, in one statement (one
        -- snapshot, taken after the lock); the limits are then compared in period order
        for v in
            select
                q.quota_period, p.period_start, u.unfolded_rows,
                array[q.token_limit, q.cost_limit, q.request_limit] as limits,
                array[u.tokens, u.cost_usd, u.requests] as used,
                array[r.tokens, r.cost_usd, r.requests] as reserved
            from llm.effective_quotas(v_user) as q
            inner join llm.usage_periods(now(), v_tz) as p on p.period_type = q.quota_period
            cross join lateral llm.period_usage(v_user, q.quota_period, p.period_start, v_tz) as u
            cross join (
                select
                    coalesce(sum(x.tokens), 0) as tokens,
                    coalesce(sum(x.cost_usd), 0) as cost_usd,
                    count(*) as requests
                from llm.quota_reservations as x
                where x.user_id = v_user and x.expires_at > now()
            ) as r
            where q.hard
            order by array_position(array['daily', 'weekly', 'monthly', 'yearly'], q.quota_period)
        loop
            for k in 1..3 loop
                -- a NULL limit is unlimited
                if v.used[k] + v.reserved[k] + v_requested[k] > v.limits[k] then
                    v_reset_at := (llm.usage_period_bounds(v.quota_period, v.period_start)).ends_at;
                    raise exception '% % quota exceeded: limit %, used %, reserved %, requested %',
                        v.quota_period, v_kinds[k], v.limits[k], v.used[k], v.reserved[k], v_requested[k]
                        using errcode = 'PT429',
                            detail = jsonb_build_object(
                                'user_id', v_user, 'quota_period', v.quota_period,
                                'limit_type', v_kinds[k], 'limit', v.limits[k], 'used', v.used[k],
                                'reserved', v.reserved[k], 'requested', v_requested[k],
                                'reset_at', v_reset_at
                            )::text,
                            hint = format('the %s quota resets at %s', v.quota_period, v_reset_at);
                end if;
            end loop;
            v_unfolded := greatest(v_unfolded, v.unfolded_rows);
        end loop;
        -- a busy user's unfolded rows are folded here once a check summed 64 of them, so
        -- checks stay cheap whatever the fold job's schedule; never waiting for a lock
        if v_unfolded >= 64 then
            perform llm.try_fold_user_journal(v_user, 1000);
        end if;
    end if;

    insert into llm.quota_reservations as x (user_id, tokens, cost_usd, expires_at)
    values (v_user, reserve_quota.tokens, reserve_quota.cost_usd, now() + v_ttl)
    returning x.id into v_id;
    return v_id;
end;
$$;
comment on function llm.reserve_quota(text, bigint, numeric) is
'Reserves tokens and cost_usd (and one request) for a request about to be made, against every hard quota of the user: granted only if used + open reservations + requested stays within each limit, under a per-user lock, so concurrent callers can never over-grant. Returns the reservation id; pass it to log_request(reservation_id => ...) to settle it with the actual usage, or to llm.release_reservation(). Refusal raises SQLSTATE PT429 (HTTP 429 through PostgREST) whose message names the period, limit, used, reserved and requested amounts, with the same as JSON in DETAIL. Reservations expire after quota_reservation_ttl. Service role only.';

-- Settles a reservation in the logging transaction (replaces the request log's no-op hook).
create or replace function llm.settle_reservation(
    p_reservation_id uuid,
    p_user_id uuid,
    p_request_log_id bigint,
    p_total_tokens bigint,
    p_cost_usd numeric
)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
    -- the journal row written with the request now counts the actual usage; the estimate
    -- goes in the same transaction. An unknown or expired reservation changes nothing.
    delete from llm.quota_reservations as x
    where x.id = p_reservation_id and x.user_id = p_user_id;
end;
$$;
comment on function llm.settle_reservation(uuid, uuid, bigint, bigint, numeric) is
'Called by llm.log_request(reservation_id => ...) in the logging transaction: deletes the user''s reservation, since the logged request''s journal row now counts its actual usage (p_request_log_id, p_total_tokens and p_cost_usd; 0 and 0 for a retry of a request_id already logged, whose first row counts it). A reservation that is unknown, expired, released or another user''s is left alone and the usage is still logged.';

-- Gives back a reservation whose request was not made.
create or replace function llm.release_reservation(reservation_id uuid)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
    if release_reservation.reservation_id is null then
        raise exception 'reservation_id is required' using errcode = '22004';
    end if;
    delete from llm.quota_reservations as x where x.id = release_reservation.reservation_id;
    return found;
end;
$$;
comment on function llm.release_reservation(uuid) is
'Releases an open reservation (the request failed or was not made). Returns true, or false when it was already settled, released or swept. Service role only.';

-- Deletes expired reservations (they stopped counting at expiry already).
create or replace function llm.sweep_quota_reservations()
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_count bigint;
begin
    perform llm.require_admin('sweep reservations');
    delete from llm.quota_reservations as x where x.expires_at <= now();
    get diagnostics v_count = row_count;
    return v_count;
end;
$$;
comment on function llm.sweep_quota_reservations() is
'Deletes the expired quota reservations and returns how many. Admins and service role; run by the llm_quota_reservation_sweep job.';

-- ---------------------------------------------------------------------------------------
-- Functions: one atomic chat turn
-- ---------------------------------------------------------------------------------------

-- Stores the assistant message, logs its request and settles its reservation in one
-- transaction, so a turn is never saved without its usage nor billed without its message.
create or replace function llm.record_completion(
    conversation_id text,
    content text,
    provider text,
    model text,
    prompt_tokens integer default 0,
    completion_tokens integer default 0,
    reservation_id uuid default null,
    request_id text default null,
    user_id text default null,
    cached_tokens integer default 0,
    total_tokens integer default null,
    cost_usd numeric default null,
    latency_ms integer default null,
    agent_id uuid default null,
    metadata jsonb default null,
    request_metadata jsonb default '{}',
    out message_id uuid,
    out request_log_id bigint
)
language plpgsql
security definer
set search_path = ''
as $$
declare
    -- locks the conversation: concurrent turns of one conversation append one after another
    v_conv llm.conversations := llm.find_conversation(
        record_completion.conversation_id, 'conversation_id', record_completion.user_id, true
    );
    v_msg llm.messages;
    v_logged_in uuid;
begin
    -- a retried turn (same request_id) returns what the first one stored
    if record_completion.request_id is not null then
        select r.request_log_id, l.message_id, l.conversation_id
        into request_log_id, message_id, v_logged_in
        from llm.request_ids as r
        left join llm.request_logs as l on l.id = r.request_log_id and l.created_at = r.created_at
        where r.request_id = record_completion.request_id;
        if found then
            if message_id is null or v_logged_in is distinct from v_conv.id then
                raise exception 'request_id % was already logged for another turn',
                    quote_literal(record_completion.request_id)
                    using errcode = '23505';
            end if;
            -- its usage is logged already: the retry's reservation is settled with nothing more
            if record_completion.reservation_id is not null then
                perform llm.settle_reservation(
                    record_completion.reservation_id, v_conv.user_id, request_log_id, 0, 0
                );
            end if;
            return;
        end if;
    end if;
    v_msg := llm.insert_message(
        v_conv.id, false, null, 'assistant', record_completion.content, record_completion.metadata,
        record_completion.model, record_completion.total_tokens, record_completion.prompt_tokens,
        record_completion.completion_tokens
    );
    message_id := v_msg.id;
    request_log_id := llm.log_request(
        provider => record_completion.provider,
        model => record_completion.model,
        user_id => v_conv.user_id::text,
        prompt_tokens => record_completion.prompt_tokens,
        completion_tokens => record_completion.completion_tokens,
        cached_tokens => record_completion.cached_tokens,
        total_tokens => record_completion.total_tokens,
        cost_usd => record_completion.cost_usd,
        latency_ms => record_completion.latency_ms,
        request_id => record_completion.request_id,
        conversation_id => v_conv.id,
        message_id => v_msg.id,
        agent_id => record_completion.agent_id,
        metadata => record_completion.request_metadata,
        reservation_id => record_completion.reservation_id
    );
end;
$$;
comment on function llm.record_completion(
    text, text, text, text, integer, integer, uuid, text, text, integer, integer, numeric, integer,
    uuid, jsonb, jsonb
) is
'One atomic chat turn: appends the assistant message (content, model, tokens, metadata) to the conversation''s active branch, logs the request for the conversation''s owner (llm.log_request, with message_id and conversation_id) and settles reservation_id, all in one transaction; any error stores nothing. Returns message_id and request_log_id; a retry with the same request_id returns the first turn''s ids, stores nothing and settles the retry''s reservation_id. Unknown or not-owned conversations raise P0002 (user_id, when given, must be the owner). Service role only.';

-- ---------------------------------------------------------------------------------------
-- Functions: retention
-- ---------------------------------------------------------------------------------------

-- Drops old daily, weekly and monthly rollups; yearly ones (folded directly) are kept.
create or replace function llm.apply_usage_rollup_retention()
returns table (period_type text, kept_from date, rollup_rows bigint, member_rows bigint)
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_today date := llm.usage_period_start('daily', now());
    v_keep integer;
    p record;
begin
    perform llm.require_admin('apply usage rollup retention');
    for p in
        select *
        from (
            values
            ('daily', 'usage_rollup_daily_retention_days', interval '1 day'),
            ('weekly', 'usage_rollup_weekly_retention_weeks', interval '7 days'),
            ('monthly', 'usage_rollup_monthly_retention_months', interval '1 month')
        ) as v (period_type, setting, unit)
    loop
        v_keep := llm.setting_text(p.setting)::integer;
        continue when v_keep <= 0;
        period_type := p.period_type;
        kept_from := (llm.period_floor(p.period_type, v_today) - v_keep * p.unit)::date;
        delete from llm.usage_rollups as r
        where r.period_type = p.period_type and r.period_start < kept_from;
        get diagnostics rollup_rows = row_count;
        delete from llm.usage_rollup_members as m
        where m.period_type = p.period_type and m.period_start < kept_from;
        get diagnostics member_rows = row_count;
        return next;
    end loop;
end;
$$;
comment on function llm.apply_usage_rollup_retention() is
'Deletes daily rollups older than usage_rollup_daily_retention_days, weekly ones older than usage_rollup_weekly_retention_weeks and monthly ones older than usage_rollup_monthly_retention_months (0 keeps them); yearly rollups are kept. Totals are never lost: every request is folded into all four period types. Admins and service role; run by the llm_usage_rollup_retention job.';

-- ---------------------------------------------------------------------------------------
-- Policies
-- ---------------------------------------------------------------------------------------

alter table llm.usage_rollups enable row level security;
alter table llm.usage_rollup_members enable row level security;
alter table llm.usage_quotas enable row level security;
alter table llm.quota_reservations enable row level security;
alter table llm.usage_backfills enable row level security;

drop policy if exists "Users read their own usage rollups" on llm.usage_rollups;
create policy "Users read their own usage rollups" on llm.usage_rollups
for select to authenticated using (user_id = (select auth.uid()));
comment on policy "Users read their own usage rollups" on llm.usage_rollups is
'A signed-in user sees the rollups of their own usage.';

drop policy if exists "Admins read all usage rollups" on llm.usage_rollups;
create policy "Admins read all usage rollups" on llm.usage_rollups
for select to authenticated using ((select llm.is_admin()));
comment on policy "Admins read all usage rollups" on llm.usage_rollups is
'Package admins see everyone''s usage rollups.';

drop policy if exists "Users read their own usage members" on llm.usage_rollup_members;
create policy "Users read their own usage members" on llm.usage_rollup_members
for select to authenticated using (user_id = (select auth.uid()));
comment on policy "Users read their own usage members" on llm.usage_rollup_members is
'A signed-in user sees which of their conversations and agents were active per period.';

drop policy if exists "Admins read all usage members" on llm.usage_rollup_members;
create policy "Admins read all usage members" on llm.usage_rollup_members
for select to authenticated using ((select llm.is_admin()));
comment on policy "Admins read all usage members" on llm.usage_rollup_members is
'Package admins see every user''s active conversations and agents per period.';

drop policy if exists "Users read the quotas that apply to them" on llm.usage_quotas;
create policy "Users read the quotas that apply to them" on llm.usage_quotas
for select to authenticated using (user_id = (select auth.uid()) or user_id is null);
comment on policy "Users read the quotas that apply to them" on llm.usage_quotas is
'A signed-in user sees their own quotas and the defaults for everyone.';

drop policy if exists "Admins read all quotas" on llm.usage_quotas;
create policy "Admins read all quotas" on llm.usage_quotas
for select to authenticated using ((select llm.is_admin()));
comment on policy "Admins read all quotas" on llm.usage_quotas is
'Package admins see every user''s quotas.';

drop policy if exists "Users read their own reservations" on llm.quota_reservations;
create policy "Users read their own reservations" on llm.quota_reservations
for select to authenticated using (user_id = (select auth.uid()));
comment on policy "Users read their own reservations" on llm.quota_reservations is
'A signed-in user sees the quota held by their requests in flight.';

drop policy if exists "Admins read all reservations" on llm.quota_reservations;
create policy "Admins read all reservations" on llm.quota_reservations
for select to authenticated using ((select llm.is_admin()));
comment on policy "Admins read all reservations" on llm.quota_reservations is
'Package admins see every open quota reservation.';

drop policy if exists "Admins read usage backfills" on llm.usage_backfills;
create policy "Admins read usage backfills" on llm.usage_backfills
for select to authenticated using ((select llm.is_admin()));
comment on policy "Admins read usage backfills" on llm.usage_backfills is
'Package admins follow the progress of rollup backfills.';

-- ---------------------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------------------

revoke all on llm.usage_rollups, llm.usage_rollup_members, llm.usage_quotas,
llm.quota_reservations, llm.usage_backfills, llm.usage_live, llm.usage_members_live,
llm.daily_usage_summary, llm.user_token_usage, llm.user_usage_stats
from anon, authenticated, service_role;
grant select on llm.usage_rollups, llm.usage_rollup_members, llm.usage_quotas,
llm.quota_reservations, llm.usage_backfills, llm.usage_live, llm.usage_members_live,
llm.daily_usage_summary, llm.user_token_usage, llm.user_usage_stats
to authenticated, service_role;

revoke execute on all functions in schema llm from public, anon;
grant execute on function
llm.check_period_type(text, text),
llm.period_floor(text, timestamp),
llm.period_step(text),
llm.usage_periods(timestamptz, text),
llm.usage_period_start(text, timestamptz),
llm.usage_period_bounds(text, date),
llm.period_usage(uuid, text, date, text),
llm.usage_totals(uuid, text, date),
llm.effective_quotas(uuid),
llm.usage_cover(date, date),
llm.get_user_token_usage(text, integer),
llm.check_user_quota(text, text),
llm.usage_report(date, date, text, integer),
llm.set_user_quota(text, text, bigint, numeric, bigint, boolean),
llm.clear_user_quota(text, text),
llm.aggregate_user_token_usage(uuid, timestamptz, timestamptz, varchar),
llm.start_usage_backfill(date, date, integer),
llm.run_usage_backfill(integer),
llm.fold_usage(integer),
llm.sweep_quota_reservations(),
llm.apply_usage_rollup_retention()
to authenticated, service_role;
grant execute on function
llm.record_token_usage(text, integer, text, text, jsonb),
llm.reserve_quota(text, bigint, numeric),
llm.release_reservation(uuid),
llm.record_completion(
    text, text, text, text, integer, integer, uuid, text, text, integer, integer, numeric, integer,
    uuid, jsonb, jsonb
),
llm.import_legacy_usage(jsonb)
to service_role;
revoke execute on procedure llm.run_usage_fold(integer) from public, anon;
grant execute on procedure llm.run_usage_fold(integer) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------
-- Settings and jobs
-- ---------------------------------------------------------------------------------------

select llm.define_setting(
    'usage_fold_schedule', 'cron', '"* * * * *"',
    'When the job folding the usage journal into the rollups runs (with pg_cron 1.5 or later, e.g. "5 seconds").'
);
select llm.define_setting(
    'usage_fold_batch_rows', 'integer', '2000',
    'Most journal rows one llm.fold_usage() call (one transaction, one batch of the fold job) folds.'
);
select llm.define_setting(
    'quota_reservation_ttl', 'interval', '"10 minutes"',
    'How long a quota reservation counts before it expires unless settled or released.'
);
select llm.define_setting(
    'quota_reservation_sweep_schedule', 'cron', '"*/5 * * * *"',
    'When the job deleting expired quota reservations runs.'
);
select llm.define_setting(
    'usage_rollup_daily_retention_days', 'integer', '90',
    'Days of daily usage rollups kept (0 keeps them all); also the most days get_user_token_usage reads.'
);
select llm.define_setting(
    'usage_rollup_weekly_retention_weeks', 'integer', '104',
    'Weeks of weekly usage rollups kept (0 keeps them all).'
);
select llm.define_setting(
    'usage_rollup_monthly_retention_months', 'integer', '24',
    'Months of monthly usage rollups kept (0 keeps them all). Yearly rollups are always kept.'
);
select llm.define_setting(
    'usage_rollup_retention_schedule', 'cron', '"41 3 * * *"',
    'When the usage rollup retention job runs.'
);
select llm.define_setting(
    'usage_backfill_schedule', 'cron', '"* * * * *"',
    'When the job running queued usage backfills runs (it does nothing when none is queued).'
);

select llm.register_job(
    'llm_usage_fold', 'usage_fold_schedule', 'call llm.run_usage_fold()',
    'Folds the usage journal into the usage rollups, in short committed batches.'
);
select llm.register_job(
    'llm_quota_reservation_sweep', 'quota_reservation_sweep_schedule',
    'select llm.sweep_quota_reservations()',
    'Deletes expired quota reservations.'
);
select llm.register_job(
    'llm_usage_rollup_retention', 'usage_rollup_retention_schedule',
    'select llm.apply_usage_rollup_retention()',
    'Drops daily, weekly and monthly usage rollups past their retention.'
);
select llm.register_job(
    'llm_usage_backfill', 'usage_backfill_schedule', 'select llm.run_usage_backfill()',
    'Runs the next batches of queued usage backfills.'
);
