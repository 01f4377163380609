-- Reading usage: a user's usage and quota checks.

-- Seed API: usage statistics of one user for the last days, from the rollups.
create or replace function llm.get_user_token_usage(user_id text default null, days integer default 30)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
    v_user uuid := llm.resolve_user(get_user_token_usage.user_id, true);
    v_keep integer := llm_private.setting_text('usage_rollup_daily_retention_days')::integer;
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
grant execute on function llm.get_user_token_usage(text, integer) to authenticated, service_role;

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
            r.tokens as reserved_tokens,
            r.cost_usd as reserved_cost,
            r.requests as reserved_requests
        from llm.usage_totals(v_user, v_period, v_start) as u
        left join llm.effective_quotas(v_user) as q on q.quota_period = v_period
        cross join llm.open_reservations(v_user) as r
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
grant execute on function llm.check_user_quota(text, text) to authenticated, service_role;
