-- Usage reports over many users and periods.

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
    v_daily_days integer := llm_private.setting_text('usage_rollup_daily_retention_days')::integer;
    v_monthly_months integer := llm_private.setting_text('usage_rollup_monthly_retention_months')::integer;
begin
    perform llm.check_day_range(p_from, p_to, 'p_from', 'p_to');
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
'Tiles the days [p_from, p_to) with whole years, then whole months, then days. Raises 22004 for a NULL end, 22023 for an infinite end or a range over 36525 days, and 22023 when a piece needs daily or monthly rollups that retention has already dropped.';
grant execute on function llm.usage_cover(date, date) to authenticated, service_role;

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
grant execute on function llm.usage_report(
    date, date, text, integer
) to authenticated, service_role;
