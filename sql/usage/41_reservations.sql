-- Atomic quota reservations: reserve, settle with the logged request, release, sweep.

-- Folds some of a busy user's journal rows for llm.reserve_quota without ever stalling it:
-- when rows or rollups are held by another transaction for longer than lock_timeout, it
-- gives up and leaves them to the fold job (which commits in short batches).
create or replace function llm.try_fold_user_journal(p_user_id uuid, p_max_rows integer)
returns bigint
language plpgsql
set search_path = ''
set lock_timeout = '5ms'
as $$
begin
    -- a recompute holds the fold lock exclusively while it replaces rollups
    if not pg_catalog.pg_try_advisory_xact_lock_shared(
            pg_catalog.hashtextextended('llm.usage_rollups fold', 0)
        ) then
        return 0;
    end if;
    return llm.fold_journal(p_max_rows, p_user_id);
exception when lock_not_available then
    return 0;
end;
$$;
comment on function llm.try_fold_user_journal(uuid, integer) is
'Folds up to p_max_rows unfolded journal rows of one user, or nothing if that would wait more than 5 ms for a lock (the fold job or a recompute holds them). Returns the rows folded. Internal: called by llm.reserve_quota().';

-- Atomically grants capacity for one request, or refuses it with HTTP 429 semantics.
create or replace function llm.reserve_quota(user_id text, tokens bigint, cost_usd numeric default 0)
returns uuid
language plpgsql
security definer
set search_path = ''
set enable_bitmapscan = off
as $$
declare
    -- only backends may call this, and resolve_user maps their UUIDs to themselves: the
    -- usual case skips that call
    v_user uuid := case
        when reserve_quota.user_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
            then reserve_quota.user_id::uuid
        else llm.resolve_user(reserve_quota.user_id, false)
    end;
    v_kinds constant text [] := array['token', 'cost', 'request'];
    v_requested numeric [] := array[reserve_quota.tokens, reserve_quota.cost_usd, 1];
    v_tz text;
    v_ttl interval;
    v_limited boolean;
    v_unfolded bigint := 0;
    v_reset_at timestamptz;
    v_id uuid;
    v record;
begin
    if reserve_quota.tokens is null then
        raise exception 'tokens is required' using errcode = '22004';
    end if;
    if reserve_quota.tokens < 0 then
        raise exception 'tokens must be >= 0, got %', reserve_quota.tokens using errcode = '22023';
    end if;
    if reserve_quota.cost_usd is null then
        raise exception 'cost_usd is required (0 when unknown)' using errcode = '22004';
    end if;
    if not (reserve_quota.cost_usd >= 0 and reserve_quota.cost_usd < 'infinity'::numeric) then
        raise exception 'cost_usd must be a finite number >= 0, got %', reserve_quota.cost_usd
            using errcode = '22023';
    end if;

    -- both settings and whether a hard quota applies, in one statement before any lock is
    -- taken (STRICT: a missing setting is an error, never a NULL)
    select
        tz.value #>> '{}',
        (ttl.value #>> '{}')::interval,
        exists (select from llm.effective_quotas(v_user) as q where q.hard)
    into strict v_tz, v_ttl, v_limited
    from llm.settings as tz
    cross join llm.settings as ttl
    where tz.key = 'period_timezone' and ttl.key = 'quota_reservation_ttl';

    if v_limited then
        -- one reserver per user at a time, until commit: no check-then-act window
        perform pg_catalog.pg_advisory_xact_lock(
            pg_catalog.hashtextextended('llm.quota_reservations/' || v_user::text, 0)
        );
        -- usage and open reservations of every hard quota's period, in one statement (one
        -- snapshot, taken after the lock); the limits are then compared in period order
        for v in
            select
                q.quota_period, p.period_start, u.unfolded_rows,
                array[q.token_limit, q.cost_limit, q.request_limit] as limits,
                array[u.tokens, u.cost_usd, u.requests] as used,
                array[r.tokens, r.cost_usd, r.requests] as reserved
            from llm.effective_quotas(v_user) as q
            inner join llm.usage_periods(now(), v_tz) as p on p.period_type = q.quota_period
            cross join lateral llm.period_usage(v_user, q.quota_period, p.period_start, v_tz) as u
            cross join (
                select
                    coalesce(sum(x.tokens), 0) as tokens,
                    coalesce(sum(x.cost_usd), 0) as cost_usd,
                    count(*) as requests
                from llm.quota_reservations as x
                where x.user_id = v_user and x.expires_at > now()
            ) as r
            where q.hard
            order by array_position(array['daily', 'weekly', 'monthly', 'yearly'], q.quota_period)
        loop
            for k in 1..3 loop
                -- a NULL limit is unlimited
                if v.used[k] + v.reserved[k] + v_requested[k] > v.limits[k] then
                    v_reset_at := (llm.usage_period_bounds(v.quota_period, v.period_start)).ends_at;
                    raise exception '% % quota exceeded: limit %, used %, reserved %, requested %',
                        v.quota_period, v_kinds[k], v.limits[k], v.used[k], v.reserved[k], v_requested[k]
                        using errcode = 'PT429',
                            detail = jsonb_build_object(
                                'user_id', v_user, 'quota_period', v.quota_period,
                                'limit_type', v_kinds[k], 'limit', v.limits[k], 'used', v.used[k],
                                'reserved', v.reserved[k], 'requested', v_requested[k],
                                'reset_at', v_reset_at
                            )::text,
                            hint = format('the %s quota resets at %s', v.quota_period, v_reset_at);
                end if;
            end loop;
            v_unfolded := greatest(v_unfolded, v.unfolded_rows);
        end loop;
        -- a busy user's unfolded rows are folded here once a check summed 64 of them, so
        -- checks stay cheap whatever the fold job's schedule; never waiting for a lock
        if v_unfolded >= 64 then
            perform llm.try_fold_user_journal(v_user, 1000);
        end if;
    end if;

    insert into llm.quota_reservations as x (user_id, tokens, cost_usd, expires_at)
    values (v_user, reserve_quota.tokens, reserve_quota.cost_usd, now() + v_ttl)
    returning x.id into v_id;
    return v_id;
end;
$$;
comment on function llm.reserve_quota(text, bigint, numeric) is
'Reserves tokens and cost_usd (and one request) for a request about to be made, against every hard quota of the user: granted only if used + open reservations + requested stays within each limit, under a per-user lock, so concurrent callers can never over-grant. Returns the reservation id; pass it to log_request(reservation_id => ...) to settle it with the actual usage, or to llm.release_reservation(). Refusal raises SQLSTATE PT429 (HTTP 429 through PostgREST) whose message names the period, limit, used, reserved and requested amounts, with the same as JSON in DETAIL. Reservations expire after quota_reservation_ttl. Service role only.';
grant execute on function llm.reserve_quota(text, bigint, numeric) to service_role;

-- Settles a reservation in the logging transaction (replaces the request log's no-op hook).
create or replace function llm.settle_reservation(
    p_reservation_id uuid,
    p_user_id uuid,
    p_request_log_id bigint,
    p_total_tokens bigint,
    p_cost_usd numeric
)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
    -- the journal row written with the request now counts the actual usage; the estimate
    -- goes in the same transaction. An unknown or expired reservation changes nothing.
    delete from llm.quota_reservations as x
    where x.id = p_reservation_id and x.user_id = p_user_id;
end;
$$;
comment on function llm.settle_reservation(uuid, uuid, bigint, bigint, numeric) is
'Called by llm.log_request(reservation_id => ...) in the logging transaction: deletes the user''s reservation, since the logged request''s journal row now counts its actual usage (p_request_log_id, p_total_tokens and p_cost_usd; 0 and 0 for a retry of a request_id already logged, whose first row counts it). A reservation that is unknown, expired, released or another user''s is left alone and the usage is still logged.';

-- Gives back a reservation whose request was not made.
create or replace function llm.release_reservation(reservation_id uuid)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
    if release_reservation.reservation_id is null then
        raise exception 'reservation_id is required' using errcode = '22004';
    end if;
    delete from llm.quota_reservations as x where x.id = release_reservation.reservation_id;
    return found;
end;
$$;
comment on function llm.release_reservation(uuid) is
'Releases an open reservation (the request failed or was not made). Returns true, or false when it was already settled, released or swept. Service role only.';
grant execute on function llm.release_reservation(uuid) to service_role;

-- Deletes expired reservations (they stopped counting at expiry already).
create or replace function llm_private.sweep_quota_reservations()
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_count bigint;
begin
    perform llm.require_admin('sweep reservations');
    delete from llm.quota_reservations as x where x.expires_at <= now();
    get diagnostics v_count = row_count;
    return v_count;
end;
$$;
comment on function llm_private.sweep_quota_reservations() is
'Implementation of llm.sweep_quota_reservations() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.sweep_quota_reservations() to authenticated, service_role;
