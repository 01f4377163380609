-- Peer: LiteLLM's batched flush of 100 requests, in one transaction: their spend log rows
-- (create_many, skipping duplicates) and one upsert of their users' daily totals, summed per
-- key and sent in key order, as its bulk upsert does (so concurrent flushes lock rows in one
-- order). pgbench variables: the batch's users are :u + 1 to :u + 100, modulo :users.

insert into litellm."LiteLLM_SpendLogs" (
    request_id, call_type, api_key, spend, total_tokens, prompt_tokens, completion_tokens,
    "startTime", "endTime", request_duration_ms, "completionStartTime", model, model_id,
    model_group, custom_llm_provider, api_base, "user", metadata, cache_hit, cache_key,  -- noqa: RF06
    request_tags, end_user, messages, response, session_id, status, proxy_server_request
)
select
    gen_random_uuid()::text as request_id,
    'acompletion' as call_type,
    lpad(((:u + g) % :users + 1)::text, 64, '0') as api_key,
    0.00036 as spend,
    1500 as total_tokens,
    1200 as prompt_tokens,
    300 as completion_tokens,
    localtimestamp - interval '850 milliseconds' as start_time,
    localtimestamp as end_time,
    850 as request_duration_ms,
    localtimestamp - interval '600 milliseconds' as completion_start_time,
    'gpt-4o-mini' as model,
    '' as model_id,
    'gpt-4o-mini' as model_group,
    'openai' as custom_llm_provider,
    'https://llm.example/v1' as api_base,
    '00000000-0000-4000-8000-' || lpad(((:u + g) % :users + 1)::text, 12, '0') as user_id,
    '{"feature": "chat"}'::jsonb as metadata,
    'False' as cache_hit,
    '' as cache_key,
    '[]'::jsonb as request_tags,
    '' as end_user,
    '{}'::jsonb as messages,
    '{}'::jsonb as response,
    gen_random_uuid()::text as session_id,
    'success' as status,
    '{}'::jsonb as proxy_server_request
from generate_series(1, 100) as g
on conflict do nothing;

insert into litellm."LiteLLM_DailyUserSpend" as d (
    id, user_id, date, api_key, model, model_group, custom_llm_provider,
    mcp_namespaced_tool_name, endpoint, prompt_tokens, completion_tokens,
    cache_read_input_tokens, cache_creation_input_tokens, spend, api_requests,
    successful_requests, failed_requests, updated_at
)
select
    gen_random_uuid()::text as id,
    '00000000-0000-4000-8000-' || lpad(b.u::text, 12, '0') as user_id,
    to_char(localtimestamp, 'YYYY-MM-DD') as date,
    lpad(b.u::text, 64, '0') as api_key,
    'gpt-4o-mini' as model,
    'gpt-4o-mini' as model_group,
    'openai' as custom_llm_provider,
    '' as mcp_namespaced_tool_name,
    '' as endpoint,
    sum(b.prompt_tokens) as prompt_tokens,
    sum(b.completion_tokens) as completion_tokens,
    sum(b.cached_tokens) as cache_read_input_tokens,
    0 as cache_creation_input_tokens,
    sum(b.spend) as spend,
    count(*) as api_requests,
    count(*) as successful_requests,
    0 as failed_requests,
    localtimestamp as updated_at
from (
    select
        (:u + g) % :users + 1 as u,
        1200 as prompt_tokens,
        300 as completion_tokens,
        200 as cached_tokens,
        0.00036 as spend
    from generate_series(1, 100) as g
) as b
group by b.u
order by b.u
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
