-- Resumable backfills and the legacy usage importer.

-- Registers a resumable recompute of a range of days for every user.
create or replace function llm_private.start_usage_backfill(
    from_day date, to_day date, batch_periods integer default 7
)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_id bigint;
begin
    perform llm.require_admin('backfill usage');
    perform llm.check_day_range(
        start_usage_backfill.from_day, start_usage_backfill.to_day, 'from_day', 'to_day'
    );
    if start_usage_backfill.to_day < start_usage_backfill.from_day then
        raise exception 'to_day (%) is before from_day (%)', start_usage_backfill.to_day, start_usage_backfill.from_day
            using errcode = '22023';
    end if;
    if start_usage_backfill.batch_periods is null
        or start_usage_backfill.batch_periods not between 1 and 366 then
        raise exception 'batch_periods must be between 1 and 366, got %',
            coalesce(start_usage_backfill.batch_periods::text, 'NULL')
            using errcode = '22023';
    end if;
    insert into llm.usage_backfills as b (from_day, to_day, batch_periods)
    values (start_usage_backfill.from_day, start_usage_backfill.to_day, start_usage_backfill.batch_periods)
    returning b.id into v_id;
    return v_id;
end;
$$;
comment on function llm_private.start_usage_backfill(
    date, date, integer
) is
'Implementation of llm.start_usage_backfill() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.start_usage_backfill(
    date, date, integer
) to authenticated, service_role;

-- Runs the next batches of queued backfills; progress is committed with each call.
create or replace function llm_private.run_usage_backfill(max_batches integer default 10)
returns table (
    backfill_id bigint, period_type text, first_period date, last_period date,
    rollup_rows bigint, skipped_periods integer, status text
)
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_types constant text[] := array['daily', 'weekly', 'monthly', 'yearly'];
    v_batches integer := 0;
    v_last date;
    v_next text;
    b record;
begin
    perform llm.require_admin('backfill usage');
    if run_usage_backfill.max_batches is null or run_usage_backfill.max_batches < 1 then
        raise exception 'max_batches must be >= 1, got %',
            coalesce(run_usage_backfill.max_batches::text, 'NULL')
            using errcode = '22023';
    end if;
    while v_batches < run_usage_backfill.max_batches loop
        select * into b
        from llm.usage_backfills as f
        where f.status <> 'done'
        order by f.id
        limit 1
        for update skip locked;
        exit when not found;
        backfill_id := b.id;
        if b.period_type is null then
            b.period_type := v_types[1];
            b.next_start := llm.period_floor(v_types[1], b.from_day);
        end if;
        v_last := llm.period_floor(b.period_type, b.to_day);
        if b.next_start > v_last then
            -- this period type is done: go on with the next one, or finish
            v_next := v_types[array_position(v_types, b.period_type) + 1];
            update llm.usage_backfills as f
            set period_type = v_next,
                next_start = llm.period_floor(v_next, b.from_day),
                status = case when v_next is null then 'done' else 'running' end,
                finished_at = case when v_next is null then now() end,
                updated_at = now()
            where f.id = b.id;
            if v_next is null then
                period_type := null;
                first_period := null;
                last_period := null;
                rollup_rows := null;
                skipped_periods := null;
                status := 'done';
                return next;
            end if;
            continue;
        end if;
        period_type := b.period_type;
        first_period := b.next_start;
        last_period := least(
            (b.next_start + (b.batch_periods - 1) * llm.period_step(b.period_type))::date, v_last
        );
        -- periods the raw log no longer covers keep their folded totals
        skipped_periods := 0;
        while first_period <= last_period
            and (llm.usage_period_bounds(b.period_type, first_period)).starts_at < llm.raw_usage_kept_since() loop
            first_period := (first_period + llm.period_step(b.period_type))::date;
            skipped_periods := skipped_periods + 1;
        end loop;
        rollup_rows := 0;
        if first_period <= last_period then
            rollup_rows := llm.rebuild_usage_rollups(b.period_type, first_period, last_period, null, true);
        end if;
        update llm.usage_backfills as f
        set period_type = b.period_type,
            next_start = (last_period + llm.period_step(b.period_type))::date,
            periods_done = f.periods_done + (
                select count(*) from generate_series(
                    b.next_start::timestamp, last_period::timestamp, llm.period_step(b.period_type)
                )
            ) - skipped_periods,
            periods_skipped = f.periods_skipped + skipped_periods,
            rollup_rows = f.rollup_rows + run_usage_backfill.rollup_rows,
            status = 'running',
            updated_at = now()
        where f.id = b.id;
        status := 'running';
        v_batches := v_batches + 1;
        return next;
    end loop;
end;
$$;
comment on function llm_private.run_usage_backfill(integer) is
'Implementation of llm.run_usage_backfill() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.run_usage_backfill(integer) to authenticated, service_role;

-- Imports usage kept in legacy chat-message metadata (processingDetails) into the log.
create or replace function llm.import_legacy_usage(messages jsonb)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_item jsonb;
    v_position integer := 0;
    v_details jsonb;
    v_request_id text;
    v_imported integer := 0;
    v_already integer := 0;
    v_skipped integer := 0;
    v_state text;
    v_message text;
begin
    if jsonb_typeof(import_legacy_usage.messages) is distinct from 'array' then
        raise exception 'messages must be a JSON array of chat messages, got %',
            coalesce(jsonb_typeof(import_legacy_usage.messages), 'NULL')
            using errcode = '22023';
    end if;
    begin
        for v_item in select e from jsonb_array_elements(import_legacy_usage.messages) as e loop
            if jsonb_typeof(v_item) is distinct from 'object' then
                raise exception 'a message must be a JSON object, got %', jsonb_typeof(v_item)
                    using errcode = '22023';
            end if;
            v_details := v_item #> '{metadata,processingDetails}';
            if coalesce(v_item ->> 'role', '') <> 'assistant' or jsonb_typeof(v_details) is distinct from 'object' then
                v_skipped := v_skipped + 1;
            else
                if llm.request_field(v_item, 'id', 'uuid') is null then
                    raise exception 'id is required (the message id makes the import idempotent)'
                        using errcode = '22004';
                end if;
                v_request_id := 'legacy-message:' || llm.request_field(v_item, 'id', 'uuid');
                if exists (select from llm.request_ids as r where r.request_id = v_request_id) then
                    v_already := v_already + 1;
                else
                    perform llm.log_request(
                        provider => coalesce(
                            llm.request_field(v_details, 'provider', 'text'),
                            llm.request_field(v_item -> 'metadata', 'provider', 'text'),
                            'unknown'
                        ),
                        model => coalesce(
                            llm.request_field(v_details, 'model', 'text'),
                            llm.request_field(v_item -> 'metadata', 'model', 'text'),
                            'unknown'
                        ),
                        user_id => llm.request_field(v_item, 'sender_user_id', 'text'),
                        prompt_tokens => coalesce(
                            llm.request_field(v_details, 'prompt_tokens', 'integer')::integer, 0
                        ),
                        completion_tokens => coalesce(
                            llm.request_field(v_details, 'completion_tokens', 'integer')::integer, 0
                        ),
                        total_tokens => llm.request_field(v_details, 'total_tokens', 'integer')::integer,
                        latency_ms => llm.request_field(
                            v_item -> 'metadata', 'processing_time_ms', 'integer'
                        )::integer,
                        request_id => v_request_id,
                        conversation_id => llm.request_field(v_item, 'conversation_id', 'uuid')::uuid::text,
                        agent_id => llm.request_field(v_item, 'sender_agent_id', 'uuid')::uuid,
                        message_id => llm.request_field(v_item, 'id', 'uuid')::uuid,
                        created_at => llm.request_field(v_item, 'created_at', 'time')::timestamptz,
                        metadata => jsonb_build_object('imported_from', 'chat message metadata'),
                        operation => 'legacy import'
                    );
                    v_imported := v_imported + 1;
                end if;
            end if;
            v_position := v_position + 1;
        end loop;
    exception when others then
        get stacked diagnostics v_state = returned_sqlstate, v_message = message_text;
        raise exception 'messages[%]: %', v_position, v_message using errcode = v_state;
    end;
    return jsonb_build_object('imported', v_imported, 'already_imported', v_already, 'skipped', v_skipped);
end;
$$;
comment on function llm.import_legacy_usage(jsonb) is
'Imports the usage of legacy chat messages (a JSON array of rows shaped like chat_messages_v2: id, conversation_id, sender_user_id, sender_agent_id, role, metadata.processingDetails.{prompt_tokens, completion_tokens, total_tokens, model, provider}, created_at) as logged requests; only assistant messages with processingDetails count. Idempotent (request_id legacy-message:<id>). All or nothing: a bad item raises its error prefixed with messages[i]. Returns {imported, already_imported, skipped}. Service role only.';
grant execute on function llm.import_legacy_usage(jsonb) to service_role;
