-- The API of store, semantic, maintenance, savings: SECURITY INVOKER entry points of schema llm,
-- each calling its implementation in schema llm_private.

create or replace function llm.get_cached_llm_response(
    prompt text,
    provider text,
    model text,
    parameters jsonb default null,
    user_id text default null,
    namespace text default null
)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
begin
    -- plpgsql, not SQL: its call is planned once per session, a SQL body on every call
    return llm_private.get_cached_llm_response($1, $2, $3, $4, $5, $6);
end;
$$;
comment on function llm.get_cached_llm_response(text, text, text, jsonb, text, text) is
'Returns the cached response of a request in the caller''s scope as a JSON object (the fields of llm.cache_hit: id, response, hit_count, cached_at, expires_at, metadata, provider, model, scope, tokens and cost saved), counting the hit; NULL (JSON null through the API) on a miss, counted too. In a read-only transaction (a PostgREST GET) the hit is served with the count so far and neither hit nor miss is counted: call it with POST, or count a GET hit with llm.log_cache_hit(..., count_hit => true). Expired entries are never returned.';
grant execute on function llm.get_cached_llm_response(
    text, text, text, jsonb, text, text
) to authenticated, service_role;

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
volatile
set search_path = ''
as $$
    select * from llm_private.get_similar_cached_prompts(
        embedding => get_similar_cached_prompts.embedding,
        "limit" => get_similar_cached_prompts."limit",
        similarity_threshold => get_similar_cached_prompts.similarity_threshold,
        provider => get_similar_cached_prompts.provider,
        model => get_similar_cached_prompts.model,
        parameters => get_similar_cached_prompts.parameters,
        user_id => get_similar_cached_prompts.user_id,
        namespace => get_similar_cached_prompts.namespace,
        embedding_model => get_similar_cached_prompts.embedding_model,
        count_hit => get_similar_cached_prompts.count_hit
    );
$$;
comment on function llm.get_similar_cached_prompts(
    extensions.vector, integer, double precision, text, text, jsonb, text, text, text, boolean
) is
'Most similar cached prompts (cosine similarity, 1 = identical, best first) at or above similarity_threshold, from the caller''s scope only, optionally filtered exactly by provider, model, parameters and embedding_model; count_hit counts a hit on the best one. 22023 for a threshold outside 0..1, a bad limit or an unsupported or mismatched embedding.';
grant execute on function llm.get_similar_cached_prompts(
    extensions.vector, integer, double precision, text, text, jsonb, text, text, text,
    boolean
) to authenticated, service_role;

create or replace function llm.cleanup_expired_llm_cache()
returns integer
language sql
volatile
set search_path = ''
as $$
    select llm_private.cleanup_expired_llm_cache();
$$;
comment on function llm.cleanup_expired_llm_cache() is
'Deletes expired cache entries (keeping their hits and savings in llm.response_cache_totals) and expired leases; returns the number of entries deleted. Admins and service role; also the llm_cache_cleanup job.';
grant execute on function llm.cleanup_expired_llm_cache() to authenticated, service_role;

create or replace function llm.evict_llm_cache()
returns integer
language sql
volatile
set search_path = ''
as $$
    select llm_private.evict_llm_cache();
$$;
comment on function llm.evict_llm_cache() is
'Deletes expired entries, then the least recently used (last hit, else creation) until at most cache_max_entries entries and cache_max_bytes bytes remain; returns the number deleted. Admins and service role; also the llm_cache_evict job.';
grant execute on function llm.evict_llm_cache() to authenticated, service_role;

create or replace function llm.invalidate_llm_cache(
    provider text default null,
    model text default null,
    scope text default null,
    older_than interval default null
)
returns integer
language sql
volatile
set search_path = ''
as $$
    select llm_private.invalidate_llm_cache(
        provider => invalidate_llm_cache.provider,
        model => invalidate_llm_cache.model,
        scope => invalidate_llm_cache.scope,
        older_than => invalidate_llm_cache.older_than
    );
$$;
comment on function llm.invalidate_llm_cache(text, text, text, interval) is
'Deletes the entries matching every given filter (provider, model, scope as global, user:<id> or namespace:<name>, created at least older_than ago); returns how many. 22023 without any filter. Admins and service role.';
grant execute on function llm.invalidate_llm_cache(
    text, text, text, interval
) to authenticated, service_role;

create or replace function llm.get_llm_cache_stats()
returns setof llm.cache_stats
language sql
stable
set search_path = ''
as $$
    select * from llm_private.get_llm_cache_stats();
$$;
comment on function llm.get_llm_cache_stats() is
'Per provider, model and scope: live entries, hits, misses, hit rate and the tokens and cost the hits saved (from each entry''s recorded counts), including removed entries. Admins and service role.';
grant execute on function llm.get_llm_cache_stats() to authenticated, service_role;

create or replace function llm.llm_cache_key(
    prompt text, provider text, model text, parameters jsonb default null
)
returns text
language sql
stable
set search_path = ''
as $$
    select llm_private.llm_cache_key(
        prompt => llm_cache_key.prompt,
        provider => llm_cache_key.provider,
        model => llm_cache_key.model,
        parameters => llm_cache_key.parameters
    );
$$;
comment on function llm.llm_cache_key(text, text, text, jsonb) is
'sha256 (hex) of the canonical provider, model, prompt (text or chat message JSON array) and parameters; ignored parameters (setting cache_ignored_parameters) are left out.';
grant execute on function llm.llm_cache_key(text, text, text, jsonb) to authenticated, service_role;
