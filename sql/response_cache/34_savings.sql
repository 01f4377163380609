-- Logging hits as savings; cache statistics.

-- Logs a hit as a zero-cost cache-hit request, so what it saved reaches the request log and
-- the usage rollups (priced from llm.model_prices as if the call had been made). With
-- count_hit it also counts the hit, for a lookup that could not (a GET: a read-only
-- transaction), once per logged request: a retry of a logged request_id counts nothing more.
create or replace function llm.log_cache_hit(
    entry_id uuid,
    user_id text default null,
    request_id text default null,
    conversation_id text default null,
    latency_ms integer default null,
    metadata jsonb default '{}',
    count_hit boolean default false
)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_hit llm.cache_hit;
    v_owner uuid;
    v_id bigint;
begin
    if log_cache_hit.entry_id is null then
        raise exception 'entry_id must not be null' using errcode = '22004';
    end if;
    if log_cache_hit.count_hit is null then
        raise exception 'count_hit must not be null' using errcode = '22004';
    end if;
    select c.id, c.provider, c.model, c.scope, c.prompt_tokens, c.completion_tokens, c.total_tokens,
        c.cost_usd, c.user_id
    into v_hit.id, v_hit.provider, v_hit.model, v_hit.scope, v_hit.prompt_tokens,
        v_hit.completion_tokens, v_hit.total_tokens, v_hit.cost_saved_usd, v_owner
    from llm.response_cache as c
    where c.id = log_cache_hit.entry_id;
    if not found then
        raise exception 'cache entry % not found', log_cache_hit.entry_id using errcode = 'P0002';
    end if;
    v_id := llm.log_request(
        provider => v_hit.provider,
        model => v_hit.model,
        user_id => coalesce(log_cache_hit.user_id, v_owner::text),
        prompt_tokens => coalesce(v_hit.prompt_tokens, 0)::integer,
        completion_tokens => coalesce(v_hit.completion_tokens, 0)::integer,
        total_tokens => v_hit.total_tokens::integer,
        cache_hit => true,
        request_id => log_cache_hit.request_id,
        conversation_id => log_cache_hit.conversation_id,
        latency_ms => log_cache_hit.latency_ms,
        service => 'response_cache',
        metadata => llm.check_metadata(log_cache_hit.metadata, 'metadata')
        || jsonb_build_object('cache_entry_id', log_cache_hit.entry_id)
    );
    -- log_request draws a new id for every call and returns another row's id only for a
    -- request_id logged before: that request counted its hit then
    if log_cache_hit.count_hit and v_id = currval('llm.request_logs_id_seq') then
        perform llm.cache_count_hit(v_hit);
    end if;
    return v_id;
end;
$$;
comment on function llm.log_cache_hit(uuid, text, text, text, integer, jsonb, boolean) is
'Logs a cache hit (entry_id from get_cached_llm_response) as a request with cache_hit = true: cost 0, its tokens and registry-priced cost recorded as saved, in the request log and the usage rollups. user_id defaults to the owner of a user-scoped entry; conversation_id is the UUID or the client id of a conversation. count_hit => true also counts the hit in the entry''s hit count and the cache statistics, for a hit served through GET (which counts nothing); a retry with a logged request_id counts nothing more. 22004 NULL entry_id or count_hit, P0002 unknown entry; service role only.';
grant execute on function llm.log_cache_hit(uuid, text, text, text, integer, jsonb, boolean) to service_role;

-- Hit rate and savings per provider, model and scope, live and removed entries together.
create or replace function llm_private.get_llm_cache_stats()
returns setof llm.cache_stats
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    perform llm.require_admin('read cache statistics');
    return query
    with live as (
        select c.provider, c.model, c.scope, count(*) as entries, sum(n.hits) as hits,
            sum(n.hits * c.prompt_tokens) as prompt_tokens, sum(n.hits * c.completion_tokens) as completion_tokens,
            sum(n.hits * c.total_tokens) as total_tokens, sum(n.hits * c.cost_usd) as cost_usd
        from llm.response_cache as c
        -- counted hits plus the journal's, as llm.cache_hit_count() adds them; grouped once
        -- each (not looked up per entry), so the cost is linear in the size of the cache
        left join (
            select x.entry_id, sum(x.hits) as hits from llm.response_cache_hits as x group by x.entry_id
        ) as h on h.entry_id = c.id
        left join (
            select y.entry_id, count(*) as hits from llm.response_cache_hit_journal as y group by y.entry_id
        ) as j on j.entry_id = c.id
        cross join lateral (select coalesce(h.hits, 0) + coalesce(j.hits, 0) as hits) as n
        group by c.provider, c.model, c.scope
    ),
    past as (
        select t.provider, t.model, t.scope, sum(t.misses) as misses, sum(t.retired_hits) as hits,
            sum(t.retired_prompt_tokens) as prompt_tokens, sum(t.retired_completion_tokens) as completion_tokens,
            sum(t.retired_total_tokens) as total_tokens, sum(t.retired_cost_usd) as cost_usd
        from (
            select x.provider, x.model, x.scope, x.misses, x.retired_hits, x.retired_prompt_tokens,
                x.retired_completion_tokens, x.retired_total_tokens, x.retired_cost_usd
            from llm.response_cache_totals as x
            union all
            -- hits of removed entries the fold has not moved here yet
            select y.provider, y.model, y.scope, 0, 1, y.prompt_tokens, y.completion_tokens,
                y.total_tokens, y.cost_usd
            from llm.response_cache_hit_journal as y
            where not exists (select from llm.response_cache as c where c.id = y.entry_id)
        ) as t
        group by t.provider, t.model, t.scope
    ),
    merged as (
        select coalesce(l.provider, p.provider) as provider, coalesce(l.model, p.model) as model,
            coalesce(l.scope, p.scope) as scope, coalesce(l.entries, 0) as entries,
            coalesce(l.hits, 0) + coalesce(p.hits, 0) as hits, coalesce(p.misses, 0) as misses,
            coalesce(l.prompt_tokens, 0) + coalesce(p.prompt_tokens, 0) as prompt_tokens,
            coalesce(l.completion_tokens, 0) + coalesce(p.completion_tokens, 0) as completion_tokens,
            coalesce(l.total_tokens, 0) + coalesce(p.total_tokens, 0) as total_tokens,
            coalesce(l.cost_usd, 0) + coalesce(p.cost_usd, 0) as cost_usd
        from live as l
        full join past as p on (p.provider, p.model, p.scope) = (l.provider, l.model, l.scope)
    )
    select m.provider, m.model, m.scope, m.entries, m.hits::bigint, m.misses::bigint,
        round(m.hits / nullif(m.hits + m.misses, 0), 4), m.prompt_tokens, m.completion_tokens,
        m.total_tokens, m.cost_usd
    from merged as m
    order by m.cost_usd desc, m.hits desc, m.provider, m.model, m.scope;
end;
$$;
comment on function llm_private.get_llm_cache_stats() is
'Implementation of llm.get_llm_cache_stats() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.get_llm_cache_stats() to authenticated, service_role;
