-- Expiry, eviction and invalidation.

-- Seed API: removes expired entries (their savings stay in the totals) and dead leases.
create or replace function llm_private.cleanup_expired_llm_cache()
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_count integer;
begin
    perform llm.require_admin('clean up the response cache');
    v_count := llm.cache_retire(array(
        select c.id from llm.response_cache as c where c.expires_at <= now()
    ));
    delete from llm.response_cache_leases as l where l.expires_at <= clock_timestamp();
    return v_count;
end;
$$;
comment on function llm_private.cleanup_expired_llm_cache() is
'Implementation of llm.cleanup_expired_llm_cache() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.cleanup_expired_llm_cache() to authenticated, service_role;

-- Keeps the cache under its size caps by evicting the least recently used entries.
create or replace function llm_private.evict_llm_cache()
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_max_entries bigint := llm_private.setting_text('cache_max_entries')::bigint;
    v_max_bytes bigint := llm_private.setting_text('cache_max_bytes')::bigint;
begin
    perform llm.require_admin('evict from the response cache');
    perform pg_advisory_xact_lock(hashtext('llm.evict_llm_cache'));
    return llm.cache_retire(array(
        select v.id
        from (
            select c.id, c.expires_at,
                count(*) over w as n_kept,
                sum(c.size_bytes) over w as bytes_kept
            from llm.response_cache as c
            -- the last hit: counter rows, then hits not folded yet (the most recent ones)
            left join (
                select x.entry_id, max(x.last_hit_at) as last_hit_at
                from llm.response_cache_hits as x group by x.entry_id
            ) as h on h.entry_id = c.id
            left join (
                select y.entry_id, max(y.hit_at) as hit_at
                from llm.response_cache_hit_journal as y group by y.entry_id
            ) as j on j.entry_id = c.id
            window w as (
                order by c.expires_at > now() desc, greatest(c.created_at, h.last_hit_at, j.hit_at) desc,
                    c.id desc
                rows between unbounded preceding and current row
            )
        ) as v
        where v.expires_at <= now() or v.n_kept > v_max_entries or v.bytes_kept > v_max_bytes
    ));
end;
$$;
comment on function llm_private.evict_llm_cache() is
'Implementation of llm.evict_llm_cache() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.evict_llm_cache() to authenticated, service_role;

-- Invalidation by provider, model, scope or age.
create or replace function llm_private.invalidate_llm_cache(
    provider text default null,
    model text default null,
    scope text default null,
    older_than interval default null
)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_scope text;
begin
    perform llm.require_admin('invalidate the response cache');
    if num_nonnulls($1, $2, $3, $4) = 0 then
        raise exception 'give at least one of provider, model, scope, older_than'
            using errcode = '22023';
    end if;
    if invalidate_llm_cache.older_than < interval '0' then
        raise exception 'older_than must not be negative, got %', invalidate_llm_cache.older_than
            using errcode = '22023';
    end if;
    v_scope := llm.cache_scope_filter(invalidate_llm_cache.scope);
    return llm.cache_retire(array(
        select c.id from llm.response_cache as c
        where (invalidate_llm_cache.provider is null or c.provider = lower(btrim(invalidate_llm_cache.provider)))
            and (invalidate_llm_cache.model is null or c.model = btrim(invalidate_llm_cache.model))
            and (v_scope is null or c.scope = v_scope)
            and (invalidate_llm_cache.older_than is null
                or c.created_at <= now() - invalidate_llm_cache.older_than)
    ));
end;
$$;
comment on function llm_private.invalidate_llm_cache(
    text, text, text, interval
) is
'Implementation of llm.invalidate_llm_cache() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.invalidate_llm_cache(
    text, text, text, interval
) to authenticated, service_role;
