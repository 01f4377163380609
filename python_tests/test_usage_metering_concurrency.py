"""Usage metering under concurrency: exact rollups while logging and folding run at once,
the quota race, reservations (settle, release, expiry), and logging never waiting on rollups."""

from __future__ import annotations

import json
import random
import threading
import time
import uuid

import psycopg
import pytest

from harness.client import Api
from usage_checks import fold_all, mismatches

MODELS = [("openai", "gpt-4o"), ("openai", "gpt-4o-mini"), ("anthropic", "claude-sonnet-4"),
          ("acme", "unpriced-model")]


def uid() -> str:
    return f"user-{uuid.uuid4().hex[:10]}"


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


def test_usage_is_exact_while_logging_and_folding_run_concurrently(connect, superuser):
    hot, users = uid(), [uid() for _ in range(40)]
    conversations = [str(uuid.uuid4()) for _ in range(6)]
    loggers = [Api(connect(), "service_role") for _ in range(16)]
    folders = [connect() for _ in range(2)]
    reader = connect()
    done = threading.Event()
    live_checks: list[list] = []

    def log_many(api: Api, seed: int):
        def run():
            rnd = random.Random(seed)
            for _ in range(60):
                provider, model = rnd.choice(MODELS)
                hit = rnd.random() < 0.1
                args = {
                    "provider": provider, "model": model,
                    "user_id": hot if rnd.random() < 0.5 else rnd.choice(users),
                    "prompt_tokens": rnd.randint(0, 3000), "completion_tokens": rnd.randint(0, 900),
                    "success": rnd.random() > 0.1, "cache_hit": hit,
                    "conversation_id": rnd.choice(conversations + [None]),
                    "agent_id": rnd.choice([None, conversations[0]]),
                    "created_at": rnd.choice([None, None, "2026-10-31 23:59:59.999+00",
                                              "2026-11-01 00:00:00+00"]),
                }
                if not hit and rnd.random() < 0.3:
                    args["cost_usd"] = round(rnd.random() / 7, 9)
                api.rpc("log_request", **args)
        return run

    def fold_repeatedly(conn, seed: int):
        def run():
            rnd = random.Random(seed)
            while not done.is_set():
                conn.execute("select llm.fold_usage(%s)", (rnd.choice([1, 7, 50, 400]),))
                time.sleep(0.005)
        return run

    def read_repeatedly():
        while not done.is_set():
            live_checks.append(mismatches(reader))
            time.sleep(0.05)

    def load():
        try:
            assert run_threads([log_many(api, i) for i, api in enumerate(loggers)]) == []
        finally:
            done.set()

    failures = run_threads([load, read_repeatedly]
                           + [fold_repeatedly(c, i) for i, c in enumerate(folders)])
    assert failures == []
    # every read taken during the load was exact: rollups + unfolded journal = raw log
    assert live_checks and all(m == [] for m in live_checks)
    assert superuser.execute("select count(*) from llm.request_logs").fetchone()[0] >= 960
    assert mismatches(superuser) == []
    fold_all(superuser)
    assert mismatches(superuser, "llm.usage_rollups") == []

    # a price fix re-prices history through correction rows; usage follows to the cent
    superuser.execute("select llm.set_model_price('openai', 'gpt-4o', '2025-01-01', 7, 21)")
    changed = superuser.execute(
        "select repriced from llm.recompute_costs('2020-01-01', 'infinity')").fetchone()[0]
    assert changed > 0
    assert mismatches(superuser) == []
    fold_all(superuser)
    assert mismatches(superuser, "llm.usage_rollups") == []


def _hot_user_with_limit(service: Api, **limits) -> str:
    user = uid()
    service.rpc("set_user_quota", user_id=user, quota_period="daily", hard=True, **limits)
    return user


def test_quota_race_never_over_grants_and_all_capacity_is_usable(connect, service, superuser):
    user = _hot_user_with_limit(service, token_limit=1000)
    apis = [Api(connect(), "service_role") for _ in range(32)]
    folder = connect()
    granted: list[str] = []
    refusals: list[psycopg.Error] = []
    done = threading.Event()

    def reserve_until_refused(api: Api, seed: int):
        def run():
            rnd = random.Random(seed)
            while True:
                try:
                    rid = api.rpc("reserve_quota", user_id=user, tokens=10, cost_usd=0)
                except psycopg.Error as exc:
                    refusals.append(exc)
                    return
                granted.append(rid)
                # the request is made and logged with its reservation: actual usage 10 tokens
                api.rpc("log_request", provider="openai", model="gpt-4o", user_id=user,
                        prompt_tokens=rnd.randint(0, 10), completion_tokens=0, total_tokens=10,
                        reservation_id=rid)
        return run

    def fold():
        while not done.is_set():
            folder.execute("select llm.fold_usage(5)")
            time.sleep(0.005)

    def race():
        try:
            assert run_threads([reserve_until_refused(a, i) for i, a in enumerate(apis)]) == []
        finally:
            done.set()

    assert run_threads([race, fold]) == []
    assert len(granted) == len(set(granted)) == 100  # zero over-grants, no capacity left unused
    assert len(refusals) == 32 and {e.sqlstate for e in refusals} == {"PT429"}
    assert superuser.execute(
        "select sum(tokens_total) from llm.request_logs where user_id = llm.user_uuid(%s)", (user,)
    ).fetchone()[0] == 1000
    assert superuser.execute(
        "select count(*) from llm.quota_reservations where user_id = llm.user_uuid(%s)", (user,)
    ).fetchone()[0] == 0
    quota = service.rpc("check_user_quota", user_id=user, quota_period="daily")
    assert (quota["tokens_used"], quota["remaining"], quota["is_over_quota"]) == (1000, 0, True)


def test_a_refusal_names_the_limit_used_reserved_and_requested(service):
    user = _hot_user_with_limit(service, token_limit=100, request_limit=5)
    service.rpc("log_request", provider="openai", model="gpt-4o", user_id=user, prompt_tokens=30,
                completion_tokens=30)
    service.rpc("reserve_quota", user_id=user, tokens=25)
    with pytest.raises(psycopg.Error) as exc:
        service.rpc("reserve_quota", user_id=user, tokens=20)
    assert exc.value.sqlstate == "PT429"
    assert exc.value.diag.message_primary == (
        "daily token quota exceeded: limit 100, used 60, reserved 25, requested 20")
    detail = json.loads(exc.value.diag.message_detail)
    assert {k: detail[k] for k in ("quota_period", "limit_type", "limit", "used", "reserved",
                                   "requested")} == {
        "quota_period": "daily", "limit_type": "token", "limit": 100, "used": 60, "reserved": 25,
        "requested": 20}
    assert "resets at" in exc.value.diag.message_hint
    assert service.rpc("reserve_quota", user_id=user, tokens=15)  # exactly the rest fits


def test_request_and_cost_limits_are_enforced_too(service):
    user = _hot_user_with_limit(service, request_limit=2, cost_limit=1)
    service.rpc("reserve_quota", user_id=user, tokens=0, cost_usd=0.6)
    with pytest.raises(psycopg.Error) as exc:
        service.rpc("reserve_quota", user_id=user, tokens=0, cost_usd=0.5)
    assert exc.value.sqlstate == "PT429" and "daily cost quota" in str(exc.value)
    service.rpc("reserve_quota", user_id=user, tokens=0, cost_usd=0.4)
    with pytest.raises(psycopg.Error) as exc:
        service.rpc("reserve_quota", user_id=user, tokens=0, cost_usd=0)
    assert exc.value.sqlstate == "PT429" and "daily request quota" in str(exc.value)


def test_settling_replaces_the_reservation_by_the_actual_usage(service, superuser):
    user = _hot_user_with_limit(service, token_limit=1000)
    rid = service.rpc("reserve_quota", user_id=user, tokens=800)
    assert service.rpc("check_user_quota", user_id=user)["remaining"] == 200
    service.rpc("log_request", provider="openai", model="gpt-4o", user_id=user, prompt_tokens=100,
                completion_tokens=200, reservation_id=str(rid))
    quota = service.rpc("check_user_quota", user_id=user)
    assert (quota["tokens_used"], quota["tokens_reserved"], quota["remaining"]) == (300, 0, 700)
    assert superuser.execute(
        "select reservation_id from llm.request_logs where user_id = llm.user_uuid(%s)", (user,)
    ).fetchone()[0] == rid


def test_a_retried_request_settles_its_reservation_and_counts_once(service, superuser):
    user = _hot_user_with_limit(service, token_limit=1000)
    request_id = f"req-{uuid.uuid4()}"
    first = service.rpc("reserve_quota", user_id=user, tokens=400)
    logged = service.rpc("log_request", provider="openai", model="gpt-4o", user_id=user,
                         prompt_tokens=100, completion_tokens=50, request_id=request_id,
                         reservation_id=str(first))
    # the client retries the same request with a new reservation: already logged, so its
    # reservation goes at once instead of holding capacity until it expires
    retry = service.rpc("reserve_quota", user_id=user, tokens=400)
    assert service.rpc("log_request", provider="openai", model="gpt-4o", user_id=user,
                       prompt_tokens=100, completion_tokens=50, request_id=request_id,
                       reservation_id=str(retry)) == logged
    assert superuser.execute(
        "select count(*) from llm.quota_reservations where user_id = llm.user_uuid(%s)", (user,)
    ).fetchone()[0] == 0
    quota = service.rpc("check_user_quota", user_id=user)
    assert (quota["tokens_used"], quota["requests_used"], quota["tokens_reserved"],
            quota["remaining"]) == (150, 1, 0, 850)
    assert superuser.execute(
        "select count(*) from llm.request_logs where user_id = llm.user_uuid(%s)", (user,)
    ).fetchone()[0] == 1
    assert mismatches(superuser) == []


def test_release_gives_the_capacity_back_once(service):
    user = _hot_user_with_limit(service, token_limit=100)
    rid = service.rpc("reserve_quota", user_id=user, tokens=100)
    with pytest.raises(psycopg.Error):
        service.rpc("reserve_quota", user_id=user, tokens=1)
    assert service.rpc("release_reservation", reservation_id=str(rid)) is True
    assert service.rpc("release_reservation", reservation_id=str(rid)) is False
    assert service.rpc("reserve_quota", user_id=user, tokens=100)
    with pytest.raises(psycopg.errors.NullValueNotAllowed):
        service.rpc("release_reservation", reservation_id=None)


def test_expired_reservations_stop_counting_are_swept_and_still_settle(service, superuser):
    user = _hot_user_with_limit(service, token_limit=100)
    rid = service.rpc("reserve_quota", user_id=user, tokens=100)
    with pytest.raises(psycopg.Error):
        service.rpc("reserve_quota", user_id=user, tokens=1)
    superuser.execute("update llm.quota_reservations set expires_at = now() - interval '1 second'"
                      " where id = %s", (rid,))
    assert service.rpc("check_user_quota", user_id=user)["tokens_reserved"] == 0
    again = service.rpc("reserve_quota", user_id=user, tokens=60)
    # the reservation that found the escrow short removed it already; the sweep removes the rest
    assert service.rpc("sweep_quota_reservations") >= 0
    assert superuser.execute(
        "select array_agg(id) from llm.quota_reservations where user_id = llm.user_uuid(%s)",
        (user,)).fetchone()[0] == [again]
    # usage logged with an expired (already swept) reservation is still logged
    service.rpc("log_request", provider="openai", model="gpt-4o", user_id=user, prompt_tokens=30,
                completion_tokens=0, reservation_id=str(rid))
    assert service.rpc("check_user_quota", user_id=user)["tokens_used"] == 30


def test_reservations_expire_after_the_ttl_setting(service, superuser):
    user = _hot_user_with_limit(service, token_limit=100)
    rid = service.rpc("reserve_quota", user_id=user, tokens=1)
    ttl = superuser.execute(
        "select expires_at - created_at from llm.quota_reservations where id = %s", (rid,)
    ).fetchone()[0]
    assert ttl.total_seconds() == 600


def test_another_users_reservation_is_not_settled(service, superuser):
    alice = _hot_user_with_limit(service, token_limit=100)
    rid = service.rpc("reserve_quota", user_id=alice, tokens=50)
    service.rpc("log_request", provider="openai", model="gpt-4o", user_id=uid(), prompt_tokens=5,
                reservation_id=str(rid))
    assert superuser.execute(
        "select count(*) from llm.quota_reservations where id = %s", (rid,)).fetchone()[0] == 1


@pytest.mark.parametrize("kw, state", [
    ({"tokens": -1}, "22023"), ({"tokens": None}, "22004"), ({"cost_usd": -1}, "22023"),
    ({"cost_usd": None}, "22004"), ({"user_id": ""}, "22023"), ({"user_id": None}, "22023"),
])
def test_reserve_quota_rejects_bad_input_and_reserves_nothing(service, superuser, kw, state):
    user = uid()
    with pytest.raises(psycopg.Error) as exc:
        service.rpc("reserve_quota", **{"user_id": user, "tokens": 10, **kw})
    assert exc.value.sqlstate == state
    assert superuser.execute(
        "select count(*) from llm.quota_reservations where user_id = llm.user_uuid(%s)", (user,)
    ).fetchone()[0] == 0


def test_one_folder_at_a_time_and_logging_never_waits_for_it(connect, service):
    user = uid()
    service.rpc("log_request", provider="openai", model="gpt-4o", user_id=user, prompt_tokens=1)
    busy, other = connect(), connect()
    with busy.transaction():
        assert busy.execute("select llm.fold_usage()").fetchone()[0] >= 1
        assert other.execute("select llm.fold_usage()").fetchone()[0] == 0
        other.execute("set lock_timeout = '1s'")
        logger = Api(other, "service_role")
        logger.rpc("log_request", provider="openai", model="gpt-4o", user_id=user, prompt_tokens=1)
        assert logger.rpc("get_user_token_usage", user_id=user, days=1)["total_requests"] >= 1
    assert service.rpc("get_user_token_usage", user_id=user, days=1)["total_requests"] == 2


def test_logging_does_not_touch_the_rollups(connect, service):
    user = uid()
    locker, other = connect(), connect()
    with locker.transaction():
        locker.execute("lock table llm.usage_rollups, llm.usage_rollup_members"
                       " in access exclusive mode")
        other.execute("set lock_timeout = '1s'")
        assert Api(other, "service_role").rpc(
            "log_request", provider="openai", model="gpt-4o", user_id=user, prompt_tokens=1) > 0
    assert service.rpc("get_user_token_usage", user_id=user, days=1)["total_requests"] == 1


def test_reserving_never_waits_for_a_fold_holding_the_users_rollups(connect, service, superuser):
    user = _hot_user_with_limit(service, token_limit=100_000)
    journal = "select count(*) from llm.usage_journal where user_id = llm.user_uuid(%s)"
    for _ in range(70):
        service.rpc("log_request", provider="openai", model="gpt-4o", user_id=user,
                    prompt_tokens=10, completion_tokens=0)
    folder, reserver = connect(), Api(connect(), "service_role")
    reserver.conn.execute("set statement_timeout = '10s'")
    with folder.transaction():
        # a fold job's batch holds the user's rollup rows until it commits
        assert folder.execute("select llm.fold_journal(1, llm.user_uuid(%s))",
                              (user,)).fetchone()[0] == 1
        # a reservation due to fold the user's rows does not wait for them: it leaves them
        assert reserver.rpc("reserve_quota", user_id=user, tokens=1000)
        assert superuser.execute(journal, (user,)).fetchone()[0] == 70
    # once that batch committed, the next reservation that recomputes the escrow (here after
    # the quota was set again) folds them; one taken from the escrow sums nothing
    reserver.rpc("reserve_quota", user_id=user, tokens=1000)
    assert superuser.execute(journal, (user,)).fetchone()[0] == 69
    service.rpc("set_user_quota", user_id=user, quota_period="daily", hard=True,
                token_limit=100_000)
    reserver.rpc("reserve_quota", user_id=user, tokens=1000)
    assert superuser.execute(journal, (user,)).fetchone()[0] == 0
    quota = service.rpc("check_user_quota", user_id=user)
    assert (quota["tokens_used"], quota["tokens_reserved"]) == (700, 3000)
    assert mismatches(superuser) == []


def test_reserving_folds_the_users_own_rows_and_stays_exact(service, superuser):
    user = _hot_user_with_limit(service, token_limit=10_000)
    journal = "select count(*) from llm.usage_journal where user_id = llm.user_uuid(%s)"

    def log(n: int):
        for _ in range(n):
            service.rpc("log_request", provider="openai", model="gpt-4o", user_id=user,
                        prompt_tokens=10, completion_tokens=0)

    log(63)
    service.rpc("reserve_quota", user_id=user, tokens=1000)
    assert superuser.execute(journal, (user,)).fetchone()[0] == 63  # few: summed, not folded
    log(1)
    # the next reservation recomputes (as after a quota change), whatever its shard holds
    superuser.execute("update llm.quota_escrow set ready = false where user_id = llm.user_uuid(%s)",
                      (user,))
    service.rpc("reserve_quota", user_id=user, tokens=8000)
    assert superuser.execute(journal, (user,)).fetchone()[0] == 0  # 64: folded first
    with pytest.raises(psycopg.Error) as exc:
        service.rpc("reserve_quota", user_id=user, tokens=361)
    assert "used 640, reserved 9000, requested 361" in str(exc.value)
    assert mismatches(superuser) == []
