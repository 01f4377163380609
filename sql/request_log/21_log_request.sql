-- Logging one request: llm.log_request.

-- Resolves a conversation client id (conv-abc, as create_conversation hands out) for logging.
create or replace function llm.request_conversation_uuid(p_id text)
returns uuid
language plpgsql
stable
set search_path = ''
as $$
declare
    v_id uuid;
begin
    if p_id !~ '\S' or length(p_id) > 255 then
        raise exception 'conversation_id must be a UUID or a client id of 1 to 255 characters, got %',
            quote_literal(left(p_id, 300))
            using errcode = '22023';
    end if;
    if p_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
        return p_id::uuid;
    end if;
    -- hidden (expired or deleted) conversations still own their requests
    select c.id into v_id from llm.conversations as c where c.external_id = p_id;
    if not found then
        raise exception 'conversation_id % not found', quote_literal(p_id)
            using errcode = 'P0002', hint = 'pass the conversation''s UUID or the client id it was created with';
    end if;
    return v_id;
end;
$$;
comment on function llm.request_conversation_uuid(text) is
'The UUID of a conversation given by UUID or by client id, for the request log: a UUID is returned as is; a client id is looked up (P0002 when no conversation has it, 22023 when blank or longer than 255 characters). Internal: called by llm.log_request().';

-- Records one LLM request and its usage journal row: the hot path of the package, written
-- to evaluate few plpgsql expressions (each costs setup in every transaction).
create or replace function llm.log_request(
    provider text,
    model text,
    request_type text default 'chat',
    user_id text default null,
    prompt_tokens integer default 0,
    completion_tokens integer default 0,
    cached_tokens integer default 0,
    cost_usd numeric default null,
    latency_ms integer default null,
    success boolean default true,
    status_code integer default null,
    error_message text default null,
    cache_hit boolean default false,
    request_id text default null,
    conversation_id text default null,
    agent_id uuid default null,
    metadata jsonb default '{}',
    cache_write_tokens integer default 0,
    total_tokens integer default null,
    audio_seconds numeric default null,
    time_to_first_token_ms integer default null,
    error_type text default null,
    message_id uuid default null,
    service text default null,
    operation text default null,
    request_body jsonb default null,
    response_body jsonb default null,
    created_at timestamptz default null,
    reservation_id uuid default null
)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_user uuid;
    v_conversation uuid;
    v_id bigint;
    v_request_body jsonb;
    v_response_body jsonb;
    v_prior record;
    v_price numeric;
begin
    -- one expression decides whether anything is wrong; the branch says what
    if log_request.provider is null or btrim(log_request.provider, e' \t\r\n\f\v') = ''
        or log_request.model is null or btrim(log_request.model, e' \t\r\n\f\v') = ''
        or log_request.request_type is null
        or log_request.request_type not in (
            'chat', 'completion', 'embedding', 'transcription', 'speech', 'image', 'moderation',
            'rerank', 'other'
        )
        or log_request.success is null
        or length(log_request.provider) > 255 or length(log_request.model) > 255
        or least(
            log_request.prompt_tokens, log_request.completion_tokens, log_request.cached_tokens,
            log_request.cache_write_tokens, log_request.total_tokens, log_request.latency_ms,
            log_request.time_to_first_token_ms
        ) < 0
        or coalesce(log_request.cached_tokens, 0)::bigint + coalesce(log_request.cache_write_tokens, 0)
        > coalesce(log_request.prompt_tokens, 0)
        or coalesce(log_request.prompt_tokens, 0)::bigint + coalesce(log_request.completion_tokens, 0)
        > 2147483647
        or not (log_request.cost_usd >= 0 and log_request.cost_usd < 'infinity'::numeric)
        or (log_request.cache_hit and log_request.cost_usd > 0)
        or not (log_request.audio_seconds >= 0 and log_request.audio_seconds < 'infinity'::numeric)
        or log_request.status_code not between 100 and 599
        -- the documented window: 2000-01-01 UTC to one day ahead of the clock
        or not (
            log_request.created_at >= '2000-01-01 00:00:00+00'::timestamptz
            and log_request.created_at <= now() + interval '1 day'
        )
        or btrim(log_request.request_id, e' \t\r\n\f\v') = ''
        or length(log_request.request_id) > 255
        or jsonb_typeof(log_request.metadata) is distinct from 'object'
        then
        perform llm.reject_request(
            log_request.provider, log_request.model, log_request.request_type, log_request.success,
            log_request.prompt_tokens, log_request.completion_tokens, log_request.cached_tokens,
            log_request.cache_write_tokens, log_request.total_tokens, log_request.cost_usd,
            log_request.cache_hit, log_request.audio_seconds, log_request.latency_ms,
            log_request.time_to_first_token_ms, log_request.status_code, log_request.created_at,
            log_request.request_id, log_request.metadata
        );
    end if;

    -- the canonical UUID form is tested without a regular expression (it is cheaper)
    v_user := case
        when log_request.user_id is null then null
        when length(log_request.user_id) = 36
            and translate(log_request.user_id, '0123456789abcdefABCDEF', '') = '----'
            and substr(log_request.user_id, 9, 1) || substr(log_request.user_id, 14, 1)
            || substr(log_request.user_id, 19, 1) || substr(log_request.user_id, 24, 1) = '----'
            then log_request.user_id::uuid
        else llm_private.user_uuid(log_request.user_id)
    end;
    -- a conversation's UUID is stored as given; a client id (conv-abc) is resolved to its UUID
    v_conversation := case
        when log_request.conversation_id is null then null
        when length(log_request.conversation_id) = 36
            and translate(log_request.conversation_id, '0123456789abcdefABCDEF', '') = '----'
            and substr(log_request.conversation_id, 9, 1) || substr(log_request.conversation_id, 14, 1)
            || substr(log_request.conversation_id, 19, 1) || substr(log_request.conversation_id, 24, 1)
            = '----'
            then log_request.conversation_id::uuid
        else llm.request_conversation_uuid(log_request.conversation_id)
    end;

    if log_request.request_body is not null or log_request.response_body is not null then
        if llm_private.setting_text('request_log_store_bodies')::boolean then
            v_request_body := llm.capped_body(log_request.request_body);
            v_response_body := llm.capped_body(log_request.response_body);
        end if;
    end if;

    -- idempotency: the first writer of a request id wins, later ones get its row id (every
    -- call draws an id first: llm.record_completion tells a retry by it)
    if log_request.request_id is not null then
        v_id := nextval('llm.request_logs_id_seq');
        insert into llm.request_ids (request_id, request_log_id, user_id, created_at)
        values (
            log_request.request_id, v_id, v_user, coalesce(log_request.created_at, now())
        )
        on conflict do nothing;
        if not found then
            select r.request_log_id, r.user_id into v_prior
            from llm.request_ids as r
            where r.request_id = log_request.request_id;
            if v_prior.user_id is distinct from v_user then
                raise exception 'request_id % was already logged for another user',
                    quote_literal(log_request.request_id)
                    using errcode = '23505';
            end if;
            -- a retry: its usage is already logged by the first call, so the reservation it
            -- carries is settled with nothing more (else it would count until it expires)
            if log_request.reservation_id is not null then
                perform llm.settle_reservation(
                    log_request.reservation_id, v_user, v_prior.request_log_id, 0, 0
                );
            end if;
            return v_prior.request_log_id;
        end if;
    end if;

    -- price from the registry unless the caller gave the cost
    if log_request.cost_usd is null or log_request.cache_hit then
        -- the formula of llm.estimate_cost(), inlined: this is the hot path
        select trim_scale(
                (
                    (
                        coalesce(log_request.prompt_tokens, 0) - coalesce(log_request.cached_tokens, 0)
                        - coalesce(log_request.cache_write_tokens, 0)
                    ) * coalesce(p.input_per_mtok, 0)
                    + coalesce(log_request.cached_tokens, 0)
                    * coalesce(p.cached_input_per_mtok, p.input_per_mtok, 0)
                    + coalesce(log_request.cache_write_tokens, 0)
                    * coalesce(p.cache_write_per_mtok, p.input_per_mtok, 0)
                    + coalesce(log_request.completion_tokens, 0) * coalesce(p.output_per_mtok, 0)
                ) * 0.000001
                + coalesce(log_request.audio_seconds, 0) * coalesce(p.per_audio_second, 0)
                + coalesce(p.per_request, 0)
            )
        into v_price
        from llm.model_prices as p
        where p.provider = log_request.provider
            and p.model = log_request.model
            and p.effective_from <= coalesce(log_request.created_at, now())
            and (p.effective_to is null or p.effective_to > coalesce(log_request.created_at, now()));
    end if;

    v_id := coalesce(v_id, nextval('llm.request_logs_id_seq'));

    -- the request row and its journal row in one statement (the journal row settles the
    -- reservation it carries: llm.quota_escrow_on_usage)
    with logged as (
        insert into llm.request_logs (
            id, created_at, request_id, user_id, request_type, provider, model,
            conversation_id, message_id, agent_id, prompt_tokens, completion_tokens,
            cached_tokens, cache_write_tokens, tokens_total, audio_seconds, cost_usd,
            cost_source, saved_cost_usd, latency_ms, time_to_first_token_ms, success,
            status_code, error_type, error_message, cache_hit, service, operation, metadata,
            request_body, response_body, reservation_id
        )
        values (
            v_id, coalesce(log_request.created_at, now()), log_request.request_id, v_user,
            log_request.request_type::llm.request_type, log_request.provider, log_request.model,
            v_conversation, log_request.message_id, log_request.agent_id,
            coalesce(log_request.prompt_tokens, 0), coalesce(log_request.completion_tokens, 0),
            coalesce(log_request.cached_tokens, 0), coalesce(log_request.cache_write_tokens, 0),
            coalesce(
                log_request.total_tokens,
                coalesce(log_request.prompt_tokens, 0) + coalesce(log_request.completion_tokens, 0)
            ),
            log_request.audio_seconds,
            case when log_request.cache_hit then 0 else coalesce(log_request.cost_usd, v_price) end,
            case
                when log_request.cache_hit then 'cache_hit'
                when log_request.cost_usd is not null then 'caller'
                when v_price is not null then 'registry'
                else 'unpriced'
            end,
            case when log_request.cache_hit then v_price end,
            log_request.latency_ms, log_request.time_to_first_token_ms, log_request.success,
            log_request.status_code, log_request.error_type, log_request.error_message,
            coalesce(log_request.cache_hit, false), log_request.service, log_request.operation,
            log_request.metadata, v_request_body, v_response_body, log_request.reservation_id
        )
    )

    insert into llm.usage_journal (
        request_log_id, occurred_at, user_id, provider, model, request_type, requests,
        prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens, total_tokens,
        audio_seconds, cost_usd, success, cache_hit, saved_tokens, saved_cost_usd,
        conversation_id, agent_id, reservation_id
    )
    values (
        v_id, coalesce(log_request.created_at, now()), v_user, log_request.provider,
        log_request.model, log_request.request_type::llm.request_type, 1,
        case when log_request.cache_hit then 0 else coalesce(log_request.prompt_tokens, 0) end,
        case when log_request.cache_hit then 0 else coalesce(log_request.completion_tokens, 0) end,
        case when log_request.cache_hit then 0 else coalesce(log_request.cached_tokens, 0) end,
        case when log_request.cache_hit then 0 else coalesce(log_request.cache_write_tokens, 0) end,
        case when log_request.cache_hit then 0 else coalesce(
            log_request.total_tokens,
            coalesce(log_request.prompt_tokens, 0) + coalesce(log_request.completion_tokens, 0)
        ) end,
        log_request.audio_seconds,
        case when log_request.cache_hit then 0 else coalesce(log_request.cost_usd, v_price) end,
        log_request.success, coalesce(log_request.cache_hit, false),
        case when log_request.cache_hit then coalesce(
            log_request.total_tokens,
            coalesce(log_request.prompt_tokens, 0) + coalesce(log_request.completion_tokens, 0)
        ) else 0 end,
        case when log_request.cache_hit then v_price end,
        v_conversation, log_request.agent_id, log_request.reservation_id
    );

    return v_id;
end;
$$;
comment on function llm.log_request(
    text, text, text, text, integer, integer, integer, numeric, integer, boolean, integer, text,
    boolean, text, text, uuid, jsonb, integer, integer, numeric, integer, text, uuid, text, text,
    jsonb, jsonb, timestamptz, uuid
) is
'Logs one LLM request and returns its id. Only provider and model are required; created_at lies between 2000-01-01 UTC and one day after now(); provider, model and request_id are at most 255 characters; conversation_id is a conversation''s UUID or client id. Cost comes from cost_usd, else from llm.model_prices at created_at (NULL and listed by llm.unpriced_models() when unknown); a cache hit costs 0 and records what it saved. The same request_id returns the first row''s id and logs nothing more. reservation_id settles a quota reservation (available with usage metering), also on such a retry. Bad input raises 22004 (missing) or 22023 (invalid) and writes nothing. Service role only.';
grant execute on function llm.log_request(
    text, text, text, text, integer, integer, integer, numeric, integer, boolean, integer,
    text, boolean, text, text, uuid, jsonb, integer, integer, numeric, integer, text,
    uuid, text, text, jsonb, jsonb, timestamptz, uuid
) to service_role;
