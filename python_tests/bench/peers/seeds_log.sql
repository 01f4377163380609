-- Peer: the seeds' design, first request of two: the request's log row.
-- pgbench variable :u is the user (1 to :users).

insert into seeds.llm_request_logs (
    user_id, request_type, provider, model, prompt_tokens, completion_tokens, tokens_total,
    cost_usd, latency_ms, success, metadata
)
values (
    '00000000-0000-4000-8000-' || lpad(:u::text, 12, '0'), 'chat', 'openai', 'gpt-4o-mini',
    1200, 300, 1500, 0.00036, 850, true, '{"feature": "chat"}'
);
