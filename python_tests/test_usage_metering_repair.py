"""Usage metering maintenance: recompute (aggregate_user_token_usage), resumable backfill,
the legacy importer, retention, the admin report, the seed-shaped views and the jobs."""

from __future__ import annotations

import datetime as dt
import uuid

import psycopg
import pytest

from harness.client import Api
from usage_checks import fold_all, mismatches, rollup_snapshot

UTC = dt.timezone.utc


def uid() -> str:
    return f"user-{uuid.uuid4().hex[:10]}"


def log(service: Api, user: str | None, **kw) -> int:
    args = {"provider": "openai", "model": "gpt-4o", "user_id": user, "prompt_tokens": 100,
            "completion_tokens": 50, **kw}
    return service.rpc("log_request", **args)


def days_ago(n: float) -> dt.datetime:
    return dt.datetime.now(UTC) - dt.timedelta(days=n)


@pytest.fixture
def fresh(fresh_db):
    conn = psycopg.connect(fresh_db, autocommit=True)
    yield conn, Api(conn, "service_role")
    conn.close()


# -- aggregate_user_token_usage -----------------------------------------------------------

def test_aggregate_user_token_usage_repairs_rollups_without_double_counting(fresh):
    superuser, service = fresh
    service.rpc("set_setting", key="request_log_retention_days", value=0)  # yearly too
    user = uid()
    superuser.execute("select llm.set_model_price('acme', 'repair-model', '2025-01-01', 1, 2)")
    for n in (0, 1, 2):
        log(service, user, created_at=days_ago(n), model="gpt-4o-mini",
            conversation_id=str(uuid.uuid4()))
        log(service, user, created_at=days_ago(n), provider="acme", model="repair-model")
    fold_all(superuser)
    log(service, user, created_at=days_ago(1), cache_hit=True)  # still in the journal
    # a price fix leaves correction rows in the journal for requests already folded
    superuser.execute("select llm.set_model_price('acme', 'repair-model', '2025-06-01', 3, 4)")
    superuser.execute("select llm.recompute_costs('2025-01-01', 'infinity')")
    superuser.execute(
        "update llm.usage_rollups set total_tokens = 0, cost_usd = 0, requests = 0"
        " where user_id = llm.user_uuid(%s)", (user,))
    superuser.execute("delete from llm.usage_rollup_members where user_id = llm.user_uuid(%s)",
                      (user,))
    assert mismatches(superuser) != []
    user_id = service.rpc("user_uuid", identifier=user)
    window = {"p_user_id": str(user_id), "p_period_start": days_ago(3).isoformat(),
              "p_period_end": dt.datetime.now(UTC).isoformat()}
    for period in ("daily", "weekly", "monthly", "yearly"):
        service.rpc("aggregate_user_token_usage", p_period_type=period, **window)
    assert mismatches(superuser) == []
    before = rollup_snapshot(superuser)
    service.rpc("aggregate_user_token_usage", p_period_type="daily", **window)
    assert rollup_snapshot(superuser) == before
    fold_all(superuser)
    assert mismatches(superuser, "llm.usage_rollups") == []
    assert service.rpc("get_user_token_usage", user_id=user, days=7)["conversation_count"] == 3


@pytest.mark.parametrize("kw, state, field", [
    ({"p_period_type": "hourly"}, "22023", "p_period_type"),
    ({"p_period_type": None}, "22004", "p_period_type"),
    ({"p_user_id": None}, "22004", "p_user_id"),
    ({"p_period_end": "2026-01-01T00:00:00Z"}, "22023", "p_period_end"),
    ({"p_period_start": "2020-01-01T00:00:00Z"}, "22023", "request_log_retention_days"),
])
def test_aggregate_user_token_usage_rejects_bad_input(service, kw, state, field):
    args = {"p_user_id": str(uuid.uuid4()), "p_period_start": days_ago(2).isoformat(),
            "p_period_end": days_ago(1).isoformat(), "p_period_type": "daily", **kw}
    with pytest.raises(psycopg.Error) as exc:
        service.rpc("aggregate_user_token_usage", **args)
    assert exc.value.sqlstate == state and field in str(exc.value)


# -- backfill -----------------------------------------------------------------------------

def test_backfill_resumes_and_equals_the_live_rollups(fresh):
    conn, service = fresh
    service.rpc("set_setting", key="request_log_retention_days", value=0)
    users = [uid() for _ in range(3)]
    for n in range(12):
        for i, user in enumerate(users):
            log(service, user, created_at=days_ago(n + 0.3 * i), completion_tokens=n,
                conversation_id=str(uuid.UUID(int=n % 4 + 1)), agent_id=str(uuid.UUID(int=9)))
    fold_all(conn)
    members = "select * from llm.usage_rollup_members order by 1, 2, 3, 4, 5"
    expected = rollup_snapshot(conn)
    expected_members = conn.execute(members).fetchall()
    conn.execute("delete from llm.usage_rollups; delete from llm.usage_rollup_members")

    backfill = service.rpc("start_usage_backfill", from_day=days_ago(13).date().isoformat(),
                           to_day=dt.date.today().isoformat(), batch_periods=3)
    # an interrupted run leaves no trace: the next one starts over from the same place
    with pytest.raises(psycopg.errors.QueryCanceled):
        with conn.transaction():
            conn.execute("select * from llm.run_usage_backfill(2)")
            conn.execute("set local statement_timeout = '1ms'; select pg_sleep(1)")
    assert conn.execute("select next_start, periods_done from llm.usage_backfills where id = %s",
                        (backfill,)).fetchone() == (None, 0)
    statuses = []
    while "done" not in statuses:
        statuses = [r["status"] for r in service.rpc("run_usage_backfill", max_batches=1)]
        assert statuses
    state = conn.execute("select status, periods_skipped from llm.usage_backfills where id = %s",
                         (backfill,)).fetchone()
    assert state == ("done", 0)
    assert rollup_snapshot(conn) == expected
    assert conn.execute(members).fetchall() == expected_members
    assert service.rpc("run_usage_backfill") == []


def test_backfill_leaves_periods_the_raw_log_no_longer_covers(fresh):
    conn, service = fresh
    user = uid()
    log(service, user, created_at=days_ago(200))
    log(service, user)
    fold_all(conn)
    before = rollup_snapshot(conn)
    service.rpc("start_usage_backfill", from_day=days_ago(201).date().isoformat(),
                to_day=dt.date.today().isoformat(), batch_periods=366)
    while service.rpc("run_usage_backfill", max_batches=5):
        pass
    assert rollup_snapshot(conn) == before
    assert conn.execute("select periods_skipped > 0 from llm.usage_backfills").fetchone()[0]


@pytest.mark.parametrize("kw, state", [
    ({"to_day": "2025-12-31"}, "22023"), ({"from_day": None}, "22004"),
    ({"batch_periods": 0}, "22023"), ({"batch_periods": None}, "22023"),
])
def test_start_usage_backfill_rejects_bad_input(service, kw, state):
    args = {"from_day": "2026-01-01", "to_day": "2026-01-31", **kw}
    with pytest.raises(psycopg.Error) as exc:
        service.rpc("start_usage_backfill", **args)
    assert exc.value.sqlstate == state


# -- legacy importer ----------------------------------------------------------------------

def _message(role="assistant", details=True, **kw):
    metadata = {"tokens": 2336, "processing_time_ms": 7542}
    if details:
        metadata["processingDetails"] = {"prompt_tokens": 1435, "completion_tokens": 901,
                                         "total_tokens": 2336, "llm_calls": [{"step": 1}]}
    return {"id": str(uuid.uuid4()), "conversation_id": kw.pop("conversation_id", None),
            "sender_user_id": kw.pop("user", None), "sender_agent_id": kw.pop("agent", None),
            "role": role, "content": {"text": "hi"}, "metadata": metadata,
            "created_at": days_ago(1).isoformat(), **kw}


def test_importer_turns_legacy_chat_metadata_into_usage_once(service, superuser):
    user, conversation, agent = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    common = {"user": user, "conversation_id": conversation, "agent": agent}
    messages = [_message(**common), _message(**common), _message(role="user", **common),
                _message(details=False, **common)]
    messages[1]["metadata"]["processingDetails"] = {
        "prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15, "model": "gpt-4o-mini",
        "provider": "openai"}
    assert service.rpc("import_legacy_usage", messages=messages) == {
        "imported": 2, "already_imported": 0, "skipped": 2}
    assert service.rpc("import_legacy_usage", messages=messages) == {
        "imported": 0, "already_imported": 2, "skipped": 2}
    usage = service.rpc("get_user_token_usage", user_id=user, days=7)
    # the same numbers as option A of the source: sums over metadata.processingDetails
    assert (usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"],
            usage["total_requests"]) == (1445, 906, 2351, 2)
    assert usage["conversation_count"] == 1 and usage["agent_ids"] == [agent]
    assert set(usage["provider_breakdown"]) == {"unknown", "openai"}
    rows = superuser.execute(
        "select message_id, latency_ms, created_at from llm.request_logs"
        " where user_id = %s order by message_id", (user,)).fetchall()
    assert sorted(str(r[0]) for r in rows) == sorted(m["id"] for m in messages[:2])
    assert {r[1] for r in rows} == {7542}


@pytest.mark.parametrize("bad, state, text", [
    ({"id": "not-a-uuid"}, "22023", "messages[1]: id must be a UUID"),
    ({"id": None}, "22004", "messages[1]: id is required"),
    ({"metadata": {"processingDetails": {"prompt_tokens": -1}}}, "22023", "prompt_tokens"),
    ({"created_at": "yesterday-ish"}, "22023", "created_at"),
])
def test_importer_is_all_or_nothing_on_bad_items(service, superuser, bad, state, text):
    user = str(uuid.uuid4())
    messages = [_message(user=user), {**_message(user=user), **bad}]
    with pytest.raises(psycopg.Error) as exc:
        service.rpc("import_legacy_usage", messages=messages)
    assert exc.value.sqlstate == state and text in str(exc.value)
    assert superuser.execute("select count(*) from llm.request_logs where user_id = %s",
                             (user,)).fetchone()[0] == 0


def test_importer_needs_an_array(service):
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        service.rpc("import_legacy_usage", messages={"id": 1})


# -- retention ----------------------------------------------------------------------------

def _period_mismatches(conn, types: tuple[str, ...]) -> list[tuple]:
    return [m for m in mismatches(conn, "llm.usage_rollups") if m[0] in types]


def test_rollup_and_raw_retention_never_lose_folded_totals(fresh):
    conn, service = fresh
    user = uid()
    for n in (400, 100, 35, 0):
        log(service, user, created_at=days_ago(n), completion_tokens=n)
    fold_all(conn)
    yearly = conn.execute(
        "select period_start, sum(total_tokens) from llm.usage_rollups"
        " where period_type = 'yearly' group by 1 order by 1").fetchall()
    result = {r[0]: r[2] for r in conn.execute("select * from llm.apply_usage_rollup_retention()")}
    assert result["daily"] == 2 and result["monthly"] == 0
    assert conn.execute(
        "select min(period_start) >= current_date - 90 from llm.usage_rollups"
        " where period_type = 'daily'").fetchone()[0]
    assert _period_mismatches(conn, ("weekly", "monthly", "yearly")) == []
    # the raw rows of the old days go too, once folded; the yearly totals stay
    conn.execute("select * from llm.apply_request_log_retention()")
    assert conn.execute("select count(*) from llm.request_logs").fetchone()[0] == 2
    assert conn.execute(
        "select period_start, sum(total_tokens) from llm.usage_rollups"
        " where period_type = 'yearly' group by 1 order by 1").fetchall() == yearly
    year = days_ago(400).year
    report = service.rpc("usage_report", since=f"{year}-01-01", until=f"{year + 1}-01-01")
    assert report["totals"]["total_tokens"] == sum(
        t for d, t in yearly if d.year == year)


def test_raw_partitions_are_dropped_only_after_their_usage_is_folded(fresh):
    conn, service = fresh
    day = days_ago(100).date()
    conn.execute("select llm.create_request_log_partitions(%s, %s)", (day, day))
    log(service, uid(), created_at=dt.datetime.combine(day, dt.time(12), UTC))
    name = f"request_logs_p{day:%Y%m%d}"
    actions = dict(conn.execute(
        "select partition_name, action from llm.apply_request_log_retention()").fetchall())
    assert actions[name] == "kept: usage not folded yet"
    fold_all(conn)
    actions = dict(conn.execute(
        "select partition_name, action from llm.apply_request_log_retention()").fetchall())
    assert actions[name] == "dropped"
    assert conn.execute("select sum(requests) from llm.usage_rollups where period_type = 'yearly'"
                        ).fetchone()[0] == 1


# -- admin report -------------------------------------------------------------------------

def test_usage_report_ranks_users_by_tokens_or_cost_with_totals(fresh, make_user):
    conn, service = fresh
    march = dt.datetime(2025, 3, 10, 12, tzinfo=UTC)
    heavy, pricey, light = uid(), uid(), uid()
    log(service, heavy, created_at=march, prompt_tokens=9000, cost_usd=0.01)
    log(service, pricey, created_at=march, prompt_tokens=100, cost_usd=2)
    log(service, light, created_at=march, prompt_tokens=10, cost_usd=0.001)
    log(service, light, created_at=march + dt.timedelta(days=30))  # April: outside
    fold_all(conn)
    log(service, None, created_at=march, prompt_tokens=1, completion_tokens=0)  # no user
    by_tokens = service.rpc("usage_report", since="2025-03-01", until="2025-04-01")
    assert [u["user_label"] for u in by_tokens["users"]] == [heavy, pricey, light, None]
    assert [u["rank"] for u in by_tokens["users"]] == [1, 2, 3, 4]
    assert by_tokens["totals"]["total_tokens"] == 9050 + 150 + 60 + 1
    assert by_tokens["totals"]["requests"] == 4 and by_tokens["user_count"] == 3
    by_cost = service.rpc("usage_report", since="2025-03-01", until="2025-04-01", rank_by="cost",
                          max_users=1)
    assert [u["user_label"] for u in by_cost["users"]] == [pricey]
    assert by_cost["totals"] == by_tokens["totals"]
    recent = service.rpc("usage_report", since=days_ago(2).date().isoformat())
    assert recent["totals"]["requests"] == 0


@pytest.mark.parametrize("kw", [{"rank_by": "vibes"}, {"since": "2026-01-02", "until": "2026-01-01"},
                                {"since": "2020-01-05", "until": "2020-02-01"},
                                {"max_users": 0}])
def test_usage_report_rejects_bad_input(admin, kw):
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        admin.rpc("usage_report", **kw)


# -- views and jobs -----------------------------------------------------------------------

@pytest.mark.parametrize("view, columns", [
    ("daily_usage_summary", ["date", "provider", "model", "request_type", "count",
                             "failed_count", "total_tokens", "total_cost", "cache_hits",
                             "saved_cost", "saved_tokens"]),
    ("user_token_usage", ["user_id", "period_start", "period_end", "period_type",
                          "total_prompt_tokens", "total_completion_tokens", "total_tokens",
                          "total_cost_usd", "message_count", "conversation_count", "agent_ids",
                          "last_activity"]),
    ("user_usage_stats", ["user_id", "period_type", "period_start", "period_end",
                          "tokens_consumed", "requests_count", "cost_usd", "quota_limit"]),
])
def test_views_have_the_source_shapes(superuser, view, columns):
    cur = superuser.execute(f"select * from llm.{view} limit 0")
    assert [d.name for d in cur.description] == columns


def test_user_usage_stats_and_user_token_usage_agree(service, superuser):
    user = uid()
    service.rpc("set_user_quota", user_id=user, quota_period="daily", token_limit=777)
    log(service, user, conversation_id=str(uuid.uuid4()))
    stats = superuser.execute(
        "select period_end - period_start, tokens_consumed, requests_count, quota_limit"
        " from llm.user_usage_stats where user_id = llm.user_uuid(%s) and period_type = 'daily'",
        (user,)).fetchone()
    assert stats == (0, 150, 1, 777)
    usage = superuser.execute(
        "select period_end - period_start, total_tokens, message_count, conversation_count"
        " from llm.user_token_usage where user_id = llm.user_uuid(%s) and period_type = 'daily'",
        (user,)).fetchone()
    assert usage == (dt.timedelta(days=1), 150, 1, 1)


def test_jobs_are_registered(superuser):
    rows = dict(superuser.execute(
        "select name, command from llm.jobs where name in ('llm_usage_fold',"
        " 'llm_quota_reservation_sweep', 'llm_usage_rollup_retention', 'llm_usage_backfill')"
    ).fetchall())
    assert rows == {
        "llm_usage_fold": "select llm.run_usage_fold()",
        "llm_quota_reservation_sweep": "select llm.sweep_quota_reservations()",
        "llm_usage_rollup_retention": "select llm.apply_usage_rollup_retention()",
        "llm_usage_backfill": "select llm.run_usage_backfill()",
    }


def test_the_fold_job_folds_batches_until_the_journal_is_empty(fresh):
    conn, service = fresh
    service.rpc("set_setting", key="usage_fold_batch_rows", value=5)
    user = uid()
    for _ in range(12):
        log(service, user)
    journal = "select count(*) from llm.usage_journal"
    assert conn.execute("select llm.run_usage_fold(max_batches => 2)").fetchone()[0] == 10
    assert conn.execute(journal).fetchone()[0] == 2  # two batches of 5
    for _ in range(12):
        log(service, user)
    # the job's command: batches while they come back full (5, 5, 4), in one run
    assert conn.execute(conn.execute(
        "select command from llm.jobs where name = 'llm_usage_fold'").fetchone()[0]
    ).fetchone()[0] == 14
    assert conn.execute(journal).fetchone()[0] == 0
    assert mismatches(conn, "llm.usage_rollups") == []
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        conn.execute("select llm.run_usage_fold(0)")
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        conn.execute("select llm.run_usage_fold(1001)")


def test_a_fold_run_stops_after_its_run_time(fresh):
    conn, service = fresh
    service.rpc("set_setting", key="usage_fold_batch_rows", value=2)
    service.rpc("set_setting", key="usage_fold_run_time", value="0 seconds")
    user = uid()
    for _ in range(7):
        log(service, user)
    # a run always folds one batch; with no run time left, only one
    assert [conn.execute("select llm.run_usage_fold()").fetchone()[0] for _ in range(5)] == [2, 2, 2, 1, 0]
    assert mismatches(conn, "llm.usage_rollups") == []
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        service.rpc("set_setting", key="usage_fold_run_time", value="11 minutes")


def test_fold_usage_rejects_a_bad_batch_size(service):
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        service.rpc("fold_usage", max_rows=0)
