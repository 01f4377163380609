-- Folding the hit journal into the hit counters: the llm_cache_hit_fold job.

-- Moves journal rows into the counters in one transaction, so a hit is counted exactly once at
-- any moment: in the journal or in a counter. The fold writes counter row 0 only, which hits
-- never take (llm.cache_count_hot_hit), so it never waits for a hit. Rows of removed entries
-- go to llm.response_cache_totals first, before any entry is locked; then entries are locked
-- FOR KEY SHARE SKIP LOCKED, so an entry being removed (locked by llm.cache_retire) keeps its
-- rows for a later fold and gets no counter row after its removal counted them.
create or replace function llm.cache_fold_hits(p_max_rows integer)
returns bigint
language plpgsql
set search_path = ''
as $$
declare
    v_rows tid [];
    v_live uuid [];
    v_orphans bigint;
    v_folded bigint;
begin
    v_rows := array(
        select j.ctid from llm.response_cache_hit_journal as j limit p_max_rows for update skip locked
    );
    if cardinality(v_rows) = 0 then
        return 0;
    end if;
    with moved as (
        delete from llm.response_cache_hit_journal as j
        where j.ctid = any(v_rows)
            and not exists (select from llm.response_cache as c where c.id = j.entry_id)
        returning j.*
    ),
    retired as (
        insert into llm.response_cache_totals as t (
            provider, model, scope, shard, retired_hits, retired_prompt_tokens,
            retired_completion_tokens, retired_total_tokens, retired_cost_usd
        )
        select m.provider, m.model, m.scope, 0, count(*), coalesce(sum(m.prompt_tokens), 0),
            coalesce(sum(m.completion_tokens), 0), coalesce(sum(m.total_tokens), 0),
            coalesce(sum(m.cost_usd), 0)
        from moved as m
        group by m.provider, m.model, m.scope
        -- a fixed order, so concurrent writers of the same rows cannot deadlock
        order by m.provider, m.model, m.scope
        on conflict (provider, model, scope, shard) do update
            set retired_hits = t.retired_hits + excluded.retired_hits,
                retired_prompt_tokens = t.retired_prompt_tokens + excluded.retired_prompt_tokens,
                retired_completion_tokens = t.retired_completion_tokens + excluded.retired_completion_tokens,
                retired_total_tokens = t.retired_total_tokens + excluded.retired_total_tokens,
                retired_cost_usd = t.retired_cost_usd + excluded.retired_cost_usd,
                updated_at = now()
    )
    select count(*) into v_orphans from moved;
    v_live := array(
        select c.id from llm.response_cache as c
        where c.id in (select j.entry_id from llm.response_cache_hit_journal as j where j.ctid = any(v_rows))
        order by c.id
        for key share skip locked
    );
    with moved as (
        delete from llm.response_cache_hit_journal as j
        where j.ctid = any(v_rows) and j.entry_id = any(v_live)
        returning j.entry_id, j.hit_at
    ),
    counted as (
        insert into llm.response_cache_hits as h (entry_id, shard, hits, last_hit_at)
        select m.entry_id, 0, count(*), max(m.hit_at)
        from moved as m
        group by m.entry_id
        order by m.entry_id
        on conflict (entry_id, shard) do update
            set hits = h.hits + excluded.hits,
                last_hit_at = greatest(h.last_hit_at, excluded.last_hit_at)
    )
    select count(*) into v_folded from moved;
    return v_orphans + v_folded;
end;
$$;
comment on function llm.cache_fold_hits(integer) is
'Folds up to p_max_rows rows of llm.response_cache_hit_journal into counter row 0 of their entries in llm.response_cache_hits (rows of removed entries into llm.response_cache_totals), deleting them in the same transaction; rows another fold holds, and rows of an entry being removed, are left for later. Returns the rows taken off the journal. Internal: called by llm.run_cache_hit_fold().';

-- One fold of the job at a time: a call that finds another one running has nothing to do.
create or replace function llm_private.fold_cache_hits(max_rows integer default null)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_max integer := coalesce(
        fold_cache_hits.max_rows, llm_private.setting_text('cache_hit_fold_batch_rows')::integer
    );
begin
    perform llm.require_admin('fold cache hits');
    if v_max < 1 then
        raise exception 'max_rows must be >= 1, got %', v_max using errcode = '22023';
    end if;
    if not pg_catalog.pg_try_advisory_xact_lock(pg_catalog.hashtextextended('llm.fold_cache_hits job', 0)) then
        return 0;
    end if;
    return llm.cache_fold_hits(v_max);
end;
$$;
comment on function llm_private.fold_cache_hits(integer) is
'Implementation of the batches of llm.run_cache_hit_fold() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.fold_cache_hits(integer) to authenticated, service_role;

-- The fold job (batches as llm_private.run_fold_batches() runs them for the usage fold).
create or replace function llm.run_cache_hit_fold(max_batches integer default null)
returns bigint
language plpgsql
set search_path = ''
as $$
begin
    return llm_private.run_fold_batches('cache_hit', run_cache_hit_fold.max_batches);
end;
$$;
comment on function llm.run_cache_hit_fold(integer) is
'The llm_cache_hit_fold job: folds the cache hit journal into the hit counters (and the hits of removed entries into the totals) in batches of cache_hit_fold_batch_rows rows, in one transaction, until the journal is empty, max_batches batches ran (1 to 1000; NULL, the default: no limit) or the run took cache_hit_fold_run_time; stops at once when another fold is running. Hit counts are exact before and after. Returns the journal rows taken. Admins and service role.';
grant execute on function llm.run_cache_hit_fold(integer) to authenticated, service_role;
