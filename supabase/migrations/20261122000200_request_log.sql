-- llm request log: every LLM call (chat, embedding, transcription, ...) with tokens, cost,
-- latency and errors, in a table partitioned by UTC day; a model price registry with
-- effective dates that prices requests at insert; idempotent client request ids; batch
-- logging with a dead-letter table; the usage journal that usage metering folds into its
-- rollups; partition creation and retention jobs; analytics functions.

-- ---------------------------------------------------------------------------------------
-- Types
-- ---------------------------------------------------------------------------------------

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

-- ---------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------

create table if not exists llm.model_prices (
    id bigint generated always as identity primary key,
    provider text not null check (provider ~ '\S'),
    model text not null check (model ~ '\S'),
    effective_from timestamptz not null check (effective_from > '-infinity'),
    effective_to timestamptz,
    input_per_mtok numeric check (input_per_mtok >= 0 and input_per_mtok < 1000000),
    output_per_mtok numeric check (output_per_mtok >= 0 and output_per_mtok < 1000000),
    cached_input_per_mtok numeric check (
        cached_input_per_mtok >= 0 and cached_input_per_mtok < 1000000
    ),
    cache_write_per_mtok numeric check (
        cache_write_per_mtok >= 0 and cache_write_per_mtok < 1000000
    ),
    per_audio_second numeric check (per_audio_second >= 0 and per_audio_second < 1000000),
    per_request numeric check (per_request >= 0 and per_request < 1000000),
    note text,
    created_at timestamptz not null default now(),
    constraint model_prices_period_check check (effective_to > effective_from),
    constraint model_prices_provider_model_from_key unique (provider, model, effective_from)
);
comment on table llm.model_prices is
'Model prices in USD with effective dates; no two periods of one provider and model overlap. Data you maintain: verify the seeded list prices against your providers.';
comment on column llm.model_prices.effective_from is 'First instant this price applies.';
comment on column llm.model_prices.effective_to is
'First instant it no longer applies; NULL while it is the current price.';
comment on column llm.model_prices.input_per_mtok is
'USD per million input tokens that are neither cache reads nor cache writes.';
comment on column llm.model_prices.output_per_mtok is 'USD per million output tokens.';
comment on column llm.model_prices.cached_input_per_mtok is
'USD per million cache-read input tokens; NULL means the input price.';
comment on column llm.model_prices.cache_write_per_mtok is
'USD per million cache-write input tokens; NULL means the input price.';
comment on column llm.model_prices.per_audio_second is 'USD per second of audio (transcription).';
comment on column llm.model_prices.per_request is 'USD added to every request.';

create sequence if not exists llm.request_logs_id_seq as bigint;
comment on sequence llm.request_logs_id_seq is 'Ids of llm.request_logs rows.';

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
'One row per LLM request, partitioned by UTC day of created_at (partitions request_logs_pYYYYMMDD, plus request_logs_default for days without one). Written only through llm.log_request(), which validates every value (the table has no CHECK constraints: they cost more per insert than the rest of the row).';
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

create table if not exists llm.request_logs_default partition of llm.request_logs default;

create table if not exists llm.request_ids (
    request_id text primary key,
    request_log_id bigint not null,
    user_id uuid,
    created_at timestamptz not null
);
comment on table llm.request_ids is
'Client request ids already logged, so the same id is stored once across all partitions. Purged with the partitions retention drops.';
comment on column llm.request_ids.created_at is 'created_at of the logged request (its partition).';

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
'Append-only usage facts, one row per logged request (requests = 1) or per cost correction (requests = 0), written in the same transaction as the request. Usage metering folds rows into its rollups by deleting them in the transaction that adds them; a row is unfolded while it exists.';
comment on column llm.usage_journal.requests is
'1 for a logged request; 0 for a correction row of llm.recompute_costs() carrying only cost deltas.';
comment on column llm.usage_journal.prompt_tokens is
'Input tokens billed by the provider (0 for a cache hit; see saved_tokens).';
comment on column llm.usage_journal.cost_usd is
'Cost in USD (0 for a cache hit, NULL if unpriced); for a correction row, the change in cost.';
comment on column llm.usage_journal.saved_tokens is 'Tokens a cache hit saved (its tokens_total).';
comment on column llm.usage_journal.saved_cost_usd is
'What a cache hit saved at the registry price; for a correction row, the change in it.';

create table if not exists llm.request_log_rejects (
    id bigint generated always as identity primary key,
    rejected_at timestamptz not null default now(),
    payload jsonb,
    sqlstate text not null,
    error text not null
);
comment on table llm.request_log_rejects is
'Dead letters: request payloads llm.try_log_requests() could not log, with the error and its SQLSTATE.';

-- ---------------------------------------------------------------------------------------
-- Indexes (on the parent: every partition gets them)
-- ---------------------------------------------------------------------------------------

create index if not exists request_logs_user_id_created_at_idx
on llm.request_logs (user_id, created_at);
create index if not exists request_logs_unpriced_idx
on llm.request_logs (provider, model) where cost_source = 'unpriced';
create index if not exists request_ids_created_at_brin
on llm.request_ids using brin (created_at);

-- ---------------------------------------------------------------------------------------
-- Functions: hooks for usage metering
-- ---------------------------------------------------------------------------------------

-- Settles a quota reservation with the actual usage of a logged request. Usage metering
-- replaces this no-op with the real settlement (same signature).
create or replace function llm.settle_reservation(
    p_reservation_id uuid,
    p_user_id uuid,
    p_request_log_id bigint,
    p_total_tokens bigint,
    p_cost_usd numeric
)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
    -- no quota reservations exist until usage metering is installed
    return;
end;
$$;
comment on function llm.settle_reservation(uuid, uuid, bigint, bigint, numeric) is
'Hook called by llm.log_request(reservation_id => ...) in the logging transaction; a no-op until usage metering replaces it.';

-- The retention watermark: raw rows may only be dropped once their usage is folded.
create or replace function llm.usage_folded_before()
returns timestamptz
language sql
stable
security definer
set search_path = ''
as $$
    select coalesce(min(j.occurred_at), 'infinity'::timestamptz) from llm.usage_journal as j;
$$;
comment on function llm.usage_folded_before() is
'Watermark T: the usage of every request logged before T is folded (no journal row older than T is left). infinity when the journal is empty. Exact when read while llm.request_logs is locked.';

-- ---------------------------------------------------------------------------------------
-- Functions: prices and cost
-- ---------------------------------------------------------------------------------------

-- Prices one request from the registry so cost is computed in the database.
create or replace function llm.estimate_cost(
    provider text,
    model text,
    prompt_tokens integer default 0,
    completion_tokens integer default 0,
    cached_tokens integer default 0,
    cache_write_tokens integer default 0,
    audio_seconds numeric default null,
    priced_at timestamptz default null
)
returns numeric
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_at timestamptz := coalesce(estimate_cost.priced_at, now());
    v_prompt integer := coalesce(estimate_cost.prompt_tokens, 0);
    v_completion integer := coalesce(estimate_cost.completion_tokens, 0);
    v_cached integer := coalesce(estimate_cost.cached_tokens, 0);
    v_cache_write integer := coalesce(estimate_cost.cache_write_tokens, 0);
    v_cost numeric;
begin
    if least(v_prompt, v_completion, v_cached, v_cache_write, estimate_cost.audio_seconds) < 0 then
        raise exception 'token counts and audio_seconds must be >= 0' using errcode = '22023';
    end if;
    -- periods never overlap, so at most one price is in force
    select trim_scale(
            (
                greatest(v_prompt - v_cached - v_cache_write, 0) * coalesce(p.input_per_mtok, 0)
                + v_cached * coalesce(p.cached_input_per_mtok, p.input_per_mtok, 0)
                + v_cache_write * coalesce(p.cache_write_per_mtok, p.input_per_mtok, 0)
                + v_completion * coalesce(p.output_per_mtok, 0)
            ) * 0.000001
            + coalesce(estimate_cost.audio_seconds, 0) * coalesce(p.per_audio_second, 0)
            + coalesce(p.per_request, 0)
        )
    into v_cost
    from llm.model_prices as p
    where p.provider = estimate_cost.provider
        and p.model = estimate_cost.model
        and p.effective_from <= v_at
        and (p.effective_to is null or p.effective_to > v_at);
    return v_cost;
end;
$$;
comment on function llm.estimate_cost(text, text, integer, integer, integer, integer, numeric, timestamptz) is
'USD cost of a request at the price in force at priced_at (default now): uncached input, cache reads, cache writes and output per million tokens, plus audio seconds and the per-request price. NULL when the model has no price then.';

-- Sets the price of a model from a date on, closing the period it interrupts.
create or replace function llm.set_model_price(
    provider text,
    model text,
    effective_from timestamptz,
    input_per_mtok numeric default null,
    output_per_mtok numeric default null,
    cached_input_per_mtok numeric default null,
    cache_write_per_mtok numeric default null,
    per_audio_second numeric default null,
    per_request numeric default null,
    note text default null
)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_next timestamptz;
    v_id bigint;
begin
    perform llm.require_admin('set model prices');
    if set_model_price.provider is null or set_model_price.provider !~ '\S' then
        raise exception 'provider is required' using errcode = '22004';
    end if;
    if set_model_price.model is null or set_model_price.model !~ '\S' then
        raise exception 'model is required' using errcode = '22004';
    end if;
    if set_model_price.effective_from is null or not isfinite(set_model_price.effective_from) then
        raise exception 'effective_from must be a finite time, got %',
            coalesce(set_model_price.effective_from::text, 'NULL')
            using errcode = '22023';
    end if;
    perform pg_catalog.pg_advisory_xact_lock(
        pg_catalog.hashtextextended(
            'llm.model_prices/' || set_model_price.provider || '/' || set_model_price.model, 0
        )
    );
    -- the period in force at effective_from ends there; the new one runs to the next period
    update llm.model_prices as p
    set effective_to = set_model_price.effective_from
    where p.provider = set_model_price.provider
        and p.model = set_model_price.model
        and p.effective_from < set_model_price.effective_from
        and (p.effective_to is null or p.effective_to > set_model_price.effective_from);
    select min(p.effective_from) into v_next
    from llm.model_prices as p
    where p.provider = set_model_price.provider
        and p.model = set_model_price.model
        and p.effective_from > set_model_price.effective_from;
    insert into llm.model_prices as p (
        provider, model, effective_from, effective_to, input_per_mtok, output_per_mtok,
        cached_input_per_mtok, cache_write_per_mtok, per_audio_second, per_request, note
    )
    values (
        set_model_price.provider, set_model_price.model, set_model_price.effective_from, v_next,
        set_model_price.input_per_mtok, set_model_price.output_per_mtok,
        set_model_price.cached_input_per_mtok, set_model_price.cache_write_per_mtok,
        set_model_price.per_audio_second, set_model_price.per_request, set_model_price.note
    )
    on conflict on constraint model_prices_provider_model_from_key do update
        set input_per_mtok = excluded.input_per_mtok,
            output_per_mtok = excluded.output_per_mtok,
            cached_input_per_mtok = excluded.cached_input_per_mtok,
            cache_write_per_mtok = excluded.cache_write_per_mtok,
            per_audio_second = excluded.per_audio_second,
            per_request = excluded.per_request,
            note = excluded.note
    returning p.id into v_id;
    return v_id;
end;
$$;
comment on function llm.set_model_price(
    text, text, timestamptz, numeric, numeric, numeric, numeric, numeric, numeric, text
) is
'Sets the price of provider/model from effective_from on (replacing a price starting at that instant), ending the period it interrupts; runs until the next known period. Admins and service role. Returns the price id.';

-- Keeps effective periods of one model from overlapping (without needing btree_gist).
create or replace function llm.check_model_price_overlap()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
    perform pg_catalog.pg_advisory_xact_lock(
        pg_catalog.hashtextextended('llm.model_prices/' || new.provider || '/' || new.model, 0)
    );
    if exists (
        select from llm.model_prices as p
        where p.provider = new.provider
            and p.model = new.model
            and p.id <> new.id
            and p.effective_from <> new.effective_from  -- same start: the unique key decides
            and p.effective_from < coalesce(new.effective_to, 'infinity')
            and coalesce(p.effective_to, 'infinity') > new.effective_from
    ) then
        raise exception 'price period [%, %) of %/% overlaps another period of that model',
            new.effective_from, coalesce(new.effective_to::text, 'open'), new.provider, new.model
            using errcode = '23P01',
                hint = 'end the other period first, or use llm.set_model_price()';
    end if;
    return new;
end;
$$;
comment on function llm.check_model_price_overlap() is
'Trigger: raises exclusion_violation (23P01) when a price period overlaps another of the same provider and model.';

-- ---------------------------------------------------------------------------------------
-- Functions: logging
-- ---------------------------------------------------------------------------------------

-- Records one LLM request and its usage journal row: the hot path of the package, written
-- to evaluate few plpgsql expressions (each costs setup in every transaction).
create or replace function llm.log_request(
    provider text,
    model text,
    request_type text default 'chat',
    user_id text default null,
    prompt_tokens integer default 0,
    completion_tokens integer default 0,
    cached_tokens integer default 0,
    cost_usd numeric default null,
    latency_ms integer default null,
    success boolean default true,
    status_code integer default null,
    error_message text default null,
    cache_hit boolean default false,
    request_id text default null,
    conversation_id uuid default null,
    agent_id uuid default null,
    metadata jsonb default '{}',
    cache_write_tokens integer default 0,
    total_tokens integer default null,
    audio_seconds numeric default null,
    time_to_first_token_ms integer default null,
    error_type text default null,
    message_id uuid default null,
    service text default null,
    operation text default null,
    request_body jsonb default null,
    response_body jsonb default null,
    created_at timestamptz default null,
    reservation_id uuid default null
)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_user uuid;
    v_id bigint;
    v_request_body jsonb;
    v_response_body jsonb;
    v_prior record;
    v_price numeric;
begin
    -- one expression decides whether anything is wrong; the branch says what
    if log_request.provider is null or btrim(log_request.provider, e' \t\r\n\f\v') = ''
        or log_request.model is null or btrim(log_request.model, e' \t\r\n\f\v') = ''
        or log_request.request_type is null
        or log_request.request_type not in (
            'chat', 'completion', 'embedding', 'transcription', 'speech', 'image', 'moderation',
            'rerank', 'other'
        )
        or log_request.success is null
        or least(
            log_request.prompt_tokens, log_request.completion_tokens, log_request.cached_tokens,
            log_request.cache_write_tokens, log_request.total_tokens, log_request.latency_ms,
            log_request.time_to_first_token_ms
        ) < 0
        or coalesce(log_request.cached_tokens, 0) + coalesce(log_request.cache_write_tokens, 0)
        > coalesce(log_request.prompt_tokens, 0)
        or not (log_request.cost_usd >= 0 and log_request.cost_usd < 'infinity'::numeric)
        or (log_request.cache_hit and log_request.cost_usd > 0)
        or not (log_request.audio_seconds >= 0 and log_request.audio_seconds < 'infinity'::numeric)
        or log_request.status_code not between 100 and 599
        or not isfinite(log_request.created_at)
        or btrim(log_request.request_id, e' \t\r\n\f\v') = ''
        or jsonb_typeof(log_request.metadata) is distinct from 'object'
        then
        perform llm.reject_request(
            log_request.provider, log_request.model, log_request.request_type, log_request.success,
            log_request.prompt_tokens, log_request.completion_tokens, log_request.cached_tokens,
            log_request.cache_write_tokens, log_request.total_tokens, log_request.cost_usd,
            log_request.cache_hit, log_request.audio_seconds, log_request.latency_ms,
            log_request.time_to_first_token_ms, log_request.status_code, log_request.created_at,
            log_request.request_id, log_request.metadata
        );
    end if;

    -- the canonical UUID form is tested without a regular expression (it is cheaper)
    v_user := case
        when log_request.user_id is null then null
        when length(log_request.user_id) = 36
            and translate(log_request.user_id, '0123456789abcdefABCDEF', '') = '----'
            and substr(log_request.user_id, 9, 1) || substr(log_request.user_id, 14, 1)
            || substr(log_request.user_id, 19, 1) || substr(log_request.user_id, 24, 1) = '----'
            then log_request.user_id::uuid
        else llm.user_uuid(log_request.user_id)
    end;

    if log_request.request_body is not null or log_request.response_body is not null then
        if llm.setting_text('request_log_store_bodies')::boolean then
            v_request_body := llm.capped_body(log_request.request_body);
            v_response_body := llm.capped_body(log_request.response_body);
        end if;
    end if;

    -- idempotency: the first writer of a request id wins, later ones get its row id
    if log_request.request_id is not null then
        v_id := nextval('llm.request_logs_id_seq');
        insert into llm.request_ids (request_id, request_log_id, user_id, created_at)
        values (
            log_request.request_id, v_id, v_user, coalesce(log_request.created_at, now())
        )
        on conflict do nothing;
        if not found then
            select r.request_log_id, r.user_id into v_prior
            from llm.request_ids as r
            where r.request_id = log_request.request_id;
            if v_prior.user_id is distinct from v_user then
                raise exception 'request_id % was already logged for another user',
                    quote_literal(log_request.request_id)
                    using errcode = '23505';
            end if;
            -- a retry: its usage is already logged by the first call, so the reservation it
            -- carries is settled with nothing more (else it would count until it expires)
            if log_request.reservation_id is not null then
                perform llm.settle_reservation(
                    log_request.reservation_id, v_user, v_prior.request_log_id, 0, 0
                );
            end if;
            return v_prior.request_log_id;
        end if;
    end if;

    -- price from the registry unless the caller gave the cost
    if log_request.cost_usd is null or log_request.cache_hit then
        -- the formula of llm.estimate_cost(), inlined: this is the hot path
        select trim_scale(
                (
                    (
                        coalesce(log_request.prompt_tokens, 0) - coalesce(log_request.cached_tokens, 0)
                        - coalesce(log_request.cache_write_tokens, 0)
                    ) * coalesce(p.input_per_mtok, 0)
                    + coalesce(log_request.cached_tokens, 0)
                    * coalesce(p.cached_input_per_mtok, p.input_per_mtok, 0)
                    + coalesce(log_request.cache_write_tokens, 0)
                    * coalesce(p.cache_write_per_mtok, p.input_per_mtok, 0)
                    + coalesce(log_request.completion_tokens, 0) * coalesce(p.output_per_mtok, 0)
                ) * 0.000001
                + coalesce(log_request.audio_seconds, 0) * coalesce(p.per_audio_second, 0)
                + coalesce(p.per_request, 0)
            )
        into v_price
        from llm.model_prices as p
        where p.provider = log_request.provider
            and p.model = log_request.model
            and p.effective_from <= coalesce(log_request.created_at, now())
            and (p.effective_to is null or p.effective_to > coalesce(log_request.created_at, now()));
    end if;

    v_id := coalesce(v_id, nextval('llm.request_logs_id_seq'));

    -- the request row and its journal row in one statement
    with logged as (
        insert into llm.request_logs (
            id, created_at, request_id, user_id, request_type, provider, model,
            conversation_id, message_id, agent_id, prompt_tokens, completion_tokens,
            cached_tokens, cache_write_tokens, tokens_total, audio_seconds, cost_usd,
            cost_source, saved_cost_usd, latency_ms, time_to_first_token_ms, success,
            status_code, error_type, error_message, cache_hit, service, operation, metadata,
            request_body, response_body, reservation_id
        )
        values (
            v_id, coalesce(log_request.created_at, now()), log_request.request_id, v_user,
            log_request.request_type::llm.request_type, log_request.provider, log_request.model,
            log_request.conversation_id, log_request.message_id, log_request.agent_id,
            coalesce(log_request.prompt_tokens, 0), coalesce(log_request.completion_tokens, 0),
            coalesce(log_request.cached_tokens, 0), coalesce(log_request.cache_write_tokens, 0),
            coalesce(
                log_request.total_tokens,
                coalesce(log_request.prompt_tokens, 0) + coalesce(log_request.completion_tokens, 0)
            ),
            log_request.audio_seconds,
            case when log_request.cache_hit then 0 else coalesce(log_request.cost_usd, v_price) end,
            case
                when log_request.cache_hit then 'cache_hit'
                when log_request.cost_usd is not null then 'caller'
                when v_price is not null then 'registry'
                else 'unpriced'
            end,
            case when log_request.cache_hit then v_price end,
            log_request.latency_ms, log_request.time_to_first_token_ms, log_request.success,
            log_request.status_code, log_request.error_type, log_request.error_message,
            coalesce(log_request.cache_hit, false), log_request.service, log_request.operation,
            log_request.metadata, v_request_body, v_response_body, log_request.reservation_id
        )
    )

    insert into llm.usage_journal (
        request_log_id, occurred_at, user_id, provider, model, request_type, requests,
        prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens, total_tokens,
        audio_seconds, cost_usd, success, cache_hit, saved_tokens, saved_cost_usd,
        conversation_id, agent_id, reservation_id
    )
    values (
        v_id, coalesce(log_request.created_at, now()), v_user, log_request.provider,
        log_request.model, log_request.request_type::llm.request_type, 1,
        case when log_request.cache_hit then 0 else coalesce(log_request.prompt_tokens, 0) end,
        case when log_request.cache_hit then 0 else coalesce(log_request.completion_tokens, 0) end,
        case when log_request.cache_hit then 0 else coalesce(log_request.cached_tokens, 0) end,
        case when log_request.cache_hit then 0 else coalesce(log_request.cache_write_tokens, 0) end,
        case when log_request.cache_hit then 0 else coalesce(
            log_request.total_tokens,
            coalesce(log_request.prompt_tokens, 0) + coalesce(log_request.completion_tokens, 0)
        ) end,
        log_request.audio_seconds,
        case when log_request.cache_hit then 0 else coalesce(log_request.cost_usd, v_price) end,
        log_request.success, coalesce(log_request.cache_hit, false),
        case when log_request.cache_hit then coalesce(
            log_request.total_tokens,
            coalesce(log_request.prompt_tokens, 0) + coalesce(log_request.completion_tokens, 0)
        ) else 0 end,
        case when log_request.cache_hit then v_price end,
        log_request.conversation_id, log_request.agent_id, log_request.reservation_id
    );

    if log_request.reservation_id is not null then
        perform llm.settle_reservation(
            log_request.reservation_id, v_user, v_id,
            case when log_request.cache_hit then 0 else coalesce(
                log_request.total_tokens,
                coalesce(log_request.prompt_tokens, 0) + coalesce(log_request.completion_tokens, 0)
            ) end,
            case when log_request.cache_hit then 0 else coalesce(log_request.cost_usd, v_price) end
        );
    end if;
    return v_id;
end;
$$;
comment on function llm.log_request(
    text, text, text, text, integer, integer, integer, numeric, integer, boolean, integer, text,
    boolean, text, uuid, uuid, jsonb, integer, integer, numeric, integer, text, uuid, text, text,
    jsonb, jsonb, timestamptz, uuid
) is
'Logs one LLM request and returns its id. Only provider and model are required. Cost comes from cost_usd, else from llm.model_prices at created_at (NULL and listed by llm.unpriced_models() when unknown); a cache hit costs 0 and records what it saved. The same request_id returns the first row''s id and logs nothing more. reservation_id settles a quota reservation (available with usage metering), also on such a retry. Bad input raises 22004 (missing) or 22023 (invalid) and writes nothing. Service role only.';

-- Raises the error that explains why llm.log_request() refused its arguments.
create or replace function llm.reject_request(
    p_provider text,
    p_model text,
    p_request_type text,
    p_success boolean,
    p_prompt_tokens integer,
    p_completion_tokens integer,
    p_cached_tokens integer,
    p_cache_write_tokens integer,
    p_total_tokens integer,
    p_cost_usd numeric,
    p_cache_hit boolean,
    p_audio_seconds numeric,
    p_latency_ms integer,
    p_time_to_first_token_ms integer,
    p_status_code integer,
    p_created_at timestamptz,
    p_request_id text,
    p_metadata jsonb
)
returns void
language plpgsql
stable
set search_path = ''
as $$
declare
    v_field text;
    v_value bigint;
begin
    if p_provider is null or p_provider !~ '\S' then
        raise exception 'provider is required (got %)', coalesce(quote_literal(p_provider), 'NULL')
            using errcode = '22004';
    end if;
    if p_model is null or p_model !~ '\S' then
        raise exception 'model is required (got %)', coalesce(quote_literal(p_model), 'NULL')
            using errcode = '22004';
    end if;
    if p_request_type is null then
        raise exception 'request_type must not be null' using errcode = '22004';
    end if;
    if not p_request_type = any(enum_range(null::llm.request_type)::text[]) then
        raise exception 'request_type must be one of %, got %',
            array_to_string(enum_range(null::llm.request_type), ', '), quote_literal(p_request_type)
            using errcode = '22023';
    end if;
    if p_success is null then
        raise exception 'success must not be null' using errcode = '22004';
    end if;
    select f.name, f.value into v_field, v_value
    from (
        values
        (1, 'prompt_tokens', p_prompt_tokens),
        (2, 'completion_tokens', p_completion_tokens),
        (3, 'cached_tokens', p_cached_tokens),
        (4, 'cache_write_tokens', p_cache_write_tokens),
        (5, 'total_tokens', p_total_tokens),
        (6, 'latency_ms', p_latency_ms),
        (7, 'time_to_first_token_ms', p_time_to_first_token_ms)
    ) as f (n, name, value)
    where f.value < 0
    order by f.n
    limit 1;
    if found then
        raise exception '% must be >= 0, got %', v_field, v_value using errcode = '22023';
    end if;
    if coalesce(p_cached_tokens, 0) + coalesce(p_cache_write_tokens, 0) > coalesce(p_prompt_tokens, 0)
        then
        raise exception 'cached_tokens + cache_write_tokens (%) exceed prompt_tokens (%)',
            coalesce(p_cached_tokens, 0) + coalesce(p_cache_write_tokens, 0),
            coalesce(p_prompt_tokens, 0)
            using errcode = '22023',
                hint = 'prompt_tokens counts every input token, cache reads and writes included';
    end if;
    if not (p_cost_usd >= 0 and p_cost_usd < 'infinity'::numeric) then
        raise exception 'cost_usd must be a finite number >= 0, got %', p_cost_usd
            using errcode = '22023';
    end if;
    if p_cache_hit and p_cost_usd > 0 then
        raise exception 'cost_usd must be 0 or omitted for a cache hit, got %', p_cost_usd
            using errcode = '22023';
    end if;
    if not (p_audio_seconds >= 0 and p_audio_seconds < 'infinity'::numeric) then
        raise exception 'audio_seconds must be a finite number >= 0, got %', p_audio_seconds
            using errcode = '22023';
    end if;
    if p_status_code not between 100 and 599 then
        raise exception 'status_code must be an HTTP status (100-599), got %', p_status_code
            using errcode = '22023';
    end if;
    if not isfinite(p_created_at) then
        raise exception 'created_at must be a finite time, got %', p_created_at
            using errcode = '22023';
    end if;
    if p_request_id !~ '\S' then
        raise exception 'request_id must not be blank' using errcode = '22023';
    end if;
    if jsonb_typeof(p_metadata) is distinct from 'object' then
        raise exception 'metadata must be a JSON object, got %', coalesce(jsonb_typeof(p_metadata), 'NULL')
            using errcode = '22023';
    end if;
    raise exception 'invalid request: provider %, model %', p_provider, p_model using errcode = '22023';
end;
$$;
comment on function llm.reject_request(
    text, text, text, boolean, integer, integer, integer, integer, integer, numeric, boolean,
    numeric, integer, integer, integer, timestamptz, text, jsonb
) is
'Raises the specific error (22004 missing, 22023 invalid, naming the field) for arguments llm.log_request() found invalid.';

-- Keeps stored payloads within the configured size.
create or replace function llm.capped_body(p_body jsonb)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
    v_text text;
    v_max integer;
begin
    if p_body is null then
        return null;
    end if;
    v_text := p_body::text;
    v_max := llm.setting_text('request_log_body_max_bytes')::integer;
    if octet_length(v_text) <= v_max then
        return p_body;
    end if;
    return jsonb_build_object(
        'truncated', true,
        'original_bytes', octet_length(v_text),
        'prefix', left(v_text, v_max)
    );
end;
$$;
comment on function llm.capped_body(jsonb) is
'Returns a payload unchanged when within request_log_body_max_bytes, else {truncated: true, original_bytes, prefix: its first request_log_body_max_bytes characters as text}.';

-- Reads one field of a JSON request payload as text after checking its JSON type, so a
-- wrong type is an error naming the field rather than a cast failure naming nothing.
create or replace function llm.request_field(p_request jsonb, p_field text, p_kind text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
    v jsonb := p_request -> p_field;
    v_type text := jsonb_typeof(v);
    v_text text := v #>> '{}';
begin
    if v is null or v_type = 'null' then
        return null;
    end if;
    if p_kind = 'integer' and (v_type <> 'number' or v_text !~ '^-?\d{1,10}$'
        or v_text::numeric not between -2147483648 and 2147483647) then
        raise exception '% must be an integer, got %', p_field, v using errcode = '22023';
    elsif p_kind = 'number' and v_type <> 'number' then
        raise exception '% must be a number, got %', p_field, v using errcode = '22023';
    elsif p_kind = 'boolean' and v_type <> 'boolean' then
        raise exception '% must be true or false, got %', p_field, v using errcode = '22023';
    elsif p_kind = 'text' and v_type <> 'string' then
        raise exception '% must be a string, got %', p_field, v using errcode = '22023';
    elsif p_kind = 'uuid' and (
        v_type <> 'string'
        or v_text !~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$'
    ) then
        raise exception '% must be a UUID, got %', p_field, v using errcode = '22023';
    elsif p_kind = 'time' then
        begin
            if v_type <> 'string' or not isfinite(v_text::timestamptz) then
                raise exception using errcode = '22007';
            end if;
        exception when others then
            raise exception '% must be a finite ISO 8601 time, got %', p_field, v
                using errcode = '22023';
        end;
    end if;
    return v_text;
end;
$$;
comment on function llm.request_field(jsonb, text, text) is
'Field of a request payload as text, after checking it is an integer, number, boolean, text, uuid or time (22023 naming the field otherwise); NULL when absent.';

-- Logs one request given as a JSON object with the parameter names of llm.log_request().
create or replace function llm.log_request_json(p_request jsonb)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_unknown text;
begin
    if jsonb_typeof(p_request) is distinct from 'object' then
        raise exception 'a request must be a JSON object, got %', coalesce(p_request::text, 'NULL')
            using errcode = '22023';
    end if;
    select string_agg(k, ', ' order by k) into v_unknown
    from jsonb_object_keys(p_request) as k
    where k not in (
        'provider', 'model', 'request_type', 'user_id', 'prompt_tokens', 'completion_tokens',
        'cached_tokens', 'cost_usd', 'latency_ms', 'success', 'status_code', 'error_message',
        'cache_hit', 'request_id', 'conversation_id', 'agent_id', 'metadata',
        'cache_write_tokens', 'total_tokens', 'audio_seconds', 'time_to_first_token_ms',
        'error_type', 'message_id', 'service', 'operation', 'request_body', 'response_body',
        'created_at', 'reservation_id'
    );
    if v_unknown is not null then
        raise exception 'unknown request field(s): %', v_unknown using errcode = '22023';
    end if;
    return llm.log_request(
        provider => llm.request_field(p_request, 'provider', 'text'),
        model => llm.request_field(p_request, 'model', 'text'),
        request_type => coalesce(llm.request_field(p_request, 'request_type', 'text'), 'chat'),
        user_id => llm.request_field(p_request, 'user_id', 'text'),
        prompt_tokens => llm.request_field(p_request, 'prompt_tokens', 'integer')::integer,
        completion_tokens => llm.request_field(p_request, 'completion_tokens', 'integer')::integer,
        cached_tokens => llm.request_field(p_request, 'cached_tokens', 'integer')::integer,
        cost_usd => llm.request_field(p_request, 'cost_usd', 'number')::numeric,
        latency_ms => llm.request_field(p_request, 'latency_ms', 'integer')::integer,
        success => coalesce(llm.request_field(p_request, 'success', 'boolean')::boolean, true),
        status_code => llm.request_field(p_request, 'status_code', 'integer')::integer,
        error_message => llm.request_field(p_request, 'error_message', 'text'),
        cache_hit => coalesce(llm.request_field(p_request, 'cache_hit', 'boolean')::boolean, false),
        request_id => llm.request_field(p_request, 'request_id', 'text'),
        conversation_id => llm.request_field(p_request, 'conversation_id', 'uuid')::uuid,
        agent_id => llm.request_field(p_request, 'agent_id', 'uuid')::uuid,
        metadata => coalesce(nullif(p_request -> 'metadata', 'null'), '{}'),
        cache_write_tokens => llm.request_field(p_request, 'cache_write_tokens', 'integer')::integer,
        total_tokens => llm.request_field(p_request, 'total_tokens', 'integer')::integer,
        audio_seconds => llm.request_field(p_request, 'audio_seconds', 'number')::numeric,
        time_to_first_token_ms => llm.request_field(
            p_request, 'time_to_first_token_ms', 'integer'
        )::integer,
        error_type => llm.request_field(p_request, 'error_type', 'text'),
        message_id => llm.request_field(p_request, 'message_id', 'uuid')::uuid,
        service => llm.request_field(p_request, 'service', 'text'),
        operation => llm.request_field(p_request, 'operation', 'text'),
        request_body => nullif(p_request -> 'request_body', 'null'),
        response_body => nullif(p_request -> 'response_body', 'null'),
        created_at => llm.request_field(p_request, 'created_at', 'time')::timestamptz,
        reservation_id => llm.request_field(p_request, 'reservation_id', 'uuid')::uuid
    );
end;
$$;
comment on function llm.log_request_json(jsonb) is
'llm.log_request() for one JSON object whose keys are its parameter names; unknown keys and wrongly typed values raise 22023 naming the field.';

-- Logs a batch in one call: all or nothing, so a bad item never half-logs a batch.
create or replace function llm.log_requests(requests jsonb)
returns bigint[]
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_ids bigint[] := '{}'::bigint[];
    v_position integer := 0;
    v_item jsonb;
    v_state text;
    v_message text;
    v_hint text;
begin
    if jsonb_typeof(log_requests.requests) is distinct from 'array' then
        raise exception 'requests must be a JSON array of request objects, got %',
            coalesce(jsonb_typeof(log_requests.requests), 'NULL')
            using errcode = '22023';
    end if;
    begin
        for v_item in select e from jsonb_array_elements(log_requests.requests) as e loop
            v_ids := v_ids || llm.log_request_json(v_item);
            v_position := v_position + 1;
        end loop;
    exception when others then
        get stacked diagnostics v_state = returned_sqlstate, v_message = message_text,
            v_hint = pg_exception_hint;
        if v_hint = '' then
            raise exception 'requests[%]: %', v_position, v_message using errcode = v_state;
        end if;
        raise exception 'requests[%]: %', v_position, v_message
            using errcode = v_state, hint = v_hint;
    end;
    return v_ids;
end;
$$;
comment on function llm.log_requests(jsonb) is
'Logs a JSON array of requests (keys as the parameters of llm.log_request) in one transaction and returns their ids in order. A bad item raises its error prefixed with requests[i] (0-based) and nothing is logged. Service role only.';

-- Logs what it can and dead-letters the rest, so logging never breaks the caller nor loses data.
create or replace function llm.try_log_requests(requests jsonb)
returns table (item integer, id bigint, reject_id bigint, sqlstate text, error text)
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_item jsonb;
    v_position integer;
begin
    if jsonb_typeof(try_log_requests.requests) = 'object' then
        try_log_requests.requests := jsonb_build_array(try_log_requests.requests);
    end if;
    if jsonb_typeof(try_log_requests.requests) is distinct from 'array' then
        item := 0;
        id := null;
        sqlstate := '22023';
        error := 'requests must be a JSON object or an array of them, got '
            || coalesce(jsonb_typeof(try_log_requests.requests), 'NULL');
        insert into llm.request_log_rejects as r (payload, sqlstate, error)
        values (try_log_requests.requests, try_log_requests.sqlstate, try_log_requests.error)
        returning r.id into try_log_requests.reject_id;
        return next;
        return;
    end if;
    for v_item, v_position in
        select e, (o - 1)::integer
        from jsonb_array_elements(try_log_requests.requests) with ordinality as a (e, o)
    loop
        item := v_position;
        id := null;
        reject_id := null;
        sqlstate := null;
        error := null;
        begin
            id := llm.log_request_json(v_item);
        exception when others then
            get stacked diagnostics
                try_log_requests.sqlstate = returned_sqlstate,
                try_log_requests.error = message_text;
            insert into llm.request_log_rejects as r (payload, sqlstate, error)
            values (v_item, try_log_requests.sqlstate, try_log_requests.error)
            returning r.id into try_log_requests.reject_id;
        end;
        return next;
    end loop;
end;
$$;
comment on function llm.try_log_requests(jsonb) is
'Never-raising logging of one JSON request object or an array of them: each is logged on its own; one that fails is stored in llm.request_log_rejects with its SQLSTATE and error. Returns one row per item (0-based): its id, or its reject_id, sqlstate and error. Service role only.';

-- Re-prices history after a price fix, journaling the cost changes so rollups stay exact.
create or replace function llm.recompute_costs(
    since timestamptz, until timestamptz, out repriced bigint, out cost_change_usd numeric
)
language plpgsql
security definer
set search_path = ''
as $$
begin
    perform llm.require_admin('recompute costs');
    if recompute_costs.since is null or recompute_costs.until is null then
        raise exception 'since and until are required' using errcode = '22004';
    end if;
    if recompute_costs.until <= recompute_costs.since then
        raise exception 'until (%) must be after since (%)', recompute_costs.until, recompute_costs.since
            using errcode = '22023';
    end if;
    with priced as (
        select
            r.id,
            r.created_at,
            r.cache_hit,
            r.cost_usd as old_cost,
            r.saved_cost_usd as old_saved,
            llm.estimate_cost(
                r.provider, r.model, r.prompt_tokens, r.completion_tokens, r.cached_tokens,
                r.cache_write_tokens, r.audio_seconds, r.created_at
            ) as price
        from llm.request_logs as r
        where r.created_at >= recompute_costs.since
            and r.created_at < recompute_costs.until
            and r.cost_source <> 'caller'
    ),

    changed as (
        select
            p.*,
            case when p.cache_hit then 0 else p.price end as new_cost,
            case when p.cache_hit then p.price end as new_saved
        from priced as p
        where (case when p.cache_hit then 0 else p.price end, case when p.cache_hit then p.price end)
            is distinct from (p.old_cost, p.old_saved)
    ),

    updated as (
        update llm.request_logs as r
        set cost_usd = c.new_cost,
            saved_cost_usd = c.new_saved,
            cost_source = case
                when c.cache_hit then 'cache_hit'
                when c.new_cost is null then 'unpriced'
                else 'registry'
            end
        from changed as c
        where r.id = c.id and r.created_at = c.created_at
        returning
            r.id, r.created_at, r.user_id, r.provider, r.model, r.request_type, r.success,
            r.cache_hit, r.conversation_id, r.agent_id,
            coalesce(c.new_cost, 0) - coalesce(c.old_cost, 0) as cost_delta,
            coalesce(c.new_saved, 0) - coalesce(c.old_saved, 0) as saved_delta
    ),

    journaled as (
        insert into llm.usage_journal (
            request_log_id, occurred_at, user_id, provider, model, request_type, requests,
            prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens, total_tokens,
            cost_usd, success, cache_hit, saved_tokens, saved_cost_usd, conversation_id, agent_id
        )
        select
            u.id, u.created_at, u.user_id, u.provider, u.model, u.request_type, 0,
            0, 0, 0, 0, 0, u.cost_delta, u.success, u.cache_hit, 0, u.saved_delta,
            u.conversation_id, u.agent_id
        from updated as u
        returning cost_usd
    )

    select count(*), coalesce(sum(j.cost_usd), 0)
    into recompute_costs.repriced, recompute_costs.cost_change_usd
    from journaled as j;
end;
$$;
comment on function llm.recompute_costs(timestamptz, timestamptz, out bigint, out numeric) is
'Re-prices requests logged in [since, until) from llm.model_prices (costs the caller gave are kept), and appends one correction row per changed request to llm.usage_journal (requests = 0, cost deltas) so usage rollups follow. Returns how many changed and the total change. Admins and service role.';

-- Makes missing prices visible instead of silently zero.
create or replace function llm.unpriced_models(since timestamptz default null, until timestamptz default null)
returns table (
    provider text, model text, requests bigint, first_seen timestamptz, last_seen timestamptz
)
language sql
stable
set search_path = ''
as $$
    select r.provider, r.model, count(*), min(r.created_at), max(r.created_at)
    from llm.request_logs as r
    where r.cost_source = 'unpriced'
        and r.created_at >= coalesce(unpriced_models.since, '-infinity')
        and r.created_at < coalesce(unpriced_models.until, 'infinity')
    group by r.provider, r.model
    order by count(*) desc, r.provider, r.model;
$$;
comment on function llm.unpriced_models(timestamptz, timestamptz) is
'Provider/model pairs logged without a known price (cost NULL) in [since, until), with counts: add their prices with llm.set_model_price(), then run llm.recompute_costs(). Rows visible to the caller only.';

-- ---------------------------------------------------------------------------------------
-- Functions: analytics (security invoker: users see their own requests, admins all)
-- ---------------------------------------------------------------------------------------

-- Total API costs by user.
create or replace function llm.cost_by_user(since timestamptz default null, until timestamptz default null)
returns table (
    user_id uuid, user_label text, total_requests bigint, total_cost_usd numeric, total_tokens bigint
)
language sql
stable
set search_path = ''
as $$
    select
        r.user_id,
        llm.user_label(r.user_id),
        count(*),
        coalesce(sum(r.cost_usd), 0),
        sum(r.tokens_total)
    from llm.request_logs as r
    where r.created_at >= coalesce(cost_by_user.since, '-infinity')
        and r.created_at < coalesce(cost_by_user.until, 'infinity')
    group by r.user_id
    order by 4 desc, 3 desc;
$$;
comment on function llm.cost_by_user(timestamptz, timestamptz) is
'Requests, cost and tokens per user in [since, until) (default: all time), costliest first. Users see themselves, admins everyone.';

-- Error rate by model and request type.
create or replace function llm.error_rate_by_model(
    since timestamptz default null, until timestamptz default null
)
returns table (
    model text, request_type llm.request_type, total_requests bigint, failed_requests bigint,
    error_rate_pct numeric
)
language sql
stable
set search_path = ''
as $$
    select
        r.model,
        r.request_type,
        count(*),
        count(*) filter (where not r.success),
        round(100.0 * count(*) filter (where not r.success) / count(*), 2)
    from llm.request_logs as r
    where r.created_at >= coalesce(error_rate_by_model.since, '-infinity')
        and r.created_at < coalesce(error_rate_by_model.until, 'infinity')
    group by r.model, r.request_type
    order by 5 desc, 3 desc, 1, 2;
$$;
comment on function llm.error_rate_by_model(timestamptz, timestamptz) is
'Requests, failures and error rate (percent, 2 decimals) per model and request type in [since, until), highest rate first.';

-- Latency by request type and model, with percentiles.
create or replace function llm.latency_by_model(
    since timestamptz default null, until timestamptz default null
)
returns table (
    request_type llm.request_type, model text, request_count bigint, avg_latency_ms numeric,
    p50_latency_ms numeric, p95_latency_ms numeric, avg_tokens numeric
)
language sql
stable
set search_path = ''
as $$
    select
        r.request_type,
        r.model,
        count(*),
        round(avg(r.latency_ms), 2),
        round(percentile_cont(0.5) within group (order by r.latency_ms)::numeric, 2),
        round(percentile_cont(0.95) within group (order by r.latency_ms)::numeric, 2),
        round(avg(r.tokens_total), 2)
    from llm.request_logs as r
    where r.success
        and r.created_at >= coalesce(latency_by_model.since, '-infinity')
        and r.created_at < coalesce(latency_by_model.until, 'infinity')
    group by r.request_type, r.model
    order by 1, 4 desc nulls last, 2;
$$;
comment on function llm.latency_by_model(timestamptz, timestamptz) is
'Successful requests per request type and model in [since, until): count, average, median (p50) and p95 latency in ms, average tokens.';

-- Daily requests, tokens and cost.
create or replace function llm.daily_usage(since timestamptz default null, until timestamptz default null)
returns table (
    date date, total_requests bigint, failed_requests bigint, total_cost_usd numeric,
    total_tokens bigint
)
language sql
stable
set search_path = ''
as $$
    select
        (r.created_at at time zone llm.setting_text('period_timezone'))::date,
        count(*),
        count(*) filter (where not r.success),
        coalesce(sum(r.cost_usd), 0),
        sum(r.tokens_total)
    from llm.request_logs as r
    where r.created_at >= coalesce(daily_usage.since, '-infinity')
        and r.created_at < coalesce(daily_usage.until, 'infinity')
    group by 1
    order by 1 desc;
$$;
comment on function llm.daily_usage(timestamptz, timestamptz) is
'Requests, failures, cost and tokens per day (in the period_timezone setting) in [since, until), latest first.';

-- ---------------------------------------------------------------------------------------
-- Functions: partitions and retention
-- ---------------------------------------------------------------------------------------

-- Creates the daily partitions of a range of UTC days, moving rows that waited in the
-- default partition into their new partition.
create or replace function llm.create_request_log_partitions(
    from_day date default null, to_day date default null
)
returns setof text
language plpgsql
security definer
set search_path = ''
set lock_timeout = '5s'
as $$
declare
    v_from date := coalesce(
        create_request_log_partitions.from_day, (now() at time zone 'UTC')::date - 1
    );
    v_to date := coalesce(
        create_request_log_partitions.to_day,
        (now() at time zone 'UTC')::date + llm.setting_text('request_log_partitions_ahead')::integer
    );
    v_day date;
    v_name text;
    v_lo timestamptz;
    v_hi timestamptz;
begin
    perform llm.require_admin('create request log partitions');
    if v_to < v_from then
        raise exception 'to_day (%) is before from_day (%)', v_to, v_from using errcode = '22023';
    end if;
    if v_to - v_from > 3660 then
        raise exception 'at most 3660 partitions at once, asked for %', v_to - v_from + 1
            using errcode = '22023';
    end if;
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('llm.request_logs partitions', 0));
    v_day := v_from;
    while v_day <= v_to loop
        v_name := 'request_logs_p' || to_char(v_day, 'YYYYMMDD');
        if to_regclass('llm.' || v_name) is null then
            v_lo := v_day::timestamp at time zone 'UTC';
            v_hi := (v_day + 1)::timestamp at time zone 'UTC';
            -- built detached and attached afterwards: attaching takes a weaker lock on the
            -- parent than creating a partition in place, so logging goes on meanwhile
            execute format(
                'create table llm.%I (like llm.request_logs including defaults including constraints)',
                v_name
            );
            if exists (
                select from llm.request_logs_default as d
                where d.created_at >= v_lo and d.created_at < v_hi
            ) then
                lock table llm.request_logs_default in access exclusive mode;
                execute format(
                    'with moved as (delete from llm.request_logs_default'
                    ' where created_at >= $1 and created_at < $2 returning *)'
                    ' insert into llm.%I select * from moved',
                    v_name
                ) using v_lo, v_hi;
            end if;
            execute format(
                'alter table llm.%I add constraint %I check (created_at >= %L and created_at < %L)',
                v_name, v_name || '_bounds', v_lo, v_hi
            );
            execute format(
                'alter table llm.request_logs attach partition llm.%I for values from (%L) to (%L)',
                v_name, v_lo, v_hi
            );
            execute format('alter table llm.%I drop constraint %I', v_name, v_name || '_bounds');
            execute format('alter table llm.%I enable row level security', v_name);
            execute format('revoke all on llm.%I from public, anon, authenticated, service_role', v_name);
            return next v_name;
        end if;
        v_day := v_day + 1;
    end loop;
end;
$$;
comment on function llm.create_request_log_partitions(date, date) is
'Creates the missing daily partitions from from_day (default yesterday) to to_day (default today + request_log_partitions_ahead), UTC days, moving rows of those days out of the default partition; RLS on, no grants. Returns the partitions created. Admins and service role.';

-- Drops whole expired partitions (no DELETE bloat), never before their usage is folded.
create or replace function llm.apply_request_log_retention()
returns table (partition_name text, action text, row_count bigint, bytes bigint)
language plpgsql
security definer
set search_path = ''
set lock_timeout = '5s'
as $$
declare
    v_days integer := llm.setting_text('request_log_retention_days')::integer;
    v_cutoff timestamptz;
    v_folded timestamptz;
    v_count bigint;
    p record;
begin
    perform llm.require_admin('apply request log retention');
    if v_days <= 0 then
        return;
    end if;
    v_cutoff := ((now() at time zone 'UTC')::date - v_days)::timestamp at time zone 'UTC';
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('llm.request_logs partitions', 0));
    v_folded := llm.usage_folded_before();
    for p in
        select
            c.relname,
            (to_date(substring(c.relname from 15), 'YYYYMMDD')::timestamp at time zone 'UTC')
            + interval '1 day' as hi
        from pg_catalog.pg_inherits as i
        join pg_catalog.pg_class as c on c.oid = i.inhrelid
        where i.inhparent = 'llm.request_logs'::regclass
            and c.relname ~ '^request_logs_p\d{8}$'
        order by c.relname
    loop
        continue when p.hi > v_cutoff;
        partition_name := p.relname;
        row_count := null;
        bytes := null;
        if p.hi > v_folded then
            action := 'kept: usage not folded yet';
            return next;
            continue;
        end if;
        -- no insert is in flight once the parent is locked; then the watermark is exact
        lock table llm.request_logs in access exclusive mode;
        v_folded := llm.usage_folded_before();
        if p.hi > v_folded then
            action := 'kept: usage not folded yet';
            return next;
            continue;
        end if;
        bytes := pg_catalog.pg_total_relation_size(format('llm.%I', p.relname)::regclass);
        execute format('drop table llm.%I', p.relname);
        action := 'dropped';
        return next;
    end loop;

    -- rows that waited in the default partition expire row by row, each once folded
    delete from llm.request_logs_default as d
    where d.created_at < v_cutoff
        and not exists (select from llm.usage_journal as j where j.request_log_id = d.id);
    get diagnostics v_count = row_count;
    if v_count > 0 then
        partition_name := 'request_logs_default';
        action := 'deleted expired rows';
        row_count := v_count;
        bytes := null;
        return next;
    end if;

    -- a request id is remembered as long as its row exists
    delete from llm.request_ids as r
    where r.created_at < v_cutoff
        and not exists (
            select from llm.request_logs as l
            where l.id = r.request_log_id and l.created_at = r.created_at
        );
end;
$$;
comment on function llm.apply_request_log_retention() is
'Drops the daily partitions older than request_log_retention_days (0 keeps everything) whose usage is folded (upper bound <= llm.usage_folded_before()), deletes expired folded rows of the default partition and the request ids of dropped rows. Reports each expired partition as dropped (with the bytes freed) or kept, and the rows deleted from the default partition. Admins and service role.';

-- ---------------------------------------------------------------------------------------
-- Settings
-- ---------------------------------------------------------------------------------------

select llm.define_setting(
    'request_log_retention_days', 'integer', '90',
    'Days of raw request rows kept; older daily partitions are dropped once their usage is folded. 0 keeps everything.'
);
select llm.define_setting(
    'request_log_partitions_ahead', 'integer', '7',
    'Days ahead for which the partition job creates request log partitions.'
);
select llm.define_setting(
    'request_log_store_bodies', 'boolean', 'false',
    'Whether llm.log_request() stores request and response bodies.'
);
select llm.define_setting(
    'request_log_body_max_bytes', 'integer', '65536',
    'Largest stored request or response body (bytes of its JSON text); larger ones keep a prefix.'
);
select llm.define_setting(
    'request_log_partitions_schedule', 'cron', '"7 * * * *"',
    'When the job creating request log partitions ahead runs.'
);
select llm.define_setting(
    'request_log_retention_schedule', 'cron', '"23 3 * * *"',
    'When the request log retention job runs.'
);

-- ---------------------------------------------------------------------------------------
-- Triggers
-- ---------------------------------------------------------------------------------------

create or replace trigger model_prices_no_overlap
before insert or update on llm.model_prices
for each row execute function llm.check_model_price_overlap();

-- ---------------------------------------------------------------------------------------
-- Seeded prices: list prices in USD per million tokens (per second of audio for speech to
-- text), data users maintain. Only models without any price are seeded, so re-running
-- never touches prices you changed. Verify them against your providers' price pages.
-- ---------------------------------------------------------------------------------------

insert into llm.model_prices (
    provider, model, effective_from, input_per_mtok, output_per_mtok, cached_input_per_mtok,
    cache_write_per_mtok, per_audio_second, note
)
select
    v.provider,
    v.model,
    '2024-01-01 00:00:00+00'::timestamptz as effective_from,
    v.input_price,
    v.output_price,
    v.cached_price,
    v.cache_write_price,
    v.audio_second_price,
    'seeded list price; verify' as note
from (
    values
    ('openai', 'gpt-5', 1.25, 10.00, 0.125, null, null),
    ('openai', 'gpt-5-mini', 0.25, 2.00, 0.025, null, null),
    ('openai', 'gpt-5-nano', 0.05, 0.40, 0.005, null, null),
    ('openai', 'gpt-4.1', 2.00, 8.00, 0.50, null, null),
    ('openai', 'gpt-4.1-mini', 0.40, 1.60, 0.10, null, null),
    ('openai', 'gpt-4.1-nano', 0.10, 0.40, 0.025, null, null),
    ('openai', 'gpt-4o', 2.50, 10.00, 1.25, null, null),
    ('openai', 'gpt-4o-mini', 0.15, 0.60, 0.075, null, null),
    ('openai', 'o3', 2.00, 8.00, 0.50, null, null),
    ('openai', 'o4-mini', 1.10, 4.40, 0.275, null, null),
    ('openai', 'gpt-4', 30.00, 60.00, null, null, null),
    ('openai', 'gpt-3.5-turbo', 0.50, 1.50, null, null, null),
    ('openai', 'text-embedding-3-small', 0.02, null, null, null, null),
    ('openai', 'text-embedding-3-large', 0.13, null, null, null, null),
    ('openai', 'text-embedding-ada-002', 0.10, null, null, null, null),
    ('openai', 'whisper-1', null, null, null, null, 0.0001),
    ('openai', 'gpt-4o-transcribe', null, null, null, null, 0.0001),
    ('openai', 'gpt-4o-mini-transcribe', null, null, null, null, 0.00005),
    ('anthropic', 'claude-opus-4-5', 5.00, 25.00, 0.50, 6.25, null),
    ('anthropic', 'claude-opus-4-1', 15.00, 75.00, 1.50, 18.75, null),
    ('anthropic', 'claude-sonnet-4-5', 3.00, 15.00, 0.30, 3.75, null),
    ('anthropic', 'claude-sonnet-4', 3.00, 15.00, 0.30, 3.75, null),
    ('anthropic', 'claude-haiku-4-5', 1.00, 5.00, 0.10, 1.25, null),
    ('anthropic', 'claude-3-5-haiku', 0.80, 4.00, 0.08, 1.00, null),
    ('google', 'gemini-2.5-pro', 1.25, 10.00, 0.125, null, null),
    ('google', 'gemini-2.5-flash', 0.30, 2.50, 0.03, null, null),
    ('google', 'gemini-2.5-flash-lite', 0.10, 0.40, 0.01, null, null),
    ('google', 'gemini-2.0-flash', 0.10, 0.40, 0.025, null, null),
    ('google', 'gemini-embedding-001', 0.15, null, null, null, null)
) as v (provider, model, input_price, output_price, cached_price, cache_write_price, audio_second_price)
where not exists (
        select from llm.model_prices as p
        where p.provider = v.provider and p.model = v.model
    );

-- ---------------------------------------------------------------------------------------
-- Policies
-- ---------------------------------------------------------------------------------------

alter table llm.model_prices enable row level security;
alter table llm.request_logs enable row level security;
alter table llm.request_logs_default enable row level security;
alter table llm.request_ids enable row level security;
alter table llm.usage_journal enable row level security;
alter table llm.request_log_rejects enable row level security;

drop policy if exists "Users read model prices" on llm.model_prices;
create policy "Users read model prices" on llm.model_prices
for select to authenticated using (true);
comment on policy "Users read model prices" on llm.model_prices is
'Prices are public list prices: every signed-in user may read them.';

drop policy if exists "Admins add model prices" on llm.model_prices;
create policy "Admins add model prices" on llm.model_prices
for insert to authenticated with check ((select llm.is_admin()));
comment on policy "Admins add model prices" on llm.model_prices is
'Package admins maintain the price registry.';

drop policy if exists "Admins change model prices" on llm.model_prices;
create policy "Admins change model prices" on llm.model_prices
for update to authenticated using ((select llm.is_admin())) with check ((select llm.is_admin()));
comment on policy "Admins change model prices" on llm.model_prices is
'Package admins correct prices and their periods.';

drop policy if exists "Admins delete model prices" on llm.model_prices;
create policy "Admins delete model prices" on llm.model_prices
for delete to authenticated using ((select llm.is_admin()));
comment on policy "Admins delete model prices" on llm.model_prices is
'Package admins remove wrong prices.';

drop policy if exists "Users read their own requests" on llm.request_logs;
create policy "Users read their own requests" on llm.request_logs
for select to authenticated using (user_id = (select auth.uid()));
comment on policy "Users read their own requests" on llm.request_logs is
'A signed-in user sees the requests logged for them.';

drop policy if exists "Admins read all requests" on llm.request_logs;
create policy "Admins read all requests" on llm.request_logs
for select to authenticated using ((select llm.is_admin()));
comment on policy "Admins read all requests" on llm.request_logs is
'Package admins see every logged request.';

drop policy if exists "Admins read request ids" on llm.request_ids;
create policy "Admins read request ids" on llm.request_ids
for select to authenticated using ((select llm.is_admin()));
comment on policy "Admins read request ids" on llm.request_ids is
'Package admins see which client request ids were logged.';

drop policy if exists "Users read their own usage journal" on llm.usage_journal;
create policy "Users read their own usage journal" on llm.usage_journal
for select to authenticated using (user_id = (select auth.uid()));
comment on policy "Users read their own usage journal" on llm.usage_journal is
'A signed-in user sees their own not yet folded usage.';

drop policy if exists "Admins read the usage journal" on llm.usage_journal;
create policy "Admins read the usage journal" on llm.usage_journal
for select to authenticated using ((select llm.is_admin()));
comment on policy "Admins read the usage journal" on llm.usage_journal is
'Package admins see all not yet folded usage.';

drop policy if exists "Admins read rejected requests" on llm.request_log_rejects;
create policy "Admins read rejected requests" on llm.request_log_rejects
for select to authenticated using ((select llm.is_admin()));
comment on policy "Admins read rejected requests" on llm.request_log_rejects is
'Package admins inspect dead-lettered request payloads.';

drop policy if exists "Admins delete rejected requests" on llm.request_log_rejects;
create policy "Admins delete rejected requests" on llm.request_log_rejects
for delete to authenticated using ((select llm.is_admin()));
comment on policy "Admins delete rejected requests" on llm.request_log_rejects is
'Package admins remove dead letters they have dealt with.';

-- ---------------------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------------------

revoke all on llm.model_prices, llm.request_logs, llm.request_logs_default, llm.request_ids,
llm.usage_journal, llm.request_log_rejects from anon, authenticated, service_role;
revoke all on sequence llm.request_logs_id_seq from anon, authenticated, service_role;
grant select on llm.request_logs, llm.usage_journal, llm.request_ids to authenticated, service_role;
grant select, insert, update, delete on llm.model_prices to authenticated, service_role;
grant select, delete on llm.request_log_rejects to authenticated, service_role;

revoke execute on all functions in schema llm from public, anon;
grant execute on function
llm.estimate_cost(text, text, integer, integer, integer, integer, numeric, timestamptz),
llm.set_model_price(text, text, timestamptz, numeric, numeric, numeric, numeric, numeric, numeric, text),
llm.recompute_costs(timestamptz, timestamptz),
llm.unpriced_models(timestamptz, timestamptz),
llm.cost_by_user(timestamptz, timestamptz),
llm.error_rate_by_model(timestamptz, timestamptz),
llm.latency_by_model(timestamptz, timestamptz),
llm.daily_usage(timestamptz, timestamptz),
llm.create_request_log_partitions(date, date),
llm.apply_request_log_retention()
to authenticated, service_role;
grant execute on function
llm.log_request(
    text, text, text, text, integer, integer, integer, numeric, integer, boolean, integer, text,
    boolean, text, uuid, uuid, jsonb, integer, integer, numeric, integer, text, uuid, text, text,
    jsonb, jsonb, timestamptz, uuid
),
llm.log_requests(jsonb),
llm.try_log_requests(jsonb),
llm.usage_folded_before()
to service_role;

-- ---------------------------------------------------------------------------------------
-- Jobs
-- ---------------------------------------------------------------------------------------

select llm.register_job(
    'llm_request_log_partitions', 'request_log_partitions_schedule',
    'select llm.create_request_log_partitions()',
    'Creates request log partitions ahead and moves waiting rows out of the default partition.'
);
select llm.register_job(
    'llm_request_log_retention', 'request_log_retention_schedule',
    'select llm.apply_request_log_retention()',
    'Drops request log partitions past retention whose usage is folded.'
);

-- The first partitions, so logging starts in them rather than in the default partition.
select llm.create_request_log_partitions();
