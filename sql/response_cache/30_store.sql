-- Storing a response and the exact lookup API.

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
    elsif cache_llm_response.ttl_hours in ('NaN'::numeric, 'Infinity'::numeric, '-Infinity'::numeric)
        or cache_llm_response.ttl_hours <= 0 or cache_llm_response.ttl_hours > 876000 then
        raise exception 'ttl_hours must be a positive number of hours up to 876000 (100 years), got %',
            cache_llm_response.ttl_hours
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
    if v_total_tokens > 2147483647 then
        raise exception 'tokens (prompt_tokens + completion_tokens) must be at most 2147483647, got %',
            v_total_tokens
            using errcode = '22023';
    end if;
    if cache_llm_response.embedding is not null then
        perform llm.cache_check_embedding(cache_llm_response.embedding, cache_llm_response.embedding_model, null);
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
grant execute on function llm.cache_llm_response(
    text, text, text, text, jsonb, jsonb, numeric, extensions.vector, text, text, bigint,
    bigint, numeric, text
) to service_role;

-- Exact lookup: the live response of the key in the caller's scope, with the hit counted. One
-- plpgsql function (plans cached per session) under the API wrapper, in few statements: the
-- key, the scope (a backend's global scope without looking the caller up), the lookup.
create or replace function llm_private.get_cached_llm_response(
    prompt text,
    provider text,
    model text,
    parameters jsonb default null,
    user_id text default null,
    namespace text default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    k record;
    v_scope text;
    v_hit llm.cache_hit;
begin
    k := llm.cache_canonical_key($1, $2, $3, $4);
    -- backends by name (the allow-list of llm.request_role) on the global scope
    v_scope := case
        when $5 is null and $6 is null
            and coalesce(nullif(current_setting('role', true), 'none'), session_user::text)
            in ('service_role', 'postgres', 'supabase_admin') then 'global'
        else llm.cache_scope($5, $6)
    end;
    v_hit := llm.cache_lookup(v_scope, k.prompt_hash);
    if v_hit.id is null then
        perform llm.cache_count_miss(k.provider, k.model, v_scope);
        return null;
    end if;
    -- JSON, not the composite llm.cache_hit: PostgREST answers a NULL composite with an object
    -- whose every field is null, which callers would take for a hit; a NULL jsonb is `null`.
    return to_jsonb(v_hit);
end;
$$;
comment on function llm_private.get_cached_llm_response(
    text, text, text, jsonb, text, text
) is
'Implementation of llm.get_cached_llm_response() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.get_cached_llm_response(
    text, text, text, jsonb, text, text
) to authenticated, service_role;
