-- The model price registry: prices with effective dates.

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
alter table llm.model_prices enable row level security;
revoke all on llm.model_prices from anon, authenticated, service_role;
grant select, insert, update, delete on llm.model_prices to authenticated, service_role;
