-- Rebuilding rollups from the raw log; the seed's aggregate function.

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
    v_tz text := llm_private.setting_text('period_timezone');
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
    -- the usage of these periods may change: their quota escrow is recomputed before its next
    -- use, also what escrow recomputes in progress write (they commit first:
    -- llm.quota_change_lock)
    perform pg_catalog.pg_advisory_xact_lock(llm.quota_change_lock());
    update llm.quota_escrow as e
    set ready = false
    where e.ready
        and e.quota_period = p_period_type
        and e.period_start between p_first and p_last
        and (p_all_users or e.user_id = p_user_id);
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
create or replace function llm_private.aggregate_user_token_usage(
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
comment on function llm_private.aggregate_user_token_usage(
    uuid, timestamptz, timestamptz, varchar
) is
'Implementation of llm.aggregate_user_token_usage() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.aggregate_user_token_usage(
    uuid, timestamptz, timestamptz, varchar
) to authenticated, service_role;
