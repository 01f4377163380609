-- Result types of the cache API.

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
