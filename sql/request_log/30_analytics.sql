-- Analytics over the request log (security invoker: users see their own requests, admins all).

-- Total API costs by user.
create or replace function llm.cost_by_user(since timestamptz default null, until timestamptz default null)
returns table (
    user_id uuid, user_label text, total_requests bigint, total_cost_usd numeric, total_tokens bigint
)
language sql
stable
set search_path = ''
as $$
    select
        r.user_id,
        llm_private.user_label(r.user_id),
        count(*),
        coalesce(sum(r.cost_usd), 0),
        coalesce(sum(r.tokens_total) filter (where not r.cache_hit), 0)
    from llm.request_logs as r
    where r.created_at >= coalesce(cost_by_user.since, '-infinity')
        and r.created_at < coalesce(cost_by_user.until, 'infinity')
    group by r.user_id
    order by 4 desc, 3 desc;
$$;
comment on function llm.cost_by_user(timestamptz, timestamptz) is
'Requests, cost and tokens consumed (cache hits excluded) per user in [since, until) (default: all time), costliest first. Users see themselves, admins everyone.';
grant execute on function llm.cost_by_user(timestamptz, timestamptz) to authenticated, service_role;

-- Error rate by model and request type.
create or replace function llm.error_rate_by_model(
    since timestamptz default null, until timestamptz default null
)
returns table (
    model text, request_type llm.request_type, total_requests bigint, failed_requests bigint,
    error_rate_pct numeric
)
language sql
stable
set search_path = ''
as $$
    select
        r.model,
        r.request_type,
        count(*),
        count(*) filter (where not r.success),
        round(100.0 * count(*) filter (where not r.success) / count(*), 2)
    from llm.request_logs as r
    where r.created_at >= coalesce(error_rate_by_model.since, '-infinity')
        and r.created_at < coalesce(error_rate_by_model.until, 'infinity')
    group by r.model, r.request_type
    order by 5 desc, 3 desc, 1, 2;
$$;
comment on function llm.error_rate_by_model(timestamptz, timestamptz) is
'Requests, failures and error rate (percent, 2 decimals) per model and request type in [since, until), highest rate first.';
grant execute on function llm.error_rate_by_model(
    timestamptz, timestamptz
) to authenticated, service_role;

-- Latency by request type and model, with percentiles.
create or replace function llm.latency_by_model(
    since timestamptz default null, until timestamptz default null
)
returns table (
    request_type llm.request_type, model text, request_count bigint, avg_latency_ms numeric,
    p50_latency_ms numeric, p95_latency_ms numeric, avg_tokens numeric
)
language sql
stable
set search_path = ''
as $$
    select
        r.request_type,
        r.model,
        count(*),
        round(avg(r.latency_ms), 2),
        round(percentile_cont(0.5) within group (order by r.latency_ms)::numeric, 2),
        round(percentile_cont(0.95) within group (order by r.latency_ms)::numeric, 2),
        round(avg(r.tokens_total), 2)
    from llm.request_logs as r
    where r.success
        and r.created_at >= coalesce(latency_by_model.since, '-infinity')
        and r.created_at < coalesce(latency_by_model.until, 'infinity')
    group by r.request_type, r.model
    order by 1, 4 desc nulls last, 2;
$$;
comment on function llm.latency_by_model(timestamptz, timestamptz) is
'Successful requests per request type and model in [since, until): count, average, median (p50) and p95 latency in ms, average tokens.';
grant execute on function llm.latency_by_model(
    timestamptz, timestamptz
) to authenticated, service_role;

-- Daily requests, tokens and cost.
create or replace function llm.daily_usage(since timestamptz default null, until timestamptz default null)
returns table (
    date date, total_requests bigint, failed_requests bigint, total_cost_usd numeric,
    total_tokens bigint, saved_tokens bigint
)
language sql
stable
set search_path = ''
as $$
    select
        (r.created_at at time zone llm_private.setting_text('period_timezone'))::date,
        count(*),
        count(*) filter (where not r.success),
        coalesce(sum(r.cost_usd), 0),
        -- tokens consumed: those of requests not answered from a cache, as in the rollups
        coalesce(sum(r.tokens_total) filter (where not r.cache_hit), 0),
        coalesce(sum(r.tokens_total) filter (where r.cache_hit), 0)
    from llm.request_logs as r
    where r.created_at >= coalesce(daily_usage.since, '-infinity')
        and r.created_at < coalesce(daily_usage.until, 'infinity')
    group by 1
    order by 1 desc;
$$;
comment on function llm.daily_usage(timestamptz, timestamptz) is
'Requests, failures, cost and tokens consumed (cache hits excluded, as in llm.daily_usage_summary and the rollups) per day (in the period_timezone setting) in [since, until), latest first; saved_tokens: the tokens of the cache hits.';
grant execute on function llm.daily_usage(timestamptz, timestamptz) to authenticated, service_role;
