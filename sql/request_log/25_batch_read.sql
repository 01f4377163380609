-- Reading a batch at once: every item of a JSON array checked, typed, resolved and priced.

-- The items of a batch as llm.log_request_json() would pass them to llm.log_request(), in one
-- statement: whether each is well formed and valid (a predicate: the single-row path says
-- why an item is not), its values typed, its user and conversation resolved, its registry
-- price, and a request log id drawn for it. The array is read as a whole, each value as its
-- parameter's type: one that does not read so raises (22P02, 22003, ...), and an element that
-- is not an object raises 22023 (llm.request_batch_items() then reads the items one by one).
create or replace function llm.request_batch_read(p_requests jsonb)
returns setof llm.request_batch_item
language plpgsql
set search_path = ''
-- planned once per session: a custom plan per call costs about as much as the work
set plan_cache_mode = force_generic_plan
-- each item is looked at once: caching the per-item subqueries only costs
set enable_memoize = off
as $$
begin
    return query
    with prices as materialized (
        select
            m.provider, m.model, m.effective_from, m.effective_to,
            coalesce(m.input_per_mtok, 0) as input_rate,
            coalesce(m.cached_input_per_mtok, m.input_per_mtok, 0) as cached_rate,
            coalesce(m.cache_write_per_mtok, m.input_per_mtok, 0) as cache_write_rate,
            coalesce(m.output_per_mtok, 0) as output_rate,
            coalesce(m.per_audio_second, 0) as audio_rate,
            coalesce(m.per_request, 0) as request_rate
        from llm.model_prices as m
        where (m.provider, m.model) in (
            select e.e ->> 'provider', e.e ->> 'model'
            from jsonb_array_elements(p_requests) as e (e)
        )
    )

    select
        (v.o - 1)::integer as idx,
        v.id,
        v.provider, v.model, coalesce(v.request_type, 'chat') as request_type,
        v.user_id as user_text, v.prompt_tokens, v.completion_tokens, v.cached_tokens,
        v.cost_usd, v.latency_ms, coalesce(v.success, true) as success, v.status_code,
        v.error_message, coalesce(v.cache_hit, false) as cache_hit, v.request_id,
        v.agent_id, coalesce(v.metadata, '{}'::jsonb) as metadata, v.cache_write_tokens,
        v.total_tokens, v.audio_seconds, v.time_to_first_token_ms, v.error_type,
        v.message_id, v.service, v.operation, v.request_body, v.response_body,
        v.reservation_id,
        coalesce(v.created_at, now()) as at,
        u.user_is_uuid,
        r.user_id, r.conversation_id,
        case when c.bad then 'b' else 'f' end as state,
        -- the formula of llm.log_request(), when the caller gave no cost (or a cache hit)
        case
            when p.provider is not null
                then trim_scale(
                    (
                        (
                            coalesce(v.prompt_tokens, 0) - coalesce(v.cached_tokens, 0)
                            - coalesce(v.cache_write_tokens, 0)
                        ) * p.input_rate
                        + coalesce(v.cached_tokens, 0) * p.cached_rate
                        + coalesce(v.cache_write_tokens, 0) * p.cache_write_rate
                        + coalesce(v.completion_tokens, 0) * p.output_rate
                    ) * 0.000001
                    + coalesce(v.audio_seconds, 0) * p.audio_rate
                    + p.request_rate
                )
        end as price
    from (
        -- ids are drawn as the items are read, so they ascend with the input order
        select x.*, nextval('llm.request_logs_id_seq') as id
        -- each item read once as the parameters' types (v) and once as JSON (j, to check the
        -- JSON types): a value that does not read as its type raises here
        from rows from (
            jsonb_array_elements(p_requests),
            jsonb_to_recordset(p_requests) as (
                provider text, model text, request_type text, user_id text, prompt_tokens integer,
                completion_tokens integer, cached_tokens integer, cost_usd numeric,
                latency_ms integer, success boolean, status_code integer, error_message text,
                cache_hit boolean, request_id text, conversation_id text, agent_id uuid,
                metadata jsonb, cache_write_tokens integer, total_tokens integer,
                audio_seconds numeric, time_to_first_token_ms integer, error_type text,
                message_id uuid, service text, operation text, request_body jsonb,
                response_body jsonb, created_at timestamptz, reservation_id uuid
            ),
            jsonb_to_recordset(p_requests) as (
                provider jsonb, model jsonb, request_type jsonb, user_id jsonb, prompt_tokens jsonb,
                completion_tokens jsonb, cached_tokens jsonb, cost_usd jsonb, latency_ms jsonb,
                success jsonb, status_code jsonb, error_message jsonb, cache_hit jsonb,
                request_id jsonb, conversation_id jsonb, agent_id jsonb, cache_write_tokens jsonb,
                total_tokens jsonb, audio_seconds jsonb, time_to_first_token_ms jsonb,
                error_type jsonb, message_id jsonb, service jsonb, operation jsonb,
                created_at jsonb, reservation_id jsonb
            )
        ) with ordinality as x (
            e, provider, model, request_type, user_id, prompt_tokens, completion_tokens,
            cached_tokens, cost_usd, latency_ms, success, status_code, error_message,
            cache_hit, request_id, conversation_id, agent_id, metadata, cache_write_tokens,
            total_tokens, audio_seconds, time_to_first_token_ms, error_type, message_id,
            service, operation, request_body, response_body, created_at, reservation_id,
            j_provider, j_model, j_request_type, j_user_id, j_prompt_tokens,
            j_completion_tokens, j_cached_tokens, j_cost_usd, j_latency_ms, j_success,
            j_status_code, j_error_message, j_cache_hit, j_request_id, j_conversation_id,
            j_agent_id, j_cache_write_tokens, j_total_tokens, j_audio_seconds,
            j_time_to_first_token_ms, j_error_type, j_message_id, j_service, j_operation,
            j_created_at, j_reservation_id, o
        )
        offset 0
    ) as v
    -- what llm.log_request_json() refuses before calling llm.log_request() and the read above
    -- let through: an unknown key, a value of the wrong JSON type for llm.request_field() (an
    -- integer read is a number without a fraction within int4), a UUID or a time spelled in
    -- a way it does not take
    cross join lateral (
        select
            v.e - array[
                'provider', 'model', 'request_type', 'user_id', 'prompt_tokens',
                'completion_tokens', 'cached_tokens', 'cost_usd', 'latency_ms', 'success',
                'status_code', 'error_message', 'cache_hit', 'request_id', 'conversation_id',
                'agent_id', 'metadata', 'cache_write_tokens', 'total_tokens', 'audio_seconds',
                'time_to_first_token_ms', 'error_type', 'message_id', 'service', 'operation',
                'request_body', 'response_body', 'created_at', 'reservation_id'
            ] = '{}'::jsonb
            and (v.j_provider is null or jsonb_typeof(v.j_provider) = 'string')
            and (v.j_model is null or jsonb_typeof(v.j_model) = 'string')
            and (v.j_request_type is null or jsonb_typeof(v.j_request_type) = 'string')
            and (v.j_user_id is null or jsonb_typeof(v.j_user_id) = 'string')
            and (v.j_error_message is null or jsonb_typeof(v.j_error_message) = 'string')
            and (v.j_request_id is null or jsonb_typeof(v.j_request_id) = 'string')
            and (v.j_conversation_id is null or jsonb_typeof(v.j_conversation_id) = 'string')
            and (v.j_error_type is null or jsonb_typeof(v.j_error_type) = 'string')
            and (v.j_service is null or jsonb_typeof(v.j_service) = 'string')
            and (v.j_operation is null or jsonb_typeof(v.j_operation) = 'string')
            and (v.j_cost_usd is null or jsonb_typeof(v.j_cost_usd) = 'number')
            and (v.j_audio_seconds is null or jsonb_typeof(v.j_audio_seconds) = 'number')
            and (v.j_prompt_tokens is null or jsonb_typeof(v.j_prompt_tokens) = 'number')
            and (v.j_completion_tokens is null or jsonb_typeof(v.j_completion_tokens) = 'number')
            and (v.j_cached_tokens is null or jsonb_typeof(v.j_cached_tokens) = 'number')
            and (v.j_cache_write_tokens is null or jsonb_typeof(v.j_cache_write_tokens) = 'number')
            and (v.j_total_tokens is null or jsonb_typeof(v.j_total_tokens) = 'number')
            and (v.j_latency_ms is null or jsonb_typeof(v.j_latency_ms) = 'number')
            and (v.j_time_to_first_token_ms is null or jsonb_typeof(v.j_time_to_first_token_ms) = 'number')
            and (v.j_status_code is null or jsonb_typeof(v.j_status_code) = 'number')
            and (v.j_success is null or jsonb_typeof(v.j_success) = 'boolean')
            and (v.j_cache_hit is null or jsonb_typeof(v.j_cache_hit) = 'boolean')
            and (
                v.agent_id is null
                or jsonb_typeof(v.j_agent_id) = 'string' and v.j_agent_id #>> '{}'
                ~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$'
            )
            and (
                v.message_id is null
                or jsonb_typeof(v.j_message_id) = 'string' and v.j_message_id #>> '{}'
                ~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$'
            )
            and (
                v.reservation_id is null
                or jsonb_typeof(v.j_reservation_id) = 'string' and v.j_reservation_id #>> '{}'
                ~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$'
            )
            and case
                when v.j_created_at is null then true
                when jsonb_typeof(v.j_created_at) <> 'string' then false
                -- an ISO 8601 time the cast surely reads; other spellings (and days 29
                -- to 31) are tried by the cast itself
                when v.j_created_at #>> '{}' ~ (
                        '^[12]\d{3}-(0[1-9]|1[0-2])-(0[1-9]|1\d|2[0-8])'
                        || '[T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?'
                        || '(Z|[+-](0\d|1[0-4])(:?[0-5]\d)?)?$'
                    )
                    then true
                else llm.is_request_time(v.j_created_at #>> '{}')
            end as well_formed
        offset 0
    ) as w
    -- a UUID in its canonical form: what llm.log_request() takes as is
    cross join lateral (
        select
            coalesce(
                octet_length(v.user_id) = 36
                and translate(v.user_id, '0123456789abcdefABCDEF', '') = '----'
                and substr(v.user_id, 9, 1) || substr(v.user_id, 14, 1)
                || substr(v.user_id, 19, 1) || substr(v.user_id, 24, 1) = '----',
                false
            ) as user_is_uuid,
            coalesce(
                octet_length(v.conversation_id) = 36
                and translate(v.conversation_id, '0123456789abcdefABCDEF', '') = '----'
                and substr(v.conversation_id, 9, 1) || substr(v.conversation_id, 14, 1)
                || substr(v.conversation_id, 19, 1) || substr(v.conversation_id, 24, 1)
                = '----',
                false
            ) as conversation_is_uuid
        offset 0
    ) as u
    cross join lateral (
        select
            -- llm.user_uuid(): a UUID as given, any other identifier its UUID v5 (DNS)
            case
                when v.user_id is null then null
                when u.user_is_uuid then v.user_id::uuid
                else (
                    select encode(
                        set_byte(
                            set_byte(
                                substring(d.h from 1 for 16), 6, (get_byte(d.h, 6) & 15) | 80
                            ),
                            8, (get_byte(d.h, 8) & 63) | 128
                        ),
                        'hex'
                    )::uuid
                    from (
                        select extensions.digest(
                            '\x6ba7b8109dad11d180b400c04fd430c8'::bytea
                            || convert_to(v.user_id, 'UTF8'),
                            'sha1'
                        ) as h
                        offset 0
                    ) as d
                )
            end as user_id,
            -- a conversation's UUID as given, a client id looked up (hidden ones included)
            case
                when v.conversation_id is null then null
                when u.conversation_is_uuid then v.conversation_id::uuid
                else (
                    select x.id from llm.conversations as x
                    where x.external_id = v.conversation_id
                )
            end as conversation_id
        offset 0
    ) as r
    -- bad: what llm.log_request() refuses (the error is llm.reject_request's), a blank user
    -- id, a blank, too long or unknown client conversation id
    cross join lateral (
        select
            not w.well_formed or coalesce(
                v.provider is null or btrim(v.provider, e' \t\r\n\f\v') = ''
                or v.model is null or btrim(v.model, e' \t\r\n\f\v') = ''
                or coalesce(v.request_type, 'chat') not in (
                    'chat', 'completion', 'embedding', 'transcription', 'speech', 'image',
                    'moderation', 'rerank', 'other'
                )
                -- characters are counted only where the bytes could be too many
                or (octet_length(v.provider) > 255 and length(v.provider) > 255)
                or (octet_length(v.model) > 255 and length(v.model) > 255)
                or least(
                    v.prompt_tokens, v.completion_tokens, v.cached_tokens,
                    v.cache_write_tokens, v.total_tokens, v.latency_ms,
                    v.time_to_first_token_ms
                ) < 0
                or coalesce(v.cached_tokens, 0)::bigint + coalesce(v.cache_write_tokens, 0)
                > coalesce(v.prompt_tokens, 0)
                or coalesce(v.prompt_tokens, 0)::bigint + coalesce(v.completion_tokens, 0)
                > 2147483647
                or not (v.cost_usd >= 0 and v.cost_usd < 'infinity'::numeric)
                or (v.cache_hit and v.cost_usd > 0)
                or not (v.audio_seconds >= 0 and v.audio_seconds < 'infinity'::numeric)
                or v.status_code not between 100 and 599
                or not (
                    v.created_at >= '2000-01-01 00:00:00+00'::timestamptz
                    and v.created_at <= now() + interval '1 day'
                )
                or btrim(v.request_id, e' \t\r\n\f\v') = ''
                or (octet_length(v.request_id) > 255 and length(v.request_id) > 255)
                or jsonb_typeof(coalesce(v.metadata, '{}'::jsonb)) is distinct from 'object'
                or (not u.user_is_uuid and v.user_id !~ '\S')
                or (
                    not u.conversation_is_uuid
                    and (
                        v.conversation_id !~ '\S'
                        or (octet_length(v.conversation_id) > 255 and length(v.conversation_id) > 255)
                    )
                )
                or (v.conversation_id is not null and r.conversation_id is null),
                false
            ) as bad
        offset 0
    ) as c
    left join prices as p
        on
            not c.bad
            and (v.cost_usd is null or v.cache_hit)
            and p.provider = v.provider
            and p.model = v.model
            and p.effective_from <= coalesce(v.created_at, now())
            and (p.effective_to is null or p.effective_to > coalesce(v.created_at, now()));
end;
$$;
comment on function llm.request_batch_read(jsonb) is
'The items of a JSON array of request objects, in input order, as llm.log_request_json() would pass them to llm.log_request(): state ''b'' for an item either refuses (an unknown key or a value of the wrong JSON type, invalid, a blank user id, a bad or unknown client conversation id) else ''f''; the typed values with their defaults; user_id and conversation_id resolved as llm.log_request() resolves them; the registry price at created_at (NULL when the caller gave the cost or no price is known); a new llm.request_logs id. Raises a data exception (class 22) when an element is not an object or a value does not read as its parameter''s type. Internal: called by llm.request_batch_items().';
