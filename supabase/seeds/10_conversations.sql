-- Demo conversations: a chat session of alice with a regenerated answer (two branches), a
-- conversation of the backend user user-123 with its client id and a TTL, and one of bob.
-- Runs as a backend through the public API, so counters and order are what clients get.
-- Safe to re-run: each conversation is created only when its id is not there yet.

do $$
declare
    v_question uuid;
    v_answer uuid;
begin
    if not exists (
        select from llm.conversations where id = '00000000-0000-4000-8000-00000000c001'
    ) then
        perform llm.create_conversation(
            user_id => '00000000-0000-4000-8000-00000000a11c',
            conversation_id => '00000000-0000-4000-8000-00000000c001',
            ttl_hours => 0,
            metadata => '{"context": "analyzing sales data"}',
            title => 'BigQuery analysis'
        );
        perform llm.add_message(
            '00000000-0000-4000-8000-00000000c001', 'system', 'You write BigQuery SQL.'
        );
        v_question := (llm.add_message(
            '00000000-0000-4000-8000-00000000c001', 'user',
            'What are the top 10 products by revenue?', '{"tokens": 12}'
        )).id;
        v_answer := (llm.add_message(
            '00000000-0000-4000-8000-00000000c001', 'assistant',
            'select product, sum(revenue) from sales group by 1 order by 2 desc limit 10',
            '{"model": "gpt-4", "prompt_tokens": 40, "completion_tokens": 110}'
        )).id;
        perform llm.edit_message(
            v_answer,
            'select product, sum(revenue) as revenue from sales group by product '
            || 'order by revenue desc limit 10',
            '{"model": "gpt-4", "prompt_tokens": 40, "completion_tokens": 95, "regenerated": true}'
        );
        perform llm.add_message(
            '00000000-0000-4000-8000-00000000c001', 'user', 'Thanks, and by region?'
        );
        perform llm.add_conversation_summary(
            '00000000-0000-4000-8000-00000000c001', 'Top products by revenue in BigQuery.',
            '["revenue ranking", "group by product"]'
        );
    end if;

    if not exists (select from llm.conversations where external_id = 'conv-demo-bus') then
        perform llm.create_conversation(
            user_id => 'user-123', conversation_id => 'conv-demo-bus', ttl_hours => 24 * 365
        );
        perform llm.add_message('conv-demo-bus', 'user', 'How is line 999?');
        perform llm.add_message(
            'conv-demo-bus', 'assistant', 'Line 999 runs on time.',
            '{"model": "gemma-2-27b-it", "tokens": 150, "duration_ms": 1200}'
        );
    end if;

    if not exists (
        select from llm.conversations where id = '00000000-0000-4000-8000-00000000c003'
    ) then
        perform llm.create_conversation(
            user_id => '00000000-0000-4000-8000-000000000b0b',
            conversation_id => '00000000-0000-4000-8000-00000000c003',
            ttl_hours => 0,
            title => 'Trip planning'
        );
        perform llm.add_message(
            '00000000-0000-4000-8000-00000000c003', 'user', 'Plan a weekend in Lisbon.'
        );
        perform llm.add_message(
            '00000000-0000-4000-8000-00000000c003', 'assistant', 'Day 1: Alfama. Day 2: Belem.',
            tokens => 64
        );
    end if;
end
$$;
