"""Response cache under real concurrent connections: exact hit counts on a hot key, stampede
leases, and savings that stay exact while entries are removed under readers."""

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from psycopg import errors

from harness.client import Api

KEY = {"provider": "openai", "model": "gpt-4", "parameters": {"temperature": 0}}


def unique() -> str:
    return f"c-{uuid.uuid4().hex[:10]}"


def run_together(n: int, connect, work) -> list:
    """Runs ``work(api, i)`` in ``n`` threads, each with its own connection, started at once."""
    apis = [Api(connect(), "service_role") for _ in range(n)]
    barrier = threading.Barrier(n)

    def start(i):
        barrier.wait()
        return work(apis[i], i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(start, range(n)))


def test_hit_counts_are_exact_with_32_concurrent_readers_of_one_key(service, connect, superuser):
    prompt = unique()
    service.rpc("cache_llm_response", prompt=prompt, response="hot", **KEY)
    row_version = "select ctid::text, xmin::text from llm.response_cache where prompt = %s"
    before = superuser.execute(row_version, (prompt,)).fetchone()
    per_reader = 25

    def read(api, _):
        return [api.rpc("get_cached_llm_response", prompt=prompt, **KEY)["response"]
                for _ in range(per_reader)]

    results = run_together(32, connect, read)
    assert all(r == ["hot"] * per_reader for r in results)
    assert service.rpc("get_cached_llm_response", prompt=prompt, **KEY)["hit_count"] == 32 * per_reader + 1
    # counting never rewrote the wide entry row (same version, same place)
    assert superuser.execute(row_version, (prompt,)).fetchone() == before


def test_one_caller_produces_a_missed_key_and_the_others_wait_for_it(connect):
    prompt = unique()
    produced = []

    def call(api, i):
        claim = api.rpc("claim_llm_cache_key", prompt=prompt, wait_seconds=5, **KEY)
        if claim["status"] == "claimed":
            produced.append(i)
            time.sleep(0.3)  # the model call
            api.rpc("cache_llm_response", prompt=prompt, response=f"made by {i}", **KEY)
            return "claimed", f"made by {i}"
        return claim["status"], claim["hit"]["response"] if claim["hit"] else None

    results = run_together(8, connect, call)
    assert len(produced) == 1
    statuses = sorted(s for s, _ in results)
    assert statuses == ["claimed"] + ["hit"] * 7
    assert {r for _, r in results} == {f"made by {produced[0]}"}


def test_a_live_lease_makes_others_pending_and_an_expired_one_is_taken_over(service, superuser):
    prompt = unique()
    first = service.rpc("claim_llm_cache_key", prompt=prompt, lease_seconds=30, **KEY)
    assert first["status"] == "claimed" and first["lease_id"]
    second = service.rpc("claim_llm_cache_key", prompt=prompt, **KEY)
    assert second["status"] == "pending" and second["lease_expires_at"] == first["lease_expires_at"]
    # the producer died: its lease runs out
    superuser.execute("update llm.response_cache_leases set expires_at = now() - interval '1 second' "
                      "where lease_id = %s", (first["lease_id"],))
    third = service.rpc("claim_llm_cache_key", prompt=prompt, **KEY)
    assert third["status"] == "claimed" and third["lease_id"] != first["lease_id"]
    assert service.rpc("release_llm_cache_key", lease_id=str(first["lease_id"])) is False
    assert service.rpc("release_llm_cache_key", lease_id=str(third["lease_id"])) is True


def test_a_waiting_caller_claims_a_released_lease(service, connect):
    prompt = unique()
    first = service.rpc("claim_llm_cache_key", prompt=prompt, **KEY)
    waiter = Api(connect(), "service_role")
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(waiter.rpc, "claim_llm_cache_key", prompt=prompt, wait_seconds=5, **KEY)
        time.sleep(0.3)
        assert not future.done()
        assert service.rpc("release_llm_cache_key", lease_id=str(first["lease_id"])) is True
        assert future.result(timeout=10)["status"] == "claimed"


def test_a_wait_at_the_cap_answers_within_the_data_api_timeout(service, connect):
    """The longest wait allowed ends as `pending` under authenticator's 8 s statement_timeout,
    not as a cancelled statement (57014)."""
    prompt = unique()
    service.rpc("claim_llm_cache_key", prompt=prompt, **KEY)
    waiter = Api(connect(), "service_role")
    assert dict(waiter.role_settings()).get("statement_timeout") is None  # authenticator's 8s
    assert waiter.rpc("claim_llm_cache_key", prompt=prompt, wait_seconds=5, **KEY)["status"] \
        == "pending"


def test_storing_a_response_ends_the_lease(service, superuser):
    prompt = unique()
    claim = service.rpc("claim_llm_cache_key", prompt=prompt, **KEY)
    service.rpc("cache_llm_response", prompt=prompt, response="done", **KEY)
    assert superuser.execute("select count(*) from llm.response_cache_leases where lease_id = %s",
                             (claim["lease_id"],)).fetchone()[0] == 0
    again = service.rpc("claim_llm_cache_key", prompt=prompt, **KEY)
    assert again["status"] == "hit" and again["hit"]["response"] == "done"


@pytest.mark.parametrize("args", [{"lease_seconds": 0}, {"lease_seconds": 3601},
                                  {"wait_seconds": -1}, {"wait_seconds": 5.01}, {"wait_seconds": 60}])
def test_bad_lease_arguments(service, superuser, args):
    prompt = unique()
    with pytest.raises(errors.InvalidParameterValue) as exc:
        service.rpc("claim_llm_cache_key", prompt=prompt, **KEY, **args)
    assert exc.value.sqlstate == "22023" and next(iter(args)) in str(exc.value)
    assert superuser.execute(
        "select count(*) from llm.response_cache_leases where prompt_hash = "
        "llm.llm_cache_key(%s, 'openai', 'gpt-4', '{\"temperature\": 0}')", (prompt,)).fetchone()[0] == 0


def test_savings_stay_exact_while_entries_are_replaced_under_readers(service, connect):
    provider = f"prov-{uuid.uuid4().hex[:8]}"
    key = {"provider": provider, "model": "m"}
    prompt = unique()
    service.rpc("cache_llm_response", prompt=prompt, response="v0", prompt_tokens=1,
                completion_tokens=1, cost_usd=1, **key)
    stop = threading.Event()

    def read(api, i):
        if i == 0:  # the writer: replaces and invalidates the entry under the readers
            for n in range(1, 16):
                time.sleep(0.02)
                if n % 5 == 0:
                    api.rpc("invalidate_llm_cache", provider=provider)
                api.rpc("cache_llm_response", prompt=prompt, response=f"v{n}", prompt_tokens=1,
                        completion_tokens=1, cost_usd=1, **key)
            stop.set()
            return 0
        counted = 0
        while not stop.is_set():
            hit = api.rpc("get_cached_llm_response", prompt=prompt, **key)
            counted += hit is not None and hit["hit_count"] is not None
        return counted

    counted = sum(run_together(9, connect, read))
    (row,) = [r for r in service.rpc("get_llm_cache_stats") if r["provider"] == provider]
    assert counted > 0
    assert row["hits"] == counted
    assert row["total_tokens_saved"] == 2 * counted and row["cost_saved_usd"] == counted
