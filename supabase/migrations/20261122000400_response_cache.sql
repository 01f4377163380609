-- llm response cache: exact and semantic (pgvector, HNSW cosine) caching of LLM responses.
-- Entries are keyed by a sha256 of the canonical (provider, model, prompt, parameters) and
-- belong to one scope (global, a user, or a named namespace) that every lookup filters on.
-- Expired entries are never returned; a job removes them and another evicts the least
-- recently used entries above a size cap. Hits are counted in narrow sharded counter rows
-- (the wide entry row is never rewritten by a hit); leases stop stampedes on a missed key;
-- retired entries keep their savings in per-scope totals for the statistics function.
-- API of the systems it replaces: cache_llm_response, get_cached_llm_response,
-- cleanup_expired_llm_cache, get_similar_cached_prompts.

-- ---------------------------------------------------------------------------------------
-- Types
-- ---------------------------------------------------------------------------------------

do $$
begin
    if to_regtype('llm.cache_hit') is null then
        create type llm.cache_hit as (
            id uuid,
            response text,
            hit_count bigint,
            cached_at timestamptz,
            expires_at timestamptz,
            metadata jsonb,
            provider text,
            model text,
            scope text,
            prompt_tokens bigint,
            completion_tokens bigint,
            total_tokens bigint,
            cost_saved_usd numeric
        );
    end if;
    if to_regtype('llm.cache_claim') is null then
        create type llm.cache_claim as (
            status text,
            lease_id uuid,
            lease_expires_at timestamptz,
            hit jsonb
        );
    end if;
    if to_regtype('llm.similar_cached_prompt') is null then
        create type llm.similar_cached_prompt as (
            id uuid,
            prompt text,
            response text,
            similarity double precision,
            provider text,
            model text,
            parameters jsonb,
            metadata jsonb,
            scope text,
            hit_count bigint,
            cached_at timestamptz,
            expires_at timestamptz
        );
    end if;
    if to_regtype('llm.cache_stats') is null then
        create type llm.cache_stats as (
            provider text,
            model text,
            scope text,
            entries bigint,
            hits bigint,
            misses bigint,
            hit_rate numeric,
            prompt_tokens_saved numeric,
            completion_tokens_saved numeric,
            total_tokens_saved numeric,
            cost_saved_usd numeric
        );
    end if;
end
$$;
comment on type llm.cache_hit is
'A cache hit: the response, the entry id, its hit count and the tokens and cost the hit saved.';
comment on type llm.cache_claim is
'Outcome of llm.claim_llm_cache_key: status hit (hit holds the llm.cache_hit as JSON), claimed (with lease_id) or pending.';
comment on type llm.similar_cached_prompt is
'One result of llm.get_similar_cached_prompts; similarity is cosine similarity (1 = identical).';
comment on type llm.cache_stats is
'One row of llm.get_llm_cache_stats: hits, misses, hit rate and savings of a provider, model and scope.';

-- ---------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------

create table if not exists llm.response_cache (
    id uuid primary key default gen_random_uuid(),
    scope text not null check (
        scope = 'global'
        or scope ~ '^user:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
        or scope ~ '^namespace:\S'
    ),
    user_id uuid generated always as (
        case when scope like 'user:%' then substr(scope, 6)::uuid end
    ) stored,
    prompt_hash text not null check (prompt_hash ~ '^[0-9a-f]{64}$'),
    prompt text not null,
    provider text not null,
    model text not null,
    parameters jsonb not null default '{}' check (jsonb_typeof(parameters) = 'object'),
    response text not null,
    metadata jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
    prompt_tokens bigint check (prompt_tokens >= 0),
    completion_tokens bigint check (completion_tokens >= 0),
    total_tokens bigint check (total_tokens >= 0),
    cost_usd numeric check (cost_usd >= 0),
    embedding extensions.vector,
    embedding_dims integer generated always as (extensions.vector_dims(embedding)) stored,
    embedding_model text,
    size_bytes bigint not null check (size_bytes >= 0),
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    unique (scope, prompt_hash)
);
comment on table llm.response_cache is
'Cached LLM responses, one per scope and key. Written by backends through llm.cache_llm_response(); hit counts live in llm.response_cache_hits.';
comment on column llm.response_cache.scope is
'global, user:<uuid> or namespace:<name>; every lookup sees only its own scope.';
comment on column llm.response_cache.user_id is 'Owner of a user-scoped entry (derived from scope).';
comment on column llm.response_cache.prompt_hash is
'sha256 (hex) of the canonical provider, model, prompt and parameters: the exact-match key.';
comment on column llm.response_cache.prompt is 'The prompt as given: text, or a chat message array as JSON.';
comment on column llm.response_cache.parameters is
'Canonical request parameters (numbers normalised, ignored keys removed) that are part of the key.';
comment on column llm.response_cache.prompt_tokens is 'Prompt tokens each hit saves.';
comment on column llm.response_cache.completion_tokens is 'Completion tokens each hit saves.';
comment on column llm.response_cache.total_tokens is
'Tokens each hit saves (metadata tokens/total_tokens, else prompt + completion).';
comment on column llm.response_cache.cost_usd is 'Cost of producing the response: what each hit saves.';
comment on column llm.response_cache.embedding is
'Prompt embedding of any supported dimension, searched through per-dimension HNSW indexes.';
comment on column llm.response_cache.embedding_dims is 'Dimensions of embedding (selects its index).';
comment on column llm.response_cache.embedding_model is
'Model that produced the embedding; all embeddings of one model must have one dimension.';
comment on column llm.response_cache.size_bytes is 'Approximate stored size, for the byte cap of eviction.';
comment on column llm.response_cache.expires_at is 'The entry is never returned at or after this time.';

create table if not exists llm.response_cache_hits (
    entry_id uuid not null references llm.response_cache (id) on delete cascade,
    shard smallint not null check (shard >= 0),
    hits bigint not null default 0 check (hits >= 0),
    last_hit_at timestamptz not null default now(),
    primary key (entry_id, shard)
) with (fillfactor = 50);
comment on table llm.response_cache_hits is
'Hit counters of cache entries: narrow rows (as many as concurrent hits needed, up to cache_hit_shards) so hits neither rewrite the entry nor queue on one row; the hit count is the sum.';
comment on column llm.response_cache_hits.shard is
'Counter row number, below cache_hit_shards; more rows exist only where concurrent hits needed them.';
comment on column llm.response_cache_hits.last_hit_at is 'Last hit on this shard, for least-recently-used eviction.';

create table if not exists llm.response_cache_totals (
    provider text not null,
    model text not null,
    scope text not null,
    shard smallint not null check (shard >= 0),
    misses bigint not null default 0 check (misses >= 0),
    retired_entries bigint not null default 0 check (retired_entries >= 0),
    retired_hits bigint not null default 0 check (retired_hits >= 0),
    retired_prompt_tokens numeric not null default 0,
    retired_completion_tokens numeric not null default 0,
    retired_total_tokens numeric not null default 0,
    retired_cost_usd numeric not null default 0,
    updated_at timestamptz not null default now(),
    primary key (provider, model, scope, shard)
) with (fillfactor = 50);
comment on table llm.response_cache_totals is
'Cache misses, and the hits and savings of entries that expired, were evicted, replaced or invalidated, per provider, model and scope (sharded like the hit counters).';
comment on column llm.response_cache_totals.retired_prompt_tokens is
'Prompt tokens saved by the hits of removed entries.';
comment on column llm.response_cache_totals.retired_cost_usd is 'Cost saved by the hits of removed entries.';

create table if not exists llm.response_cache_leases (
    scope text not null,
    prompt_hash text not null,
    lease_id uuid not null default gen_random_uuid() unique,
    claimed_at timestamptz not null default now(),
    expires_at timestamptz not null,
    primary key (scope, prompt_hash)
);
comment on table llm.response_cache_leases is
'Keys being produced: a caller that missed claimed the key until expires_at; others wait for the response instead of calling the model too.';
comment on column llm.response_cache_leases.expires_at is
'After this time the lease is void (its producer is presumed dead) and the key can be claimed again.';

-- ---------------------------------------------------------------------------------------
-- Indexes
-- ---------------------------------------------------------------------------------------

create index if not exists response_cache_expires_at_idx on llm.response_cache (expires_at);
create index if not exists response_cache_provider_model_idx on llm.response_cache (provider, model);
create index if not exists response_cache_user_id_idx on llm.response_cache (user_id)
where user_id is not null;
create index if not exists response_cache_scope_embedding_dims_idx
on llm.response_cache (scope, embedding_dims)
where embedding is not null;
create index if not exists response_cache_embedding_model_idx
on llm.response_cache (embedding_model, embedding_dims)
where embedding_model is not null;

-- One HNSW index per supported dimension; halfvec above 2,000 dimensions (vector's limit).
create index if not exists response_cache_embedding_384_idx on llm.response_cache
using hnsw ((embedding::extensions.vector(384)) extensions.vector_cosine_ops)
where embedding_dims = 384;
create index if not exists response_cache_embedding_768_idx on llm.response_cache
using hnsw ((embedding::extensions.vector(768)) extensions.vector_cosine_ops)
where embedding_dims = 768;
create index if not exists response_cache_embedding_1536_idx on llm.response_cache
using hnsw ((embedding::extensions.vector(1536)) extensions.vector_cosine_ops)
where embedding_dims = 1536;
create index if not exists response_cache_embedding_3072_idx on llm.response_cache
using hnsw ((embedding::extensions.halfvec(3072)) extensions.halfvec_cosine_ops)
where embedding_dims = 3072;

create index if not exists response_cache_leases_expires_at_idx
on llm.response_cache_leases (expires_at);

-- ---------------------------------------------------------------------------------------
-- Functions: keys and scopes
-- ---------------------------------------------------------------------------------------

-- Makes equal JSON values textually equal: numbers lose trailing zeros (1.0 = 1), recursively.
create or replace function llm.cache_canonical_json(p_value jsonb)
returns jsonb
language plpgsql
immutable
set search_path = ''
as $$
declare
    v_out jsonb;
    e record;
begin
    -- jsonb prints a number with trailing zeros only after a decimal point: nothing to do
    if p_value::text !~ '\.[0-9]*0([^0-9]|$)' then
        return p_value;
    end if;
    case jsonb_typeof(p_value)
        when 'number' then
            return to_jsonb(trim_scale((p_value #>> '{}')::numeric));
        when 'object' then
            v_out := '{}';
            for e in select j.key, j.value from jsonb_each(p_value) as j loop
                v_out := v_out || jsonb_build_object(e.key, llm.cache_canonical_json(e.value));
            end loop;
        when 'array' then
            v_out := '[]';
            for e in select j.value from jsonb_array_elements(p_value) as j loop
                v_out := v_out || jsonb_build_array(llm.cache_canonical_json(e.value));
            end loop;
        else
            v_out := p_value;
    end case;
    return v_out;
end;
$$;
comment on function llm.cache_canonical_json(jsonb) is
'Canonical JSON for cache keys: numbers normalised (1.0 becomes 1) at every depth; key order is already irrelevant in jsonb.';

-- Validates and canonicalises a request once, for every function that computes a key.
create or replace function llm.cache_canonical_key(
    p_prompt text, p_provider text, p_model text, p_parameters jsonb,
    out provider text, out model text, out parameters jsonb, out prompt_hash text
)
language plpgsql
stable
set search_path = ''
as $$
declare
    v_prompt jsonb;
    v_ignored text[];
begin
    if p_prompt is null then
        raise exception 'prompt must not be null' using errcode = '22004';
    end if;
    if p_provider is null or p_model is null then
        raise exception '% must not be null', case when p_provider is null then 'provider' else 'model' end
            using errcode = '22004';
    end if;
    provider := lower(btrim(p_provider));
    model := btrim(p_model);
    if provider = '' or model = '' then
        raise exception '% must not be blank', case when provider = '' then 'provider' else 'model' end
            using errcode = '22023';
    end if;
    parameters := llm.check_metadata(p_parameters, 'parameters');
    select array(select jsonb_array_elements_text(s.value)) into v_ignored
    from llm.settings as s where s.key = 'cache_ignored_parameters';
    if parameters ?| v_ignored then
        parameters := parameters - v_ignored;
    end if;
    parameters := llm.cache_canonical_json(parameters);
    -- a chat message array (JSON text starting with '[') is keyed by its canonical JSON
    v_prompt := to_jsonb(p_prompt);
    if p_prompt ~ '^\s*\[' then
        begin
            v_prompt := p_prompt::jsonb;
            if jsonb_typeof(v_prompt) <> 'array' then
                v_prompt := to_jsonb(p_prompt);
            end if;
        exception when invalid_text_representation then
            v_prompt := to_jsonb(p_prompt);
        end;
        v_prompt := llm.cache_canonical_json(v_prompt);
    end if;
    prompt_hash := encode(
        sha256(convert_to(jsonb_build_array(provider, model, v_prompt, parameters)::text, 'UTF8')),
        'hex'
    );
end;
$$;
comment on function llm.cache_canonical_key(text, text, text, jsonb) is
'Checks a request (22004 null prompt, provider or model; 22023 blank names or non-object parameters) and returns its canonical provider, model, parameters and sha256 key.';

-- The cache key of a request, for clients that want to see or log it.
create or replace function llm.llm_cache_key(
    prompt text, provider text, model text, parameters jsonb default null
)
returns text
language sql
stable
security definer
set search_path = ''
as $$
    select k.prompt_hash from llm.cache_canonical_key($1, $2, $3, $4) as k;
$$;
comment on function llm.llm_cache_key(text, text, text, jsonb) is
'sha256 (hex) of the canonical provider, model, prompt (text or chat message JSON array) and parameters; ignored parameters (setting cache_ignored_parameters) are left out.';

-- Resolves the scope a call works in; authenticated users only ever get their own scope.
create or replace function llm.cache_scope(p_user_id text, p_namespace text)
returns text
language plpgsql
set search_path = ''
as $$
begin
    if p_user_id is not null and p_namespace is not null then
        raise exception 'give user_id or namespace, not both' using errcode = '22023';
    end if;
    if p_namespace is not null then
        if not llm.is_backend() then
            raise exception 'namespace scopes are for the service role' using errcode = '42501';
        end if;
        if p_namespace !~ '^\S' or length(p_namespace) > 200 or p_namespace ~ '[[:cntrl:]]' then
            raise exception 'namespace must be 1 to 200 printable characters, not starting with a space, got %',
                quote_literal(p_namespace)
                using errcode = '22023';
        end if;
        return 'namespace:' || p_namespace;
    end if;
    -- backends default to the global scope
    if p_user_id is null and llm.is_backend() then
        return 'global';
    end if;
    return 'user:' || llm.resolve_user(p_user_id, false)::text;
end;
$$;
comment on function llm.cache_scope(text, text) is
'Scope of a cache call: global by default for backends, user:<uuid> for user_id (an authenticated caller always gets its own), namespace:<name> for backends; 22023 when both are given.';

-- Parses a stored-scope filter such as global, user:user-123 or namespace:docs.
create or replace function llm.cache_scope_filter(p_scope text)
returns text
language plpgsql
set search_path = ''
as $$
begin
    if p_scope is null or p_scope = 'global' then
        return p_scope;
    elsif p_scope like 'user:%' then
        return 'user:' || llm.user_uuid(substr(p_scope, 6))::text;
    elsif p_scope ~ '^namespace:\S' then
        return p_scope;
    end if;
    raise exception 'scope must be global, user:<user id> or namespace:<name>, got %',
        quote_literal(p_scope)
        using errcode = '22023';
end;
$$;
comment on function llm.cache_scope_filter(text) is
'Canonical form of a scope argument (user:<id> becomes user:<uuid>); 22023 for anything else.';

-- Checks an embedding before it is stored or searched: supported size, consistent per model.
create or replace function llm.cache_check_embedding(p_embedding extensions.vector, p_embedding_model text)
returns integer
language plpgsql
stable
set search_path = ''
as $$
declare
    v_dims integer := extensions.vector_dims(p_embedding);
    v_model_dims integer;
begin
    if not llm.setting('cache_embedding_dimensions') @> to_jsonb(v_dims) then
        raise exception 'embedding has % dimensions; supported are % (setting cache_embedding_dimensions)',
            v_dims, llm.setting('cache_embedding_dimensions')
            using errcode = '22023';
    end if;
    if extensions.vector_norm(p_embedding) = 0 then
        raise exception 'embedding must not be all zeros (cosine similarity is undefined)'
            using errcode = '22023';
    end if;
    if p_embedding_model is not null then
        select c.embedding_dims into v_model_dims
        from llm.response_cache as c
        where c.embedding_model = p_embedding_model and c.embedding_dims <> v_dims
        limit 1;
        if found then
            raise exception 'embedding has % dimensions but embedding_model % has % dimensions',
                v_dims, quote_literal(p_embedding_model), v_model_dims
                using errcode = '22023';
        end if;
    end if;
    return v_dims;
end;
$$;
comment on function llm.cache_check_embedding(extensions.vector, text) is
'Returns the dimensions of an embedding; 22023 when unsupported, all zeros, or different from earlier embeddings of the same embedding_model.';

-- ---------------------------------------------------------------------------------------
-- Functions: counting
-- ---------------------------------------------------------------------------------------

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
                    pg_backend_pid() % greatest(llm.setting_text('cache_hit_shards')::integer, 1), 1
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
        pg_backend_pid() % greatest(llm.setting_text('cache_hit_shards')::integer, 1), 1
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

-- Reads a non-negative integer from an explicit argument or else from metadata.
create or replace function llm.cache_metadata_count(p_explicit numeric, p_metadata jsonb, p_key text)
returns numeric
language plpgsql
immutable
set search_path = ''
as $$
declare
    v jsonb := p_metadata -> p_key;
    v_value numeric := p_explicit;
begin
    if v_value is null and v is not null and jsonb_typeof(v) <> 'null' then
        if jsonb_typeof(v) <> 'number' then
            raise exception 'metadata.% must be a number, got %', p_key, v using errcode = '22023';
        end if;
        v_value := (v #>> '{}')::numeric;
    end if;
    if v_value < 0 then
        raise exception '% must not be negative, got %', p_key, v_value using errcode = '22023';
    end if;
    return v_value;
end;
$$;
comment on function llm.cache_metadata_count(numeric, jsonb, text) is
'The explicit value, else metadata.<key>; 22023 when not a number or negative.';

-- ---------------------------------------------------------------------------------------
-- Functions: the cache API
-- ---------------------------------------------------------------------------------------

-- Stores a response (replacing the entry of the same key and scope) and ends any lease on it.
create or replace function llm.cache_llm_response(
    prompt text,
    provider text,
    model text,
    response text,
    metadata jsonb default null,
    parameters jsonb default null,
    ttl_hours numeric default 168,
    embedding extensions.vector default null,
    user_id text default null,
    namespace text default null,
    prompt_tokens bigint default null,
    completion_tokens bigint default null,
    cost_usd numeric default null,
    embedding_model text default null
)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
    k record;
    v_scope text;
    v_metadata jsonb := llm.check_metadata(cache_llm_response.metadata, 'metadata');
    v_prompt_tokens numeric;
    v_completion_tokens numeric;
    v_total_tokens numeric;
    v_cost numeric;
begin
    if not llm.is_backend() then
        raise exception 'only the service role may write the response cache' using errcode = '42501';
    end if;
    select * into k from llm.cache_canonical_key($1, $2, $3, $6);
    v_scope := llm.cache_scope(cache_llm_response.user_id, cache_llm_response.namespace);
    if cache_llm_response.response is null then
        raise exception 'response must not be null' using errcode = '22004';
    end if;
    if cache_llm_response.ttl_hours is null then
        raise exception 'ttl_hours must not be null' using errcode = '22004';
    elsif cache_llm_response.ttl_hours <= 0 then
        raise exception 'ttl_hours must be positive, got %', cache_llm_response.ttl_hours
            using errcode = '22023';
    end if;
    v_prompt_tokens := llm.cache_metadata_count(cache_llm_response.prompt_tokens, v_metadata, 'prompt_tokens');
    v_completion_tokens := llm.cache_metadata_count(
        cache_llm_response.completion_tokens, v_metadata, 'completion_tokens'
    );
    v_total_tokens := coalesce(
        llm.cache_metadata_count(null, v_metadata, 'total_tokens'),
        llm.cache_metadata_count(null, v_metadata, 'tokens'),
        v_prompt_tokens + v_completion_tokens
    );
    v_cost := llm.cache_metadata_count(cache_llm_response.cost_usd, v_metadata, 'cost_usd');
    if v_prompt_tokens % 1 <> 0 or v_completion_tokens % 1 <> 0 or v_total_tokens % 1 <> 0 then
        raise exception 'prompt_tokens, completion_tokens and tokens must be whole numbers' using errcode = '22023';
    end if;
    if cache_llm_response.embedding is not null then
        perform llm.cache_check_embedding(cache_llm_response.embedding, cache_llm_response.embedding_model);
    elsif cache_llm_response.embedding_model is not null then
        raise exception 'embedding_model given without an embedding' using errcode = '22023';
    end if;

    perform llm.cache_retire(array(
        select c.id from llm.response_cache as c
        where c.scope = v_scope and c.prompt_hash = k.prompt_hash
    ));
    insert into llm.response_cache as c (
        scope, prompt_hash, prompt, provider, model, parameters, response, metadata,
        prompt_tokens, completion_tokens, total_tokens, cost_usd, embedding, embedding_model,
        size_bytes, expires_at
    )
    values (
        v_scope, k.prompt_hash, cache_llm_response.prompt, k.provider, k.model, k.parameters,
        cache_llm_response.response, v_metadata, v_prompt_tokens, v_completion_tokens,
        v_total_tokens, v_cost, cache_llm_response.embedding, cache_llm_response.embedding_model,
        octet_length(cache_llm_response.prompt) + octet_length(cache_llm_response.response)
        + pg_column_size(v_metadata) + pg_column_size(k.parameters)
        + coalesce(pg_column_size(cache_llm_response.embedding), 0),
        now() + cache_llm_response.ttl_hours * interval '1 hour'
    )
    on conflict (scope, prompt_hash) do update
        set prompt = excluded.prompt,
            response = excluded.response,
            metadata = excluded.metadata,
            parameters = excluded.parameters,
            prompt_tokens = excluded.prompt_tokens,
            completion_tokens = excluded.completion_tokens,
            total_tokens = excluded.total_tokens,
            cost_usd = excluded.cost_usd,
            embedding = excluded.embedding,
            embedding_model = excluded.embedding_model,
            size_bytes = excluded.size_bytes,
            created_at = now(),
            expires_at = excluded.expires_at;
    delete from llm.response_cache_leases as l
    where l.scope = v_scope and l.prompt_hash = k.prompt_hash;
    return true;
end;
$$;
comment on function llm.cache_llm_response(
    text, text, text, text, jsonb, jsonb, numeric, extensions.vector, text, text, bigint, bigint,
    numeric, text
) is
'Caches a response for ttl_hours (default 168) in the global scope, a user''s (user_id) or a namespace''s; replaces the entry of the same key; token counts and cost_usd (arguments or metadata) are what each hit saves. Service role only.';

-- Exact lookup: the live response of the key in the caller's scope, with the hit counted.
create or replace function llm.get_cached_llm_response(
    prompt text,
    provider text,
    model text,
    parameters jsonb default null,
    user_id text default null,
    namespace text default null
)
returns llm.cache_hit
language plpgsql
security definer
set search_path = ''
as $$
declare
    k record;
    v_scope text;
    v_hit llm.cache_hit;
begin
    select * into k from llm.cache_canonical_key($1, $2, $3, $4);
    v_scope := llm.cache_scope(get_cached_llm_response.user_id, get_cached_llm_response.namespace);
    v_hit := llm.cache_lookup(v_scope, k.prompt_hash);
    if v_hit.id is null then
        perform llm.cache_count_miss(k.provider, k.model, v_scope);
        return null;
    end if;
    return v_hit;
end;
$$;
comment on function llm.get_cached_llm_response(text, text, text, jsonb, text, text) is
'Returns the cached response (id, response, hit_count, cached_at, expires_at, metadata, tokens and cost saved) of a request in the caller''s scope, counting the hit, or NULL on a miss (counted too). Expired entries are never returned.';

-- Stampede protection: a hit, or a lease to produce the response, or word that another
-- caller is producing it (after waiting up to wait_seconds for it).
create or replace function llm.claim_llm_cache_key(
    prompt text,
    provider text,
    model text,
    parameters jsonb default null,
    user_id text default null,
    namespace text default null,
    lease_seconds integer default 30,
    wait_seconds numeric default 0
)
returns llm.cache_claim
language plpgsql
security definer
set search_path = ''
as $$
declare
    k record;
    v_scope text;
    v_hit llm.cache_hit;
    v_deadline timestamptz := clock_timestamp() + coalesce(claim_llm_cache_key.wait_seconds, 0) * interval '1 second';
    v_lease_id uuid;
    v_expires timestamptz;
begin
    if not llm.is_backend() then
        raise exception 'only the service role may claim cache keys' using errcode = '42501';
    end if;
    select * into k from llm.cache_canonical_key($1, $2, $3, $4);
    v_scope := llm.cache_scope(claim_llm_cache_key.user_id, claim_llm_cache_key.namespace);
    if claim_llm_cache_key.lease_seconds is null
        or claim_llm_cache_key.lease_seconds not between 1 and 3600 then
        raise exception 'lease_seconds must be between 1 and 3600, got %',
            coalesce(claim_llm_cache_key.lease_seconds::text, 'NULL')
            using errcode = '22023';
    end if;
    if claim_llm_cache_key.wait_seconds not between 0 and 60 then
        raise exception 'wait_seconds must be between 0 and 60, got %', claim_llm_cache_key.wait_seconds
            using errcode = '22023';
    end if;
    loop
        v_hit := llm.cache_lookup(v_scope, k.prompt_hash);
        if v_hit.id is not null then
            return row('hit', null, null, to_jsonb(v_hit))::llm.cache_claim;
        end if;
        if not exists (
            select from llm.response_cache_leases as l
            where l.scope = v_scope and l.prompt_hash = k.prompt_hash and l.expires_at > clock_timestamp()
        ) then
            -- Claim in a subtransaction that is undone when the key was taken meanwhile: a
            -- row lock kept while waiting would block the producer's store of the response.
            begin
                insert into llm.response_cache_leases as l (scope, prompt_hash, expires_at)
                values (
                    v_scope, k.prompt_hash,
                    clock_timestamp() + claim_llm_cache_key.lease_seconds * interval '1 second'
                )
                on conflict (scope, prompt_hash) do update
                    set lease_id = gen_random_uuid(), claimed_at = now(), expires_at = excluded.expires_at
                    where l.expires_at <= clock_timestamp()
                returning l.lease_id, l.expires_at into v_lease_id, v_expires;
                if v_lease_id is null then
                    raise exception 'lease taken' using errcode = 'P0002';
                end if;
            exception when no_data_found then
                v_lease_id := null;
            end;
        end if;
        if v_lease_id is not null then
            -- a producer may have stored the response between our lookup and our claim
            v_hit := llm.cache_lookup(v_scope, k.prompt_hash);
            if v_hit.id is not null then
                delete from llm.response_cache_leases as l where l.lease_id = v_lease_id;
                return row('hit', null, null, to_jsonb(v_hit))::llm.cache_claim;
            end if;
            perform llm.cache_count_miss(k.provider, k.model, v_scope);
            return row('claimed', v_lease_id, v_expires, null)::llm.cache_claim;
        end if;
        if clock_timestamp() >= v_deadline then
            return row(
                'pending', null,
                (
                    select l.expires_at from llm.response_cache_leases as l
                    where l.scope = v_scope and l.prompt_hash = k.prompt_hash
                ),
                null
            )::llm.cache_claim;
        end if;
        perform pg_sleep(least(0.05, extract(epoch from v_deadline - clock_timestamp())));
    end loop;
end;
$$;
comment on function llm.claim_llm_cache_key(text, text, text, jsonb, text, text, integer, numeric) is
'Looks a request up and, on a miss, claims its key for lease_seconds: status hit (with the response), claimed (call the model, then cache_llm_response ends the lease) or pending (another caller holds a live lease; waits up to wait_seconds for its response first). Service role only.';

-- Gives a lease back when producing the response failed, so waiting callers can claim it.
create or replace function llm.release_llm_cache_key(lease_id uuid)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
    if not llm.is_backend() then
        raise exception 'only the service role may release cache keys' using errcode = '42501';
    end if;
    if release_llm_cache_key.lease_id is null then
        raise exception 'lease_id must not be null' using errcode = '22004';
    end if;
    delete from llm.response_cache_leases as l where l.lease_id = release_llm_cache_key.lease_id;
    return found;
end;
$$;
comment on function llm.release_llm_cache_key(uuid) is
'Ends a lease taken by claim_llm_cache_key; false when it had already ended or expired and been taken over. Service role only.';

-- Semantic lookup behind get_similar_cached_prompts: nearest entries by cosine similarity in
-- one scope, exact filters inside the index scan (iterative scans), threshold outside it.
create or replace function llm.cache_similar(
    p_embedding extensions.vector,
    p_limit integer,
    p_threshold double precision,
    p_provider text,
    p_model text,
    p_parameters jsonb,
    p_user_id text,
    p_namespace text,
    p_embedding_model text,
    p_count_hit boolean
)
returns setof llm.similar_cached_prompt
language plpgsql
set search_path = ''
set "hnsw.iterative_scan" = 'relaxed_order'
set "hnsw.ef_search" = 40
set enable_sort = on
as $$
declare
    v_dims integer;
    v_type text;
    v_scope text;
    v_provider text;
    v_model text;
    v_parameters jsonb;
    v_first uuid;
    v_candidates bigint;
    r llm.similar_cached_prompt;
begin
    if p_embedding is null then
        raise exception 'embedding must not be null' using errcode = '22004';
    end if;
    if p_threshold is null or p_limit is null then
        raise exception '% must not be null', case when p_limit is null then 'limit' else 'similarity_threshold' end
            using errcode = '22004';
    end if;
    if p_threshold not between 0 and 1 then
        raise exception 'similarity_threshold must be between 0 and 1, got %', p_threshold
            using errcode = '22023';
    end if;
    if p_limit not between 1 and 1000 then
        raise exception 'limit must be between 1 and 1000, got %', p_limit using errcode = '22023';
    end if;
    v_dims := llm.cache_check_embedding(p_embedding, p_embedding_model);
    v_scope := llm.cache_scope(p_user_id, p_namespace);
    if p_parameters is not null then
        select k.parameters into v_parameters
        from llm.cache_canonical_key('', 'x', 'x', p_parameters) as k;
    end if;
    v_provider := lower(btrim(p_provider));
    v_model := btrim(p_model);
    v_type := case when v_dims > 2000 then 'halfvec' else 'vector' end;
    perform set_config(
        'hnsw.ef_search',
        greatest(llm.setting_text('cache_hnsw_ef_search')::integer, p_limit)::text,
        true
    );
    -- A scope with few embeddings of this size is searched exactly (all of them, sorted).
    -- Above cache_exact_search_max the HNSW index must serve: the planner underrates what
    -- computing every distance costs and would sort them all, so sorting is turned off (for
    -- this function only), which leaves the index as the one way to order by distance.
    select count(*) into v_candidates
    from (
        select from llm.response_cache as c
        where c.scope = v_scope and c.embedding_dims = v_dims
        limit llm.setting_text('cache_exact_search_max')::integer + 1
    ) as x;
    if v_candidates > llm.setting_text('cache_exact_search_max')::integer then
        perform set_config('enable_sort', 'off', true);
    end if;
    -- The index serves only "order by distance limit n"; the threshold is applied outside it.
    -- The query is dynamic because the index expression names the dimension; plpgsql_check
    -- cannot see its result type (r declares it).
    perform 'PRAGMA:disable:other_warnings';
    for r in execute format(
        $q$
        select s.id, s.prompt, s.response, 1 - s.distance, s.provider, s.model, s.parameters,
            s.metadata, s.scope, null::bigint, s.created_at, s.expires_at
        from (
            select c.id, c.prompt, c.response, c.provider, c.model, c.parameters, c.metadata,
                c.scope, c.created_at, c.expires_at,
                c.embedding::extensions.%1$s(%2$s)
                operator(extensions.<=>) $1::extensions.%1$s(%2$s) as distance
            from llm.response_cache as c
            where c.embedding_dims = %2$s
                and c.scope = $2
                and c.expires_at > now()
                and ($3::text is null or c.provider = $3)
                and ($4::text is null or c.model = $4)
                and ($5::jsonb is null or c.parameters = $5)
                and ($6::text is null or c.embedding_model = $6)
            order by distance
            limit $7
        ) as s
        where s.distance <= 1 - $8
        order by s.distance, s.id
        $q$,
        v_type, v_dims
    ) using p_embedding, v_scope, v_provider, v_model, v_parameters,
        p_embedding_model, p_limit,
        p_threshold
    loop
        if v_first is null and p_count_hit then
            r.hit_count := llm.cache_count_hit(r.id);
        else
            r.hit_count := (
                select coalesce(sum(h.hits), 0) from llm.response_cache_hits as h where h.entry_id = r.id
            );
        end if;
        v_first := coalesce(v_first, r.id);
        return next r;
    end loop;
    perform 'PRAGMA:enable:other_warnings';
end;
$$;
comment on function llm.cache_similar(
    extensions.vector, integer, double precision, text, text, jsonb, text, text, text, boolean
) is
'Implements llm.get_similar_cached_prompts (see there); 22023 for bad arguments.';

-- Seed API: the most similar cached prompts of the caller's scope, best first.
create or replace function llm.get_similar_cached_prompts(
    embedding extensions.vector,
    "limit" integer default 5,
    similarity_threshold double precision default 0.8,
    provider text default null,
    model text default null,
    parameters jsonb default null,
    user_id text default null,
    namespace text default null,
    embedding_model text default null,
    count_hit boolean default false
)
returns setof llm.similar_cached_prompt
language sql
security definer
set search_path = ''
as $$
    select * from llm.cache_similar($1, $2, $3, $4, $5, $6, $7, $8, $9, $10);
$$;
comment on function llm.get_similar_cached_prompts(
    extensions.vector, integer, double precision, text, text, jsonb, text, text, text, boolean
) is
'Most similar cached prompts (cosine similarity, 1 = identical, best first) at or above similarity_threshold, from the caller''s scope only, optionally filtered exactly by provider, model, parameters and embedding_model; count_hit counts a hit on the best one. 22023 for a threshold outside 0..1, a bad limit or an unsupported or mismatched embedding.';

-- Seed API: removes expired entries (their savings stay in the totals) and dead leases.
create or replace function llm.cleanup_expired_llm_cache()
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
comment on function llm.cleanup_expired_llm_cache() is
'Deletes expired cache entries (keeping their hits and savings in llm.response_cache_totals) and expired leases; returns the number of entries deleted. Admins and service role; also the llm_cache_cleanup job.';

-- Keeps the cache under its size caps by evicting the least recently used entries.
create or replace function llm.evict_llm_cache()
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_max_entries bigint := llm.setting_text('cache_max_entries')::bigint;
    v_max_bytes bigint := llm.setting_text('cache_max_bytes')::bigint;
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
            left join lateral (
                select max(h.last_hit_at) as last_hit_at
                from llm.response_cache_hits as h where h.entry_id = c.id
            ) as h on true
            window w as (
                order by c.expires_at > now() desc, greatest(c.created_at, h.last_hit_at) desc, c.id desc
                rows between unbounded preceding and current row
            )
        ) as v
        where v.expires_at <= now() or v.n_kept > v_max_entries or v.bytes_kept > v_max_bytes
    ));
end;
$$;
comment on function llm.evict_llm_cache() is
'Deletes expired entries, then the least recently used (last hit, else creation) until at most cache_max_entries entries and cache_max_bytes bytes remain; returns the number deleted. Admins and service role; also the llm_cache_evict job.';

-- Invalidation by provider, model, scope or age.
create or replace function llm.invalidate_llm_cache(
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
comment on function llm.invalidate_llm_cache(text, text, text, interval) is
'Deletes the entries matching every given filter (provider, model, scope as global, user:<id> or namespace:<name>, created at least older_than ago); returns how many. 22023 without any filter. Admins and service role.';

-- Logs a hit as a zero-cost cache-hit request, so what it saved reaches the request log and
-- the usage rollups (priced from llm.model_prices as if the call had been made).
create or replace function llm.log_cache_hit(
    entry_id uuid,
    user_id text default null,
    request_id text default null,
    conversation_id uuid default null,
    latency_ms integer default null,
    metadata jsonb default '{}'
)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
    e record;
begin
    if log_cache_hit.entry_id is null then
        raise exception 'entry_id must not be null' using errcode = '22004';
    end if;
    select c.provider, c.model, c.prompt_tokens, c.completion_tokens, c.total_tokens, c.user_id
    into e
    from llm.response_cache as c
    where c.id = log_cache_hit.entry_id;
    if not found then
        raise exception 'cache entry % not found', log_cache_hit.entry_id using errcode = 'P0002';
    end if;
    return llm.log_request(
        provider => e.provider,
        model => e.model,
        user_id => coalesce(log_cache_hit.user_id, e.user_id::text),
        prompt_tokens => coalesce(e.prompt_tokens, 0)::integer,
        completion_tokens => coalesce(e.completion_tokens, 0)::integer,
        total_tokens => e.total_tokens::integer,
        cache_hit => true,
        request_id => log_cache_hit.request_id,
        conversation_id => log_cache_hit.conversation_id,
        latency_ms => log_cache_hit.latency_ms,
        service => 'response_cache',
        metadata => llm.check_metadata(log_cache_hit.metadata, 'metadata')
        || jsonb_build_object('cache_entry_id', log_cache_hit.entry_id)
    );
end;
$$;
comment on function llm.log_cache_hit(uuid, text, text, uuid, integer, jsonb) is
'Logs a cache hit (entry_id from get_cached_llm_response) as a request with cache_hit = true: cost 0, its tokens and registry-priced cost recorded as saved, in the request log and the usage rollups. user_id defaults to the owner of a user-scoped entry. 22004 NULL entry_id, P0002 unknown entry; service role only.';

-- Hit rate and savings per provider, model and scope, live and removed entries together.
create or replace function llm.get_llm_cache_stats()
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
        select c.provider, c.model, c.scope, count(*) as entries, sum(h.hits) as hits,
            sum(h.hits * c.prompt_tokens) as prompt_tokens, sum(h.hits * c.completion_tokens) as completion_tokens,
            sum(h.hits * c.total_tokens) as total_tokens, sum(h.hits * c.cost_usd) as cost_usd
        from llm.response_cache as c
        cross join lateral (
            select coalesce(sum(x.hits), 0) as hits from llm.response_cache_hits as x where x.entry_id = c.id
        ) as h
        group by c.provider, c.model, c.scope
    ),
    past as (
        select t.provider, t.model, t.scope, sum(t.misses) as misses, sum(t.retired_hits) as hits,
            sum(t.retired_prompt_tokens) as prompt_tokens, sum(t.retired_completion_tokens) as completion_tokens,
            sum(t.retired_total_tokens) as total_tokens, sum(t.retired_cost_usd) as cost_usd
        from llm.response_cache_totals as t
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
comment on function llm.get_llm_cache_stats() is
'Per provider, model and scope: live entries, hits, misses, hit rate and the tokens and cost the hits saved (from each entry''s recorded counts), including removed entries. Admins and service role.';

-- ---------------------------------------------------------------------------------------
-- Settings
-- ---------------------------------------------------------------------------------------

select llm.define_setting(
    'cache_ignored_parameters', 'jsonb',
    '["user", "stream", "stream_options", "store", "metadata", "request_id", "timeout"]',
    'Top-level request parameters left out of cache keys (they do not change the response).'
);
select llm.define_setting(
    'cache_hit_shards', 'integer', '16',
    'Counter rows per cache entry (and per provider, model and scope for misses).'
);
select llm.define_setting(
    'cache_max_entries', 'integer', '100000',
    'Entries the response cache keeps; llm_cache_evict removes the least recently used above it.'
);
select llm.define_setting(
    'cache_max_bytes', 'integer', '1073741824',
    'Bytes (prompt, response, metadata, embedding) the response cache keeps before eviction.'
);
select llm.define_setting(
    'cache_embedding_dimensions', 'jsonb', '[384, 768, 1536, 3072]',
    'Embedding sizes the cache accepts; each has an HNSW index (halfvec above 2000).'
);
select llm.define_setting(
    'cache_hnsw_ef_search', 'integer', '200',
    'hnsw.ef_search for semantic lookups (higher: better recall, slower).'
);
select llm.define_setting(
    'cache_exact_search_max', 'integer', '5000',
    'Semantic lookups in a scope with at most this many embeddings of the size compare them all (exact); larger scopes use the HNSW index.'
);
select llm.define_setting(
    'cache_cleanup_schedule', 'cron', '"17 * * * *"',
    'When llm_cache_cleanup removes expired cache entries and leases.'
);
select llm.define_setting(
    'cache_evict_schedule', 'cron', '"*/15 * * * *"',
    'When llm_cache_evict enforces cache_max_entries and cache_max_bytes.'
);

-- ---------------------------------------------------------------------------------------
-- Policies
-- ---------------------------------------------------------------------------------------

alter table llm.response_cache enable row level security;
alter table llm.response_cache_hits enable row level security;
alter table llm.response_cache_totals enable row level security;
alter table llm.response_cache_leases enable row level security;

drop policy if exists "Users read their own cached responses" on llm.response_cache;
create policy "Users read their own cached responses" on llm.response_cache
for select to authenticated using (user_id = (select auth.uid()));
comment on policy "Users read their own cached responses" on llm.response_cache is
'A user sees the entries of their own user scope; global and namespace entries are the service role''s.';

drop policy if exists "Admins read every cached response" on llm.response_cache;
create policy "Admins read every cached response" on llm.response_cache
for select to authenticated using ((select llm.is_admin()));
comment on policy "Admins read every cached response" on llm.response_cache is
'Package admins see every cache entry.';

drop policy if exists "Users read hit counts of their own cached responses" on llm.response_cache_hits;
create policy "Users read hit counts of their own cached responses" on llm.response_cache_hits
for select to authenticated using (
    exists (
        select from llm.response_cache as c
        where c.id = response_cache_hits.entry_id and c.user_id = (select auth.uid())
    )
);
comment on policy "Users read hit counts of their own cached responses" on llm.response_cache_hits is
'A user sees the hit counters of the entries of their own user scope.';

drop policy if exists "Admins read every cache hit count" on llm.response_cache_hits;
create policy "Admins read every cache hit count" on llm.response_cache_hits
for select to authenticated using ((select llm.is_admin()));
comment on policy "Admins read every cache hit count" on llm.response_cache_hits is
'Package admins see every hit counter.';

drop policy if exists "Admins read cache totals" on llm.response_cache_totals;
create policy "Admins read cache totals" on llm.response_cache_totals
for select to authenticated using ((select llm.is_admin()));
comment on policy "Admins read cache totals" on llm.response_cache_totals is
'Package admins see misses and the savings of removed entries.';

drop policy if exists "Admins read cache leases" on llm.response_cache_leases;
create policy "Admins read cache leases" on llm.response_cache_leases
for select to authenticated using ((select llm.is_admin()));
comment on policy "Admins read cache leases" on llm.response_cache_leases is
'Package admins see which keys are being produced.';

-- ---------------------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------------------

grant select on llm.response_cache, llm.response_cache_hits, llm.response_cache_totals,
llm.response_cache_leases to authenticated, service_role;

revoke execute on all functions in schema llm from public, anon;
grant execute on function
llm.llm_cache_key(text, text, text, jsonb),
llm.get_cached_llm_response(text, text, text, jsonb, text, text),
llm.get_similar_cached_prompts(
    extensions.vector, integer, double precision, text, text, jsonb, text, text, text, boolean
),
llm.cleanup_expired_llm_cache(),
llm.evict_llm_cache(),
llm.invalidate_llm_cache(text, text, text, interval),
llm.get_llm_cache_stats()
to authenticated, service_role;
grant execute on function
llm.cache_llm_response(
    text, text, text, text, jsonb, jsonb, numeric, extensions.vector, text, text, bigint, bigint,
    numeric, text
),
llm.claim_llm_cache_key(text, text, text, jsonb, text, text, integer, numeric),
llm.release_llm_cache_key(uuid),
llm.log_cache_hit(uuid, text, text, uuid, integer, jsonb)
to service_role;

-- ---------------------------------------------------------------------------------------
-- Jobs
-- ---------------------------------------------------------------------------------------

select llm.register_job(
    'llm_cache_cleanup', 'cache_cleanup_schedule', 'select llm.cleanup_expired_llm_cache()',
    'Removes expired response cache entries (their savings stay in the totals) and expired leases.'
);
select llm.register_job(
    'llm_cache_evict', 'cache_evict_schedule', 'select llm.evict_llm_cache()',
    'Evicts least recently used response cache entries above cache_max_entries or cache_max_bytes.'
);
