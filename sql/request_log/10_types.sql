-- The kinds of request the log records.

do $$
begin
    if to_regtype('llm.request_type') is null then
        create type llm.request_type as enum (
            'chat', 'completion', 'embedding', 'transcription', 'speech', 'image',
            'moderation', 'rerank', 'other'
        );
    end if;
end
$$;
comment on type llm.request_type is
'Kind of LLM call: chat, completion, embedding, transcription, speech, image, moderation, rerank, other.';

-- One item of a batch as llm.request_batch_read() returns it (see there).
do $$
begin
    if to_regtype('llm.request_batch_item') is null then
        create type llm.request_batch_item as (
            idx integer, id bigint, provider text, model text, request_type text, user_text text,
            prompt_tokens integer, completion_tokens integer, cached_tokens integer,
            cost_usd numeric, latency_ms integer, success boolean, status_code integer,
            error_message text, cache_hit boolean, request_id text, agent_id uuid, metadata jsonb,
            cache_write_tokens integer, total_tokens integer, audio_seconds numeric,
            time_to_first_token_ms integer, error_type text, message_id uuid, service text,
            operation text, request_body jsonb, response_body jsonb, reservation_id uuid,
            at timestamptz, user_is_uuid boolean, user_id uuid, conversation_id uuid, state text,
            price numeric
        );
    end if;
end
$$;
comment on type llm.request_batch_item is
'An item of a batch of requests, read, checked, resolved and priced (llm.request_batch_read). Internal.';
