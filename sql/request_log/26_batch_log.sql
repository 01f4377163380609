-- Logging a batch set-based: its items written in one statement, retries and refusals told apart.

-- The work of llm.log_requests and llm.try_log_requests. One statement takes the items as
-- llm.request_batch_items() reads them, claims their request ids and writes the request rows
-- and their journal rows (shared by requests usage cannot tell apart); the single-row path is
-- run only on an item the set-based check refuses, to raise or record its exact error. An item
-- whose request id was logged first (by an earlier item, an earlier call, another transaction)
-- is a retry of that request (same user) or refused with 23505 (another user), as
-- llm.log_request() does; claims are taken in request id order, so concurrent batches never
-- deadlock on them. User aliases are stored and reservations settled as llm.log_request()
-- stores and settles them.
create or replace function llm.log_request_batch(
    p_requests jsonb,
    p_dead_letter boolean,
    out ids bigint[],
    out reject_ids bigint[],
    out sqlstates text[],
    out errors text[]
)
language plpgsql
set search_path = ''
-- the statement is planned once per session (a custom plan per call costs as much as the work)
set plan_cache_mode = force_generic_plan
as $$
declare
    -- per item, in input order. v_state: 'f' logged here, 'r' a retry of a request id logged
    -- first (its id is that request's), 'c' a request id logged for another user, 'b' bad
    v_state text[];
    v_id bigint[];
    v_rid text[];
    v_user uuid[];
    v_alias text[];
    v_reservation uuid[];
    v_tokens bigint[];
    v_cost numeric[];
    v_missed boolean;
    v_any_alias boolean;
    v_any_reservation boolean;
    v_k integer;
    v_first integer;
    v_code text;
    v_message text;
    v_hint text;
    v_reject_id bigint;
begin
    with items as materialized (
        select * from llm.request_batch_items(p_requests)
    ),

    -- a batch logs all or nothing: one bad item and nothing is written here
    writing as (
        select p_dead_letter or not exists (select from items as b where b.state = 'b') as ok
    ),

    -- the first item (in input order) of each request id not logged yet claims it; the
    -- others are retries or refused, told apart after this statement
    claimed as (
        insert into llm.request_ids as q (request_id, request_log_id, user_id, created_at)
        select k.request_id, k.id, k.user_id, k.at
        from items as k
        where k.state = 'f' and k.request_id is not null and (select w.ok from writing as w)
        -- one order for every writer: concurrent batches wait for each other, never deadlock
        order by k.request_id collate "C", k.idx
        on conflict do nothing
        returning q.request_log_id
    ),

    logged as (
        select
            k.*,
            coalesce(k.total_tokens, coalesce(k.prompt_tokens, 0) + coalesce(k.completion_tokens, 0))
            as tokens,
            case when k.cache_hit then 0 else coalesce(k.cost_usd, k.price) end as cost
        from items as k
        where k.state = 'f'
            and (select w.ok from writing as w)
            and (k.request_id is null or k.id in (select c.request_log_id from claimed as c))
    ),

    request_rows as (
        insert into llm.request_logs (
            id, created_at, request_id, user_id, request_type, provider, model,
            conversation_id, message_id, agent_id, prompt_tokens, completion_tokens,
            cached_tokens, cache_write_tokens, tokens_total, audio_seconds, cost_usd,
            cost_source, saved_cost_usd, latency_ms, time_to_first_token_ms, success,
            status_code, error_type, error_message, cache_hit, service, operation, metadata,
            request_body, response_body, reservation_id
        )
        select
            l.id, l.at, l.request_id, l.user_id, l.request_type::llm.request_type, l.provider,
            l.model, l.conversation_id, l.message_id, l.agent_id, coalesce(l.prompt_tokens, 0),
            coalesce(l.completion_tokens, 0), coalesce(l.cached_tokens, 0),
            coalesce(l.cache_write_tokens, 0), l.tokens, l.audio_seconds, l.cost,
            case
                when l.cache_hit then 'cache_hit'
                when l.cost_usd is not null then 'caller'
                when l.price is not null then 'registry'
                else 'unpriced'
            end,
            case when l.cache_hit then l.price end,
            l.latency_ms, l.time_to_first_token_ms, l.success, l.status_code, l.error_type,
            l.error_message, l.cache_hit, l.service, l.operation, l.metadata,
            -- bodies are kept only when the setting says so (read once, when a body comes)
            case
                when (l.request_body is not null or l.response_body is not null)
                    and (select llm_private.setting_text('request_log_store_bodies')::boolean)
                    then llm.capped_body(l.request_body)
            end,
            case
                when (l.request_body is not null or l.response_body is not null)
                    and (select llm_private.setting_text('request_log_store_bodies')::boolean)
                    then llm.capped_body(l.response_body)
            end,
            l.reservation_id
        from logged as l
    ),

    -- a journal row per group of requests usage cannot tell apart (requests = how many: a hot
    -- user's batch is one row); a request without a user, or whose token counts could make the
    -- sums exceed the journal's integers, has its own
    journal_rows as (
        insert into llm.usage_journal (
            request_log_id, occurred_at, user_id, provider, model, request_type, requests,
            prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens, total_tokens,
            audio_seconds, cost_usd, success, cache_hit, saved_tokens, saved_cost_usd,
            conversation_id, agent_id, reservation_id
        )
        select
            min(l.id), l.at, l.user_id, l.provider, l.model, l.request_type::llm.request_type, count(*),
            sum(case when l.cache_hit then 0 else coalesce(l.prompt_tokens, 0) end),
            sum(case when l.cache_hit then 0 else coalesce(l.completion_tokens, 0) end),
            sum(case when l.cache_hit then 0 else coalesce(l.cached_tokens, 0) end),
            sum(case when l.cache_hit then 0 else coalesce(l.cache_write_tokens, 0) end),
            sum(case when l.cache_hit then 0 else l.tokens end),
            sum(l.audio_seconds), sum(l.cost), l.success, l.cache_hit,
            sum(case when l.cache_hit then l.tokens else 0 end),
            sum(case when l.cache_hit then l.price end),
            l.conversation_id, l.agent_id, l.reservation_id
        from logged as l
        group by
            l.at, l.user_id, l.provider, l.model, l.request_type, l.success, l.cache_hit,
            l.conversation_id, l.agent_id, l.reservation_id,
            -- unknown stays unknown: a NULL cost, audio length or saving is not summed with others
            l.cost is null, l.audio_seconds is null, (case when l.cache_hit then l.price end) is null,
            case
                when l.user_id is null or greatest(
                    l.prompt_tokens, l.completion_tokens, l.cached_tokens, l.cache_write_tokens, l.tokens
                ) > 2147483647 / jsonb_array_length(p_requests) then l.id
            end
    )

    select
        array_agg(k.state),
        array_agg(case when k.state = 'f' then k.id end),
        array_agg(k.request_id),
        array_agg(k.user_id),
        array_agg(case when not k.user_is_uuid then k.user_text end),
        array_agg(k.reservation_id),
        -- what a reservation is settled with: the billed tokens and cost; 0 for a retry
        array_agg(
            case
                when k.state = 'f' and not k.cache_hit
                    then coalesce(
                        k.total_tokens, coalesce(k.prompt_tokens, 0) + coalesce(k.completion_tokens, 0)
                    )::bigint
                else 0
            end
        ),
        array_agg(
            case
                when k.state = 'f' and not k.cache_hit then coalesce(k.cost_usd, k.price)
                else 0
            end
        ),
        -- a request id logged before, by another transaction meanwhile or by an earlier item
        coalesce(
            bool_or(
                k.state = 'f' and k.request_id is not null
                and k.id not in (select c.request_log_id from claimed as c)
            ) filter (where (select w.ok from writing as w)),
            false
        ),
        coalesce(bool_or(k.state = 'f' and not k.user_is_uuid and k.user_text is not null), false),
        coalesce(bool_or(k.state = 'f' and k.reservation_id is not null), false)
    into
        v_state, v_id, v_rid, v_user, v_alias, v_reservation, v_tokens, v_cost, v_missed,
        v_any_alias, v_any_reservation
    -- in input order: the aggregates keep the order of their input
    from (select x.* from items as x order by x.idx) as k;

    if v_state is null then
        ids := '{}';  -- an empty batch
        return;
    end if;

    if not p_dead_letter and 'b' = any(v_state) then
        -- the single-row path raises the first bad item's exact error; the items before it
        -- that carry a request id go first, since one of them may be refused (23505) first
        v_first := array_position(v_state, 'b');
        for v_k in
            select s.o from unnest(v_rid) with ordinality as s (rid, o)
            where s.o = v_first or (s.o < v_first and s.rid is not null)
            order by s.o
        loop
            begin
                perform llm.log_request_json(p_requests -> (v_k - 1));
            exception when others then
                get stacked diagnostics v_code = returned_sqlstate, v_message = message_text,
                    v_hint = pg_exception_hint;
                perform llm_private.raise_item_error(
                    format('requests[%s]', v_k - 1), v_code, v_message, v_hint
                );
            end;
        end loop;
        -- not reached: the set-based check refuses only what the single-row path refuses
        raise exception 'requests[%]: refused by the batch check but not by llm.log_request()',
            v_first - 1
            using errcode = 'XX000';
    end if;

    if v_missed then
        -- each item whose request id was logged first by another (an earlier item, an earlier
        -- call, another transaction meanwhile) is a retry of that request or, for another
        -- user, refused
        with prior as (
            select distinct on (s.rid) s.rid, q.request_log_id, q.user_id
            from unnest(v_state, v_rid) as s (state, rid)
            left join llm.request_ids as q on q.request_id = s.rid
            where s.state = 'f' and s.rid is not null
            order by s.rid
        ),

        judged as (
            select
                s.o, s.id, s.tokens, s.cost, p.request_log_id,
                case
                    when s.state <> 'f' or p.rid is null or s.id = p.request_log_id then s.state
                    when s.usr is not distinct from p.user_id then 'r'
                    else 'c'
                end as state
            from unnest(v_state, v_id, v_rid, v_user, v_tokens, v_cost)
                with ordinality as s (state, id, rid, usr, tokens, cost, o)
            left join prior as p on p.rid = s.rid
        )

        select
            array_agg(j.state order by j.o),
            array_agg(case j.state when 'f' then j.id when 'r' then j.request_log_id end order by j.o),
            array_agg(case when j.state = 'f' then j.tokens else 0 end order by j.o),
            array_agg(case when j.state = 'f' then j.cost else 0 end order by j.o)
        into v_state, v_id, v_tokens, v_cost
        from judged as j;
    end if;

    if not p_dead_letter and 'c' = any(v_state) then
        v_first := array_position(v_state, 'c');
        raise exception 'requests[%]: request_id % was already logged for another user',
            v_first - 1, quote_literal(v_rid[v_first])
            using errcode = '23505';
    end if;

    -- what llm.user_uuid() remembers for the items logged or retried: the identifier behind
    -- a UUID v5, once
    if v_any_alias and llm.is_backend() then
        insert into llm.user_aliases (user_id, identifier)
        select distinct on (s.usr) s.usr, s.alias
        from unnest(v_state, v_user, v_alias) as s (state, usr, alias)
        where s.alias is not null and s.state in ('f', 'r')
            and not exists (select from llm.user_aliases as a where a.user_id = s.usr)
        -- one order for every writer, so concurrent batches never deadlock
        order by s.usr
        on conflict do nothing;
    end if;

    -- the journal rows written settled their reservations (llm.quota_escrow_on_usage); a
    -- retry's reservation is settled with nothing more, as llm.log_request() settles it
    if v_any_reservation then
        perform llm.settle_reservation(s.res, s.usr, s.id, s.tokens, s.cost)
        from unnest(v_state, v_reservation, v_user, v_id, v_tokens, v_cost)
            with ordinality as s (state, res, usr, id, tokens, cost, o)
        where s.res is not null and s.state = 'r'
        order by s.o;
    end if;

    if p_dead_letter then
        -- each item that is not logged goes to the dead letter with its error: the single-row
        -- path says which (only these items are looked at one by one)
        for v_k in
            select s.o from unnest(v_state) with ordinality as s (state, o)
            where s.state in ('b', 'c')
            order by s.o
        loop
            if v_state[v_k] = 'c' then
                v_code := '23505';
                v_message := format(
                    'request_id %s was already logged for another user', quote_literal(v_rid[v_k])
                );
            else
                begin
                    v_id[v_k] := llm.log_request_json(p_requests -> (v_k - 1));
                    -- not reached: the set-based check refuses only what this path refuses
                    continue;
                exception when others then
                    get stacked diagnostics v_code = returned_sqlstate, v_message = message_text;
                end;
            end if;
            insert into llm.request_log_rejects as x (payload, sqlstate, error)
            values (p_requests -> (v_k - 1), v_code, v_message)
            returning x.id into v_reject_id;
            reject_ids[v_k] := v_reject_id;
            sqlstates[v_k] := v_code;
            errors[v_k] := v_message;
        end loop;
    end if;

    ids := v_id;
end;
$$;
comment on function llm.log_request_batch(jsonb, boolean) is
'Logs a JSON array of request objects set-based, as llm.log_request_json() would log each in turn; returns per item, in input order, its id (ids) or, with p_dead_letter, the llm.request_log_rejects id, SQLSTATE and error of an item it could not log. Without p_dead_letter a bad item raises its error prefixed with requests[i] (0-based) and nothing is logged. Internal: called by llm.log_requests() and llm.try_log_requests().';
