-- The dead letter: rejected requests and the JSON field readers batches use.

-- Raises the error that explains why llm.log_request() refused its arguments.
create or replace function llm.reject_request(
    p_provider text,
    p_model text,
    p_request_type text,
    p_success boolean,
    p_prompt_tokens integer,
    p_completion_tokens integer,
    p_cached_tokens integer,
    p_cache_write_tokens integer,
    p_total_tokens integer,
    p_cost_usd numeric,
    p_cache_hit boolean,
    p_audio_seconds numeric,
    p_latency_ms integer,
    p_time_to_first_token_ms integer,
    p_status_code integer,
    p_created_at timestamptz,
    p_request_id text,
    p_metadata jsonb
)
returns void
language plpgsql
stable
set search_path = ''
as $$
declare
    v_field text;
    v_value bigint;
begin
    if p_provider is null or p_provider !~ '\S' then
        raise exception 'provider is required (got %)', coalesce(quote_literal(p_provider), 'NULL')
            using errcode = '22004';
    end if;
    if p_model is null or p_model !~ '\S' then
        raise exception 'model is required (got %)', coalesce(quote_literal(p_model), 'NULL')
            using errcode = '22004';
    end if;
    if length(p_provider) > 255 or length(p_model) > 255 then
        raise exception '% must be at most 255 characters, got %',
            case when length(p_provider) > 255 then 'provider' else 'model' end,
            greatest(length(p_provider), length(p_model))
            using errcode = '22023';
    end if;
    if p_request_type is null then
        raise exception 'request_type must not be null' using errcode = '22004';
    end if;
    if not p_request_type = any(enum_range(null::llm.request_type)::text[]) then
        raise exception 'request_type must be one of %, got %',
            array_to_string(enum_range(null::llm.request_type), ', '), quote_literal(p_request_type)
            using errcode = '22023';
    end if;
    if p_success is null then
        raise exception 'success must not be null' using errcode = '22004';
    end if;
    select f.name, f.value into v_field, v_value
    from (
        values
        (1, 'prompt_tokens', p_prompt_tokens),
        (2, 'completion_tokens', p_completion_tokens),
        (3, 'cached_tokens', p_cached_tokens),
        (4, 'cache_write_tokens', p_cache_write_tokens),
        (5, 'total_tokens', p_total_tokens),
        (6, 'latency_ms', p_latency_ms),
        (7, 'time_to_first_token_ms', p_time_to_first_token_ms)
    ) as f (n, name, value)
    where f.value < 0
    order by f.n
    limit 1;
    if found then
        raise exception '% must be >= 0, got %', v_field, v_value using errcode = '22023';
    end if;
    if coalesce(p_cached_tokens, 0)::bigint + coalesce(p_cache_write_tokens, 0) > coalesce(p_prompt_tokens, 0)
        then
        raise exception 'cached_tokens + cache_write_tokens (%) exceed prompt_tokens (%)',
            coalesce(p_cached_tokens, 0)::bigint + coalesce(p_cache_write_tokens, 0),
            coalesce(p_prompt_tokens, 0)
            using errcode = '22023',
                hint = 'prompt_tokens counts every input token, cache reads and writes included';
    end if;
    if coalesce(p_prompt_tokens, 0)::bigint + coalesce(p_completion_tokens, 0) > 2147483647 then
        raise exception 'prompt_tokens + completion_tokens must be at most 2147483647, got %',
            coalesce(p_prompt_tokens, 0)::bigint + coalesce(p_completion_tokens, 0)
            using errcode = '22023';
    end if;
    if not (p_cost_usd >= 0 and p_cost_usd < 'infinity'::numeric) then
        raise exception 'cost_usd must be a finite number >= 0, got %', p_cost_usd
            using errcode = '22023';
    end if;
    if p_cache_hit and p_cost_usd > 0 then
        raise exception 'cost_usd must be 0 or omitted for a cache hit, got %', p_cost_usd
            using errcode = '22023';
    end if;
    if not (p_audio_seconds >= 0 and p_audio_seconds < 'infinity'::numeric) then
        raise exception 'audio_seconds must be a finite number >= 0, got %', p_audio_seconds
            using errcode = '22023';
    end if;
    if p_status_code not between 100 and 599 then
        raise exception 'status_code must be an HTTP status (100-599), got %', p_status_code
            using errcode = '22023';
    end if;
    if not (p_created_at >= '2000-01-01 00:00:00+00'::timestamptz and p_created_at <= now() + interval '1 day')
        then
        raise exception 'created_at must lie between 2000-01-01 00:00:00+00 and one day after now(), got %',
            p_created_at
            using errcode = '22023';
    end if;
    if p_request_id !~ '\S' then
        raise exception 'request_id must not be blank' using errcode = '22023';
    end if;
    if length(p_request_id) > 255 then
        raise exception 'request_id must be at most 255 characters, got %', length(p_request_id)
            using errcode = '22023';
    end if;
    if jsonb_typeof(p_metadata) is distinct from 'object' then
        raise exception 'metadata must be a JSON object, got %', coalesce(jsonb_typeof(p_metadata), 'NULL')
            using errcode = '22023';
    end if;
    raise exception 'invalid request: provider %, model %', p_provider, p_model using errcode = '22023';
end;
$$;
comment on function llm.reject_request(
    text, text, text, boolean, integer, integer, integer, integer, integer, numeric, boolean,
    numeric, integer, integer, integer, timestamptz, text, jsonb
) is
'Raises the specific error (22004 missing, 22023 invalid, naming the field) for arguments llm.log_request() found invalid.';

-- Keeps stored payloads within the configured size.
create or replace function llm.capped_body(p_body jsonb)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
    v_text text;
    v_max integer;
begin
    if p_body is null then
        return null;
    end if;
    v_text := p_body::text;
    v_max := llm_private.setting_text('request_log_body_max_bytes')::integer;
    if octet_length(v_text) <= v_max then
        return p_body;
    end if;
    return jsonb_build_object(
        'truncated', true,
        'original_bytes', octet_length(v_text),
        'prefix', left(v_text, v_max)
    );
end;
$$;
comment on function llm.capped_body(jsonb) is
'Returns a payload unchanged when within request_log_body_max_bytes, else {truncated: true, original_bytes, prefix: its first request_log_body_max_bytes characters as text}.';

-- Reads one field of a JSON request payload as text after checking its JSON type, so a
-- wrong type is an error naming the field rather than a cast failure naming nothing.
create or replace function llm.request_field(p_request jsonb, p_field text, p_kind text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
    v jsonb := p_request -> p_field;
    v_type text := jsonb_typeof(v);
    v_text text := v #>> '{}';
begin
    if v is null or v_type = 'null' then
        return null;
    end if;
    if p_kind = 'integer' and (v_type <> 'number' or v_text !~ '^-?\d{1,10}$'
        or v_text::numeric not between -2147483648 and 2147483647) then
        raise exception '% must be an integer, got %', p_field, v using errcode = '22023';
    elsif p_kind = 'number' and v_type <> 'number' then
        raise exception '% must be a number, got %', p_field, v using errcode = '22023';
    elsif p_kind = 'boolean' and v_type <> 'boolean' then
        raise exception '% must be true or false, got %', p_field, v using errcode = '22023';
    elsif p_kind = 'text' and v_type <> 'string' then
        raise exception '% must be a string, got %', p_field, v using errcode = '22023';
    elsif p_kind = 'uuid' and (
        v_type <> 'string'
        or v_text !~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$'
    ) then
        raise exception '% must be a UUID, got %', p_field, v using errcode = '22023';
    elsif p_kind = 'time' and (v_type <> 'string' or not llm.is_request_time(v_text)) then
        raise exception '% must be a finite ISO 8601 time, got %', p_field, v
            using errcode = '22023';
    end if;
    return v_text;
end;
$$;
comment on function llm.request_field(jsonb, text, text) is
'Field of a request payload as text, after checking it is an integer, number, boolean, text, uuid or time (22023 naming the field otherwise); NULL when absent.';

-- Whether a string is a time llm.request_field() accepts, without raising: request_field
-- raises on its answer, and the batch check calls it for the times its regular expression
-- cannot vouch for.
create or replace function llm.is_request_time(p_value text)
returns boolean
language plpgsql
stable
set search_path = ''
as $$
begin
    return isfinite(p_value::timestamptz);
exception when others then
    return false;
end;
$$;
comment on function llm.is_request_time(text) is
'True when p_value reads as a finite timestamptz (what llm.request_field(..., ''time'') accepts), false otherwise; never raises. Internal: called by llm.request_field() and llm.log_request_batch().';
