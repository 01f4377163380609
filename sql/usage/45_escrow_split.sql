-- A session's own escrow shard, made from half of another shard instead of a recompute.

-- Called by llm.reserve_quota() (under the user's escrow lock, shared) when a session with no
-- shard of its own finds shard 0 held by another transaction or short: it makes the session's
-- shard from half of the capacity of the shard no other transaction holds that has the most
-- tokens free. The shards keep their sum, so no recompute is needed (a recompute takes the
-- user's lock exclusive and waits for every transaction moving the user's escrow: new
-- connections of a busy user would queue behind each other's recomputes). Returns whether
-- the session now has a shard of its own to take from.
create or replace function llm.quota_escrow_split(p_user_id uuid, p_period text, p_start date)
returns boolean
language plpgsql
set search_path = ''
as $$
declare
    v_own smallint := llm.quota_escrow_shard();
    v_donor llm.quota_escrow;
begin
    select x.* into v_donor
    from llm.quota_escrow as x
    where x.user_id = p_user_id and x.quota_period = p_period and x.period_start = p_start
        and x.ready
    order by x.free_tokens desc nulls first, x.shard
    limit 1
    for no key update skip locked;
    if not found then
        return false;
    end if;
    -- a NULL (unlimited) amount stays NULL on both
    insert into llm.quota_escrow (
        user_id, quota_period, period_start, shard, ready, free_tokens, free_cost_usd, free_requests
    )
    values (
        p_user_id, p_period, p_start, v_own, true, floor(v_donor.free_tokens / 2),
        trunc(v_donor.free_cost_usd / 2, 12), floor(v_donor.free_requests / 2)
    )
    on conflict (user_id, quota_period, period_start, shard) do nothing;
    if not found then
        -- the session has one (short: the caller's second try fails and it recomputes), or a
        -- session with the same shard number made it meanwhile
        return true;
    end if;
    update llm.quota_escrow as e
    set free_tokens = e.free_tokens - floor(v_donor.free_tokens / 2),
        free_cost_usd = e.free_cost_usd - trunc(v_donor.free_cost_usd / 2, 12),
        free_requests = e.free_requests - floor(v_donor.free_requests / 2)
    where e.user_id = p_user_id and e.quota_period = p_period and e.period_start = p_start
        and e.shard = v_donor.shard;
    return true;
end;
$$;
comment on function llm.quota_escrow_split(uuid, text, date) is
'Makes the session''s own shard of a user''s escrow period from half of the capacity of the shard no other transaction holds with the most tokens free (the shards keep their sum); returns whether the session has a shard of its own to take from now (false when every shard is held or the period has no escrow yet). Internal: called by llm.reserve_quota().';
