-- The slow path of a reservation: the escrow recomputed from the usage, or the request refused.

-- The slow path of llm.reserve_quota(): under the user's lock, recomputes the capacity of each
-- hard quota from the usage itself (rollups, unfolded journal, open reservations), refuses
-- with PT429 when the request does not fit, else hands the remaining capacity minus the
-- request to the period's shards, evenly (shard 0 and this session's made where missing: a
-- user's first reservation of a period makes its escrow).
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
    v_open record;
    v record;
begin
    -- the user's escrow lock, exclusive until commit: whoever moves this user's escrow
    -- (reservations, logged usage, ended reservations) committed before, and is in the sums
    -- below, or waits
    perform pg_catalog.pg_advisory_xact_lock(llm.quota_escrow_lock(p_user_id));
    -- a quota change or a recompute of rollups waits for this recompute to commit, then marks
    -- the shards it wrote; one that committed before is read below (llm.quota_change_lock).
    -- With both locks held, nothing else writes this user's escrow until commit
    perform pg_catalog.pg_advisory_xact_lock_shared(llm.quota_change_lock());
    -- the user's open reservations, read once: with the lock held, none of theirs is made or
    -- ended until commit (both take the user's escrow lock before they commit)
    select * into v_open from llm.open_reservations(p_user_id);
    -- expired reservations stop counting here; deleting them now keeps a later sweep from
    -- giving their capacity back twice (only when there are: the delete fires a trigger)
    if v_open.expired > 0 then
        delete from llm.quota_reservations as x
        where x.user_id = p_user_id and x.expires_at <= now();
    end if;

    -- the hard quotas in force, their current periods and usage, in one statement (one
    -- snapshot, taken after the locks); the limits are then compared in period order
    for v in
        select
            q.quota_period, p.period_start, u.unfolded_rows,
            array[q.token_limit, q.cost_limit, q.request_limit] as limits,
            array[u.tokens, u.cost_usd, u.requests] as used,
            array[v_open.tokens, v_open.cost_usd, v_open.requests] as reserved
        from llm.effective_quotas(p_user_id) as q
        cross join lateral (
            select llm.period_floor(q.quota_period, pg_catalog.timezone(p_tz, now())) as period_start
        ) as p
        cross join lateral llm.period_usage(p_user_id, q.quota_period, p.period_start, p_tz) as u
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
        -- each of the n shards (the period's, shard 0 and this session's) gets an even share;
        -- shard 0 also the remainder, so the shards sum exactly
        insert into llm.quota_escrow as e (
            user_id, quota_period, period_start, shard, ready, free_tokens, free_cost_usd, free_requests
        )
        select
            p_user_id, v.quota_period, v.period_start, s.shard, true,
            floor(v_free[1] / s.n) + case when s.shard = 0 then v_free[1] - s.n * floor(v_free[1] / s.n) else 0 end,
            trunc(v_free[2] / s.n, 12) + case when s.shard = 0 then v_free[2] - s.n * trunc(v_free[2] / s.n, 12) else 0 end,
            floor(v_free[3] / s.n) + case when s.shard = 0 then v_free[3] - s.n * floor(v_free[3] / s.n) else 0 end
        from (
            select a.shard, count(*) over () as n
            from (
                select x.shard from llm.quota_escrow as x
                where x.user_id = p_user_id and x.quota_period = v.quota_period
                    and x.period_start = v.period_start
                union
                values (0::smallint), (llm.quota_escrow_shard())
            ) as a
        ) as s
        order by s.shard
        on conflict (user_id, quota_period, period_start, shard) do update
            set ready = true,
                free_tokens = excluded.free_tokens,
                free_cost_usd = excluded.free_cost_usd,
                free_requests = excluded.free_requests;
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
