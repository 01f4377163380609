-- Atomic quota reservations: reserve, settle with the logged request, release, sweep.

-- Folds some of a busy user's journal rows for a quota check without ever stalling it:
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
'Folds up to p_max_rows unfolded journal rows of one user, or nothing if that would wait more than 5 ms for a lock (the fold job or a recompute holds them). Returns the rows folded. Internal: called by llm.quota_escrow_refill() (the slow path of llm.reserve_quota()).';

-- A user's open reservations, summed, and how many of theirs expired without being swept. The
-- reservations are a queue (reserved, then settled): read by index whatever the table held
-- when the session made the plan (see llm.period_usage).
create or replace function llm.open_reservations(p_user_id uuid)
returns table (tokens numeric, cost_usd numeric, requests bigint, expired bigint)
language plpgsql
stable
rows 1
set search_path = ''
set plan_cache_mode = force_generic_plan
set enable_seqscan = off
set enable_bitmapscan = off
as $$
begin
    return query
    select
        coalesce(sum(x.tokens) filter (where x.expires_at > now()), 0),
        coalesce(sum(x.cost_usd) filter (where x.expires_at > now()), 0),
        count(*) filter (where x.expires_at > now()),
        count(*) filter (where x.expires_at <= now())
    from llm.quota_reservations as x
    where x.user_id = p_user_id;
end;
$$;
comment on function llm.open_reservations(uuid) is
'Tokens, cost and number of a user''s open reservations (not expired), and how many of theirs expired without being swept yet.';
grant execute on function llm.open_reservations(uuid) to authenticated, service_role;

-- Atomically grants capacity for one request, or refuses it with HTTP 429 semantics.
create or replace function llm.reserve_quota(user_id text, tokens bigint, cost_usd numeric default 0)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
    -- only backends may call this, and resolve_user maps their UUIDs to themselves: the
    -- usual case skips that call
    v_user uuid := case
        when reserve_quota.user_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
            then reserve_quota.user_id::uuid
        else llm.resolve_user(reserve_quota.user_id, false)
    end;
    v_tz text;
    v_ttl interval;
    v_periods text [];
    v_period text;
    v_start date;
    v_taken boolean := false;
    v_id uuid;
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

    -- both settings and the periods with a hard quota, in one statement (STRICT: a missing
    -- setting is an error, never a NULL)
    select
        tz.value #>> '{}',
        (ttl.value #>> '{}')::interval,
        -- llm.effective_quotas(), spelled out: this runs with every reservation
        array(
            select q.quota_period
            from (
                select distinct on (x.quota_period) x.quota_period, x.hard
                from llm.usage_quotas as x
                where x.user_id = v_user or x.user_id is null
                order by x.quota_period, x.user_id nulls last
            ) as q
            where q.hard order by q.quota_period  -- the order every writer takes them in
        )
    into strict v_tz, v_ttl, v_periods
    from llm.settings as tz
    cross join llm.settings as ttl
    where tz.key = 'period_timezone' and ttl.key = 'quota_reservation_ttl';

    if pg_catalog.cardinality(v_periods) > 0 then
        -- fast path: take the request from this session's shard of every hard period, or
        -- where the session has none, from shard 0 unless another transaction holds it (then
        -- from a shard of its own made from half of another); all or nothing (a
        -- subtransaction, so a shard that is short, or shard 0 tried, is not left locked, nor
        -- the user's escrow lock, which the slow path takes exclusive)
        begin
            -- the user's escrow lock, shared (see llm.quota_escrow_lock): a recompute of the
            -- user's escrow finishes first
            perform pg_catalog.pg_advisory_xact_lock_shared(llm.quota_escrow_lock(v_user));
            foreach v_period in array v_periods loop
                v_start := llm.period_floor(v_period, pg_catalog.timezone(v_tz, now()));
                -- a session with no shard of its own that finds shard 0 held (or short) makes
                -- its own from half of another shard (llm.quota_escrow_split), then takes from it
                for v_try in 1..2 loop
                    update llm.quota_escrow as e
                    set free_tokens = e.free_tokens - reserve_quota.tokens,
                        free_cost_usd = e.free_cost_usd - reserve_quota.cost_usd,
                        free_requests = e.free_requests - 1
                    where e.user_id = v_user
                        and e.quota_period = v_period
                        and e.period_start = v_start
                        and e.shard = coalesce(
                            (
                                select x.shard from llm.quota_escrow as x
                                where x.user_id = v_user and x.quota_period = v_period
                                    and x.period_start = v_start and x.shard = llm.quota_escrow_shard()
                            ),
                            (
                                select x.shard from llm.quota_escrow as x
                                where x.user_id = v_user and x.quota_period = v_period
                                    and x.period_start = v_start and x.shard = 0
                                for no key update skip locked
                            )
                        )
                        and e.ready
                        and (e.free_tokens is null or e.free_tokens >= reserve_quota.tokens)
                        and (e.free_cost_usd is null or e.free_cost_usd >= reserve_quota.cost_usd)
                        and (e.free_requests is null or e.free_requests >= 1);
                    v_taken := found;
                    exit when v_taken or v_try = 2
                        or not llm.quota_escrow_split(v_user, v_period, v_start);
                end loop;
                if not v_taken then
                    raise exception using errcode = 'LLMQE';  -- caught below: take the slow path
                end if;
            end loop;
        exception when sqlstate 'LLMQE' then
            v_taken := false;
        end;
        if not v_taken then
            perform llm.quota_escrow_refill(v_user, reserve_quota.tokens, reserve_quota.cost_usd, v_tz);
        end if;
    end if;

    -- a time-ordered id (a UUID v7: milliseconds since 1970, then random bits), so the
    -- reservations' primary key grows at its right edge instead of writing a random page
    -- (and, after each checkpoint, that page's full image to the WAL) for every reservation
    insert into llm.quota_reservations as x (id, user_id, tokens, cost_usd, expires_at)
    values (
        encode(
            set_bit(
                set_bit(
                    overlay(
                        uuid_send(gen_random_uuid())
                        placing substring(
                            int8send(floor(extract(epoch from clock_timestamp()) * 1000)::bigint)
                            from 3
                        )
                        from 1 for 6
                    ),
                    52, 1
                ),
                53, 1
            ),
            'hex'
        )::uuid,
        v_user, reserve_quota.tokens, reserve_quota.cost_usd, now() + v_ttl
    )
    returning x.id into v_id;
    return v_id;
end;
$$;
comment on function llm.reserve_quota(text, bigint, numeric) is
'Reserves tokens and cost_usd (and one request) for a request about to be made, against every hard quota of the user: granted only if used + open reservations + requested stays within each limit, so concurrent callers can never over-grant. Takes the request from one of up to 64 escrow shards of the user''s remaining capacity (llm.quota_escrow; the session''s own, else shard 0 unless another transaction holds it, else the session''s own, made from half of a shard no other transaction holds), so one user''s concurrent reservations proceed in parallel; when a shard is short, recomputes the capacity from the usage under the user''s lock before refusing. Returns the reservation id (a UUID v7: time-ordered); pass it to log_request(reservation_id => ...) to settle it with the actual usage, or to llm.release_reservation(). Refusal raises SQLSTATE PT429 (HTTP 429 through PostgREST) whose message names the period, limit, used, reserved and requested amounts, with the same as JSON in DETAIL. Reservations expire after quota_reservation_ttl. Service role only.';
grant execute on function llm.reserve_quota(text, bigint, numeric) to service_role;

-- Settles the reservation of a retried request (a request id logged before writes no journal
-- row; a journal row written settles its own reservation: llm.quota_escrow_on_usage).
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
    -- the first call's journal row counts the usage; the estimate goes in this transaction.
    -- An unknown or expired reservation changes nothing.
    delete from llm.quota_reservations as x
    where x.id = p_reservation_id and x.user_id = p_user_id;
end;
$$;
comment on function llm.settle_reservation(uuid, uuid, bigint, bigint, numeric) is
'Called by llm.log_request(reservation_id => ...), llm.log_requests and llm.record_completion when the request id was logged before (p_request_log_id is the first row''s; p_total_tokens and p_cost_usd are 0): deletes the user''s reservation, since the first row counts the usage. A logged request''s journal row settles its reservation itself (llm.quota_escrow_on_usage). A reservation that is unknown, expired, released or another user''s is left alone.';

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

-- Deletes expired reservations (they stopped counting at expiry already) and the escrow of
-- periods that ended.
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
    -- escrow of periods that ended
    delete from llm.quota_escrow as e
    where e.period_start < (
        select p.period_start
        from llm.usage_periods(now(), llm_private.setting_text('period_timezone')) as p
        where p.period_type = e.quota_period
    );
    return v_count;
end;
$$;
comment on function llm_private.sweep_quota_reservations() is
'Implementation of llm.sweep_quota_reservations() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.sweep_quota_reservations() to authenticated, service_role;
