-- Recomputing costs after a price fix; models without a price.

-- Re-prices history after a price fix, journaling the cost changes so rollups stay exact.
create or replace function llm_private.recompute_costs(
    since timestamptz, until timestamptz, out repriced bigint, out cost_change_usd numeric
)
language plpgsql
security definer
set search_path = ''
as $$
begin
    perform llm.require_admin('recompute costs');
    if recompute_costs.since is null or recompute_costs.until is null then
        raise exception 'since and until are required' using errcode = '22004';
    end if;
    if recompute_costs.until <= recompute_costs.since then
        raise exception 'until (%) must be after since (%)', recompute_costs.until, recompute_costs.since
            using errcode = '22023';
    end if;
    -- one recompute at a time: the next one starts from the costs the previous one committed,
    -- so a price change is journaled once, and two runs never lock rows in opposite orders
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('llm.recompute_costs', 0));
    with priced as (
        select
            r.id,
            r.created_at,
            r.cache_hit,
            r.cost_usd as old_cost,
            r.saved_cost_usd as old_saved,
            llm_private.estimate_cost(
                r.provider, r.model, r.prompt_tokens, r.completion_tokens, r.cached_tokens,
                r.cache_write_tokens, r.audio_seconds, r.created_at
            ) as price
        from llm.request_logs as r
        where r.created_at >= recompute_costs.since
            and r.created_at < recompute_costs.until
            and r.cost_source <> 'caller'
    ),

    changed as (
        select
            p.*,
            case when p.cache_hit then 0 else p.price end as new_cost,
            case when p.cache_hit then p.price end as new_saved
        from priced as p
        where (case when p.cache_hit then 0 else p.price end, case when p.cache_hit then p.price end)
            is distinct from (p.old_cost, p.old_saved)
    ),

    updated as (
        update llm.request_logs as r
        set cost_usd = c.new_cost,
            saved_cost_usd = c.new_saved,
            cost_source = case
                when c.cache_hit then 'cache_hit'
                when c.new_cost is null then 'unpriced'
                else 'registry'
            end
        from changed as c
        where r.id = c.id and r.created_at = c.created_at
        returning
            r.id, r.created_at, r.user_id, r.provider, r.model, r.request_type, r.success,
            r.cache_hit, r.conversation_id, r.agent_id,
            coalesce(c.new_cost, 0) - coalesce(c.old_cost, 0) as cost_delta,
            coalesce(c.new_saved, 0) - coalesce(c.old_saved, 0) as saved_delta
    ),

    journaled as (
        insert into llm.usage_journal (
            request_log_id, occurred_at, user_id, provider, model, request_type, requests,
            prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens, total_tokens,
            cost_usd, success, cache_hit, saved_tokens, saved_cost_usd, conversation_id, agent_id
        )
        select
            u.id, u.created_at, u.user_id, u.provider, u.model, u.request_type, 0,
            0, 0, 0, 0, 0, u.cost_delta, u.success, u.cache_hit, 0, u.saved_delta,
            u.conversation_id, u.agent_id
        from updated as u
        returning cost_usd
    )

    select count(*), coalesce(sum(j.cost_usd), 0)
    into recompute_costs.repriced, recompute_costs.cost_change_usd
    from journaled as j;
end;
$$;
comment on function llm_private.recompute_costs(timestamptz, timestamptz) is
'Implementation of llm.recompute_costs() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.recompute_costs(timestamptz, timestamptz) to authenticated, service_role;

-- Makes missing prices visible instead of silently zero.
create or replace function llm.unpriced_models(since timestamptz default null, until timestamptz default null)
returns table (
    provider text, model text, requests bigint, first_seen timestamptz, last_seen timestamptz
)
language sql
stable
set search_path = ''
as $$
    select r.provider, r.model, count(*), min(r.created_at), max(r.created_at)
    from llm.request_logs as r
    where r.cost_source = 'unpriced'
        and r.created_at >= coalesce(unpriced_models.since, '-infinity')
        and r.created_at < coalesce(unpriced_models.until, 'infinity')
    group by r.provider, r.model
    order by count(*) desc, r.provider, r.model;
$$;
comment on function llm.unpriced_models(timestamptz, timestamptz) is
'Provider/model pairs logged without a known price (cost NULL) in [since, until), with counts: add their prices with llm.set_model_price(), then run llm.recompute_costs(). Rows visible to the caller only.';
grant execute on function llm.unpriced_models(
    timestamptz, timestamptz
) to authenticated, service_role;
