-- Counting hits and misses, the exact lookup, retiring entries.

-- A hit is counted by appending a row to llm.response_cache_hit_journal, which the fold job
-- (22_hit_fold.sql) adds to counter row 0 of the entry in llm.response_cache_hits; an exact
-- count is the counter rows plus the journal rows. The journal is a queue whose size swings
-- between folds, and a plan made while it was nearly empty (a sequential scan) would be kept
-- while it grows: the functions that read it plan with index scans only.

-- The exact hit count of an entry: its counter rows plus its hits not folded yet.
create or replace function llm.cache_hit_count(p_entry_id uuid)
returns bigint
language plpgsql
stable
set search_path = ''
set enable_seqscan = off
as $$
begin
    return (select coalesce(sum(h.hits), 0) from llm.response_cache_hits as h where h.entry_id = p_entry_id)
        + (select count(*) from llm.response_cache_hit_journal as j where j.entry_id = p_entry_id);
end;
$$;
comment on function llm.cache_hit_count(uuid) is
'Exact hit count of a cache entry: the sum of its llm.response_cache_hits rows plus its rows in llm.response_cache_hit_journal.';

-- Counts a hit of an entry with many unfolded hits (a hot key: 8 since the last fold) on a
-- counter row instead, so counting its journal rows stays short: any counter row from 1 up
-- that no concurrent hit holds (row 0 is the fold's), a new one (up to cache_hit_shards) only
-- when all are busy, so concurrent hits of one entry never queue. An update in place of a
-- narrow row: the entry row is never rewritten.
create or replace function llm.cache_count_hot_hit(p_hit llm.cache_hit)
returns void
language plpgsql
set search_path = ''
set enable_seqscan = off
as $$
begin
    update llm.response_cache_hits as h
    set hits = h.hits + 1, last_hit_at = now()
    where h.entry_id = p_hit.id
        and h.shard = (
            select x.shard from llm.response_cache_hits as x
            where x.entry_id = p_hit.id and x.shard > 0
            limit 1
            for no key update skip locked
        );
    if found then
        return;
    end if;
    begin
        insert into llm.response_cache_hits as h (entry_id, shard, hits)
        values (
            p_hit.id,
            1 + pg_backend_pid() % greatest(llm_private.setting_text('cache_hit_shards')::integer, 1), 1
        )
        on conflict (entry_id, shard) do update
            set hits = h.hits + 1, last_hit_at = now();
    exception when foreign_key_violation then
        -- the entry was removed meanwhile: the journal keeps the hit and what it saved
        insert into llm.response_cache_hit_journal (
            entry_id, scope, provider, model, prompt_tokens, completion_tokens, total_tokens, cost_usd
        )
        values (
            p_hit.id, p_hit.scope, p_hit.provider, p_hit.model, p_hit.prompt_tokens,
            p_hit.completion_tokens, p_hit.total_tokens, p_hit.cost_saved_usd
        );
    end;
end;
$$;
comment on function llm.cache_count_hot_hit(llm.cache_hit) is
'Counts a hit of a hot entry on one of its llm.response_cache_hits rows numbered 1 to cache_hit_shards that no concurrent hit holds (in the journal if the entry was removed meanwhile).';

-- Counts one hit: an appended journal row (no row lock, no update, no wait, the entry row never
-- touched), or for a hot key a counter row. A read-only transaction (PostgREST runs GET
-- requests in one) can write nothing that lasts: its hit is served with the count so far and
-- not counted. Returns the exact hit count.
create or replace function llm.cache_count_hit(p_hit llm.cache_hit)
returns bigint
language plpgsql
set search_path = ''
set enable_seqscan = off
as $$
declare
    v_counted bigint;
    v_unfolded bigint;
begin
    select (select coalesce(sum(h.hits), 0) from llm.response_cache_hits as h where h.entry_id = p_hit.id),
        (select count(*) from llm.response_cache_hit_journal as j where j.entry_id = p_hit.id)
    into v_counted, v_unfolded;
    if current_setting('transaction_read_only') = 'on' then
        return v_counted + v_unfolded;
    end if;
    if v_unfolded < 8 then
        insert into llm.response_cache_hit_journal (
            entry_id, scope, provider, model, prompt_tokens, completion_tokens, total_tokens, cost_usd
        )
        values (
            p_hit.id, p_hit.scope, p_hit.provider, p_hit.model, p_hit.prompt_tokens,
            p_hit.completion_tokens, p_hit.total_tokens, p_hit.cost_saved_usd
        );
    else
        perform llm.cache_count_hot_hit(p_hit);
    end if;
    return v_counted + v_unfolded + 1;
end;
$$;
comment on function llm.cache_count_hit(llm.cache_hit) is
'Counts a hit of the entry p_hit (a row appended to llm.response_cache_hit_journal, nothing locked; a counter row for an entry with 8 unfolded hits) and returns the exact hit count; in a read-only transaction returns the count without counting.';

-- Counts one miss for the hit rate.
create or replace function llm.cache_count_miss(p_provider text, p_model text, p_scope text)
returns void
language plpgsql
set search_path = ''
as $$
begin
    if current_setting('transaction_read_only') = 'on' then
        return;
    end if;
    insert into llm.response_cache_totals as t (provider, model, scope, shard, misses)
    values (
        p_provider, p_model, p_scope,
        pg_backend_pid() % greatest(llm_private.setting_text('cache_hit_shards')::integer, 1), 1
    )
    on conflict (provider, model, scope, shard) do update
        set misses = t.misses + 1, updated_at = now();
end;
$$;
comment on function llm.cache_count_miss(text, text, text) is
'Adds one miss to llm.response_cache_totals (sharded like hits).';

-- Exact lookup shared by get_cached_llm_response and claim_llm_cache_key: live entries only,
-- the hit counted as llm.cache_count_hit counts it, in one statement (the entry, its exact
-- count and the appended journal row). It is on every lookup: its plans are generic, so a
-- lookup is never planned again (custom plans would be, on every call).
create or replace function llm.cache_lookup(p_scope text, p_prompt_hash text)
returns llm.cache_hit
language plpgsql
set search_path = ''
set plan_cache_mode = force_generic_plan
set enable_seqscan = off
as $$
declare
    v_hit llm.cache_hit;
    v_appended boolean;
begin
    if current_setting('transaction_read_only') = 'on' then
        -- a pure read: served with the count so far, not counted (see llm.cache_count_hit)
        select c.id, c.response,
            (select coalesce(sum(h.hits), 0) from llm.response_cache_hits as h where h.entry_id = c.id)
            + (select count(*) from llm.response_cache_hit_journal as j where j.entry_id = c.id),
            c.created_at, c.expires_at, c.metadata, c.provider, c.model, c.scope, c.prompt_tokens,
            c.completion_tokens, c.total_tokens, c.cost_usd
        into v_hit
        from llm.response_cache as c
        where c.scope = p_scope and c.prompt_hash = p_prompt_hash and c.expires_at > now();
        return v_hit;
    end if;
    with entry as (
        select c.id, c.response, c.created_at, c.expires_at, c.metadata, c.provider, c.model, c.scope,
            c.prompt_tokens, c.completion_tokens, c.total_tokens, c.cost_usd,
            (select coalesce(sum(h.hits), 0) from llm.response_cache_hits as h where h.entry_id = c.id)
            as counted,
            (select count(*) from llm.response_cache_hit_journal as j where j.entry_id = c.id) as unfolded
        from llm.response_cache as c
        where c.scope = p_scope and c.prompt_hash = p_prompt_hash and c.expires_at > now()
    ),
    appended as (
        insert into llm.response_cache_hit_journal (
            entry_id, scope, provider, model, prompt_tokens, completion_tokens, total_tokens, cost_usd
        )
        select e.id, e.scope, e.provider, e.model, e.prompt_tokens, e.completion_tokens, e.total_tokens,
            e.cost_usd
        from entry as e
        where e.unfolded < 8
        returning 1
    )
    -- the statement does not see the row it appends: + 1
    select e.id, e.response, e.counted + e.unfolded + 1, e.created_at, e.expires_at, e.metadata,
        e.provider, e.model, e.scope, e.prompt_tokens, e.completion_tokens, e.total_tokens, e.cost_usd,
        exists (select from appended)
    into v_hit.id, v_hit.response, v_hit.hit_count, v_hit.cached_at, v_hit.expires_at, v_hit.metadata,
        v_hit.provider, v_hit.model, v_hit.scope, v_hit.prompt_tokens, v_hit.completion_tokens,
        v_hit.total_tokens, v_hit.cost_saved_usd, v_appended
    from entry as e;
    -- a hit on a hot key appended nothing: it counts on a counter row
    if found and not v_appended then
        perform llm.cache_count_hot_hit(v_hit);
    end if;
    return v_hit;
end;
$$;
comment on function llm.cache_lookup(text, text) is
'Returns the live entry of a scope and key with its hit counted (see llm.cache_count_hit) and its exact hit count; on a miss, every field is NULL.';

-- Removes entries and folds their hits and savings into llm.response_cache_totals first.
create or replace function llm.cache_retire(p_ids uuid[])
returns integer
language plpgsql
set search_path = ''
as $$
declare
    v_count integer;
begin
    -- lock the entries so no new counter row appears; counter rows are read at their newest
    perform from llm.response_cache as c where c.id = any(p_ids) order by c.id for update;
    with counted as (
        delete from llm.response_cache_hits as h
        where h.entry_id = any(p_ids)
        returning h.entry_id, h.hits
    ),
    per_entry as (
        select c.provider, c.model, c.scope, coalesce(sum(n.hits), 0) as hits,
            c.prompt_tokens, c.completion_tokens, c.total_tokens, c.cost_usd
        from llm.response_cache as c
        left join counted as n on n.entry_id = c.id
        where c.id = any(p_ids)
        group by c.id
    )
    insert into llm.response_cache_totals as t (
        provider, model, scope, shard, retired_entries, retired_hits, retired_prompt_tokens,
        retired_completion_tokens, retired_total_tokens, retired_cost_usd
    )
    select e.provider, e.model, e.scope, 0, count(*), sum(e.hits),
        coalesce(sum(e.hits * e.prompt_tokens), 0), coalesce(sum(e.hits * e.completion_tokens), 0),
        coalesce(sum(e.hits * e.total_tokens), 0), coalesce(sum(e.hits * e.cost_usd), 0)
    from per_entry as e
    group by e.provider, e.model, e.scope
    on conflict (provider, model, scope, shard) do update
        set retired_entries = t.retired_entries + excluded.retired_entries,
            retired_hits = t.retired_hits + excluded.retired_hits,
            retired_prompt_tokens = t.retired_prompt_tokens + excluded.retired_prompt_tokens,
            retired_completion_tokens = t.retired_completion_tokens + excluded.retired_completion_tokens,
            retired_total_tokens = t.retired_total_tokens + excluded.retired_total_tokens,
            retired_cost_usd = t.retired_cost_usd + excluded.retired_cost_usd,
            updated_at = now();
    delete from llm.response_cache as c where c.id = any(p_ids);
    get diagnostics v_count = row_count;
    return v_count;
end;
$$;
comment on function llm.cache_retire(uuid[]) is
'Deletes cache entries after adding their hits and saved tokens and cost to llm.response_cache_totals; returns how many were deleted.';

-- Reads a non-negative count or cost from an explicit argument or else from metadata: finite,
-- and token counts within integer range (what the request log records for a logged hit).
create or replace function llm.cache_metadata_count(p_explicit numeric, p_metadata jsonb, p_key text)
returns numeric
language plpgsql
immutable
set search_path = ''
as $$
declare
    v jsonb := p_metadata -> p_key;
    v_value numeric := p_explicit;
    v_field text := p_key;
begin
    if v_value is null and v is not null and jsonb_typeof(v) <> 'null' then
        v_field := 'metadata.' || p_key;
        if jsonb_typeof(v) <> 'number' then
            raise exception '% must be a number, got %', v_field, v using errcode = '22023';
        end if;
        v_value := (v #>> '{}')::numeric;
    end if;
    if v_value in ('NaN'::numeric, 'Infinity'::numeric, '-Infinity'::numeric) then
        raise exception '% must be a finite number, got %', v_field, v_value using errcode = '22023';
    end if;
    if v_value < 0 then
        raise exception '% must not be negative, got %', v_field, v_value using errcode = '22023';
    end if;
    if p_key <> 'cost_usd' and v_value > 2147483647 then
        raise exception '% must be at most 2147483647, got %', v_field, v_value using errcode = '22023';
    end if;
    return v_value;
end;
$$;
comment on function llm.cache_metadata_count(numeric, jsonb, text) is
'The explicit value, else metadata.<key>; 22023 naming the field when not a number, not finite, negative, or (token counts) above 2147483647.';
