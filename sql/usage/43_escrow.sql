-- The quota escrow: shards of remaining capacity kept in step with usage and reservations,
-- and recomputed from the usage itself when they run short.

-- The shard a session takes from and gives back to: one per backend, so concurrent sessions
-- of one user mostly work on different rows.
create or replace function llm.quota_escrow_shard()
returns smallint
language plpgsql
stable
set search_path = ''
as $$
begin
    return (pg_catalog.pg_backend_pid() % 16)::smallint;
end;
$$;
comment on function llm.quota_escrow_shard() is
'Shard of llm.quota_escrow this session uses: its backend pid modulo 16.';

-- Adds usage (positive) or gives back capacity (negative amounts) to the current periods'
-- escrow of the users it concerns, for their hard quotas only. Rows not computed yet (ready
-- false) only accumulate: they are recomputed from the usage before any use.
create or replace function llm.quota_escrow_take(
    p_user_ids uuid[], p_at timestamptz[], p_tokens numeric[], p_cost_usd numeric[],
    p_requests numeric[]
)
returns void
language plpgsql
set search_path = ''
as $$
declare
    v_tz text;
begin
    if p_user_ids is null then
        return;  -- no rows (a statement trigger fires for none too)
    end if;
    v_tz := llm_private.setting_text('period_timezone');
    with changes as (
        select
            c.user_id, cur.period_type, cur.period_start,
            -sum(c.tokens) as tokens, -sum(c.cost_usd) as cost_usd, -sum(c.requests) as requests
        from unnest(p_user_ids, p_at, p_tokens, p_cost_usd, p_requests)
            as c (user_id, occurred_at, tokens, cost_usd, requests)
        -- the current periods and each change's own, as llm.usage_periods() computes them
        -- (spelled out: this runs with every logged request)
        cross join lateral (
            select pg_catalog.timezone(v_tz, now()) as now_local,
                pg_catalog.timezone(v_tz, c.occurred_at) as at_local
        ) as l
        cross join lateral (
            values
            ('daily', l.now_local::date, l.at_local::date),
            ('weekly', pg_catalog.date_trunc('week', l.now_local)::date,
                pg_catalog.date_trunc('week', l.at_local)::date),
            ('monthly', pg_catalog.date_trunc('month', l.now_local)::date,
                pg_catalog.date_trunc('month', l.at_local)::date),
            ('yearly', pg_catalog.date_trunc('year', l.now_local)::date,
                pg_catalog.date_trunc('year', l.at_local)::date)
        ) as cur (period_type, period_start, change_start)
        -- the quota in force for the user and period: their own row, else the default
        inner join lateral (
            select q.hard
            from llm.usage_quotas as q
            where q.quota_period = cur.period_type and (q.user_id = c.user_id or q.user_id is null)
            order by q.user_id nulls last
            limit 1
        ) as q on q.hard
        where c.user_id is not null and cur.change_start = cur.period_start
        group by c.user_id, cur.period_type, cur.period_start
    )

    insert into llm.quota_escrow as e (
        user_id, quota_period, period_start, shard, free_tokens, free_cost_usd, free_requests
    )
    select
        g.user_id, g.period_type, g.period_start,
        -- this session's shard where the user has one, else shard 0, which every computed
        -- period has (where it does not exist yet, a row not ready is made): a change never
        -- goes to a row a recompute running meanwhile does not hold or wait for
        coalesce((
            select x.shard from llm.quota_escrow as x
            where x.user_id = g.user_id and x.quota_period = g.period_type
                and x.period_start = g.period_start and x.shard = llm.quota_escrow_shard()
        ), 0),
        g.tokens, g.cost_usd, g.requests
    from changes as g
    order by g.user_id, g.period_type, g.period_start
    on conflict (user_id, quota_period, period_start, shard) do update
        set free_tokens = e.free_tokens + excluded.free_tokens,
            free_cost_usd = e.free_cost_usd + excluded.free_cost_usd,
            free_requests = e.free_requests + excluded.free_requests;
end;
$$;
comment on function llm.quota_escrow_take(uuid[], timestamptz[], numeric[], numeric[], numeric[]) is
'Moves the escrow of the current periods by usage given as parallel arrays (user, instant, tokens, cost, requests; negative amounts give capacity back), for hard quotas only. Internal: called by the escrow triggers.';

-- Usage logged (any writer of the journal: log_request, batches, cost corrections).
create or replace function llm.quota_escrow_on_usage()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v record;
begin
    if exists (select from llm.usage_quotas as q where q.hard) then
        select
            array_agg(n.user_id) as user_ids, array_agg(n.occurred_at) as at_,
            array_agg(n.total_tokens::numeric) as tokens,
            array_agg(coalesce(n.cost_usd, 0)) as cost_usd,
            array_agg(n.requests::numeric) as requests
        into v
        from new_rows as n
        where n.user_id is not null;
        perform llm.quota_escrow_take(v.user_ids, v.at_, v.tokens, v.cost_usd, v.requests);
    end if;
    return null;
end;
$$;
comment on function llm.quota_escrow_on_usage() is
'Trigger on llm.usage_journal: logged usage leaves the escrow of the user''s hard quotas.';

drop trigger if exists llm_quota_escrow_on_usage on llm.usage_journal;
create trigger llm_quota_escrow_on_usage
after insert on llm.usage_journal
referencing new table as new_rows
for each statement execute function llm.quota_escrow_on_usage();

-- Reservations ended (settled with the logged request, released, swept): their capacity
-- returns to the escrow of the current periods, which counted them as reserved.
create or replace function llm.quota_escrow_on_release()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v record;
begin
    if exists (select from llm.usage_quotas as q where q.hard) then
        select
            array_agg(o.user_id) as user_ids, array_agg(now()) as at_,
            array_agg(-o.tokens::numeric) as tokens, array_agg(-o.cost_usd) as cost_usd,
            array_agg(-1::numeric) as requests
        into v
        from old_rows as o;
        perform llm.quota_escrow_take(v.user_ids, v.at_, v.tokens, v.cost_usd, v.requests);
    end if;
    return null;
end;
$$;
comment on function llm.quota_escrow_on_release() is
'Trigger on llm.quota_reservations: an ended reservation gives its capacity back to the escrow of the user''s hard quotas.';

drop trigger if exists llm_quota_escrow_on_release on llm.quota_reservations;
create trigger llm_quota_escrow_on_release
after delete on llm.quota_reservations
referencing old table as old_rows
for each statement execute function llm.quota_escrow_on_release();

-- A quota set, changed or cleared: the escrow it concerns is recomputed before its next use.
create or replace function llm.quota_escrow_on_quota_change()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_row llm.usage_quotas := case when tg_op = 'DELETE' then old else new end;
begin
    update llm.quota_escrow as e
    set ready = false
    where e.ready
        and e.quota_period = v_row.quota_period
        and (v_row.user_id is null or e.user_id = v_row.user_id);
    return null;
end;
$$;
comment on function llm.quota_escrow_on_quota_change() is
'Trigger on llm.usage_quotas: marks the escrow of the changed quota (every user''s, for the default) to be recomputed.';

drop trigger if exists llm_quota_escrow_on_quota_change on llm.usage_quotas;
create trigger llm_quota_escrow_on_quota_change
after insert or update or delete on llm.usage_quotas
for each row execute function llm.quota_escrow_on_quota_change();

-- The slow path of llm.reserve_quota(): under the user's lock, with every shard of the user's
-- hard periods locked, recomputes the capacity from the usage itself (rollups, unfolded journal,
-- open reservations), refuses with PT429 when the request does not fit, else hands the
-- remaining capacity minus the request to the shards, evenly.
create or replace function llm.quota_escrow_refill(
    p_user_id uuid, p_tokens bigint, p_cost_usd numeric, p_tz text
)
returns void
language plpgsql
set search_path = ''
set enable_bitmapscan = off
as $$
declare
    v_kinds constant text [] := array['token', 'cost', 'request'];
    v_requested numeric [] := array[p_tokens, p_cost_usd, 1];
    v_unfolded bigint := 0;
    v_reset_at timestamptz;
    v_free numeric [];
    v record;
begin
    -- one refill per user at a time, until commit
    perform pg_catalog.pg_advisory_xact_lock(
        pg_catalog.hashtextextended('llm.quota_reservations/' || p_user_id::text, 0)
    );
    -- shard 0 and this session's shard of the current hard periods exist, and every shard
    -- there is held: usage and releases of this user now wait (a writer goes to its own shard
    -- only where it exists, else to shard 0), and whatever committed before is in the sums
    -- below. Shards are made as sessions need them, so a user reserving from one session has
    -- one or two. Period by period, in the order writers take them, so that no one holds a
    -- row the other waits for.
    for v in
        select q.quota_period, p.period_start
        from llm.effective_quotas(p_user_id) as q
        inner join llm.usage_periods(now(), p_tz) as p on p.period_type = q.quota_period
        where q.hard
        order by q.quota_period
    loop
        insert into llm.quota_escrow as e (user_id, quota_period, period_start, shard)
        select distinct p_user_id, v.quota_period, v.period_start, s.shard
        from (values (0::smallint), (llm.quota_escrow_shard())) as s (shard)
        order by s.shard
        on conflict (user_id, quota_period, period_start, shard) do nothing;
        perform
        from llm.quota_escrow as e
        where e.user_id = p_user_id and e.quota_period = v.quota_period
            and e.period_start = v.period_start
        order by e.shard
        for update;
    end loop;
    -- expired reservations stop counting here; deleting them now keeps a later sweep from
    -- giving their capacity back twice (only when there are: the delete fires a trigger)
    if exists (
        select from llm.quota_reservations as x where x.user_id = p_user_id and x.expires_at <= now()
    ) then
        delete from llm.quota_reservations as x
        where x.user_id = p_user_id and x.expires_at <= now();
    end if;

    -- usage and open reservations of every hard quota's period, in one statement (one
    -- snapshot, taken after the locks); the limits are then compared in period order
    for v in
        select
            q.quota_period, p.period_start, u.unfolded_rows,
            array[q.token_limit, q.cost_limit, q.request_limit] as limits,
            array[u.tokens, u.cost_usd, u.requests] as used,
            array[r.tokens, r.cost_usd, r.requests] as reserved
        from llm.effective_quotas(p_user_id) as q
        inner join llm.usage_periods(now(), p_tz) as p on p.period_type = q.quota_period
        cross join lateral llm.period_usage(p_user_id, q.quota_period, p.period_start, p_tz) as u
        cross join (
            select
                coalesce(sum(x.tokens), 0) as tokens,
                coalesce(sum(x.cost_usd), 0) as cost_usd,
                count(*) as requests
            from llm.quota_reservations as x
            where x.user_id = p_user_id and x.expires_at > now()
        ) as r
        where q.hard
        order by array_position(array['daily', 'weekly', 'monthly', 'yearly'], q.quota_period)
    loop
        v_free := array[null, null, null]::numeric [];
        for k in 1..3 loop
            -- a NULL limit is unlimited
            if v.used[k] + v.reserved[k] + v_requested[k] > v.limits[k] then
                v_reset_at := (llm.usage_period_bounds(v.quota_period, v.period_start)).ends_at;
                raise exception '% % quota exceeded: limit %, used %, reserved %, requested %',
                    v.quota_period, v_kinds[k], v.limits[k], v.used[k], v.reserved[k], v_requested[k]
                    using errcode = 'PT429',
                        detail = jsonb_build_object(
                            'user_id', p_user_id, 'quota_period', v.quota_period,
                            'limit_type', v_kinds[k], 'limit', v.limits[k], 'used', v.used[k],
                            'reserved', v.reserved[k], 'requested', v_requested[k],
                            'reset_at', v_reset_at
                        )::text,
                        hint = format('the %s quota resets at %s', v.quota_period, v_reset_at);
            end if;
            v_free[k] := v.limits[k] - v.used[k] - v.reserved[k] - v_requested[k];
        end loop;
        -- each of the n shards gets an even share; shard 0 also the remainder, so the shards
        -- sum exactly
        update llm.quota_escrow as e
        set ready = true,
            free_tokens = floor(v_free[1] / n.n) + case when e.shard = 0 then v_free[1] - n.n * floor(v_free[1] / n.n) else 0 end,
            free_cost_usd = trunc(v_free[2] / n.n, 12) + case when e.shard = 0 then v_free[2] - n.n * trunc(v_free[2] / n.n, 12) else 0 end,
            free_requests = floor(v_free[3] / n.n) + case when e.shard = 0 then v_free[3] - n.n * floor(v_free[3] / n.n) else 0 end
        from (
            select count(*) as n from llm.quota_escrow as x
            where x.user_id = p_user_id and x.quota_period = v.quota_period and x.period_start = v.period_start
        ) as n
        where e.user_id = p_user_id and e.quota_period = v.quota_period and e.period_start = v.period_start;
        v_unfolded := greatest(v_unfolded, v.unfolded_rows);
    end loop;
    -- a busy user's unfolded rows are folded here once a check summed 64 of them, so
    -- refills stay cheap whatever the fold job's schedule; never waiting for a lock
    if v_unfolded >= 64 then
        perform llm.try_fold_user_journal(p_user_id, 1000);
    end if;
end;
$$;
comment on function llm.quota_escrow_refill(uuid, bigint, numeric, text) is
'Slow path of llm.reserve_quota(): recomputes the escrow of a user''s hard quotas from the usage under the user''s lock and grants the request from it, or raises PT429 with the limit, used, reserved and requested amounts. Internal.';
