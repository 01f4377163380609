-- Demo data of the response cache: answers cached globally, for user-123 and in the docs
-- namespace, then looked up the way a request handler does (hits and misses), so the
-- report shows hit rates and the tokens and money the hits saved. Safe to re-run: the demo
-- traffic is only played once.

do $$
begin
    if exists (
        select from llm.response_cache where prompt = 'Explain BigQuery partitioning'
    ) then
        return;
    end if;

    perform llm.cache_llm_response(
        prompt => 'Explain BigQuery partitioning',
        provider => 'openai',
        model => 'gpt-4',
        response => 'BigQuery partitioning is a technique that divides a table into segments...',
        metadata => '{"tokens": 250, "finish_reason": "stop", "completion_tokens": 200, "prompt_tokens": 50}',
        parameters => '{"temperature": 0.7, "max_tokens": 500}',
        ttl_hours => 168,
        cost_usd => 0.0135,
        embedding => array_fill(0.05::real, array[384])::extensions.vector
    );
    perform llm.cache_llm_response(
        prompt => '[{"role": "user", "content": "What are the top 10 products by revenue?"}]',
        provider => 'openai',
        model => 'gpt-4o-mini',
        response => 'Here is the query to get the top 10 products...',
        metadata => '{"prompt_tokens": 14, "completion_tokens": 120, "cost_usd": 0.000074}',
        user_id => 'user-123'
    );
    perform llm.cache_llm_response(
        prompt => 'How do I enable row level security?',
        provider => 'anthropic',
        model => 'claude-3-5-haiku',
        response => 'Run alter table ... enable row level security, then add policies.',
        metadata => '{"prompt_tokens": 9, "completion_tokens": 60, "cost_usd": 0.00025}',
        namespace => 'docs',
        ttl_hours => 24
    );

    -- traffic: the same questions again (hits, parameters in another order) and new ones (misses)
    for i in 1..4 loop
        perform llm.get_cached_llm_response(
            'Explain BigQuery partitioning', 'openai', 'gpt-4', '{"max_tokens": 500, "temperature": 0.70}'
        );
    end loop;
    for i in 1..2 loop
        -- each hit is logged as a zero-cost request: its savings reach user-123's usage
        perform llm.log_cache_hit(
            entry_id => (
                llm.get_cached_llm_response(
                    '[{"content": "What are the top 10 products by revenue?", "role": "user"}]',
                    'openai', 'gpt-4o-mini', user_id => 'user-123'
                ) ->> 'id'
            )::uuid,
            request_id => 'demo-cache-hit-' || i
        );
    end loop;
    perform llm.get_cached_llm_response(
        'How do I enable row level security?', 'anthropic', 'claude-3-5-haiku', namespace => 'docs'
    );
    perform llm.get_cached_llm_response(
        'Explain BigQuery clustering', 'openai', 'gpt-4', '{"max_tokens": 500, "temperature": 0.7}'
    );
    perform llm.get_cached_llm_response(
        'How do I write a policy?', 'anthropic', 'claude-3-5-haiku', namespace => 'docs'
    );
end
$$;
