-- Peer: LiteLLM's spend tables, as its schema.prisma declares them (Prisma's column types:
-- String text, Int integer, BigInt bigint, Float double precision, DateTime timestamp(3),
-- Json jsonb), with their indexes. Unpartitioned, as the schema creates them.

create schema if not exists litellm;

-- One row per request (model LiteLLM_SpendLogs).
create table if not exists litellm."LiteLLM_SpendLogs" (
    request_id text not null,
    call_type text not null,
    api_key text not null default '',
    spend double precision not null default 0.0,
    total_tokens integer not null default 0,
    prompt_tokens integer not null default 0,
    completion_tokens integer not null default 0,
    "startTime" timestamp(3) not null,
    "endTime" timestamp(3) not null,
    request_duration_ms integer,
    "completionStartTime" timestamp(3),
    model text not null default '',
    model_id text default '',
    model_group text default '',
    custom_llm_provider text default '',
    api_base text default '',
    -- a reserved word: it needs its quotes, whatever RF06 says
    "user" text default '',  -- noqa: RF06
    metadata jsonb default '{}',
    cache_hit text default '',
    cache_key text default '',
    request_tags jsonb default '[]',
    team_id text,
    organization_id text,
    end_user text,
    requester_ip_address text,
    messages jsonb default '{}',
    response jsonb default '{}',
    session_id text,
    status text,
    mcp_namespaced_tool_name text,
    agent_id text,
    proxy_server_request jsonb default '{}',
    constraint "LiteLLM_SpendLogs_pkey" primary key (request_id)
);
create index if not exists "LiteLLM_SpendLogs_startTime_idx"
on litellm."LiteLLM_SpendLogs" ("startTime");
create index if not exists "LiteLLM_SpendLogs_startTime_request_id_idx"
on litellm."LiteLLM_SpendLogs" ("startTime", request_id);
create index if not exists "LiteLLM_SpendLogs_end_user_idx"
on litellm."LiteLLM_SpendLogs" (end_user);
create index if not exists "LiteLLM_SpendLogs_session_id_idx"
on litellm."LiteLLM_SpendLogs" (session_id);

-- Daily totals per user, key, model and provider (model LiteLLM_DailyUserSpend).
create table if not exists litellm."LiteLLM_DailyUserSpend" (
    id text not null,
    user_id text,
    date text not null,
    api_key text not null,
    model text,
    model_group text,
    custom_llm_provider text,
    mcp_namespaced_tool_name text,
    endpoint text,
    prompt_tokens bigint not null default 0,
    completion_tokens bigint not null default 0,
    cache_read_input_tokens bigint not null default 0,
    cache_creation_input_tokens bigint not null default 0,
    spend double precision not null default 0.0,
    api_requests bigint not null default 0,
    successful_requests bigint not null default 0,
    failed_requests bigint not null default 0,
    created_at timestamp(3) not null default current_timestamp,
    updated_at timestamp(3) not null,
    constraint "LiteLLM_DailyUserSpend_pkey" primary key (id)
);
create unique index if not exists "LiteLLM_DailyUserSpend_user_id_date_api_key_model_custom_ll_key"
on litellm."LiteLLM_DailyUserSpend" (
    user_id, date, api_key, model, custom_llm_provider, mcp_namespaced_tool_name, endpoint
);
create index if not exists "LiteLLM_DailyUserSpend_date_idx"
on litellm."LiteLLM_DailyUserSpend" (date);
create index if not exists "LiteLLM_DailyUserSpend_user_id_date_idx"
on litellm."LiteLLM_DailyUserSpend" (user_id, date);
create index if not exists "LiteLLM_DailyUserSpend_api_key_idx"
on litellm."LiteLLM_DailyUserSpend" (api_key);
create index if not exists "LiteLLM_DailyUserSpend_model_idx"
on litellm."LiteLLM_DailyUserSpend" (model);
create index if not exists "LiteLLM_DailyUserSpend_mcp_namespaced_tool_name_idx"
on litellm."LiteLLM_DailyUserSpend" (mcp_namespaced_tool_name);
create index if not exists "LiteLLM_DailyUserSpend_endpoint_idx"
on litellm."LiteLLM_DailyUserSpend" (endpoint);

-- The benchmark writes through the PostgREST-style wrapper, as the service role.
grant usage on schema litellm to service_role;
grant select, insert, update on all tables in schema litellm to service_role;
