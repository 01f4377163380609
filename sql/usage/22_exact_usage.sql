-- Exact usage of a period: rollups plus the journal not yet folded.

-- Exact usage of one user in one period, for quota checks: the period's rollup rows and the
-- sum of the user's unfolded journal rows of the period, both through an index. The journal
-- rows are found by time range, not by bucketing each row into its four periods as
-- llm.usage_live does; the range is widened by a day on each side (local times are less
-- than a day from UTC) and each row's local time then decides, so the rows are exactly the
-- ones llm.usage_periods buckets there, even where a daylight-saving change makes midnight
-- ambiguous. plpgsql, so its plan is cached across calls (it runs on every quota check and
-- reservation) while its search_path stays pinned. The journal is a queue whose size swings
-- between folds: the plan, made once per session, reads by index whatever the journal held
-- when it was made (one made while it was empty would read every row of it at every check
-- once it fills). Plain index scans, not bitmap scans: the queue's deleted rows stay in the
-- index until vacuum, and only a plain index scan marks those entries dead, so that later
-- checks skip them instead of visiting their heap pages again.
create or replace function llm.period_usage(
    p_user_id uuid, p_period_type text, p_period_start date, p_tz text
)
returns table (requests bigint, tokens bigint, cost_usd numeric, unfolded_rows bigint)
language plpgsql
stable
rows 1
set search_path = ''
set plan_cache_mode = force_generic_plan
set enable_seqscan = off
set enable_bitmapscan = off
as $$
begin
    return query
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
end;
$$;
comment on function llm.period_usage(uuid, text, date, text) is
'Requests, billed tokens and cost of a user in one period whose days are in time zone p_tz (rollups plus unfolded journal rows, summed by index ranges), and how many unfolded journal rows that took.';
grant execute on function llm.period_usage(uuid, text, date, text) to authenticated, service_role;

-- Exact usage of one user in one period: folded rollups plus unfolded journal rows.
create or replace function llm.usage_totals(p_user_id uuid, p_period_type text, p_period_start date)
returns table (requests bigint, tokens bigint, cost_usd numeric)
language plpgsql
stable
rows 1
set search_path = ''
as $$
declare
    v_tz text := llm_private.setting_text('period_timezone');
begin
    -- plpgsql keeps the plan of this query; stable, so it reads the caller's snapshot
    return query
    select u.requests, u.tokens, u.cost_usd
    from llm.period_usage(p_user_id, p_period_type, p_period_start, v_tz) as u;
end;
$$;
comment on function llm.usage_totals(uuid, text, date) is
'Requests, billed tokens and cost of a user in one period (rollups plus unfolded journal rows), from one snapshot.';
grant execute on function llm.usage_totals(uuid, text, date) to authenticated, service_role;
