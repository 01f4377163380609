"""The quota escrow behind reserve_quota: shards of each user's remaining capacity that always
sum to limit - usage - open reservations, zero over-grants with 64 connections on one user,
every unit of capacity usable, and nothing lost or granted twice after a backend is killed
between reserve and settle."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
import uuid
from decimal import Decimal

import psycopg
import pytest

from harness import migrate
from harness.client import Api
from harness.cluster import throwaway_cluster
from test_usage_metering_concurrency import run_threads, uid

ESCROW_VS_TRUTH = """
    select q.quota_period,
           q.token_limit - u.tokens - r.tokens as truth,
           (select sum(e.free_tokens) from llm.quota_escrow as e
            where e.user_id = q.user_id and e.quota_period = q.quota_period
              and e.period_start = llm.usage_period_start(q.quota_period, now())) as escrow,
           (select bool_and(e.ready) from llm.quota_escrow as e
            where e.user_id = q.user_id and e.quota_period = q.quota_period
              and e.period_start = llm.usage_period_start(q.quota_period, now())) as ready
    from llm.usage_quotas as q
    cross join lateral llm.usage_totals(q.user_id, q.quota_period,
                                        llm.usage_period_start(q.quota_period, now())) as u
    cross join lateral (
        select coalesce(sum(x.tokens), 0) as tokens from llm.quota_reservations as x
        where x.user_id = q.user_id and x.expires_at > now()
    ) as r
    where q.user_id = llm.user_uuid(%s) and q.hard
"""


def escrow_matches_truth(conn: psycopg.Connection, user: str) -> list:
    """Periods whose ready escrow does not sum to limit - used - reserved."""
    return [row for row in conn.execute(ESCROW_VS_TRUTH, (user,)).fetchall()
            if row[3] and row[1] != row[2]]


def reserving_until_refused(user: str, reserve, settling: Api, seed: int,
                            refusals: list[str]):
    """A worker: reserves 10 tokens with ``reserve()``, then on ``settling`` releases the
    reservation (one time in five) or logs the request with at most what it reserved, until a
    reservation is refused (its SQLSTATE goes to ``refusals``)."""
    def run():
        rnd = random.Random(seed)
        while True:
            try:
                rid = reserve()
            except psycopg.Error as exc:
                refusals.append(exc.sqlstate)
                return
            if rnd.random() < 0.2:
                settling.rpc("release_reservation", reservation_id=str(rid))
            else:
                settling.rpc("log_request", provider="openai", model="gpt-4o", user_id=user,
                             prompt_tokens=rnd.randint(0, 10), completion_tokens=0,
                             total_tokens=10, reservation_id=str(rid))
    return run


def logged_tokens(conn: psycopg.Connection, user: str) -> int:
    return conn.execute(
        "select coalesce(sum(tokens_total), 0) from llm.request_logs where user_id = llm.user_uuid(%s)",
        (user,)).fetchone()[0]


def test_the_escrow_follows_usage_releases_and_quota_changes(service, superuser):
    user = uid()
    service.rpc("set_user_quota", user_id=user, quota_period="daily", hard=True, token_limit=1000)
    service.rpc("set_user_quota", user_id=user, quota_period="monthly", hard=True,
                token_limit=5000)
    first = service.rpc("reserve_quota", user_id=user, tokens=100)
    assert escrow_matches_truth(superuser, user) == []
    assert superuser.execute(ESCROW_VS_TRUTH, (user,)).fetchall()[0][3] is True
    # settled with more than reserved, an unreserved request, a release, a cost correction
    service.rpc("log_request", provider="openai", model="gpt-4o", user_id=user,
                prompt_tokens=150, completion_tokens=0, reservation_id=str(first))
    service.rpc("log_request", provider="openai", model="gpt-4o", user_id=user,
                prompt_tokens=70, completion_tokens=5)
    second = service.rpc("reserve_quota", user_id=user, tokens=200)
    assert service.rpc("release_reservation", reservation_id=str(second)) is True
    service.rpc("reserve_quota", user_id=user, tokens=300)
    assert escrow_matches_truth(superuser, user) == []
    # a lower limit: recomputed before the next use, and refused when it no longer fits
    service.rpc("set_user_quota", user_id=user, quota_period="daily", hard=True, token_limit=600)
    with pytest.raises(psycopg.Error) as exc:
        service.rpc("reserve_quota", user_id=user, tokens=100)
    assert exc.value.sqlstate == "PT429" and "daily token quota exceeded" in str(exc.value)
    assert service.rpc("reserve_quota", user_id=user, tokens=75)
    assert escrow_matches_truth(superuser, user) == []


def test_logged_usage_settles_its_reservation_in_the_same_escrow_move(service, superuser):
    """The journal row of a logged request settles the reservation it carries (one escrow move
    for both); a release later in the same transaction still gives its capacity back, and a
    batch settles its items' reservations, a retry's with nothing more."""
    user = uid()
    service.rpc("set_user_quota", user_id=user, quota_period="daily", hard=True, token_limit=10000)
    service.rpc("release_reservation",
                reservation_id=str(service.rpc("reserve_quota", user_id=user, tokens=0)))
    call = lambda sql, *args: superuser.execute(sql, args).fetchone()[0]  # noqa: E731
    reserve = "select llm.reserve_quota(%s, %s)"
    with superuser.transaction():
        settled, released = call(reserve, user, 100), call(reserve, user, 200)
        call("select llm.log_request(provider => 'openai', model => 'gpt-4o', user_id => %s,"
             " prompt_tokens => 150, reservation_id => %s)", user, settled)
        assert call("select llm.release_reservation(%s)", released) is True
        first, retried = call(reserve, user, 300), call(reserve, user, 400)
        items = [{"provider": "openai", "model": "gpt-4o", "user_id": user, "request_id": rid,
                  "prompt_tokens": 250, "reservation_id": str(res)}
                 for rid, res in (("batch-1", first), ("batch-1", retried))]
        call("select llm.log_requests(%s::jsonb)", psycopg.types.json.Jsonb(items))
    open_ = "select count(*) from llm.quota_reservations where user_id = llm.user_uuid(%s)"
    assert superuser.execute(open_, (user,)).fetchone()[0] == 0
    assert logged_tokens(superuser, user) == 400
    assert escrow_matches_truth(superuser, user) == []
    assert superuser.execute(ESCROW_VS_TRUTH, (user,)).fetchone()[1:] == (9600, 9600, True)


def test_reservation_ids_are_time_ordered_uuid_v7(service):
    user = uid()
    service.rpc("set_user_quota", user_id=user, quota_period="daily", hard=True, token_limit=1000)
    ids = []
    for _ in range(3):
        ids.append(uuid.UUID(str(service.rpc("reserve_quota", user_id=user, tokens=1))))
        time.sleep(0.002)
    assert [i.version for i in ids] == [7, 7, 7] and ids == sorted(ids)
    assert {i.variant for i in ids} == {uuid.RFC_4122}
    # the first 48 bits are the reservation's millisecond
    assert abs((ids[0].int >> 80) - time.time() * 1000) < 60_000


def test_a_later_period_short_after_an_earlier_one_was_taken_from(service, superuser):
    """The daily shard is taken from, then the monthly one is short: the recompute grants the
    request from the usage and the daily shard does not count it twice."""
    user = uid()
    service.rpc("set_user_quota", user_id=user, quota_period="daily", hard=True,
                token_limit=10**6)
    service.rpc("set_user_quota", user_id=user, quota_period="monthly", hard=True,
                token_limit=1000)
    service.rpc("reserve_quota", user_id=user, tokens=100)
    # the monthly 900 left is spread over this session's shards: take all but 50 of its own
    own = superuser.execute(
        "select free_tokens from llm.quota_escrow where user_id = llm.user_uuid(%s)"
        " and quota_period = 'monthly' and shard <> 0", (user,)).fetchone()
    if own is not None:
        service.rpc("reserve_quota", user_id=user, tokens=int(own[0]) - 50)
    assert service.rpc("reserve_quota", user_id=user, tokens=100)
    assert escrow_matches_truth(superuser, user) == []


def test_users_without_hard_quotas_keep_no_escrow(service, superuser):
    user = uid()
    service.rpc("set_user_quota", user_id=user, quota_period="daily", hard=False, token_limit=10)
    assert service.rpc("reserve_quota", user_id=user, tokens=100)
    service.rpc("log_request", provider="openai", model="gpt-4o", user_id=user, prompt_tokens=5)
    assert superuser.execute("select count(*) from llm.quota_escrow where user_id = llm.user_uuid(%s)",
                             (user,)).fetchone()[0] == 0


def test_users_who_log_without_reserving_keep_no_escrow(service, superuser):
    user = uid()
    service.rpc("set_user_quota", user_id=user, quota_period="daily", hard=True, token_limit=1000)
    for _ in range(3):
        service.rpc("log_request", provider="openai", model="gpt-4o", user_id=user,
                    prompt_tokens=100)
    escrow = "select count(*) from llm.quota_escrow where user_id = llm.user_uuid(%s)"
    assert superuser.execute(escrow, (user,)).fetchone()[0] == 0
    # the first reservation computes it from the usage
    service.rpc("reserve_quota", user_id=user, tokens=100)
    assert superuser.execute(escrow, (user,)).fetchone()[0] > 0
    assert escrow_matches_truth(superuser, user) == []
    with pytest.raises(psycopg.Error) as exc:
        service.rpc("reserve_quota", user_id=user, tokens=601)
    assert exc.value.sqlstate == "PT429"


def test_usage_logged_while_the_escrow_is_computed_is_never_lost(connect, service, superuser):
    """16 connections log without pause for one user after another while the user's first
    reservation of the period computes the escrow: every logged request counts in it."""
    writers = [Api(connect(), "service_role") for _ in range(16)]
    users: list[str] = []
    stop = threading.Event()

    def logging(api: Api):
        def run():
            while not stop.is_set():
                api.rpc("log_request", provider="openai", model="gpt-4o", user_id=users[-1],
                        prompt_tokens=7, completion_tokens=0)
        return run

    users.append(uid())
    threads = [threading.Thread(target=logging(a)) for a in writers]
    for t in threads:
        t.start()
    try:
        for _ in range(30):
            user = uid()
            service.rpc("set_user_quota", user_id=user, quota_period="daily", hard=True,
                        token_limit=10**9)
            users.append(user)
            time.sleep(0.01)
            service.rpc("reserve_quota", user_id=user, tokens=1)
            time.sleep(0.01)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert [u for u in users[1:] if escrow_matches_truth(superuser, u)] == []


def test_under_repeatable_read_an_escrow_computed_after_the_snapshot_fails_the_log(
        connect, service):
    """The escrow is first computed after the logging transaction took its snapshot: the log
    fails with 40001 (retry it) instead of missing the escrow it cannot see."""
    user = uid()
    service.rpc("set_user_quota", user_id=user, quota_period="daily", hard=True, token_limit=1000)
    conn = connect()
    conn.execute("begin isolation level repeatable read")
    conn.execute("select 1")  # the snapshot
    service.rpc("reserve_quota", user_id=user, tokens=1)
    with pytest.raises(psycopg.errors.SerializationFailure):
        conn.execute("select llm.log_request(provider => 'openai', model => 'gpt-4o',"
                     " user_id => %s, prompt_tokens => 5)", (user,))
    conn.execute("rollback")


def _in_transaction(conn: psycopg.Connection, sql: str, user: str) -> None:
    conn.execute("begin")
    conn.execute("set local role service_role")
    conn.execute(sql, (user,))


LOG_FOR = ("select llm.log_request(provider => 'openai', model => 'gpt-4o', user_id => %s,"
           " prompt_tokens => 5)")
RESERVE_FOR = "select llm.reserve_quota(%s, 10)"


def assert_decided_on_90_left(service: Api, user: str) -> None:
    """The next reservations are decided on 90 tokens left: 95 refused, 90 granted."""
    with pytest.raises(psycopg.Error) as exc:
        service.rpc("reserve_quota", user_id=user, tokens=95)
    assert exc.value.sqlstate == "PT429"
    assert service.rpc("reserve_quota", user_id=user, tokens=90)


def test_two_transactions_that_log_then_recompute_for_one_user_deadlock_one_of_them(
        connect, service, superuser):
    """A transaction that logged usage for a user holds the user's escrow lock (shared) until
    it ends, and a reservation that needs a recompute (here the user's first of the period)
    waits for every other holder. Two such transactions wait for each other: PostgreSQL ends
    one with 40P01 after deadlock_timeout, the other is granted; retried, the first is
    granted too, and the escrow is exact."""
    user = uid()
    service.rpc("set_user_quota", user_id=user, quota_period="daily", hard=True, token_limit=1000)
    a, b = connect(), connect()
    for conn in (a, b):
        _in_transaction(conn, LOG_FOR, user)
    outcomes: list[str] = []

    def reserve(conn: psycopg.Connection):
        def run():
            try:
                conn.execute(RESERVE_FOR, (user,))
                conn.execute("commit")
                outcomes.append("granted")
            except psycopg.errors.DeadlockDetected:
                conn.execute("rollback")
                outcomes.append("40P01")
        return run

    threads = [threading.Thread(target=reserve(c)) for c in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["40P01", "granted"]
    # the ended transaction (its log too) retried, reserving first: granted
    _in_transaction(a, RESERVE_FOR, user)
    a.execute(LOG_FOR, (user,))
    a.execute("commit")
    assert logged_tokens(superuser, user) == 10
    assert superuser.execute("select count(*) from llm.quota_reservations where user_id = llm.user_uuid(%s)",
                             (user,)).fetchone()[0] == 2
    assert escrow_matches_truth(superuser, user) == []


def test_transactions_that_reserve_then_log_for_one_user_never_deadlock(
        connect, service, superuser):
    """Reserving before logging in the same transaction: a second transaction's reservation
    waits for the first's recompute to commit, then is granted from the escrow it made."""
    user = uid()
    service.rpc("set_user_quota", user_id=user, quota_period="daily", hard=True, token_limit=1000)
    a, b = connect(), connect()
    _in_transaction(a, RESERVE_FOR, user)  # the first of the period: a recompute
    second = threading.Thread(target=lambda: (_in_transaction(b, RESERVE_FOR, user),
                                              b.execute(LOG_FOR, (user,)), b.execute("commit")))
    second.start()
    time.sleep(0.2)
    assert second.is_alive()  # waiting for the recompute's lock
    a.execute(LOG_FOR, (user,))
    a.execute("commit")
    second.join()
    assert logged_tokens(superuser, user) == 10
    assert escrow_matches_truth(superuser, user) == []


def test_a_quota_lowered_while_a_recompute_commits_applies_to_the_next_reservation(
        connect, service):
    """A quota changed while another transaction's recompute of the user's escrow is not
    committed yet waits for it, then marks the shards it wrote: the next reservation is
    decided on the new limit, never granted from capacity computed on the old one."""
    user = uid()
    service.rpc("set_user_quota", user_id=user, quota_period="daily", hard=True, token_limit=1000)
    recompute = connect()
    _in_transaction(recompute, RESERVE_FOR, user)  # the first: a recompute
    lowered = threading.Thread(target=lambda: service.rpc(
        "set_user_quota", user_id=user, quota_period="daily", hard=True, token_limit=100))
    lowered.start()
    time.sleep(0.3)
    recompute.execute("commit")
    lowered.join()
    # 10 reserved + 95 > 100, though the shards computed on 1000 held 495 each
    assert_decided_on_90_left(service, user)


def test_rollups_recomputed_while_a_recompute_commits_apply_to_the_next_reservation(
        connect, service, superuser):
    """Rollups repaired (aggregate_user_token_usage) while another transaction's recompute of
    the user's escrow, made on the rollups before the repair, is not committed yet: the repair
    waits for it, then marks the shards it wrote, so the next reservation is decided on the
    repaired usage."""
    user = uid()
    service.rpc("set_user_quota", user_id=user, quota_period="daily", hard=True, token_limit=1000)
    service.rpc("log_request", provider="openai", model="gpt-4o", user_id=user,
                prompt_tokens=900, completion_tokens=0)
    superuser.execute("select llm.fold_usage(100000)")
    # the rollups lost the 900 tokens the raw log holds
    superuser.execute("update llm.usage_rollups set total_tokens = 0, prompt_tokens = 0"
                      " where user_id = llm.user_uuid(%s)", (user,))
    recompute = connect()
    _in_transaction(recompute, RESERVE_FOR, user)  # computed on 0 used
    user_id = service.rpc("user_uuid", identifier=user)
    start, end = superuser.execute("select now(), now() + interval '1 minute'").fetchone()
    repair = threading.Thread(target=lambda: repaired.append(service.rpc(
        "aggregate_user_token_usage", p_user_id=str(user_id), p_period_start=start.isoformat(),
        p_period_end=end.isoformat(), p_period_type="daily")))
    repaired: list = []
    repair.start()
    time.sleep(0.3)
    assert repaired == []  # waiting for the escrow recompute
    recompute.execute("commit")
    repair.join()
    assert len(repaired) == 1
    # 900 used + 10 reserved + 95 > 1000, though the shards computed on 0 held 495 each
    assert_decided_on_90_left(service, user)


def test_a_signed_in_user_reads_only_their_own_escrow(service, make_user, as_user):
    alice, bob = make_user(), make_user()
    for user in (alice, bob):
        service.rpc("set_user_quota", user_id=str(user.id), quota_period="daily", hard=True,
                    token_limit=100)
        service.rpc("reserve_quota", user_id=str(user.id), tokens=1)
    rows = as_user(alice).sql("select distinct user_id from llm.quota_escrow")
    assert [str(r["user_id"]) for r in rows] == [str(alice.id)]


def test_64_connections_on_one_user_never_over_grant_and_use_every_unit(connect, service,
                                                                          superuser):
    """Reserve, log with the actual usage (at most the reservation) or release, and log some
    requests with no reservation, from 64 connections at once, until refused."""
    user = uid()
    limit = 3000
    service.rpc("set_user_quota", user_id=user, quota_period="daily", hard=True,
                token_limit=limit)
    apis = [Api(connect(), "service_role") for _ in range(64)]
    refusals: list[str] = []

    def worker(api: Api, seed: int):
        return reserving_until_refused(
            user, lambda: api.rpc("reserve_quota", user_id=user, tokens=10), api, seed, refusals)

    assert run_threads([worker(a, i) for i, a in enumerate(apis)]) == []
    assert set(refusals) == {"PT429"}
    used = logged_tokens(superuser, user)
    open_reserved = superuser.execute(
        "select coalesce(sum(tokens), 0) from llm.quota_reservations where user_id = llm.user_uuid(%s)",
        (user,)).fetchone()[0]
    # every grant fitted (zero over-grants), and the last refusals left less than one request
    assert used + open_reserved <= limit
    assert limit - used - open_reserved < 10
    assert escrow_matches_truth(superuser, user) == []


def test_reserved_on_one_connection_and_settled_on_others_never_over_grant(connect, service,
                                                                          superuser):
    """As behind a connection pool: reservations made on one connection, and logged or released
    by 16 others whose sessions have no shard of the user (their usage goes to shard 0), all at
    once, while the reserving connection recomputes the shards."""
    user = uid()
    limit = 3000
    service.rpc("set_user_quota", user_id=user, quota_period="daily", hard=True,
                token_limit=limit)
    pid = "select pg_backend_pid() % 64"
    reserving = Api(connect(), "service_role")
    mine = reserving.conn.execute(pid).fetchone()[0]
    settling: list[Api] = []
    while len(settling) < 16:
        api = Api(connect(), "service_role")
        if api.conn.execute(pid).fetchone()[0] not in (0, mine):
            settling.append(api)
    one_at_a_time = threading.Lock()  # a connection serves one request at a time
    refusals: list[str] = []

    def reserve():
        with one_at_a_time:
            return reserving.rpc("reserve_quota", user_id=user, tokens=10)

    assert run_threads([reserving_until_refused(user, reserve, api, i, refusals)
                        for i, api in enumerate(settling)]) == []
    assert set(refusals) == {"PT429"}
    used = logged_tokens(superuser, user)
    assert used <= limit and limit - used < 10
    # only the reserving session's shard and shard 0; no usage parked on a row that does not
    # count (not ready); the shards sum to the truth
    assert superuser.execute(
        "select array_agg(shard order by shard), bool_and(ready) from llm.quota_escrow"
        " where user_id = llm.user_uuid(%s)", (user,)).fetchone() == (sorted({0, mine}), True)
    assert escrow_matches_truth(superuser, user) == []


def test_shards_are_made_as_sessions_need_them(connect, service, superuser):
    """Requests one at a time, from any connection, take from shard 0 (or the first session's
    own); sessions reserving at the same moment make their own, up to 64."""
    user = uid()
    service.rpc("set_user_quota", user_id=user, quota_period="daily", hard=True,
                token_limit=10**9)
    shards = "select count(*) from llm.quota_escrow where user_id = llm.user_uuid(%s)"
    for _ in range(20):
        Api(connect(), "service_role").rpc("reserve_quota", user_id=user, tokens=10)
    assert superuser.execute(shards, (user,)).fetchone()[0] in (1, 2)
    apis = [Api(connect(), "service_role") for _ in range(32)]

    def worker(api: Api):
        def run():
            for _ in range(30):
                api.rpc("reserve_quota", user_id=user, tokens=10)
        return run

    assert run_threads([worker(a) for a in apis]) == []
    assert 2 < superuser.execute(shards, (user,)).fetchone()[0] <= 64
    assert escrow_matches_truth(superuser, user) == []


def test_a_new_connection_finding_shard_0_held_makes_its_own_shard_without_waiting(
        connect, service, superuser):
    """A session with no shard, while another transaction holds shard 0, takes half of a free
    shard for a shard of its own: it neither waits for that transaction (as a recompute of the
    user's escrow, which takes the user's lock exclusive, would) nor changes the sum."""
    user = uid()
    service.rpc("set_user_quota", user_id=user, quota_period="daily", hard=True,
                token_limit=10_000, cost_limit=5, request_limit=100)
    pid = "select pg_backend_pid() % 64"
    sessions: list[Api] = []
    while len(sessions) < 3:
        api = Api(connect(), "service_role")
        if api.conn.execute(pid).fetchone()[0] not in {0} | {s.conn.execute(pid).fetchone()[0]
                                                            for s in sessions}:
            sessions.append(api)
    first, holder, newcomer = sessions
    first.rpc("reserve_quota", user_id=user, tokens=100, cost_usd=0.5)  # shards 0 and first's
    shards = ("select shard, free_tokens, free_cost_usd, free_requests from llm.quota_escrow"
              " where user_id = llm.user_uuid(%s) order by shard")
    before = superuser.execute(shards, (user,)).fetchall()
    assert len(before) == 2
    holder.conn.execute("begin")
    holder.rpc("reserve_quota", user_id=user, tokens=10)  # takes from shard 0, holds it
    newcomer.conn.execute("set lock_timeout = '2s'")
    newcomer.rpc("reserve_quota", user_id=user, tokens=10, cost_usd=0.01)
    mine = newcomer.conn.execute(pid).fetchone()[0]
    after = {row[0]: row[1:] for row in superuser.execute(shards, (user,)).fetchall()}
    donor = next(row for row in before if row[0] != 0)
    # the newcomer's shard holds half of the donor's capacity, less what it took
    assert after[mine] == (donor[1] // 2 - 10, donor[2] / 2 - Decimal("0.01"),
                           donor[3] // 2 - 1)
    assert after[donor[0]] == (donor[1] - donor[1] // 2, donor[2] - donor[2] / 2,
                               donor[3] - donor[3] // 2)
    holder.conn.execute("commit")
    assert escrow_matches_truth(superuser, user) == []


@pytest.fixture(scope="module")
def crash_cluster():
    cluster = throwaway_cluster(fast=False)
    migrate.apply_shim(cluster.admin_url())
    migrate.apply_migrations(cluster.url())
    yield cluster
    cluster.destroy()


def test_a_backend_killed_between_reserve_and_settle_loses_nothing(crash_cluster):
    url = crash_cluster.url()
    user = uid()
    with psycopg.connect(url, autocommit=True) as conn:
        service = Api(conn, "service_role")
        service.rpc("set_user_quota", user_id=user, quota_period="daily", hard=True,
                    token_limit=100)
        held = service.rpc("reserve_quota", user_id=user, tokens=60)
    # a second backend reserves inside its own transaction and is killed before committing;
    # crash recovery empties the unlogged marker, which tells when the restart is over
    with psycopg.connect(crash_cluster.admin_url(), autocommit=True) as conn:
        conn.execute("create unlogged table if not exists public.crash_marker (x int)")
        conn.execute("grant select on public.crash_marker to postgres")
        conn.execute("insert into public.crash_marker values (1)")
    victim = psycopg.connect(url)  # not autocommit: the reservation stays uncommitted
    victim.execute("select llm.reserve_quota(%s, 40)", (user,))
    os.kill(victim.info.backend_pid, signal.SIGKILL)
    victim.close()
    deadline = time.monotonic() + 60
    while True:
        try:
            conn = psycopg.connect(url, autocommit=True)
            if conn.execute("select count(*) from public.crash_marker").fetchone()[0] == 0:
                Api(conn, "service_role").rpc("version")
                break
            conn.close()
        except psycopg.OperationalError:
            pass
        assert time.monotonic() < deadline, "the server did not restart"
        time.sleep(0.1)
    with conn:
        service = Api(conn, "service_role")
        # the committed reservation survived, the killed one left nothing behind
        assert conn.execute("select array_agg(id) from llm.quota_reservations"
                            " where user_id = llm.user_uuid(%s)", (user,)).fetchone()[0] == [held]
        assert service.rpc("reserve_quota", user_id=user, tokens=40)
        with pytest.raises(psycopg.Error) as exc:
            service.rpc("reserve_quota", user_id=user, tokens=1)
        assert exc.value.sqlstate == "PT429"
        assert escrow_matches_truth(conn, user) == []
        # the killed process's client settles the held reservation after the restart
        service.rpc("log_request", provider="openai", model="gpt-4o", user_id=user,
                    prompt_tokens=20, completion_tokens=0, reservation_id=str(held))
        assert service.rpc("reserve_quota", user_id=user, tokens=40)
        assert escrow_matches_truth(conn, user) == []
