-- One atomic chat turn: message, logged request and settled reservation.

-- Stores the assistant message, logs its request and settles its reservation in one
-- transaction, so a turn is never saved without its usage nor billed without its message.
create or replace function llm.record_completion(
    conversation_id text,
    content text,
    provider text,
    model text,
    prompt_tokens integer default 0,
    completion_tokens integer default 0,
    reservation_id uuid default null,
    request_id text default null,
    user_id text default null,
    cached_tokens integer default 0,
    total_tokens integer default null,
    cost_usd numeric default null,
    latency_ms integer default null,
    agent_id uuid default null,
    metadata jsonb default null,
    request_metadata jsonb default '{}',
    out message_id uuid,
    out request_log_id bigint
)
language plpgsql
security definer
set search_path = ''
as $$
declare
    -- locks the conversation: concurrent turns of one conversation append one after another
    v_conv llm.conversations := llm.find_conversation(
        record_completion.conversation_id, 'conversation_id', record_completion.user_id, true
    );
    v_msg llm.messages;
    v_logged_in uuid;
begin
    -- a retried turn (same request_id) returns what the first one stored
    if record_completion.request_id is not null then
        select r.request_log_id, l.message_id, l.conversation_id
        into request_log_id, message_id, v_logged_in
        from llm.request_ids as r
        left join llm.request_logs as l on l.id = r.request_log_id and l.created_at = r.created_at
        where r.request_id = record_completion.request_id;
        if found then
            if message_id is null or v_logged_in is distinct from v_conv.id then
                raise exception 'request_id % was already logged for another turn',
                    quote_literal(record_completion.request_id)
                    using errcode = '23505';
            end if;
            -- its usage is logged already: the retry's reservation is settled with nothing more
            if record_completion.reservation_id is not null then
                perform llm.settle_reservation(
                    record_completion.reservation_id, v_conv.user_id, request_log_id, 0, 0
                );
            end if;
            return;
        end if;
    end if;
    v_msg := llm.insert_message(
        v_conv.id, false, null, 'assistant', record_completion.content, record_completion.metadata,
        record_completion.model, record_completion.total_tokens, record_completion.prompt_tokens,
        record_completion.completion_tokens
    );
    message_id := v_msg.id;
    request_log_id := llm.log_request(
        provider => record_completion.provider,
        model => record_completion.model,
        user_id => v_conv.user_id::text,
        prompt_tokens => record_completion.prompt_tokens,
        completion_tokens => record_completion.completion_tokens,
        cached_tokens => record_completion.cached_tokens,
        total_tokens => record_completion.total_tokens,
        cost_usd => record_completion.cost_usd,
        latency_ms => record_completion.latency_ms,
        request_id => record_completion.request_id,
        conversation_id => v_conv.id::text,
        message_id => v_msg.id,
        agent_id => record_completion.agent_id,
        metadata => record_completion.request_metadata,
        reservation_id => record_completion.reservation_id
    );
    -- log_request draws a new id for every call and returns another row's id only when the
    -- request_id was logged meanwhile by someone else (a concurrent turn or log_request):
    -- then this message would have no usage of its own, so the whole turn is refused
    if request_log_id <> currval('llm.request_logs_id_seq') then
        raise exception 'request_id % was already logged for another turn',
            quote_literal(record_completion.request_id)
            using errcode = '23505';
    end if;
end;
$$;
comment on function llm.record_completion(
    text, text, text, text, integer, integer, uuid, text, text, integer, integer, numeric, integer,
    uuid, jsonb, jsonb
) is
'One atomic chat turn: appends the assistant message (content, model, tokens, metadata) to the conversation''s active branch, logs the request for the conversation''s owner (llm.log_request, with message_id and conversation_id) and settles reservation_id, all in one transaction; any error stores nothing. Returns message_id and request_log_id; a retry with the same request_id returns the first turn''s ids, stores nothing and settles the retry''s reservation_id. Unknown or not-owned conversations raise P0002 (user_id, when given, must be the owner). Service role only.';
grant execute on function llm.record_completion(
    text, text, text, text, integer, integer, uuid, text, text, integer, integer, numeric,
    integer, uuid, jsonb, jsonb
) to service_role;
