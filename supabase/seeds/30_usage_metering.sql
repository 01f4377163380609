-- Demo usage: requests of alice, bob and user-123 over the last days, quotas (a soft daily
-- default for everyone, a hard daily token limit on bob, a monthly budget on alice), one chat
-- turn of bob recorded atomically with its reservation, bob's next reservation refused by his
-- hard quota, and a request logged without reservation that puts him over it. Runs as a
-- backend through the public API; request ids make it re-runnable.

select llm.set_user_quota(null, 'daily', 50000, null, null, false);
select llm.set_user_quota('00000000-0000-4000-8000-000000000b0b', 'daily', 4000, null, null, true);
select llm.set_user_quota('00000000-0000-4000-8000-00000000a11c', 'monthly', null, 5, null, true);

select
    llm.log_request(
        provider => v.provider,
        model => v.model,
        request_type => v.request_type,
        user_id => v.user_id,
        prompt_tokens => v.prompt_tokens,
        completion_tokens => v.completion_tokens,
        success => v.success,
        cache_hit => v.cache_hit,
        request_id => v.request_id,
        created_at => now() - v.days_ago * interval '1 day',
        conversation_id => v.conversation_id,
        latency_ms => 800
    )
from (
    values
    ('demo-usage-01', '00000000-0000-4000-8000-00000000a11c', 'openai', 'gpt-4o', 'chat', 1200, 350, true, false, 0, '00000000-0000-4000-8000-00000000c001'),
    ('demo-usage-02', '00000000-0000-4000-8000-00000000a11c', 'anthropic', 'claude-sonnet-4', 'chat', 3000, 900, true, false, 0, null),
    ('demo-usage-03', '00000000-0000-4000-8000-00000000a11c', 'openai', 'gpt-4o', 'chat', 1200, 350, true, true, 1, '00000000-0000-4000-8000-00000000c001'),
    ('demo-usage-04', '00000000-0000-4000-8000-00000000a11c', 'openai', 'text-embedding-3-small', 'embedding', 8000, 0, true, false, 2, null),
    ('demo-usage-05', '00000000-0000-4000-8000-00000000a11c', 'openai', 'gpt-4o', 'chat', 900, 400, true, false, 5, null),
    ('demo-usage-06', '00000000-0000-4000-8000-000000000b0b', 'openai', 'gpt-4o-mini', 'chat', 1100, 400, true, false, 0, '00000000-0000-4000-8000-00000000c003'),
    ('demo-usage-07', '00000000-0000-4000-8000-000000000b0b', 'openai', 'gpt-4o-mini', 'chat', 300, 0, false, false, 0, null),
    ('demo-usage-08', '00000000-0000-4000-8000-000000000b0b', 'google', 'gemini-2.5-flash', 'chat', 2500, 600, true, false, 3, null)
) as v (
    request_id, user_id, provider, model, request_type, prompt_tokens, completion_tokens,
    success, cache_hit, days_ago, conversation_id
);

-- The seed API, as a backend calls it for user-123.
select llm.record_token_usage(
    'user-123', 500, 'openai', 'gpt-4',
    '{"endpoint": "chat/completions", "prompt_tokens": 100, "completion_tokens": 400, "request_id": "demo-usage-09"}'
);

do $$
declare
    v_reservation uuid;
begin
    -- a turn of bob's trip planning: reserve, call the model, record message and usage at once
    if exists (select from llm.conversations where id = '00000000-0000-4000-8000-00000000c003')
        and not exists (select from llm.request_ids where request_id = 'demo-usage-10') then
        begin
            v_reservation := llm.reserve_quota('00000000-0000-4000-8000-000000000b0b', 400, 0);
        exception when sqlstate 'PT429' then
            raise notice 'no reservation for the demo turn: %', sqlerrm;
        end;
        perform llm.record_completion(
            conversation_id => '00000000-0000-4000-8000-00000000c003',
            content => 'Day 3: Sintra and Cascais.',
            provider => 'openai',
            model => 'gpt-4o-mini',
            prompt_tokens => 120,
            completion_tokens => 260,
            reservation_id => v_reservation,
            request_id => 'demo-usage-10'
        );
    end if;
    -- bob has used most of his hard daily limit: a large reservation is refused (HTTP 429)
    begin
        v_reservation := llm.reserve_quota('00000000-0000-4000-8000-000000000b0b', 1000, 0);
        perform llm.release_reservation(v_reservation);
        raise notice 'bob''s reservation was granted (his daily usage was reset) and released';
    exception when sqlstate 'PT429' then
        raise notice 'quota enforced: %', sqlerrm;
    end;
end
$$;

-- logging is never refused: a request bob's backend made without a reservation still counts,
-- and puts him over his limit (check_user_quota reports it; reservations are refused)
select llm.log_request(
    'openai', 'gpt-4o-mini', user_id => '00000000-0000-4000-8000-000000000b0b',
    prompt_tokens => 600, completion_tokens => 400, request_id => 'demo-usage-11'
);

select llm.fold_usage();
