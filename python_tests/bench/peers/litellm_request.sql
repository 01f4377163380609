-- Peer: LiteLLM's write for one request, in one transaction: its spend log row and the upsert
-- of its user's daily totals. pgbench variable :u is the user (1 to :users); text columns
-- of the upsert's key are '' rather than NULL, as LiteLLM writes them (a NULL never
-- conflicts, so it would insert a row per request).

insert into litellm."LiteLLM_SpendLogs" (
    request_id, call_type, api_key, spend, total_tokens, prompt_tokens, completion_tokens,
    "startTime", "endTime", request_duration_ms, "completionStartTime", model, model_id,
    model_group, custom_llm_provider, api_base, "user", metadata, cache_hit, cache_key,  -- noqa: RF06
    request_tags, end_user, messages, response, session_id, status, proxy_server_request
)
values (
    gen_random_uuid()::text, 'acompletion', lpad(:u::text, 64, '0'), 0.00036, 1500, 1200, 300,
    localtimestamp - interval '850 milliseconds', localtimestamp, 850,
    localtimestamp - interval '600 milliseconds', 'gpt-4o-mini', '', 'gpt-4o-mini', 'openai',
    'https://llm.example/v1', '00000000-0000-4000-8000-' || lpad(:u::text, 12, '0'),
    '{"feature": "chat"}', 'False', '', '[]', '', '{}', '{}', gen_random_uuid()::text,
    'success', '{}'
);

insert into litellm."LiteLLM_DailyUserSpend" as d (
    id, user_id, date, api_key, model, model_group, custom_llm_provider,
    mcp_namespaced_tool_name, endpoint, prompt_tokens, completion_tokens,
    cache_read_input_tokens, cache_creation_input_tokens, spend, api_requests,
    successful_requests, failed_requests, updated_at
)
values (
    gen_random_uuid()::text, '00000000-0000-4000-8000-' || lpad(:u::text, 12, '0'),
    to_char(localtimestamp, 'YYYY-MM-DD'), lpad(:u::text, 64, '0'), 'gpt-4o-mini',
    'gpt-4o-mini', 'openai', '', '', 1200, 300, 200, 0, 0.00036, 1, 1, 0, localtimestamp
)
on conflict (
    user_id, date, api_key, model, custom_llm_provider, mcp_namespaced_tool_name, endpoint
) do update
    set prompt_tokens = d.prompt_tokens + excluded.prompt_tokens,
        completion_tokens = d.completion_tokens + excluded.completion_tokens,
        cache_read_input_tokens = d.cache_read_input_tokens + excluded.cache_read_input_tokens,
        cache_creation_input_tokens
        = d.cache_creation_input_tokens + excluded.cache_creation_input_tokens,
        spend = d.spend + excluded.spend,
        api_requests = d.api_requests + excluded.api_requests,
        successful_requests = d.successful_requests + excluded.successful_requests,
        failed_requests = d.failed_requests + excluded.failed_requests,
        updated_at = excluded.updated_at;
