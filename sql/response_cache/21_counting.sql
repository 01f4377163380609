-- Counting hits and misses, the exact lookup, retiring entries.

-- Counts one hit in a narrow counter row, so the wide entry row is never rewritten by a hit.
-- A hit takes any counter row of the entry that no concurrent hit holds, and adds a row
-- (up to cache_hit_shards) only when all are busy: a cold entry keeps one row.
create or replace function llm.cache_count_hit(p_entry_id uuid)
returns bigint
language plpgsql
set search_path = ''
as $$
begin
    -- a read-only request (e.g. an HTTP GET) is served but cannot be counted
    if current_setting('transaction_read_only') = 'off' then
        update llm.response_cache_hits as h
        set hits = h.hits + 1, last_hit_at = now()
        where h.entry_id = p_entry_id
            and h.shard = (
                select x.shard from llm.response_cache_hits as x
                where x.entry_id = p_entry_id
                limit 1
                for no key update skip locked
            );
        if not found then
            begin
                insert into llm.response_cache_hits as h (entry_id, shard, hits)
                values (
                    p_entry_id,
                    pg_backend_pid() % greatest(llm_private.setting_text('cache_hit_shards')::integer, 1), 1
                )
                on conflict (entry_id, shard) do update
                    set hits = h.hits + 1, last_hit_at = now();
            exception when foreign_key_violation then
                return null;  -- the entry was removed while being read: served, not counted
            end;
        end if;
    end if;
    return (select coalesce(sum(h.hits), 0) from llm.response_cache_hits as h where h.entry_id = p_entry_id);
end;
$$;
comment on function llm.cache_count_hit(uuid) is
'Adds one hit to a shard row of llm.response_cache_hits and returns the exact hit count (not counted in read-only transactions).';

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

-- Exact lookup shared by get_cached_llm_response and claim_llm_cache_key: live entries only.
create or replace function llm.cache_lookup(p_scope text, p_prompt_hash text)
returns llm.cache_hit
language plpgsql
set search_path = ''
as $$
declare
    v_hit llm.cache_hit;
begin
    select c.id, c.response, null::bigint, c.created_at, c.expires_at, c.metadata, c.provider, c.model,
        c.scope, c.prompt_tokens, c.completion_tokens, c.total_tokens, c.cost_usd
    into v_hit
    from llm.response_cache as c
    where c.scope = p_scope and c.prompt_hash = p_prompt_hash and c.expires_at > now();
    if not found then
        return null;
    end if;
    v_hit.hit_count := llm.cache_count_hit(v_hit.id);
    return v_hit;
end;
$$;
comment on function llm.cache_lookup(text, text) is
'Returns the live entry of a scope and key with its hit counted, or NULL.';

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
