-- Adds the given journal rows to the rollups and deletes them, in one statement: the rows
-- leave the journal exactly when their usage enters the rollups. Rollup rows are written in a
-- fixed order, so concurrent writers cannot deadlock.
create or replace function llm.fold_rows(p_rows tid[], p_tz text)
returns bigint
language plpgsql
set search_path = ''
as $$
declare
    v_folded bigint;
begin
    with batch as (
        delete from llm.usage_journal as j
        where j.ctid = any(p_rows)
        returning j.*
    ),

    -- the four periods of llm.usage_periods, spelled out so they are computed in place
    bucketed as (
        select b.*, p.period_type, p.period_start
        from batch as b
        cross join lateral (select pg_catalog.timezone(p_tz, b.occurred_at) as local_time) as l
        cross join lateral (
            values
            ('daily', l.local_time::date),
            ('weekly', pg_catalog.date_trunc('week', l.local_time)::date),
            ('monthly', pg_catalog.date_trunc('month', l.local_time)::date),
            ('yearly', pg_catalog.date_trunc('year', l.local_time)::date)
        ) as p (period_type, period_start)
    ),

    rolled as (
        insert into llm.usage_rollups as r (
            user_id, period_type, period_start, provider, model, request_type, requests,
            failed_requests, prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens,
            total_tokens, audio_seconds, cost_usd, cache_hits, saved_tokens, saved_cost_usd,
            last_activity
        )
        select
            k.user_id, k.period_type, k.period_start, k.provider, k.model, k.request_type,
            sum(k.requests),
            coalesce(sum(k.requests) filter (where not k.success), 0),
            sum(k.prompt_tokens),
            sum(k.completion_tokens),
            sum(k.cached_tokens),
            sum(k.cache_write_tokens),
            sum(k.total_tokens),
            coalesce(sum(k.audio_seconds), 0),
            coalesce(sum(k.cost_usd), 0),
            coalesce(sum(k.requests) filter (where k.cache_hit), 0),
            sum(k.saved_tokens),
            coalesce(sum(k.saved_cost_usd), 0),
            max(k.occurred_at) filter (where k.requests > 0)
        from bucketed as k
        group by k.user_id, k.period_type, k.period_start, k.provider, k.model, k.request_type
        -- a fixed order, so concurrent writers of the same rows cannot deadlock
        order by k.user_id, k.period_type, k.period_start, k.provider, k.model, k.request_type
        on conflict on constraint usage_rollups_key do update
            set requests = r.requests + excluded.requests,
                failed_requests = r.failed_requests + excluded.failed_requests,
                prompt_tokens = r.prompt_tokens + excluded.prompt_tokens,
                completion_tokens = r.completion_tokens + excluded.completion_tokens,
                cached_tokens = r.cached_tokens + excluded.cached_tokens,
                cache_write_tokens = r.cache_write_tokens + excluded.cache_write_tokens,
                total_tokens = r.total_tokens + excluded.total_tokens,
                audio_seconds = r.audio_seconds + excluded.audio_seconds,
                cost_usd = r.cost_usd + excluded.cost_usd,
                cache_hits = r.cache_hits + excluded.cache_hits,
                saved_tokens = r.saved_tokens + excluded.saved_tokens,
                saved_cost_usd = r.saved_cost_usd + excluded.saved_cost_usd,
                last_activity = greatest(r.last_activity, excluded.last_activity),
                updated_at = now()
    ),

    members as (
        insert into llm.usage_rollup_members (user_id, period_type, period_start, member_type, member_id)
        select distinct m.user_id, m.period_type, m.period_start, m.member_type, m.member_id
        from bucketed as k
        cross join lateral (
            values
            (k.user_id, k.period_type, k.period_start, 'conversation', k.conversation_id),
            (k.user_id, k.period_type, k.period_start, 'agent', k.agent_id)
        ) as m (user_id, period_type, period_start, member_type, member_id)
        where m.user_id is not null and m.member_id is not null
        order by 1, 2, 3, 4, 5
        on conflict do nothing
    )

    select count(*) into v_folded from batch;
    return v_folded;
end;
$$;
comment on function llm.fold_rows(tid[], text) is
'Moves the journal rows at p_rows (locked by the caller) into llm.usage_rollups and llm.usage_rollup_members in periods of time zone p_tz, deleting them in the same statement. Returns the rows folded. Internal: called by llm.fold_journal().';

-- Folding the usage journal into rollups.

-- Moves journal rows into the rollups in one transaction, so reads never count them twice.
-- Rows another folder holds are skipped, so folders never wait for each other. A row that
-- cannot be folded goes to the dead letter with its error instead of blocking the others.
-- The caller holds the fold lock in shared mode.
create or replace function llm.fold_journal(p_max_rows integer, p_user_id uuid)
returns bigint
language plpgsql
set search_path = ''
as $$
declare
    v_tz text := llm_private.setting_text('period_timezone');
    v_rows tid [];
    v_row tid;
    v_folded bigint;
    v_state text;
    v_error text;
begin
    -- a bad setting is everyone's problem, not a row's: it fails the fold, nothing is dead-lettered
    perform now() at time zone v_tz;
    if p_user_id is null then
        v_rows := array(
            select b.ctid from llm.usage_journal as b limit p_max_rows for update skip locked
        );
    else
        -- oldest first, through the (user_id, occurred_at) index, never a scan of the journal
        v_rows := array(
            select b.ctid from llm.usage_journal as b
            where b.user_id = p_user_id
            order by b.occurred_at
            limit p_max_rows
            for update skip locked
        );
    end if;
    if cardinality(v_rows) = 0 then
        return 0;
    end if;

    begin
        v_folded := llm.fold_rows(v_rows, v_tz);
    exception when data_exception or program_limit_exceeded then
        -- one row the rollups cannot take must not stop the rest: row by row, each failing one
        -- moves to the dead letter with its reason
        v_folded := 0;
        foreach v_row in array v_rows loop
            begin
                v_folded := v_folded + llm.fold_rows(array[v_row], v_tz);
            exception when data_exception or program_limit_exceeded then
                get stacked diagnostics v_state = returned_sqlstate, v_error = message_text;
                with moved as (
                    delete from llm.usage_journal as j where j.ctid = v_row returning j.*
                )

                insert into llm.usage_journal_rejects (
                    request_log_id, occurred_at, user_id, journal_row, sqlstate, error
                )
                select m.request_log_id, m.occurred_at, m.user_id, to_jsonb(m), v_state, v_error
                from moved as m;
                v_folded := v_folded + 1;
            end;
        end loop;
    end;
    return v_folded;
end;
$$;
comment on function llm.fold_journal(integer, uuid) is
'Folds up to p_max_rows journal rows (of one user, or of anyone when p_user_id is NULL) into llm.usage_rollups and llm.usage_rollup_members, deleting them in the same transaction; skips rows another folder holds; a row that cannot be folded (a data error or a program limit) moves to llm.usage_journal_rejects with its error. Returns the rows taken off the journal. Internal: callers hold the fold lock in shared mode.';

-- One fold transaction, one at a time: a call that finds another one running has nothing to do.
create or replace function llm_private.fold_usage(max_rows integer default null)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_max integer := coalesce(fold_usage.max_rows, llm_private.setting_text('usage_fold_batch_rows')::integer);
begin
    perform llm.require_admin('fold usage');
    if v_max < 1 then
        raise exception 'max_rows must be >= 1, got %', v_max using errcode = '22023';
    end if;
    if not pg_catalog.pg_try_advisory_xact_lock(pg_catalog.hashtextextended('llm.fold_usage job', 0))
        -- a recompute holds the fold lock exclusively while it replaces rollups
        or not pg_catalog.pg_try_advisory_xact_lock_shared(
            pg_catalog.hashtextextended('llm.usage_rollups fold', 0)
        ) then
        return 0;
    end if;
    return llm.fold_journal(v_max, null);
end;
$$;
comment on function llm_private.fold_usage(integer) is
'Implementation of llm.fold_usage() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.fold_usage(integer) to authenticated, service_role;

-- A fold job's run: batches of one fold in one transaction, so the job can pin its
-- search_path (a procedure that commits between batches cannot). p_fold: 'usage' (this
-- module's journal) or 'cache_hit' (the response cache's hit journal); the batch size is the
-- setting <p_fold>_fold_batch_rows. The run goes on while batches come back full, for up to
-- <p_fold>_fold_run_time, so the job keeps up with a journal that grows faster than one batch
-- per run while a quiet journal's runs stay one short batch.
create or replace function llm_private.run_fold_batches(p_fold text, p_max_batches integer)
returns bigint
language plpgsql
set search_path = ''
as $$
declare
    v_batch integer := llm_private.setting_text(p_fold || '_fold_batch_rows')::integer;
    v_until timestamptz := pg_catalog.clock_timestamp()
        + llm_private.setting_text(p_fold || '_fold_run_time')::interval;
    v_batches integer := 0;
    v_folded bigint;
    v_total bigint := 0;
begin
    if p_max_batches not between 1 and 1000 then
        raise exception 'max_batches must be between 1 and 1000 (or NULL: no limit), got %', p_max_batches
            using errcode = '22023';
    end if;
    loop
        v_folded := case p_fold
            when 'usage' then llm_private.fold_usage(v_batch)
            when 'cache_hit' then llm_private.fold_cache_hits(v_batch)
        end;
        v_total := v_total + v_folded;
        v_batches := v_batches + 1;
        -- a short batch emptied the journal (or another fold is running)
        exit when v_folded < v_batch
            or v_batches >= p_max_batches
            or pg_catalog.clock_timestamp() >= v_until;
    end loop;
    return v_total;
end;
$$;
comment on function llm_private.run_fold_batches(text, integer) is
'Runs batches of the usage fold (p_fold ''usage'') or the cache hit fold (''cache_hit''), of <p_fold>_fold_batch_rows rows each, in one transaction, until a batch comes back short, p_max_batches batches ran (NULL: no limit) or the run took <p_fold>_fold_run_time. Returns the journal rows taken. Internal: the body of llm.run_usage_fold() and llm.run_cache_hit_fold().';
grant execute on function llm_private.run_fold_batches(text, integer) to authenticated, service_role;

-- The fold job.
create or replace function llm.run_usage_fold(max_batches integer default null)
returns bigint
language plpgsql
set search_path = ''
as $$
begin
    return llm_private.run_fold_batches('usage', run_usage_fold.max_batches);
end;
$$;
comment on function llm.run_usage_fold(integer) is
'The llm_usage_fold job: folds the usage journal into the rollups in batches of usage_fold_batch_rows rows, in one transaction, until the journal is empty, max_batches batches ran (1 to 1000; NULL, the default: no limit) or the run took usage_fold_run_time; stops at once when another fold is running. Returns the journal rows taken. Admins and service role.';
grant execute on function llm.run_usage_fold(integer) to authenticated, service_role;
