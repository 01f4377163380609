-- Logging from JSON and in batches.

-- Raises an item's error again with the item named before its message (requests[2]: ...),
-- keeping its SQLSTATE and hint: the batch functions report the item that failed this way.
create or replace function llm_private.raise_item_error(
    p_item text, p_sqlstate text, p_message text, p_hint text
)
returns void
language plpgsql
set search_path = ''
as $$
begin
    if coalesce(p_hint, '') = '' then
        raise exception '%: %', p_item, p_message using errcode = p_sqlstate;
    end if;
    raise exception '%: %', p_item, p_message using errcode = p_sqlstate, hint = p_hint;
end;
$$;
comment on function llm_private.raise_item_error(text, text, text, text) is
'Raises p_message prefixed with the item it concerns (p_item, as requests[2]), with SQLSTATE p_sqlstate and hint p_hint (none when empty). Internal: called by llm.log_request_batch() and llm.record_completions().';
grant execute on function llm_private.raise_item_error(text, text, text, text) to service_role;

-- Logs one request given as a JSON object with the parameter names of llm.log_request().
create or replace function llm.log_request_json(p_request jsonb)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_unknown text;
begin
    if jsonb_typeof(p_request) is distinct from 'object' then
        raise exception 'a request must be a JSON object, got %', coalesce(p_request::text, 'NULL')
            using errcode = '22023';
    end if;
    select string_agg(k, ', ' order by k) into v_unknown
    from jsonb_object_keys(p_request) as k
    where k not in (
        'provider', 'model', 'request_type', 'user_id', 'prompt_tokens', 'completion_tokens',
        'cached_tokens', 'cost_usd', 'latency_ms', 'success', 'status_code', 'error_message',
        'cache_hit', 'request_id', 'conversation_id', 'agent_id', 'metadata',
        'cache_write_tokens', 'total_tokens', 'audio_seconds', 'time_to_first_token_ms',
        'error_type', 'message_id', 'service', 'operation', 'request_body', 'response_body',
        'created_at', 'reservation_id'
    );
    if v_unknown is not null then
        raise exception 'unknown request field(s): %', v_unknown using errcode = '22023';
    end if;
    return llm.log_request(
        provider => llm.request_field(p_request, 'provider', 'text'),
        model => llm.request_field(p_request, 'model', 'text'),
        request_type => coalesce(llm.request_field(p_request, 'request_type', 'text'), 'chat'),
        user_id => llm.request_field(p_request, 'user_id', 'text'),
        prompt_tokens => llm.request_field(p_request, 'prompt_tokens', 'integer')::integer,
        completion_tokens => llm.request_field(p_request, 'completion_tokens', 'integer')::integer,
        cached_tokens => llm.request_field(p_request, 'cached_tokens', 'integer')::integer,
        cost_usd => llm.request_field(p_request, 'cost_usd', 'number')::numeric,
        latency_ms => llm.request_field(p_request, 'latency_ms', 'integer')::integer,
        success => coalesce(llm.request_field(p_request, 'success', 'boolean')::boolean, true),
        status_code => llm.request_field(p_request, 'status_code', 'integer')::integer,
        error_message => llm.request_field(p_request, 'error_message', 'text'),
        cache_hit => coalesce(llm.request_field(p_request, 'cache_hit', 'boolean')::boolean, false),
        request_id => llm.request_field(p_request, 'request_id', 'text'),
        conversation_id => llm.request_field(p_request, 'conversation_id', 'text'),
        agent_id => llm.request_field(p_request, 'agent_id', 'uuid')::uuid,
        metadata => coalesce(nullif(p_request -> 'metadata', 'null'), '{}'),
        cache_write_tokens => llm.request_field(p_request, 'cache_write_tokens', 'integer')::integer,
        total_tokens => llm.request_field(p_request, 'total_tokens', 'integer')::integer,
        audio_seconds => llm.request_field(p_request, 'audio_seconds', 'number')::numeric,
        time_to_first_token_ms => llm.request_field(
            p_request, 'time_to_first_token_ms', 'integer'
        )::integer,
        error_type => llm.request_field(p_request, 'error_type', 'text'),
        message_id => llm.request_field(p_request, 'message_id', 'uuid')::uuid,
        service => llm.request_field(p_request, 'service', 'text'),
        operation => llm.request_field(p_request, 'operation', 'text'),
        request_body => nullif(p_request -> 'request_body', 'null'),
        response_body => nullif(p_request -> 'response_body', 'null'),
        created_at => llm.request_field(p_request, 'created_at', 'time')::timestamptz,
        reservation_id => llm.request_field(p_request, 'reservation_id', 'uuid')::uuid
    );
end;
$$;
comment on function llm.log_request_json(jsonb) is
'llm.log_request() for one JSON object whose keys are its parameter names; unknown keys and wrongly typed values raise 22023 naming the field.';

-- Logs a batch in one call: all or nothing, so a bad item never half-logs a batch.
create or replace function llm.log_requests(requests jsonb)
returns bigint[]
language plpgsql
security definer
set search_path = ''
as $$
begin
    if jsonb_typeof(log_requests.requests) is distinct from 'array' then
        raise exception 'requests must be a JSON array of request objects, got %',
            coalesce(jsonb_typeof(log_requests.requests), 'NULL')
            using errcode = '22023';
    end if;
    return (llm.log_request_batch(log_requests.requests, false)).ids;
end;
$$;
comment on function llm.log_requests(jsonb) is
'Logs a JSON array of requests (keys as the parameters of llm.log_request) in one transaction and returns their ids in order. A bad item raises its error prefixed with requests[i] (0-based) and nothing is logged. Service role only.';
grant execute on function llm.log_requests(jsonb) to service_role;

-- Logs what it can and dead-letters the rest, so logging never breaks the caller nor loses data.
create or replace function llm.try_log_requests(requests jsonb)
returns table (item integer, id bigint, reject_id bigint, sqlstate text, error text)
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_item jsonb;
    v_position integer;
begin
    if jsonb_typeof(try_log_requests.requests) = 'object' then
        try_log_requests.requests := jsonb_build_array(try_log_requests.requests);
    end if;
    if jsonb_typeof(try_log_requests.requests) is distinct from 'array' then
        item := 0;
        id := null;
        sqlstate := '22023';
        error := 'requests must be a JSON object or an array of them, got '
            || coalesce(jsonb_typeof(try_log_requests.requests), 'NULL');
        insert into llm.request_log_rejects as r (payload, sqlstate, error)
        values (try_log_requests.requests, try_log_requests.sqlstate, try_log_requests.error)
        returning r.id into try_log_requests.reject_id;
        return next;
        return;
    end if;
    begin
        return query
        select (x.o - 1)::integer, x.id, b.reject_ids[x.o], b.sqlstates[x.o], b.errors[x.o]
        from llm.log_request_batch(try_log_requests.requests, true) as b
        cross join lateral unnest(b.ids) with ordinality as x (id, o)
        order by x.o;
        return;
    exception when others then
        -- the batch failed as a whole (a deadlock, a lock timeout...): item by item, so that
        -- only the items that fail on their own are dead-lettered
        null;
    end;
    for v_item, v_position in
        select e, (o - 1)::integer
        from jsonb_array_elements(try_log_requests.requests) with ordinality as a (e, o)
    loop
        item := v_position;
        id := null;
        reject_id := null;
        sqlstate := null;
        error := null;
        begin
            id := llm.log_request_json(v_item);
        exception when others then
            get stacked diagnostics
                try_log_requests.sqlstate = returned_sqlstate,
                try_log_requests.error = message_text;
            insert into llm.request_log_rejects as r (payload, sqlstate, error)
            values (v_item, try_log_requests.sqlstate, try_log_requests.error)
            returning r.id into try_log_requests.reject_id;
        end;
        return next;
    end loop;
end;
$$;
comment on function llm.try_log_requests(jsonb) is
'Never-raising logging of one JSON request object or an array of them: the items are logged together, each one that cannot be logged is stored in llm.request_log_rejects with its SQLSTATE and error (the others are logged all the same). Returns one row per item (0-based): its id, or its reject_id, sqlstate and error. Service role only.';
grant execute on function llm.try_log_requests(jsonb) to service_role;
