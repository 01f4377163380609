-- Recording usage the seed's way: llm.record_token_usage.

-- Seed API: records tokens consumed by one request, through the request log.
create or replace function llm.record_token_usage(
    user_id text,
    tokens_consumed integer,
    provider text,
    model text,
    request_metadata jsonb default '{}'
)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_user uuid := llm.resolve_user(record_token_usage.user_id, false);
    v_meta jsonb := llm.check_metadata(record_token_usage.request_metadata, 'request_metadata');
    v_prompt integer;
    v_completion integer;
    v_endpoint text;
begin
    if record_token_usage.tokens_consumed is null then
        raise exception 'tokens_consumed is required' using errcode = '22004';
    end if;
    if record_token_usage.tokens_consumed < 0 then
        raise exception 'tokens_consumed must be >= 0, got %', record_token_usage.tokens_consumed
            using errcode = '22023';
    end if;
    v_prompt := llm.request_field(v_meta, 'prompt_tokens', 'integer')::integer;
    v_completion := llm.request_field(v_meta, 'completion_tokens', 'integer')::integer;
    v_endpoint := llm.request_field(v_meta, 'endpoint', 'text');
    -- tokens not broken down count as completion tokens
    v_prompt := coalesce(v_prompt, greatest(record_token_usage.tokens_consumed - v_completion, 0), 0);
    v_completion := coalesce(v_completion, greatest(record_token_usage.tokens_consumed - v_prompt, 0));
    if v_prompt + v_completion > record_token_usage.tokens_consumed then
        raise exception 'request_metadata prompt_tokens + completion_tokens (%) exceed tokens_consumed (%)',
            v_prompt + v_completion, record_token_usage.tokens_consumed
            using errcode = '22023';
    end if;
    perform llm.log_request(
        provider => record_token_usage.provider,
        model => record_token_usage.model,
        request_type => case
            when v_endpoint ~* 'chat' then 'chat'
            when v_endpoint ~* 'embedding' then 'embedding'
            when v_endpoint ~* 'transcription' then 'transcription'
            when v_endpoint ~* 'speech' then 'speech'
            when v_endpoint ~* 'image' then 'image'
            when v_endpoint ~* 'moderation' then 'moderation'
            when v_endpoint ~* 'rerank' then 'rerank'
            when v_endpoint ~* 'completion' then 'completion'
            when v_endpoint is null then 'chat'
            else 'other'
        end,
        user_id => v_user::text,
        prompt_tokens => v_prompt,
        completion_tokens => v_completion,
        cached_tokens => coalesce(llm.request_field(v_meta, 'cached_tokens', 'integer')::integer, 0),
        total_tokens => record_token_usage.tokens_consumed,
        cost_usd => llm.request_field(v_meta, 'cost_usd', 'number')::numeric,
        request_id => llm.request_field(v_meta, 'request_id', 'text'),
        conversation_id => llm.request_field(v_meta, 'conversation_id', 'text'),
        agent_id => llm.request_field(v_meta, 'agent_id', 'uuid')::uuid,
        reservation_id => llm.request_field(v_meta, 'reservation_id', 'uuid')::uuid,
        operation => v_endpoint,
        metadata => v_meta
    );
    return true;
end;
$$;
comment on function llm.record_token_usage(text, integer, text, text, jsonb) is
'Records tokens consumed by one request as a logged request (llm.log_request) and returns true. request_metadata may carry prompt_tokens, completion_tokens (tokens not broken down count as completion), endpoint (sets request_type: chat/completions is chat, embeddings is embedding, ...), cached_tokens, cost_usd, request_id (idempotency), conversation_id, agent_id and reservation_id. Bad input raises 22004/22023 and records nothing. Service role only.';
grant execute on function llm.record_token_usage(text, integer, text, text, jsonb) to service_role;
