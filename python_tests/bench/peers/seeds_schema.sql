-- Peer: the seeds' design, the hand-rolled Supabase schema this package replaces: a request
-- log in one unpartitioned table with an index per filter column (its llm_request_logs
-- migration), and usage counters, one row per user and day, upserted per request (its
-- user_usage_stats table and record_token_usage call).

create schema if not exists seeds;

-- The users the usage rows reference (user_profiles(user_id)).
create table if not exists seeds.user_profiles (
    user_id text primary key,
    created_at timestamptz default now()
);

-- llm_request_logs: tokens, cost, latency, success, three request types, raw JSON payloads.
create table if not exists seeds.llm_request_logs (
    id uuid primary key default gen_random_uuid(),
    created_at timestamptz not null default now(),
    user_id text,
    request_type text not null check (request_type in ('chat', 'embedding', 'transcription')),
    provider text not null,
    model text not null,
    prompt_tokens integer default 0,
    completion_tokens integer default 0,
    tokens_total integer default 0,
    cost_usd numeric(12, 6) default 0,
    latency_ms integer,
    success boolean not null default true,
    error_message text,
    metadata jsonb default '{}',
    request_data jsonb,
    response_data jsonb
);
create index if not exists idx_llm_request_logs_created_at on seeds.llm_request_logs (created_at);
create index if not exists idx_llm_request_logs_user_id on seeds.llm_request_logs (user_id);
create index if not exists idx_llm_request_logs_request_type on seeds.llm_request_logs (request_type);
create index if not exists idx_llm_request_logs_model on seeds.llm_request_logs (model);
create index if not exists idx_llm_request_logs_success on seeds.llm_request_logs (success);
create index if not exists idx_llm_request_logs_user_created
on seeds.llm_request_logs (user_id, created_at);
alter table seeds.llm_request_logs enable row level security;
create policy "Service role manages request logs" on seeds.llm_request_logs
for all to service_role using (true) with check (true);

-- user_usage_stats, with its unique key and indexes.
create table if not exists seeds.user_usage_stats (
    id uuid primary key default gen_random_uuid(),
    user_id text not null references seeds.user_profiles (user_id),
    period_start date not null,
    period_end date not null,
    tokens_consumed bigint default 0,
    requests_count integer default 0,
    quota_limit bigint,
    created_at timestamptz default now(),
    updated_at timestamptz default now(),
    metadata jsonb,
    unique (user_id, period_start)
);
create index if not exists idx_usage_stats_user_id on seeds.user_usage_stats (user_id);
create index if not exists idx_usage_stats_period_start on seeds.user_usage_stats (period_start desc);

-- The benchmark writes through the PostgREST-style wrapper, as the service role.
grant usage on schema seeds to service_role;
grant select, insert, update on all tables in schema seeds to service_role;
