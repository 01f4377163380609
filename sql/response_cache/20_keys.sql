-- Cache keys and scopes: canonical JSON, the key, the caller's scope, embedding checks.

-- Makes equal JSON values textually equal: numbers lose trailing zeros (1.0 = 1), at every
-- depth. One pass over the JSON text (strings are matched whole and kept as they are), so the
-- cost is linear in the size of the value and nothing recurses.
create or replace function llm.cache_canonical_json(p_value jsonb)
returns jsonb
language plpgsql
immutable
set search_path = ''
as $$
declare
    v_text text := p_value::text;
begin
    -- jsonb prints a number with trailing zeros only after a decimal point: nothing to do
    if v_text !~ '\.[0-9]*0([^0-9]|$)' then
        return p_value;
    end if;
    -- 1.50 -> 1.5, then 2.0 -> 2; a quoted string (group 1) is put back unchanged
    v_text := regexp_replace(v_text, '("(?:[^"\\]|\\.)*")|(\.[0-9]*[1-9])0+(?![0-9])', '\1\2', 'g');
    v_text := regexp_replace(v_text, '("(?:[^"\\]|\\.)*")|\.0+(?![0-9])', '\1', 'g');
    return v_text::jsonb;
end;
$$;
comment on function llm.cache_canonical_json(jsonb) is
'Canonical JSON for cache keys: numbers normalised (1.0 becomes 1) at every depth, in time linear in the size of the value; key order is already irrelevant in jsonb.';

-- Bounds a JSON argument that is canonicalised, so the work is bounded by these limits.
create or replace function llm.cache_check_json_size(p_value jsonb, p_field text)
returns jsonb
language plpgsql
immutable
set search_path = ''
as $$
begin
    if octet_length(p_value::text) > 262144 then
        raise exception '% is % bytes of JSON; at most 262144 are accepted', p_field, octet_length(p_value::text)
            using errcode = '22023';
    end if;
    if jsonb_path_exists(p_value, 'strict $.**{65}') then
        raise exception '% is nested more than 64 levels deep', p_field using errcode = '22023';
    end if;
    return p_value;
end;
$$;
comment on function llm.cache_check_json_size(jsonb, text) is
'Returns the value; 22023 naming the field when its JSON text exceeds 262144 bytes or it nests more than 64 levels.';

-- Validates and canonicalises a request once, for every function that computes a key. It is
-- on the path of every lookup, so the common case runs here alone, with cached plans and one
-- read of the ignored parameters: the helpers above are called only for what needs them
-- (an error to raise, parameters large enough to be bounded, a number with trailing zeros, a
-- chat message array). Keys stay byte for byte those of 0.3.0 (test_response_cache_keys.py).
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
    v_text text;
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
    if p_parameters is null or jsonb_typeof(p_parameters) = 'null' then
        parameters := '{}';
    elsif jsonb_typeof(p_parameters) <> 'object' then
        perform llm.check_metadata(p_parameters, 'parameters');  -- raises 22023 naming the field
    else
        v_text := p_parameters::text;
        -- nesting 65 levels deep takes at least 130 brackets: shorter JSON is within both bounds
        if octet_length(v_text) >= 130 then
            perform llm.cache_check_json_size(p_parameters, 'parameters');
        end if;
        parameters := p_parameters;
        if v_text <> '{}' then
            v_ignored := array(
                select jsonb_array_elements_text(s.value) from llm.settings as s
                where s.key = 'cache_ignored_parameters'
            );
            if parameters ?| v_ignored then
                parameters := parameters - v_ignored;
            end if;
            -- what cache_canonical_json changes: a number with trailing zeros after its point
            if v_text ~ '\.[0-9]*0([^0-9]|$)' then
                parameters := llm.cache_canonical_json(parameters);
            end if;
        end if;
    end if;
    -- a chat message array (JSON text starting with '[') is keyed by its canonical JSON
    v_prompt := to_jsonb(p_prompt);
    if p_prompt ~ '^\s*\[' then
        begin
            v_prompt := p_prompt::jsonb;
            if jsonb_typeof(v_prompt) <> 'array' then
                v_prompt := to_jsonb(p_prompt);
            end if;
        exception when invalid_text_representation or statement_too_complex then
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
'Checks a request (22004 null prompt, provider or model; 22023 blank names, non-object parameters or parameters above 262144 bytes or 64 levels) and returns its canonical provider, model, parameters and sha256 key.';

-- The cache key of a request, for clients that want to see or log it.
create or replace function llm_private.llm_cache_key(
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
comment on function llm_private.llm_cache_key(text, text, text, jsonb) is
'Implementation of llm.llm_cache_key() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.llm_cache_key(text, text, text, jsonb) to authenticated, service_role;

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
-- A lookup passes its scope, so its answer never depends on entries of other scopes.
create or replace function llm.cache_check_embedding(
    p_embedding extensions.vector, p_embedding_model text, p_scope text
)
returns integer
language plpgsql
stable
set search_path = ''
as $$
declare
    v_dims integer := extensions.vector_dims(p_embedding);
    v_model_dims integer;
begin
    if not llm_private.setting('cache_embedding_dimensions') @> to_jsonb(v_dims) then
        raise exception 'embedding has % dimensions; supported are % (setting cache_embedding_dimensions)',
            v_dims, llm_private.setting('cache_embedding_dimensions')
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
            and (p_scope is null or c.scope = p_scope)
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
comment on function llm.cache_check_embedding(extensions.vector, text, text) is
'Returns the dimensions of an embedding; 22023 when unsupported, all zeros, or different from earlier embeddings of the same embedding_model (in p_scope only when given: lookups see nothing of other scopes).';
