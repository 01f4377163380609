"""Hardening of usage metering's write paths under concurrency, with real concurrent
connections: recomputes, folds, partition jobs and loggers at once; a chat turn's message and
usage together; logging while partitions are created."""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
import uuid

import psycopg
from psycopg import errors

from harness.client import Api
from usage_checks import fold_all, mismatches

UTC = dt.timezone.utc


def run_threads(targets: list) -> list[BaseException]:
    """Runs callables in threads, started together; returns what they raised."""
    failures: list[BaseException] = []
    start = threading.Barrier(len(targets))

    def wrap(fn):
        def run():
            start.wait()
            try:
                fn()
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                failures.append(exc)
        return run

    threads = [threading.Thread(target=wrap(fn)) for fn in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return failures


def today() -> dt.date:
    return dt.datetime.now(UTC).date()


def at(day: dt.date, hour: int) -> str:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=UTC).isoformat()


# -- item 1: recompute_costs with folds, partition jobs and loggers ---------------------------

def test_concurrent_recomputes_folds_partition_jobs_and_loggers_keep_rollups_exact(
        fresh_db, connect):
    db = connect(fresh_db)
    service = Api(connect(fresh_db), "service_role")
    days = [today() - dt.timedelta(days=n) for n in (9, 8, 7)]  # no partitions yet: default
    db.execute("select llm.set_model_price('acme', 'rc-1', '2020-01-01', 1, 2)")
    rnd = random.Random(7)
    for n in range(240):
        service.rpc("log_request", provider="acme", model="rc-1", user_id=f"rc-{n % 5}",
                    prompt_tokens=rnd.randint(1, 5000), completion_tokens=rnd.randint(1, 900),
                    created_at=at(days[n % 3], n % 24))
    since, until = at(days[0], 0), at(today() + dt.timedelta(days=1), 0)

    for round_, price in enumerate((3, 5, 11)):
        db.execute("select llm.set_model_price('acme', 'rc-1', '2020-01-01', %s, 2)", (price,))
        done = threading.Event()

        def recompute():
            conn = connect(fresh_db)
            conn.execute("select llm.recompute_costs(%s, %s)", (since, until))

        def log_more(seed: int):
            def run():
                api = Api(connect(fresh_db), "service_role")
                r = random.Random(seed)
                for _ in range(25):
                    api.rpc("log_request", provider="acme", model="rc-1",
                            user_id=f"rc-{r.randint(0, 4)}", prompt_tokens=r.randint(1, 5000),
                            created_at=at(r.choice(days), r.randint(0, 23)))
            return run

        def fold():
            conn = connect(fresh_db)
            while not done.is_set():
                conn.execute("select llm.fold_usage(37)")

        def partitions():
            conn = connect(fresh_db)
            day = days[round_]
            conn.execute("select llm.create_request_log_partitions(%s, %s)", (day, day))

        def load():
            try:
                assert run_threads([recompute] * 4 + [log_more(round_ * 10 + i) for i in range(3)]
                                   + [partitions]) == []
            finally:
                done.set()

        failures = run_threads([load, fold, fold])
        assert failures == []
    # the raw log is priced at the last price, and the rollups say the same to the cent
    assert db.execute("select count(*) from llm.request_logs where model = 'rc-1'"
                      " and cost_usd is distinct from llm.estimate_cost('acme', 'rc-1',"
                      " prompt_tokens, completion_tokens, 0, 0, null, created_at)").fetchone()[0] == 0
    assert mismatches(db) == []
    fold_all(db)
    assert mismatches(db, "llm.usage_rollups") == []


# -- item 3: a chat turn's message and usage commit together ----------------------------------

def _as_service(conn: psycopg.Connection) -> None:
    conn.execute("select set_config('role', 'service_role', true),"
                 " set_config('request.jwt.claims', '{\"role\": \"service_role\"}', true)")


def test_the_same_request_id_on_two_conversations_at_once_stores_no_message_without_usage(
        fresh_db, connect):
    service = Api(connect(fresh_db), "service_role")
    first, second = (service.rpc("create_conversation", user_id="turn-user") for _ in range(2))
    a, b = connect(fresh_db), connect(fresh_db)
    request_id = f"chatcmpl-{uuid.uuid4().hex}"
    call = ("select * from llm.record_completion(conversation_id => %s, content => %s,"
            " provider => 'openai', model => 'gpt-4o', prompt_tokens => 5,"
            " completion_tokens => 7, request_id => %s)")
    outcome: dict = {}

    def second_turn():
        try:
            with b.transaction():
                _as_service(b)
                outcome["row"] = b.execute(call, (second, "second", request_id)).fetchone()
        except psycopg.Error as exc:
            outcome["error"] = exc

    with a.transaction():
        _as_service(a)
        a.execute(call, (first, "first", request_id))
        thread = threading.Thread(target=second_turn)
        thread.start()
        time.sleep(0.5)  # the second turn is past its retry check, waiting on the request id
    thread.join()
    assert isinstance(outcome.get("error"), errors.UniqueViolation), outcome
    assert "request_id" in str(outcome["error"])
    db = connect(fresh_db)
    assert db.execute(
        "select count(*) from llm.messages as m where m.role = 'assistant' and not exists ("
        " select from llm.request_logs as l where l.message_id = m.id)").fetchone()[0] == 0
    assert db.execute("select count(*) from llm.messages where content = 'second'").fetchone()[0] == 0


# -- item 4: logging never fails because of partition maintenance -----------------------------

def test_logging_into_a_day_whose_partition_is_being_created_never_fails(fresh_db, connect):
    day = today() - dt.timedelta(days=5)
    creator, logger = connect(fresh_db), connect(fresh_db)
    logged: dict = {}

    def log_into_the_day():
        try:
            logged["id"] = Api(logger, "service_role").rpc(
                "log_request", provider="openai", model="gpt-4o", created_at=at(day, 12))
        except psycopg.Error as exc:
            logged["error"] = exc

    # the partition is attached while a row of its day arrives
    with creator.transaction():
        _as_service(creator)
        creator.execute("select llm.create_request_log_partitions(%s, %s)", (day, day))
        thread = threading.Thread(target=log_into_the_day)
        thread.start()
        time.sleep(0.5)
    thread.join()
    assert "error" not in logged, logged
    assert connect(fresh_db).execute(
        "select tableoid::regclass::text from llm.request_logs where id = %s",
        (logged["id"],)).fetchone()[0] == f"llm_private.request_logs_p{day:%Y%m%d}"

    # a row of the day in flight (not committed) while its partition is created
    later = day - dt.timedelta(days=1)
    outcome: dict = {}

    def create():
        try:
            conn = connect(fresh_db)
            outcome["created"] = conn.execute(
                "select llm.create_request_log_partitions(%s, %s)", (later, later)).fetchall()
        except psycopg.Error as exc:
            outcome["error"] = exc

    with logger.transaction():
        log_id = Api(logger, "service_role").rpc(
            "log_request", provider="openai", model="gpt-4o", created_at=at(later, 3))
        thread = threading.Thread(target=create)
        thread.start()
        time.sleep(0.5)
    thread.join()
    assert "error" not in outcome, outcome
    assert connect(fresh_db).execute(
        "select tableoid::regclass::text from llm.request_logs where id = %s",
        (log_id,)).fetchone()[0] == f"llm_private.request_logs_p{later:%Y%m%d}"


def test_many_loggers_and_partition_creation_at_once_lose_nothing(fresh_db, connect):
    loggers = 6
    days = [today() - dt.timedelta(days=n) for n in range(10, 22)]
    done = threading.Event()
    count = [0]
    counting = threading.Lock()

    def log(seed: int):
        def run():
            api = Api(connect(fresh_db), "service_role")
            r = random.Random(seed)
            while not done.is_set():
                api.rpc("log_request", provider="openai", model="gpt-4o",
                        created_at=at(r.choice(days), r.randint(0, 23)))
                with counting:
                    count[0] += 1
        return run

    def create():
        conn = connect(fresh_db)
        try:
            for day in days:
                conn.execute("select llm.create_request_log_partitions(%s, %s)", (day, day))
        finally:
            done.set()

    assert run_threads([create] + [log(i) for i in range(loggers)]) == []
    db = connect(fresh_db)
    assert db.execute("select count(*) from llm_private.request_logs_default").fetchone()[0] == 0
    assert db.execute("select count(*) from llm.request_logs").fetchone()[0] == count[0]


# -- item 12: one definition of tokens consumed; item 13: user_usage_stats is daily -----------

def test_daily_usage_and_daily_usage_summary_agree_on_tokens_and_report_cache_hits_apart(
        fresh_db, connect):
    db = connect(fresh_db)
    service = Api(connect(fresh_db), "service_role")
    day = today() - dt.timedelta(days=2)
    for tokens in (100, 250):
        service.rpc("log_request", provider="openai", model="gpt-4o", user_id="tok-user",
                    prompt_tokens=tokens, completion_tokens=10, created_at=at(day, 9))
    service.rpc("log_request", provider="openai", model="gpt-4o", user_id="tok-user",
                prompt_tokens=1000, completion_tokens=3000, cache_hit=True, created_at=at(day, 10))
    [daily] = service.rpc("daily_usage", since=at(day, 0), until=at(day + dt.timedelta(days=1), 0))
    summary = db.execute(
        "select sum(count), sum(total_tokens), sum(cache_hits), sum(saved_tokens)"
        " from llm.daily_usage_summary where date = %s", (day,)).fetchone()
    assert (daily["total_requests"], daily["total_tokens"], daily["saved_tokens"]) == (3, 370, 4000)
    assert summary == (3, 370, 1, 4000)
    [by_user] = service.rpc("cost_by_user", since=at(day, 0),
                            until=at(day + dt.timedelta(days=1), 0))
    assert by_user["total_tokens"] == 370


def test_user_usage_stats_has_one_daily_row_per_user_and_day(fresh_db, connect):
    db = connect(fresh_db)
    service = Api(connect(fresh_db), "service_role")
    service.rpc("log_request", provider="openai", model="gpt-4o", user_id="stats-user",
                prompt_tokens=40, completion_tokens=2)
    rows = db.execute(
        "select period_type, period_end - period_start, tokens_consumed, requests_count"
        " from llm.user_usage_stats where user_id = llm.user_uuid('stats-user')").fetchall()
    assert rows == [("daily", 0, 42, 1)]
    # summing it the way the table it replaces was summed counts the usage once
    fold_all(db)
    assert db.execute("select sum(tokens_consumed) from llm.user_usage_stats"
                      " where user_id = llm.user_uuid('stats-user')").fetchone()[0] == 42
