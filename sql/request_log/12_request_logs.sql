-- The request log, partitioned by day, and its default partition.

create sequence if not exists llm.request_logs_id_seq as bigint;
comment on sequence llm.request_logs_id_seq is 'Ids of llm.request_logs rows.';
revoke all on sequence llm.request_logs_id_seq from anon, authenticated, service_role;

create table if not exists llm.request_logs (
    id bigint not null default nextval('llm.request_logs_id_seq'),
    created_at timestamptz not null default now(),
    request_id text,
    user_id uuid,
    request_type llm.request_type not null default 'chat',
    provider text not null,
    model text not null,
    conversation_id uuid,
    message_id uuid,
    agent_id uuid,
    prompt_tokens integer not null default 0,
    completion_tokens integer not null default 0,
    cached_tokens integer not null default 0,
    cache_write_tokens integer not null default 0,
    tokens_total integer not null default 0,
    audio_seconds numeric,
    cost_usd numeric,
    cost_source text not null default 'registry',
    saved_cost_usd numeric,
    latency_ms integer,
    time_to_first_token_ms integer,
    success boolean not null default true,
    status_code integer,
    error_type text,
    error_message text,
    cache_hit boolean not null default false,
    service text,
    operation text,
    metadata jsonb not null default '{}',
    request_body jsonb,
    response_body jsonb,
    reservation_id uuid,
    constraint request_logs_pkey primary key (id, created_at)
) partition by range (created_at);
alter sequence llm.request_logs_id_seq owned by llm.request_logs.id;
comment on table llm.request_logs is
'One row per LLM request, partitioned by UTC day of created_at (partitions llm_private.request_logs_pYYYYMMDD, plus llm_private.request_logs_default for days without one). Written only through llm.log_request(), which validates every value (the table has no CHECK constraints: they cost more per insert than the rest of the row).';
comment on column llm.request_logs.request_id is
'Client-supplied id (e.g. the provider''s response id); the same id is stored once (llm.request_ids).';
comment on column llm.request_logs.user_id is
'llm.user_uuid() of the user the request was made for; NULL for requests of no user.';
comment on column llm.request_logs.agent_id is 'Agent that made the call (sender_agent_id).';
comment on column llm.request_logs.prompt_tokens is
'All input tokens, cache reads and cache writes included (OpenAI usage.prompt_tokens).';
comment on column llm.request_logs.cached_tokens is 'Input tokens read from the provider cache.';
comment on column llm.request_logs.cache_write_tokens is 'Input tokens written to the provider cache.';
comment on column llm.request_logs.tokens_total is
'Total tokens as reported, else prompt_tokens + completion_tokens.';
comment on column llm.request_logs.audio_seconds is 'Seconds of audio (transcription, speech).';
comment on column llm.request_logs.cost_usd is
'Cost in USD: given by the caller, else priced from llm.model_prices; 0 for a cache hit; NULL when no price is known.';
comment on column llm.request_logs.cost_source is
'Where cost_usd came from: registry, caller, cache_hit (0) or unpriced (NULL cost).';
comment on column llm.request_logs.saved_cost_usd is
'For a cache hit: what the call would have cost at the registry price.';
comment on column llm.request_logs.time_to_first_token_ms is 'Milliseconds until the first streamed token.';
comment on column llm.request_logs.status_code is 'HTTP status of the provider response.';
comment on column llm.request_logs.error_type is 'Error class, e.g. rate_limit, timeout, invalid_request.';
comment on column llm.request_logs.cache_hit is 'Answered from a response cache: no provider call, no cost.';
comment on column llm.request_logs.service is 'Service label of the caller (e.g. chat, documents).';
comment on column llm.request_logs.operation is 'Operation label within the service (e.g. summarize).';
comment on column llm.request_logs.request_body is
'Request payload, kept only when setting request_log_store_bodies is true, capped at request_log_body_max_bytes.';
comment on column llm.request_logs.response_body is 'Response payload, under the same rules as request_body.';
comment on column llm.request_logs.reservation_id is 'Quota reservation this request settled, if any.';

create index if not exists request_logs_user_id_created_at_idx
on llm.request_logs (user_id, created_at);

create index if not exists request_logs_unpriced_idx
on llm.request_logs (provider, model) where cost_source = 'unpriced';
alter table llm.request_logs enable row level security;
revoke all on llm.request_logs from anon, authenticated, service_role;
grant select on llm.request_logs to authenticated, service_role;

-- the partitions live in the private schema: never exposed, and not in the API's types (an
-- install older than 0.22.0 has its default partition in schema llm until its upgrade step)
do $$
begin
    if (
        select p.partdefid from pg_catalog.pg_partitioned_table as p
        where p.partrelid = 'llm.request_logs'::regclass
    ) = 0 then
        create table llm_private.request_logs_default partition of llm.request_logs default;
        alter table llm_private.request_logs_default enable row level security;
        revoke all on llm_private.request_logs_default from anon, authenticated, service_role;
    end if;
end;
$$;
