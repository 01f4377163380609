"""Request log maintenance and analytics: partitions created ahead, rows moved out of the
default partition, retention that drops only what it may, and the four example reports."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import psycopg
import pytest
from psycopg import errors

from harness.client import Api

UTC = dt.timezone.utc


@pytest.fixture
def db(fresh_db):
    conn = psycopg.connect(fresh_db, autocommit=True)
    yield conn
    conn.close()


@pytest.fixture
def svc(db) -> Api:
    return Api(db, "service_role")


def today() -> dt.date:
    return dt.datetime.now(UTC).date()


def partitions(db) -> list[str]:
    return [r[0] for r in db.execute("""
        select c.relname from pg_inherits as i join pg_class as c on c.oid = i.inhrelid
        where i.inhparent = 'llm.request_logs'::regclass and c.relname <> 'request_logs_default'
        order by 1""").fetchall()]


def name(day: dt.date) -> str:
    return f"request_logs_p{day:%Y%m%d}"


def at(day: dt.date, hour: int = 12) -> str:
    return dt.datetime.combine(day, dt.time(hour), UTC).isoformat()


def fold_usage(db, before: dt.date | None = None) -> None:
    """What usage metering's folding job does to the journal: consume the rows it folded."""
    if before is None:
        db.execute("delete from llm.usage_journal")
    else:
        db.execute("delete from llm.usage_journal where occurred_at < %s", (at(before, 0),))


# -- partitions ---------------------------------------------------------------------------

def test_the_migration_creates_partitions_ahead(db):
    expected = [name(today() + dt.timedelta(days=d)) for d in range(-1, 8)]
    assert set(expected) <= set(partitions(db))


def test_the_job_creates_partitions_as_days_pass_and_is_idempotent(svc, db):
    svc.rpc("set_setting", key="request_log_partitions_ahead", value=10)
    created = svc.rpc("create_request_log_partitions")
    assert created == [name(today() + dt.timedelta(days=d)) for d in (8, 9, 10)]
    assert svc.rpc("create_request_log_partitions") == []


def test_creating_a_partition_moves_waiting_rows_out_of_the_default(svc, db):
    far = today() - dt.timedelta(days=400)
    ids = [svc.rpc("log_request", provider="openai", model="gpt-4o", created_at=at(far, h))
           for h in (0, 23)]
    other = svc.rpc("log_request", provider="openai", model="gpt-4o",
                    created_at=at(far + dt.timedelta(days=1), 1))
    assert svc.rpc("create_request_log_partitions", from_day=str(far), to_day=str(far)) == [
        name(far)]
    where = dict(db.execute(
        "select id, tableoid::regclass::text from llm.request_logs where id = any(%s)",
        (ids + [other],)).fetchall())
    assert where == {ids[0]: f"llm_private.{name(far)}", ids[1]: f"llm_private.{name(far)}",
                     other: "llm_private.request_logs_default"}
    # the moved partition is a normal one: RLS on, indexes from the parent, no grants
    rls, indexes = db.execute(f"""
        select c.relrowsecurity, (select count(*) from pg_index where indrelid = c.oid)
        from pg_class as c where c.oid = 'llm_private.{name(far)}'::regclass""").fetchone()
    assert rls and indexes == 3


def test_logging_goes_on_while_partitions_are_created(svc, db, fresh_db):
    conn = psycopg.connect(fresh_db, autocommit=True)
    conn.execute("set lock_timeout = '2s'")
    other = Api(conn, "service_role")
    with db.transaction():
        db.execute("set local role service_role")
        db.execute("select llm.create_request_log_partitions(%s, %s)",
                   (today() + dt.timedelta(days=30), today() + dt.timedelta(days=31)))
        # another session logs into today's partition while the new ones are being attached
        assert other.rpc("log_request", provider="openai", model="gpt-4o") > 0
    conn.close()


def test_partition_arguments_are_checked(svc, make_user, as_user):
    with pytest.raises(errors.InvalidParameterValue):
        svc.rpc("create_request_log_partitions", from_day="2026-02-01", to_day="2026-01-01")
    with pytest.raises(errors.InvalidParameterValue):
        svc.rpc("create_request_log_partitions", from_day="2000-01-01", to_day="2030-01-01")


def test_users_cannot_run_maintenance(db):
    user = Api(db, "authenticated", {"sub": "00000000-0000-4000-8000-000000000001",
                                     "role": "authenticated"})
    with pytest.raises(errors.InsufficientPrivilege):
        user.rpc("create_request_log_partitions")
    with pytest.raises(errors.InsufficientPrivilege):
        user.rpc("apply_request_log_retention")


# -- retention ------------------------------------------------------------------------------

def old_partition_with_rows(svc, days_ago: int, rows: int = 2) -> tuple[dt.date, list[int]]:
    day = today() - dt.timedelta(days=days_ago)
    svc.rpc("create_request_log_partitions", from_day=str(day), to_day=str(day))
    ids = [svc.rpc("log_request", provider="openai", model="gpt-4o", created_at=at(day, h),
                   request_id=f"old-{days_ago}-{h}") for h in range(rows)]
    return day, ids


def test_retention_drops_expired_partitions_whose_usage_is_folded(svc, db):
    expired, expired_ids = old_partition_with_rows(svc, 91)
    kept, kept_ids = old_partition_with_rows(svc, 89)
    fold_usage(db)
    report = svc.rpc("apply_request_log_retention")
    assert [(r["partition_name"], r["action"], r["row_count"]) for r in report] == [
        (name(expired), "dropped", None)]
    assert report[0]["bytes"] > 0
    assert name(expired) not in partitions(db) and name(kept) in partitions(db)
    assert db.execute("select count(*) from llm.request_logs where id = any(%s)",
                      (kept_ids,)).fetchone() == (2,)
    # the request ids of dropped rows are forgotten, the others remembered
    assert db.execute("select request_id from llm.request_ids where request_id like 'old-%'"
                      " order by 1").fetchall() == [("old-89-0",), ("old-89-1",)]


def test_retention_refuses_to_drop_a_partition_with_unfolded_usage(svc, db):
    expired, ids = old_partition_with_rows(svc, 95)
    fold_usage(db, before=expired)  # the expired day's usage is still in the journal
    assert svc.rpc("usage_folded_before") == dt.datetime.combine(expired, dt.time(0), UTC)
    report = svc.rpc("apply_request_log_retention")
    assert {"partition_name": name(expired), "action": "kept: usage not folded yet",
            "row_count": None, "bytes": None} in report
    assert name(expired) in partitions(db)
    fold_usage(db)
    assert db.execute("select llm.usage_folded_before() = 'infinity'").fetchone() == (True,)
    assert (name(expired), "dropped") in [(r["partition_name"], r["action"])
                                          for r in svc.rpc("apply_request_log_retention")]


def test_retention_deletes_old_folded_rows_of_the_default_partition(svc, db):
    old = today() - dt.timedelta(days=1000)
    folded = svc.rpc("log_request", provider="openai", model="gpt-4o", created_at=at(old))
    fold_usage(db)
    unfolded = svc.rpc("log_request", provider="openai", model="gpt-4o", created_at=at(old, 13))
    report = svc.rpc("apply_request_log_retention")
    assert {"partition_name": "request_logs_default", "action": "deleted expired rows",
            "row_count": 1, "bytes": None} in report
    left = [r[0] for r in db.execute("select id from llm.request_logs where id = any(%s)",
                                     ([folded, unfolded],)).fetchall()]
    assert left == [unfolded]


def test_retention_keeps_a_batchs_rows_until_their_shared_journal_row_is_folded(svc, db):
    old = today() - dt.timedelta(days=1000)
    ids = svc.rpc("log_requests", requests=[
        {"provider": "openai", "model": "gpt-4o", "user_id": "old-batch", "created_at": at(old)}
        for _ in range(3)])
    assert db.execute("select count(*) from llm.usage_journal where request_log_id = any(%s)",
                      (ids,)).fetchone() == (1,)
    assert all(r["partition_name"] != "request_logs_default"
               for r in svc.rpc("apply_request_log_retention"))
    assert db.execute("select count(*) from llm.request_logs where id = any(%s)",
                      (ids,)).fetchone() == (3,)
    fold_usage(db)
    assert {"partition_name": "request_logs_default", "action": "deleted expired rows",
            "row_count": 3, "bytes": None} in svc.rpc("apply_request_log_retention")


def test_retention_zero_keeps_everything(svc, db):
    expired, _ = old_partition_with_rows(svc, 200)
    fold_usage(db)
    svc.rpc("set_setting", key="request_log_retention_days", value=0)
    assert svc.rpc("apply_request_log_retention") == []
    assert name(expired) in partitions(db)


def test_the_jobs_are_registered(db):
    rows = db.execute("select name, command from llm.jobs where name like 'llm_request_log%'"
                      " order by 1").fetchall()
    assert rows == [
        ("llm_request_log_partitions", "select llm.create_request_log_partitions()"),
        ("llm_request_log_retention", "select llm.apply_request_log_retention()"),
    ]


# -- analytics on a known data set ------------------------------------------------------------

@pytest.fixture
def dataset(svc, db, make_user_in):
    """Two users, three models, known costs, latencies and failures over two days."""
    alice, bob = make_user_in(db), make_user_in(db)
    d1, d2 = today() - dt.timedelta(days=1), today()
    rows = [
        # user, model, type, success, latency, tokens (prompt, completion), cost, day
        (alice, "gpt-4o", "chat", True, 100, (100, 50), "0.10", d1),
        (alice, "gpt-4o", "chat", True, 200, (200, 50), "0.20", d1),
        (alice, "gpt-4o", "chat", False, 900, (10, 0), "0.00", d2),
        (alice, "text-embedding-3-small", "embedding", True, 40, (1000, 0), "0.01", d2),
        (bob, "gpt-4o", "chat", True, 300, (300, 100), "0.30", d2),
        (bob, "gpt-4o", "chat", True, 400, (400, 100), "0.40", d2),
        (bob, "claude-haiku-4-5", "chat", False, 50, (5, 0), "0.00", d2),
    ]
    for user, model, kind, ok, latency, (p, c), cost, day in rows:
        svc.rpc("log_request", provider="openai", model=model, request_type=kind,
                user_id=str(user.id), success=ok, latency_ms=latency, prompt_tokens=p,
                completion_tokens=c, cost_usd=cost, created_at=at(day, 10))
    return alice, bob, d1, d2


@pytest.fixture
def make_user_in():
    from conftest import create_user
    return create_user


def test_cost_by_user(svc, dataset):
    alice, bob, _, _ = dataset
    got = [(r["user_id"], r["total_requests"], r["total_cost_usd"], r["total_tokens"])
           for r in svc.rpc("cost_by_user")]
    assert got == [(bob.id, 3, Decimal("0.70"), 905), (alice.id, 4, Decimal("0.31"), 1410)]


def test_error_rate_by_model(svc, dataset):
    got = [(r["model"], r["request_type"], r["total_requests"], r["failed_requests"],
            r["error_rate_pct"]) for r in svc.rpc("error_rate_by_model")]
    assert got == [
        ("claude-haiku-4-5", "chat", 1, 1, Decimal("100.00")),
        ("gpt-4o", "chat", 5, 1, Decimal("20.00")),
        ("text-embedding-3-small", "embedding", 1, 0, Decimal("0.00")),
    ]


def test_latency_by_model_counts_successes_with_percentiles(svc, dataset):
    got = {(r["request_type"], r["model"]): r for r in svc.rpc("latency_by_model")}
    gpt = got[("chat", "gpt-4o")]
    assert gpt["request_count"] == 4
    assert gpt["avg_latency_ms"] == Decimal("250.00")
    assert gpt["p50_latency_ms"] == Decimal("250.00")
    assert gpt["p95_latency_ms"] == Decimal("385.00")
    assert gpt["avg_tokens"] == Decimal("325.00")
    assert ("chat", "claude-haiku-4-5") not in got


def test_daily_usage_and_time_ranges(svc, dataset):
    _, _, d1, d2 = dataset
    got = [(r["date"], r["total_requests"], r["failed_requests"], r["total_cost_usd"],
            r["total_tokens"]) for r in svc.rpc("daily_usage")]
    assert got == [(d2, 5, 2, Decimal("0.71"), 1915), (d1, 2, 0, Decimal("0.30"), 400)]
    only_d1 = svc.rpc("daily_usage", since=at(d1, 0), until=at(d2, 0))
    assert [r["date"] for r in only_d1] == [d1]
    assert svc.rpc("cost_by_user", since=at(d2, 11)) == []


def test_users_see_only_their_own_numbers_and_admins_all(db, dataset):
    alice, bob, _, _ = dataset
    as_alice = Api(db, "authenticated", alice.claims())
    assert [(r["user_id"], r["total_requests"]) for r in as_alice.rpc("cost_by_user")] == [
        (alice.id, 4)]
    assert sum(r["total_requests"] for r in as_alice.rpc("daily_usage")) == 4
    assert {r["model"] for r in as_alice.rpc("error_rate_by_model")} == {
        "gpt-4o", "text-embedding-3-small"}
    db.execute("insert into llm.admins (user_id) values (%s)", (bob.id,))
    as_admin = Api(db, "authenticated", bob.claims())
    assert len(as_admin.rpc("cost_by_user")) == 2
