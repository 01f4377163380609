-- Cache entries, sharded hit counters, totals and stampede leases.

create table if not exists llm.response_cache (
    id uuid primary key default gen_random_uuid(),
    scope text not null check (
        scope = 'global'
        or scope ~ '^user:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
        or scope ~ '^namespace:\S'
    ),
    user_id uuid generated always as (
        case when scope like 'user:%' then substr(scope, 6)::uuid end
    ) stored,
    prompt_hash text not null check (prompt_hash ~ '^[0-9a-f]{64}$'),
    prompt text not null,
    provider text not null,
    model text not null,
    parameters jsonb not null default '{}' check (jsonb_typeof(parameters) = 'object'),
    response text not null,
    metadata jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
    prompt_tokens bigint check (prompt_tokens >= 0),
    completion_tokens bigint check (completion_tokens >= 0),
    total_tokens bigint check (total_tokens >= 0),
    cost_usd numeric check (cost_usd >= 0),
    embedding extensions.vector,
    embedding_dims integer generated always as (extensions.vector_dims(embedding)) stored,
    embedding_model text,
    size_bytes bigint not null check (size_bytes >= 0),
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    unique (scope, prompt_hash)
);
comment on table llm.response_cache is
'Cached LLM responses, one per scope and key. Written by backends through llm.cache_llm_response(); hit counts live in llm.response_cache_hits.';
comment on column llm.response_cache.scope is
'global, user:<uuid> or namespace:<name>; every lookup sees only its own scope.';
comment on column llm.response_cache.user_id is 'Owner of a user-scoped entry (derived from scope).';
comment on column llm.response_cache.prompt_hash is
'sha256 (hex) of the canonical provider, model, prompt and parameters: the exact-match key.';
comment on column llm.response_cache.prompt is 'The prompt as given: text, or a chat message array as JSON.';
comment on column llm.response_cache.parameters is
'Canonical request parameters (numbers normalised, ignored keys removed) that are part of the key.';
comment on column llm.response_cache.prompt_tokens is 'Prompt tokens each hit saves.';
comment on column llm.response_cache.completion_tokens is 'Completion tokens each hit saves.';
comment on column llm.response_cache.total_tokens is
'Tokens each hit saves (metadata tokens/total_tokens, else prompt + completion).';
comment on column llm.response_cache.cost_usd is 'Cost of producing the response: what each hit saves.';
comment on column llm.response_cache.embedding is
'Prompt embedding of any supported dimension, searched through per-dimension HNSW indexes.';
comment on column llm.response_cache.embedding_dims is 'Dimensions of embedding (selects its index).';
comment on column llm.response_cache.embedding_model is
'Model that produced the embedding; all embeddings of one model must have one dimension.';
comment on column llm.response_cache.size_bytes is 'Approximate stored size, for the byte cap of eviction.';
comment on column llm.response_cache.expires_at is 'The entry is never returned at or after this time.';

create index if not exists response_cache_expires_at_idx on llm.response_cache (expires_at);

create index if not exists response_cache_provider_model_idx on llm.response_cache (provider, model);

create index if not exists response_cache_user_id_idx on llm.response_cache (user_id)
where user_id is not null;

create index if not exists response_cache_scope_embedding_dims_idx
on llm.response_cache (scope, embedding_dims)
where embedding is not null;

create index if not exists response_cache_embedding_model_idx
on llm.response_cache (embedding_model, embedding_dims)
where embedding_model is not null;

-- One HNSW index per supported dimension; halfvec above 2,000 dimensions (vector's limit).
create index if not exists response_cache_embedding_384_idx on llm.response_cache
using hnsw ((embedding::extensions.vector(384)) extensions.vector_cosine_ops)
where embedding_dims = 384;

create index if not exists response_cache_embedding_768_idx on llm.response_cache
using hnsw ((embedding::extensions.vector(768)) extensions.vector_cosine_ops)
where embedding_dims = 768;

create index if not exists response_cache_embedding_1536_idx on llm.response_cache
using hnsw ((embedding::extensions.vector(1536)) extensions.vector_cosine_ops)
where embedding_dims = 1536;

create index if not exists response_cache_embedding_3072_idx on llm.response_cache
using hnsw ((embedding::extensions.halfvec(3072)) extensions.halfvec_cosine_ops)
where embedding_dims = 3072;
alter table llm.response_cache enable row level security;
grant select on llm.response_cache to authenticated, service_role;

create table if not exists llm.response_cache_hits (
    entry_id uuid not null references llm.response_cache (id) on delete cascade,
    shard smallint not null check (shard >= 0),
    hits bigint not null default 0 check (hits >= 0),
    last_hit_at timestamptz not null default now(),
    primary key (entry_id, shard)
) with (fillfactor = 50);
comment on table llm.response_cache_hits is
'Hit counters of cache entries: narrow rows (as many as concurrent hits needed, up to cache_hit_shards) so hits neither rewrite the entry nor queue on one row; the hit count is the sum.';
comment on column llm.response_cache_hits.shard is
'Counter row number, below cache_hit_shards; more rows exist only where concurrent hits needed them.';
comment on column llm.response_cache_hits.last_hit_at is 'Last hit on this shard, for least-recently-used eviction.';
alter table llm.response_cache_hits enable row level security;
grant select on llm.response_cache_hits to authenticated, service_role;

create table if not exists llm.response_cache_totals (
    provider text not null,
    model text not null,
    scope text not null,
    shard smallint not null check (shard >= 0),
    misses bigint not null default 0 check (misses >= 0),
    retired_entries bigint not null default 0 check (retired_entries >= 0),
    retired_hits bigint not null default 0 check (retired_hits >= 0),
    retired_prompt_tokens numeric not null default 0,
    retired_completion_tokens numeric not null default 0,
    retired_total_tokens numeric not null default 0,
    retired_cost_usd numeric not null default 0,
    updated_at timestamptz not null default now(),
    primary key (provider, model, scope, shard)
) with (fillfactor = 50);
comment on table llm.response_cache_totals is
'Cache misses, and the hits and savings of entries that expired, were evicted, replaced or invalidated, per provider, model and scope (sharded like the hit counters).';
comment on column llm.response_cache_totals.retired_prompt_tokens is
'Prompt tokens saved by the hits of removed entries.';
comment on column llm.response_cache_totals.retired_cost_usd is 'Cost saved by the hits of removed entries.';
alter table llm.response_cache_totals enable row level security;
grant select on llm.response_cache_totals to authenticated, service_role;

create table if not exists llm.response_cache_leases (
    scope text not null,
    prompt_hash text not null,
    lease_id uuid not null default gen_random_uuid() unique,
    claimed_at timestamptz not null default now(),
    expires_at timestamptz not null,
    primary key (scope, prompt_hash)
);
comment on table llm.response_cache_leases is
'Keys being produced: a caller that missed claimed the key until expires_at; others wait for the response instead of calling the model too.';
comment on column llm.response_cache_leases.expires_at is
'After this time the lease is void (its producer is presumed dead) and the key can be claimed again.';

create index if not exists response_cache_leases_expires_at_idx
on llm.response_cache_leases (expires_at);
alter table llm.response_cache_leases enable row level security;
grant select on llm.response_cache_leases to authenticated, service_role;
