-- Request ids (idempotency), the usage journal and the dead letter.

create table if not exists llm.request_ids (
    request_id text primary key,
    request_log_id bigint not null,
    user_id uuid,
    created_at timestamptz not null
);
comment on table llm.request_ids is
'Client request ids already logged, so the same id is stored once across all partitions. Purged with the partitions retention drops.';
comment on column llm.request_ids.created_at is 'created_at of the logged request (its partition).';

create index if not exists request_ids_created_at_brin
on llm.request_ids using brin (created_at);
alter table llm.request_ids enable row level security;
revoke all on llm.request_ids from anon, authenticated, service_role;
grant select on llm.request_ids to authenticated, service_role;

create table if not exists llm.usage_journal (
    request_log_id bigint,
    occurred_at timestamptz not null,
    user_id uuid,
    provider text not null,
    model text not null,
    request_type llm.request_type not null,
    requests integer not null,
    prompt_tokens integer not null,
    completion_tokens integer not null,
    cached_tokens integer not null,
    cache_write_tokens integer not null,
    total_tokens integer not null,
    audio_seconds numeric,
    cost_usd numeric,
    success boolean not null,
    cache_hit boolean not null,
    saved_tokens integer not null,
    saved_cost_usd numeric,
    conversation_id uuid,
    agent_id uuid,
    reservation_id uuid
);
comment on table llm.usage_journal is
'Append-only usage facts, written in the same transaction as the requests: one row per request logged by llm.log_request() (requests = 1), one per group of a batch''s requests the usage cannot tell apart (same user, instant, model, type, outcome, conversation, agent and reservation: requests = how many, their sums), one per cost correction (requests = 0). Usage metering folds rows into its rollups by deleting them in the transaction that adds them; a row is unfolded while it exists.';
comment on column llm.usage_journal.request_log_id is
'The logged request; for a batch''s group of requests, the first of them (the others share the row''s user_id and occurred_at).';
comment on column llm.usage_journal.requests is
'Requests the row counts: 1 for a request logged alone, how many for a batch''s group, 0 for a correction row of llm.recompute_costs() carrying only cost deltas.';
comment on column llm.usage_journal.prompt_tokens is
'Input tokens billed by the provider (0 for a cache hit; see saved_tokens).';
comment on column llm.usage_journal.cost_usd is
'Cost in USD (0 for a cache hit, NULL if unpriced); for a correction row, the change in cost.';
comment on column llm.usage_journal.saved_tokens is 'Tokens a cache hit saved (its tokens_total).';
comment on column llm.usage_journal.saved_cost_usd is
'What a cache hit saved at the registry price; for a correction row, the change in it.';
alter table llm.usage_journal enable row level security;
revoke all on llm.usage_journal from anon, authenticated, service_role;
grant select on llm.usage_journal to authenticated, service_role;

create table if not exists llm.request_log_rejects (
    id bigint generated always as identity primary key,
    rejected_at timestamptz not null default now(),
    payload jsonb,
    sqlstate text not null,
    error text not null
);
comment on table llm.request_log_rejects is
'Dead letters: request payloads llm.try_log_requests() could not log, with the error and its SQLSTATE.';
alter table llm.request_log_rejects enable row level security;
revoke all on llm.request_log_rejects from anon, authenticated, service_role;
grant select, delete on llm.request_log_rejects to authenticated, service_role;
