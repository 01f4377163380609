-- Seeded prices: list prices in USD per million tokens (per second of audio for speech to text).

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
