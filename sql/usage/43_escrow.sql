-- The quota escrow: shards of remaining capacity kept in step with usage and reservations
-- (recomputed from the usage when they run short: 46_escrow_refill.sql).

-- The shard a session takes from and gives back to: one per backend, so concurrent sessions
-- of one user mostly work on different rows.
create or replace function llm.quota_escrow_shard()
returns smallint
language plpgsql
stable
set search_path = ''
as $$
begin
    return (pg_catalog.pg_backend_pid() % 64)::smallint;
end;
$$;
comment on function llm.quota_escrow_shard() is
'Shard of llm.quota_escrow this session uses: its backend pid modulo 64.';

-- The key of a user's escrow lock: shared by whoever moves the user's escrow (reservations,
-- logged usage, ended reservations), exclusive for a recompute (llm.quota_escrow_refill).
create or replace function llm.quota_escrow_lock(p_user_id uuid)
returns bigint
language plpgsql
immutable
set search_path = ''
as $$
begin
    return pg_catalog.hashtextextended('llm.quota_reservations/' || p_user_id::text, 0);
end;
$$;
comment on function llm.quota_escrow_lock(uuid) is
'Advisory lock key of a user''s quota escrow: taken shared to move it, exclusive to recompute it.';

-- The key of the quota change lock: taken shared by a recompute of any user's escrow, from
-- before it reads the quotas and the usage until it commits, and exclusive by a change of any
-- quota or a recompute of rollups, so a change waits for the escrow recomputes that read what
-- it changes and then marks the shards they wrote, and a recompute that starts after it reads
-- the new values.
create or replace function llm.quota_change_lock()
returns bigint
language plpgsql
immutable
set search_path = ''
as $$
begin
    return pg_catalog.hashtextextended('llm.usage_quotas change', 0);
end;
$$;
comment on function llm.quota_change_lock() is
'Advisory lock key taken shared by a recompute of a user''s quota escrow and exclusive by a quota change or a recompute of rollups, so no escrow stays computed on a quota or usage that changed before it committed.';

-- Adds usage (positive) or gives back capacity (negative amounts) to the current periods'
-- escrow of the users it concerns, for their hard quotas only, under each user's escrow lock
-- (shared: writers never wait for each other, only for a recompute of the user's escrow). A
-- user has no escrow until their first reservation of the period computes it from the usage,
-- so logging for users who do not reserve writes nothing here. Rows not computed yet (ready
-- false) only accumulate: they are recomputed from the usage before any use.
create or replace function llm.quota_escrow_take(
    p_user_ids uuid[], p_at timestamptz[], p_tokens numeric[], p_cost_usd numeric[],
    p_requests numeric[]
)
returns void
language plpgsql
set search_path = ''
-- a custom plan for the arrays at hand costs more to make (about 0.4 ms) than the generic plan
-- costs to run: planned once per session, not on every logged request
set plan_cache_mode = force_generic_plan
as $$
declare
    v_tz text;
    v_shard smallint;
    v_snapshot boolean;
begin
    if p_user_ids is null then
        return;  -- no rows (a statement trigger fires for none too)
    end if;
    -- one order for every writer, so concurrent writers never deadlock on these locks
    perform pg_catalog.pg_advisory_xact_lock_shared(llm.quota_escrow_lock(u.user_id))
    from (select distinct x.user_id from unnest(p_user_ids) as x (user_id) where x.user_id is not null) as u
    order by u.user_id;
    -- the usual case, users who do not reserve: with the locks held, no escrow now is no escrow
    -- until commit (see below for the snapshot isolation levels)
    v_snapshot := pg_catalog.current_setting('transaction_isolation') <> 'read committed';
    if not v_snapshot
        and not exists (select from llm.quota_escrow as x where x.user_id = any(p_user_ids)) then
        return;
    end if;
    v_tz := llm_private.setting_text('period_timezone');
    v_shard := llm.quota_escrow_shard();
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
    select g.user_id, g.period_type, g.period_start, coalesce(s.shard, 0), g.tokens, g.cost_usd, g.requests
    from changes as g
    -- this session's shard where the user has one, else shard 0, which every computed period
    -- has (one index probe per period, whatever the table's statistics say)
    left join lateral (
        select x.shard from llm.quota_escrow as x
        where x.user_id = g.user_id and x.quota_period = g.period_type
            and x.period_start = g.period_start and x.shard in (0, v_shard)
        order by x.shard desc
        limit 1
    ) as s on true
    -- only a user's existing escrow moves: with the lock held, no recompute runs meanwhile, so
    -- what exists now is what the next recompute starts from. Under a snapshot isolation
    -- level, a recompute committed after the snapshot is not seen: shard 0 is then written
    -- anyway, which conflicts with that recompute's row (a serialization failure) instead of
    -- missing it
    where s.shard is not null or v_snapshot
    order by g.user_id, g.period_type, g.period_start
    on conflict (user_id, quota_period, period_start, shard) do update
        set free_tokens = e.free_tokens + excluded.free_tokens,
            free_cost_usd = e.free_cost_usd + excluded.free_cost_usd,
            free_requests = e.free_requests + excluded.free_requests;
end;
$$;
comment on function llm.quota_escrow_take(uuid[], timestamptz[], numeric[], numeric[], numeric[]) is
'Moves the escrow of the current periods by usage given as parallel arrays (user, instant, tokens, cost, requests; negative amounts give capacity back), for hard quotas only. Internal: called by the escrow triggers.';

-- Usage logged (any writer of the journal: log_request, batches, cost corrections). A logged
-- request that carries a reservation (log_request(reservation_id => ...)) settles it here: the
-- reservation is deleted and its capacity goes back in the same move as the usage, one escrow
-- update per user and period instead of two.
create or replace function llm.quota_escrow_on_usage()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_user_ids uuid [];
    v_at timestamptz [];
    v_tokens numeric [];
    v_cost numeric [];
    v_requests numeric [];
    v_reservations uuid [];
    v_flag text;
begin
    select
        array_agg(n.user_id), array_agg(n.occurred_at), array_agg(n.total_tokens::numeric),
        array_agg(coalesce(n.cost_usd, 0)), array_agg(n.requests::numeric),
        array_agg(n.reservation_id) filter (where n.reservation_id is not null)
    into v_user_ids, v_at, v_tokens, v_cost, v_requests, v_reservations
    from new_rows as n
    where n.user_id is not null;
    if v_reservations is not null then
        -- the release trigger leaves these to this move (see llm.quota_escrow_on_release)
        v_flag := pg_catalog.set_config('llm.escrow_settling', 'on', true);
        with settled as (
            -- the user's own reservations only; unknown, expired or released ones change nothing
            delete from llm.quota_reservations as x
            using new_rows as n
            where x.id = n.reservation_id and x.user_id = n.user_id
            returning x.user_id, x.tokens, x.cost_usd
        )
        select
            v_user_ids || array_agg(s.user_id), v_at || array_agg(now()),
            v_tokens || array_agg(-s.tokens::numeric), v_cost || array_agg(-s.cost_usd),
            v_requests || array_agg(-1::numeric)
        into v_user_ids, v_at, v_tokens, v_cost, v_requests
        from settled as s;
        v_flag := pg_catalog.set_config('llm.escrow_settling', '', true);
    end if;
    if exists (select from llm.usage_quotas as q where q.hard) then
        perform llm.quota_escrow_take(v_user_ids, v_at, v_tokens, v_cost, v_requests);
    end if;
    return null;
end;
$$;
comment on function llm.quota_escrow_on_usage() is
'Trigger on llm.usage_journal: logged usage leaves the escrow of the user''s hard quotas, and the reservations the logged rows carry are settled (deleted, their capacity given back) in the same move.';

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
    -- settled by logged usage: given back in the usage's own move (llm.quota_escrow_on_usage)
    if pg_catalog.current_setting('llm.escrow_settling', true) = 'on' then
        return null;
    end if;
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
    -- recomputes that read the quotas before this change commit first: their shards are
    -- marked below
    perform pg_catalog.pg_advisory_xact_lock(llm.quota_change_lock());
    update llm.quota_escrow as e
    set ready = false
    where e.ready
        and e.quota_period = v_row.quota_period
        and (v_row.user_id is null or e.user_id = v_row.user_id);
    return null;
end;
$$;
comment on function llm.quota_escrow_on_quota_change() is
'Trigger on llm.usage_quotas: once every recompute in progress committed (llm.quota_change_lock), marks the escrow of the changed quota (every user''s, for the default) to be recomputed.';

drop trigger if exists llm_quota_escrow_on_quota_change on llm.usage_quotas;
create trigger llm_quota_escrow_on_quota_change
after insert or update or delete on llm.usage_quotas
for each row execute function llm.quota_escrow_on_quota_change();
