-- Demo data of the request log: a week of requests of the demo users over several providers
-- and models, with failures, cache hits, transcriptions and a model without a price.
-- Every request carries a request_id, so running this again logs nothing twice.

select llm.create_request_log_partitions(current_date - 7, current_date);

with models as (
    select
        v.n,
        v.provider,
        v.model,
        v.kind,
        v.base_latency
    from (
        values
        (0, 'openai', 'gpt-4o-mini', 'chat', 400),
        (1, 'openai', 'gpt-4.1', 'chat', 900),
        (2, 'anthropic', 'claude-sonnet-4-5', 'chat', 1100),
        (3, 'google', 'gemini-2.5-flash', 'chat', 500),
        (4, 'openai', 'text-embedding-3-small', 'embedding', 60),
        (5, 'openai', 'whisper-1', 'transcription', 2500),
        (6, 'local', 'llama-3.1-8b-instruct', 'chat', 700),
        (7, 'openai', 'gpt-4o-mini', 'chat', 400)
    ) as v (n, provider, model, kind, base_latency)
),

demo as (
    select
        g.i,
        m.provider,
        m.model,
        m.kind,
        m.base_latency,
        (array[
            '00000000-0000-4000-8000-00000000a11c',
            '00000000-0000-4000-8000-000000000b0b',
            '00000000-0000-4000-8000-00000000ca01',
            'user-123'
        ])[1 + (g.i / 3) % 4] as user_id,
        g.i % 13 = 0 as failed
    from generate_series(1, 240) as g (i)
    inner join models as m on m.n = g.i % 8
)

select
    llm.log_request(
        provider => d.provider,
        model => d.model,
        request_type => d.kind,
        user_id => d.user_id,
        prompt_tokens => case when d.kind = 'transcription' then 0 else 200 + (d.i * 37) % 1800 end,
        completion_tokens => case when d.kind = 'chat' then 50 + (d.i * 53) % 700 else 0 end,
        cached_tokens => case when d.kind = 'chat' and d.i % 3 = 0 then 100 else 0 end,
        audio_seconds => case when d.kind = 'transcription' then 20 + d.i % 90 end,
        latency_ms => d.base_latency + (d.i * 97) % 900,
        time_to_first_token_ms => case when d.kind = 'chat' then 150 + (d.i * 31) % 400 end,
        success => not d.failed,
        status_code => case when d.failed then 429 else 200 end,
        error_type => case when d.failed then 'rate_limit' end,
        error_message => case when d.failed then 'Rate limit reached for requests' end,
        cache_hit => d.kind = 'chat' and d.i % 9 = 0 and not d.failed,
        request_id => 'demo-' || d.i,
        created_at => now() - d.i * interval '41 minutes',
        service => case when d.kind = 'embedding' then 'documents' else 'chat' end,
        operation => case d.kind when 'embedding' then 'index' when 'transcription' then 'voice' else 'reply' end,
        metadata => jsonb_build_object('demo', true)
    ) as request_log_id
from demo as d;
