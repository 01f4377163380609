"""Counting cache hits: a hit appends a journal row (no row lock, no update) that the fold job
adds to the counters; hit counts are exact when read (counters plus journal) under concurrent
readers, before, during and after the fold, and after a crash once committed. A hit through
GET (a read-only transaction) is a pure read, served with the count so far: the write that
logs it (``log_cache_hit`` with ``count_hit``) counts it, once per logged request."""

import threading
import uuid

import psycopg
import pytest
from psycopg import errors

from conftest import build_migrated_database
from harness.backends import Server
from harness.client import Api
from harness.cluster import PG_BIN, throwaway_cluster
from test_response_cache_concurrency import run_together

KEY = {"provider": "openai", "model": "gpt-4", "parameters": {"temperature": 0}}


def unique() -> str:
    return f"h-{uuid.uuid4().hex[:10]}"


def store(service: Api, prompt: str, **kw) -> None:
    service.rpc("cache_llm_response", prompt=prompt, response=f"answer to {prompt}",
                prompt_tokens=10, completion_tokens=20, cost_usd="0.001", **{**KEY, **kw})


def count(api: Api, prompt: str, **kw) -> int:
    """The exact hit count, read without counting a hit (a GET is a pure read)."""
    return api.rpc_get("get_cached_llm_response", prompt=prompt, **{**KEY, **kw})["hit_count"]


def journal_rows(superuser, prompt: str) -> int:
    return superuser.execute(
        "select count(*) from llm.response_cache_hit_journal as j"
        " join llm.response_cache as c on c.id = j.entry_id where c.prompt = %s", (prompt,)
    ).fetchone()[0]


# -- the hit path -------------------------------------------------------------------------

def test_a_hit_appends_a_journal_row_with_what_it_saved(service, superuser):
    prompt = unique()
    store(service, prompt)
    before = superuser.execute("select ctid::text, xmin::text from llm.response_cache"
                               " where prompt = %s", (prompt,)).fetchone()
    hit = service.rpc("get_cached_llm_response", prompt=prompt, **KEY)
    assert hit["hit_count"] == 1
    row = superuser.execute(
        "select j.entry_id, j.scope, j.provider, j.model, j.prompt_tokens, j.completion_tokens,"
        " j.total_tokens, j.cost_usd from llm.response_cache_hit_journal as j"
        " where j.entry_id = %s", (hit["id"],)).fetchall()
    assert [tuple(map(str, r)) for r in row] == [
        (hit["id"], "global", "openai", "gpt-4", "10", "20", "30", "0.001")]
    assert superuser.execute("select count(*) from llm.response_cache_hits where entry_id = %s",
                             (hit["id"],)).fetchone()[0] == 0
    # the entry row is neither rewritten nor locked by a hit
    assert superuser.execute("select ctid::text, xmin::text from llm.response_cache"
                             " where prompt = %s", (prompt,)).fetchone() == before


def test_a_hit_does_not_wait_for_a_lock_on_the_entry(service, connect, superuser):
    """A hit locks nothing: it is served and counted while another transaction holds the entry
    row (as a store replacing it does)."""
    prompt = unique()
    store(service, prompt)
    holder = connect()
    holder.autocommit = False
    holder.execute("select from llm.response_cache where prompt = %s for update", (prompt,))
    try:
        service.conn.execute("set lock_timeout = '200ms'")
        assert service.rpc("get_cached_llm_response", prompt=prompt, **KEY)["hit_count"] == 1
    finally:
        service.conn.execute("reset lock_timeout")
        holder.rollback()
    assert journal_rows(superuser, prompt) == 1


def test_a_hot_key_counts_on_counter_rows_past_8_unfolded_hits(service, superuser):
    prompt = unique()
    store(service, prompt)
    for n in range(1, 41):
        assert service.rpc("get_cached_llm_response", prompt=prompt, **KEY)["hit_count"] == n
    assert journal_rows(superuser, prompt) == 8
    shards = superuser.execute(
        "select h.shard, h.hits from llm.response_cache_hits as h"
        " join llm.response_cache as c on c.id = h.entry_id where c.prompt = %s", (prompt,)
    ).fetchall()
    assert sum(h for _, h in shards) == 32 and all(s > 0 for s, _ in shards)
    service.rpc("run_cache_hit_fold")
    assert journal_rows(superuser, prompt) == 0
    assert count(service, prompt) == 40
    assert service.rpc("get_cached_llm_response", prompt=prompt, **KEY)["hit_count"] == 41


def test_hit_counts_are_exact_under_32_concurrent_readers_while_the_fold_runs(
        service, connect, superuser):
    provider = f"prov-{uuid.uuid4().hex[:8]}"
    key = {**KEY, "provider": provider}
    hot, cold = unique(), [unique() for _ in range(20)]
    for prompt in [hot, *cold]:
        store(service, prompt, provider=provider)
    per_reader = 30
    stop = threading.Event()
    folded = []

    def fold():
        api = Api(connect(), "service_role")
        while not stop.is_set():
            folded.append(api.rpc("run_cache_hit_fold"))

    def read(api, i):
        seen = []
        for n in range(per_reader):
            prompt = hot if n % 2 else cold[(i + n) % len(cold)]
            hit = api.rpc("get_cached_llm_response", prompt=prompt, **key)
            seen.append(hit["hit_count"])
        return seen

    folder = threading.Thread(target=fold)
    folder.start()
    try:
        results = run_together(32, connect, read)
    finally:
        stop.set()
        folder.join()
    assert all(len(r) == per_reader and min(r) >= 1 for r in results)
    assert sum(folded) > 0
    expected_hot = 32 * per_reader // 2
    expected_cold = {p: 0 for p in cold}
    for i in range(32):
        for n in range(0, per_reader, 2):
            expected_cold[cold[(i + n) % len(cold)]] += 1
    # exact before the last fold (part of them still in the journal), and after it
    for _ in range(2):
        assert count(service, hot, provider=provider) == expected_hot
        assert {p: count(service, p, provider=provider) for p in cold} == expected_cold
        (stats,) = [r for r in service.rpc("get_llm_cache_stats") if r["provider"] == provider]
        assert stats["hits"] == 32 * per_reader and stats["total_tokens_saved"] == 30 * 32 * per_reader
        service.rpc("run_cache_hit_fold")
    assert superuser.execute("select count(*) from llm.response_cache_hit_journal"
                             " where provider = %s", (provider,)).fetchone()[0] == 0


# -- the fold -----------------------------------------------------------------------------

def test_hits_of_a_removed_entry_keep_their_savings_and_fold_into_the_totals(service, superuser):
    provider = f"prov-{uuid.uuid4().hex[:8]}"
    prompt = unique()
    store(service, prompt, provider=provider)
    for _ in range(3):
        service.rpc("get_cached_llm_response", prompt=prompt, **{**KEY, "provider": provider})
    assert service.rpc("invalidate_llm_cache", provider=provider) == 1
    assert journal_rows(superuser, prompt) == 0  # the entry is gone: its hits are journal rows

    def stats():
        (row,) = [r for r in service.rpc("get_llm_cache_stats") if r["provider"] == provider]
        return row["entries"], row["hits"], row["total_tokens_saved"], str(row["cost_saved_usd"])

    assert stats() == (0, 3, 90, "0.003")
    assert service.rpc("run_cache_hit_fold") >= 3
    assert superuser.execute("select count(*) from llm.response_cache_hit_journal"
                             " where provider = %s", (provider,)).fetchone()[0] == 0
    assert stats() == (0, 3, 90, "0.003")


def test_the_fold_leaves_the_hits_of_an_entry_being_removed_and_never_waits(
        service, connect, superuser):
    prompt = unique()
    store(service, prompt)
    service.rpc("get_cached_llm_response", prompt=prompt, **KEY)
    remover = connect()
    remover.autocommit = False
    # what llm.cache_retire holds while it removes an entry
    remover.execute("select from llm.response_cache where prompt = %s for update", (prompt,))
    try:
        service.conn.execute("set lock_timeout = '200ms'")
        service.rpc("run_cache_hit_fold")
        assert journal_rows(superuser, prompt) == 1
    finally:
        service.conn.execute("reset lock_timeout")
        remover.rollback()
    service.rpc("run_cache_hit_fold")
    assert journal_rows(superuser, prompt) == 0
    assert count(service, prompt) == 1


def test_hits_are_durable_once_committed_and_exact_across_the_fold(service, connect, superuser):
    prompt = unique()
    store(service, prompt)
    for _ in range(5):
        service.rpc("get_cached_llm_response", prompt=prompt, **KEY)
    # a hit whose transaction rolls back was never counted
    with connect() as conn:
        with pytest.raises(ZeroDivisionError), conn.transaction():
            assert conn.execute("select llm.get_cached_llm_response(%s, 'openai', 'gpt-4',"
                                " '{\"temperature\": 0}') ->> 'hit_count'", (prompt,)
                                ).fetchone()[0] == "6"
            raise ZeroDivisionError
    other = Api(connect(), "service_role")
    assert count(other, prompt) == 5
    service.rpc("run_cache_hit_fold")
    assert count(other, prompt) == 5 and journal_rows(superuser, prompt) == 0


def test_the_fold_job_is_registered(service):
    jobs = {j["name"]: j["command"] for j in service.sql("select name, command from llm.jobs")}
    assert jobs["llm_cache_hit_fold"] == "select llm.run_cache_hit_fold()"


def test_a_fold_run_goes_on_while_its_batches_are_full_for_its_run_time(fresh_db):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        service = Api(conn, "service_role")
        service.rpc("set_setting", key="cache_hit_fold_batch_rows", value=2)
        prompt = unique()
        store(service, prompt)
        for _ in range(5):
            service.rpc("get_cached_llm_response", prompt=prompt, **KEY)
        assert service.rpc("run_cache_hit_fold") == 5  # batches of 2, 2 and 1 in one run
        service.rpc("set_setting", key="cache_hit_fold_run_time", value="0 seconds")
        for _ in range(5):
            service.rpc("get_cached_llm_response", prompt=prompt, **KEY)
        # no run time: one batch a run
        assert [service.rpc("run_cache_hit_fold") for _ in range(4)] == [2, 2, 1, 0]
        assert count(service, prompt) == 10


def test_only_backends_and_admins_fold(make_user, as_user, anon, admin):
    with pytest.raises(errors.InsufficientPrivilege):
        as_user(make_user()).rpc("run_cache_hit_fold")
    with pytest.raises(errors.InsufficientPrivilege):
        anon.rpc("run_cache_hit_fold")
    assert admin.rpc("run_cache_hit_fold") >= 0
    with pytest.raises(errors.InvalidParameterValue):
        admin.rpc("run_cache_hit_fold", max_batches=0)


# -- GET: a read-only transaction ---------------------------------------------------------

def test_a_hit_through_get_is_served_with_its_count_and_not_counted(service, superuser):
    prompt = unique()
    store(service, prompt)
    service.rpc("get_cached_llm_response", prompt=prompt, **KEY)
    for _ in range(3):
        hit = service.rpc_get("get_cached_llm_response", prompt=prompt, **KEY)
        assert hit["response"] == f"answer to {prompt}" and hit["hit_count"] == 1
    assert journal_rows(superuser, prompt) == 1
    assert service.rpc("get_cached_llm_response", prompt=prompt, **KEY)["hit_count"] == 2


def test_a_miss_through_get_is_not_counted(service):
    provider = f"prov-{uuid.uuid4().hex[:8]}"
    assert service.rpc_get("get_cached_llm_response", prompt=unique(), **{**KEY, "provider": provider}) \
        is None
    assert [r for r in service.rpc("get_llm_cache_stats") if r["provider"] == provider] == []
    assert service.rpc("get_cached_llm_response", prompt=unique(), **{**KEY, "provider": provider}) \
        is None
    (row,) = [r for r in service.rpc("get_llm_cache_stats") if r["provider"] == provider]
    assert row["misses"] == 1


def test_32_concurrent_get_readers_are_served_and_leave_the_counts_as_they_were(
        service, connect, superuser):
    prompt = unique()
    store(service, prompt)
    service.rpc("get_cached_llm_response", prompt=prompt, **KEY)

    def read(api, _):
        return [api.rpc_get("get_cached_llm_response", prompt=prompt, **KEY)["hit_count"]
                for _ in range(10)]

    assert run_together(32, connect, read) == [[1] * 10] * 32
    assert journal_rows(superuser, prompt) == 1
    assert count(service, prompt) == 1


def test_a_user_reads_their_own_entry_through_get(service, make_user, as_user):
    alice = make_user()
    prompt = unique()
    store(service, prompt, user_id=str(alice.id))
    assert as_user(alice).rpc("get_cached_llm_response", prompt=prompt, **KEY)["hit_count"] == 1
    hit = as_user(alice).rpc_get("get_cached_llm_response", prompt=prompt, **KEY)
    assert hit["scope"] == f"user:{alice.id}" and hit["hit_count"] == 1
    assert as_user(make_user()).rpc_get("get_cached_llm_response", prompt=prompt, **KEY) is None


def get_hit_logged(api: Api, prompt: str, key: dict = KEY, **log) -> dict:
    """A hit served through GET, then logged with count_hit (as a gateway reading with GET
    does)."""
    hit = api.rpc_get("get_cached_llm_response", prompt=prompt, **key)
    api.rpc("log_cache_hit", entry_id=hit["id"], user_id="reader", count_hit=True, **log)
    return hit


def test_a_hit_through_get_is_counted_by_the_log_cache_hit_that_logs_it(service, superuser):
    prompt, key = unique(), {**KEY, "provider": f"prov-{uuid.uuid4().hex[:8]}"}
    store(service, prompt, **key)

    def hits() -> int:
        return sum(r["hits"] for r in service.rpc("get_llm_cache_stats")
                   if r["provider"] == key["provider"])

    hit = get_hit_logged(service, prompt, key, request_id=f"r-{prompt}")
    assert hit["hit_count"] == 0
    assert count(service, prompt, **key) == 1 and journal_rows(superuser, prompt) == 1
    assert hits() == 1
    # a retry of the logged request counts nothing more; without count_hit nothing is counted
    service.rpc("log_cache_hit", entry_id=hit["id"], user_id="reader", request_id=f"r-{prompt}",
                count_hit=True)
    service.rpc("log_cache_hit", entry_id=hit["id"], user_id="reader")
    assert count(service, prompt, **key) == 1 and hits() == 1
    # a hit through POST is counted by the lookup
    assert service.rpc("get_cached_llm_response", prompt=prompt, **key)["hit_count"] == 2


def test_count_hit_must_not_be_null_and_nothing_is_logged(service, superuser):
    prompt = unique()
    store(service, prompt)
    hit = service.rpc_get("get_cached_llm_response", prompt=prompt, **KEY)
    logged = superuser.execute("select count(*) from llm.request_logs").fetchone()[0]
    with pytest.raises(errors.NullValueNotAllowed):
        service.rpc("log_cache_hit", entry_id=hit["id"], user_id="u", count_hit=None)
    assert superuser.execute("select count(*) from llm.request_logs").fetchone()[0] == logged
    assert count(service, prompt) == 0


def test_hits_through_get_and_post_are_exact_under_32_concurrent_readers(service, connect):
    """Half the readers read with GET and log each hit with count_hit, the others with POST;
    and 32 concurrent retries of one logged request count it once."""
    prompt = unique()
    store(service, prompt)
    per_reader = 20

    def read(api, i):
        for n in range(per_reader):
            if i % 2:
                get_hit_logged(api, prompt)
            else:
                api.rpc("get_cached_llm_response", prompt=prompt, **KEY)

    run_together(32, connect, read)
    assert count(service, prompt) == 32 * per_reader
    entry = service.rpc_get("get_cached_llm_response", prompt=prompt, **KEY)["id"]
    run_together(32, connect, lambda api, _: api.rpc(
        "log_cache_hit", entry_id=entry, user_id="reader", request_id=f"once-{prompt}",
        count_hit=True))
    assert count(service, prompt) == 32 * per_reader + 1


def test_nothing_a_get_request_writes_can_last(service, owner):
    """Why a GET lookup cannot count its hit: PostgreSQL refuses every durable write in a
    read-only transaction (what it allows there, such as NOTIFY, advisory locks and temporary
    tables, does not outlive the session), so a write through GET fails with 25006 (HTTP
    405)."""
    with pytest.raises(errors.ReadOnlySqlTransaction) as exc:
        service.rpc_get("cache_llm_response", prompt=unique(), response="r", **KEY)
    assert exc.value.http_status == 405
    with owner.transaction():
        owner.execute("set transaction read only")
        with pytest.raises(errors.ReadOnlySqlTransaction), owner.transaction():
            owner.execute("insert into llm.response_cache_hit_journal (entry_id, scope, provider, model)"
                          " values (gen_random_uuid(), 'global', 'p', 'm')")
        with pytest.raises(errors.ReadOnlySqlTransaction), owner.transaction():
            owner.execute("select nextval('llm.request_logs_id_seq')")


# -- a crash ------------------------------------------------------------------------------

@pytest.fixture
def crashable_server():
    """A server of this test's own, committing as a production server does (synchronous
    commit), that the test can crash."""
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"no local PostgreSQL binaries in {PG_BIN}")
    cluster = throwaway_cluster()
    try:
        with psycopg.connect(cluster.admin_url(), autocommit=True) as conn:
            conn.execute("alter system set synchronous_commit = on")
            conn.execute("select pg_reload_conf()")
        build_migrated_database(Server("local", cluster.url(), cluster.admin_url()), "crash")
        yield cluster
    finally:
        cluster.destroy()


def test_committed_hits_survive_a_crash_and_count_exactly_after_it(crashable_server):
    cluster = crashable_server
    prompt = unique()
    with psycopg.connect(cluster.url("crash"), autocommit=True) as conn:
        service = Api(conn, "service_role")
        store(service, prompt)
        for _ in range(7):
            service.rpc("get_cached_llm_response", prompt=prompt, **KEY)
        service.rpc("run_cache_hit_fold")
        for _ in range(4):  # these stay in the journal
            service.rpc("get_cached_llm_response", prompt=prompt, **KEY)
        get_hit_logged(service, prompt)  # and a hit through GET, counted when logged
        assert count(service, prompt) == 12
        # a hit in a transaction still open at the crash
        pending = psycopg.connect(cluster.url("crash"))
        pending.execute("select llm.get_cached_llm_response(%s, 'openai', 'gpt-4',"
                        " '{\"temperature\": 0}')", (prompt,))
        cluster.stop("immediate")  # no checkpoint: the restart replays the WAL
        pending.close()
    cluster.start()
    with psycopg.connect(cluster.url("crash"), autocommit=True) as conn:
        service = Api(conn, "service_role")
        assert count(service, prompt) == 12
        (stats,) = [r for r in service.rpc("get_llm_cache_stats") if r["provider"] == "openai"]
        assert stats["hits"] == 12
        assert service.rpc("run_cache_hit_fold") == 5
        assert count(service, prompt) == 12
        assert service.rpc("get_cached_llm_response", prompt=prompt, **KEY)["hit_count"] == 13
