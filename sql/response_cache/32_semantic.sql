-- Semantic lookups over embeddings (pgvector).

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
    v_hit llm.cache_hit;
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
    v_scope := llm.cache_scope(p_user_id, p_namespace);
    -- backends see every scope; a signed-in user's check sees only the user's own entries
    v_dims := llm.cache_check_embedding(
        p_embedding, p_embedding_model, case when not llm.is_backend() then v_scope end
    );
    if p_parameters is not null then
        select k.parameters into v_parameters
        from llm.cache_canonical_key('', 'x', 'x', p_parameters) as k;
    end if;
    v_provider := lower(btrim(p_provider));
    v_model := btrim(p_model);
    v_type := case when v_dims > 2000 then 'halfvec' else 'vector' end;
    perform set_config(
        'hnsw.ef_search',
        greatest(llm_private.setting_text('cache_hnsw_ef_search')::integer, p_limit)::text,
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
        limit llm_private.setting_text('cache_exact_search_max')::integer + 1
    ) as x;
    if v_candidates > llm_private.setting_text('cache_exact_search_max')::integer then
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
            select c.id, null, null, c.created_at, c.expires_at, null, c.provider, c.model, c.scope,
                c.prompt_tokens, c.completion_tokens, c.total_tokens, c.cost_usd
            into v_hit
            from llm.response_cache as c where c.id = r.id;
        end if;
        if v_first is null and p_count_hit and v_hit.id is not null then
            r.hit_count := llm.cache_count_hit(v_hit);
        else
            r.hit_count := llm.cache_hit_count(r.id);
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
create or replace function llm_private.get_similar_cached_prompts(
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
comment on function llm_private.get_similar_cached_prompts(
    extensions.vector, integer, double precision, text, text, jsonb, text, text, text,
    boolean
) is
'Implementation of llm.get_similar_cached_prompts() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.get_similar_cached_prompts(
    extensions.vector, integer, double precision, text, text, jsonb, text, text, text,
    boolean
) to authenticated, service_role;
