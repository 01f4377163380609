-- A batch of chat turns in one call: what a gateway that buffers its turns sends.

-- Records each turn as llm.record_completion() does, in input order (two turns of one
-- conversation append in that order), all in one transaction: one bad turn and nothing is
-- stored. Turns are recorded one after another, not as one set: each appends a message to
-- its conversation's branch under the conversation's lock.
create or replace function llm.record_completions(completions jsonb)
returns table (message_id uuid, request_log_id bigint)
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_turn jsonb;
    v_position integer;
    v_unknown text;
    v_code text;
    v_message text;
    v_hint text;
begin
    if jsonb_typeof(record_completions.completions) is distinct from 'array' then
        raise exception 'completions must be a JSON array of turn objects, got %',
            coalesce(jsonb_typeof(record_completions.completions), 'NULL')
            using errcode = '22023';
    end if;
    for v_turn, v_position in
        select t.value, t.o - 1 from jsonb_array_elements(record_completions.completions)
            with ordinality as t (value, o)
        order by t.o
    loop
        begin
            if jsonb_typeof(v_turn) is distinct from 'object' then
                raise exception 'a turn must be a JSON object, got %', v_turn
                    using errcode = '22023';
            end if;
            select string_agg(k, ', ' order by k) into v_unknown
            from jsonb_object_keys(v_turn) as k
            where k not in (
                'conversation_id', 'content', 'provider', 'model', 'prompt_tokens',
                'completion_tokens', 'reservation_id', 'request_id', 'user_id', 'cached_tokens',
                'total_tokens', 'cost_usd', 'latency_ms', 'agent_id', 'metadata',
                'request_metadata'
            );
            if v_unknown is not null then
                raise exception 'unknown turn field(s): %', v_unknown using errcode = '22023';
            end if;
            select r.message_id, r.request_log_id
            into record_completions.message_id, record_completions.request_log_id
            from llm.record_completion(
                conversation_id => llm.request_field(v_turn, 'conversation_id', 'text'),
                content => llm.request_field(v_turn, 'content', 'text'),
                provider => llm.request_field(v_turn, 'provider', 'text'),
                model => llm.request_field(v_turn, 'model', 'text'),
                prompt_tokens => coalesce(llm.request_field(v_turn, 'prompt_tokens', 'integer')::integer, 0),
                completion_tokens => coalesce(
                    llm.request_field(v_turn, 'completion_tokens', 'integer')::integer, 0
                ),
                reservation_id => llm.request_field(v_turn, 'reservation_id', 'uuid')::uuid,
                request_id => llm.request_field(v_turn, 'request_id', 'text'),
                user_id => llm.request_field(v_turn, 'user_id', 'text'),
                cached_tokens => coalesce(llm.request_field(v_turn, 'cached_tokens', 'integer')::integer, 0),
                total_tokens => llm.request_field(v_turn, 'total_tokens', 'integer')::integer,
                cost_usd => llm.request_field(v_turn, 'cost_usd', 'number')::numeric,
                latency_ms => llm.request_field(v_turn, 'latency_ms', 'integer')::integer,
                agent_id => llm.request_field(v_turn, 'agent_id', 'uuid')::uuid,
                metadata => nullif(v_turn -> 'metadata', 'null'),
                request_metadata => coalesce(nullif(v_turn -> 'request_metadata', 'null'), '{}')
            ) as r;
        exception when others then
            get stacked diagnostics v_code = returned_sqlstate, v_message = message_text,
                v_hint = pg_exception_hint;
            perform llm_private.raise_item_error(
                format('completions[%s]', v_position), v_code, v_message, v_hint
            );
        end;
        return next;
    end loop;
end;
$$;
comment on function llm.record_completions(jsonb) is
'Records a JSON array of chat turns (keys as the parameters of llm.record_completion) in one transaction, in input order, and returns each turn''s message_id and request_log_id in that order. A bad turn raises its own SQLSTATE with its message prefixed by completions[i] (0-based), and nothing of the batch is stored; a retried turn (same request_id) returns the first one''s ids. Service role only.';
grant execute on function llm.record_completions(jsonb) to service_role;
