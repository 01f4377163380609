"""Request log benchmarks (run by `make bench`), each a ratio to a baseline of the same run:

- throughput of ``llm.log_request`` with 1 and 32 clients, over 10,000 users and on one hot
  user, against a bare single-row insert into an unpartitioned, unindexed table with the same
  columns; on a server with PostgreSQL's default durability (fsync and synchronous commit on,
  as a Supabase database runs: every logged request is its own committed transaction) and on
  the test cluster with durability off (CPU cost alone);
- dropping a day of 1,000,000 rows by the retention job against deleting the same rows.
"""

from __future__ import annotations

import time

import psycopg
import pytest

from conftest import _clone
from harness import migrate
from harness.bench import pgbench_tps, report
from harness.cluster import throwaway_cluster

SECONDS = 3
ROUNDS = 2
ROWS_PER_DAY = 1_000_000
USER = "('00000000-0000-4000-8000-' || lpad(:u::text, 12, '0'))"

LOG_REQUEST = f"""
\\set u random(1, :users)
select llm.log_request(
    provider => 'openai', model => 'gpt-4o-mini', request_type => 'chat',
    user_id => {USER}, prompt_tokens => 1200, completion_tokens => 300, cached_tokens => 200,
    latency_ms => 850, success => true, status_code => 200,
    metadata => '{{"feature": "chat"}}');
"""

BARE_INSERT = f"""
\\set u random(1, :users)
insert into bench.bare (
    id, created_at, user_id, request_type, provider, model, prompt_tokens, completion_tokens,
    cached_tokens, cache_write_tokens, tokens_total, cost_usd, cost_source, latency_ms,
    success, status_code, cache_hit, metadata)
values (
    :u, now(), {USER}::uuid, 'chat', 'openai', 'gpt-4o-mini', 1200, 300, 200, 0, 1500,
    0.0003, 'registry', 850, true, 200, false, '{{"feature": "chat"}}');
"""


def _with_bare_table(url: str) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create schema if not exists bench")
        conn.execute("create table if not exists bench.bare (like llm.request_logs)")
    return url


@pytest.fixture(scope="module")
def bench_db(server, template_db):
    janitor, url = _clone(server, template_db, "bench_request_log")
    yield _with_bare_table(url)
    janitor.drop()


@pytest.fixture(scope="module")
def durable_db():
    """A server with PostgreSQL's default durability settings, migrated."""
    cluster = throwaway_cluster(fast=False)
    url = cluster.url()
    migrate.apply_shim(cluster.admin_url())
    migrate.apply_migrations(url)
    yield _with_bare_table(url)
    cluster.destroy()


@pytest.mark.parametrize("clients", [1, 32])
@pytest.mark.parametrize("spread", ["10000 users", "one hot user"])
@pytest.mark.parametrize("durability", ["default durability", "durability off"])
def test_log_request_throughput_against_a_bare_insert(request, durability, clients, spread):
    url = request.getfixturevalue("durable_db" if durability == "default durability" else "bench_db")
    users = {"users": "10000" if spread == "10000 users" else "1"}
    # alternated runs, best of each: the machine is shared, a lull should not favour one side
    bare = ours = 0.0
    for _ in range(ROUNDS):
        bare = max(bare, pgbench_tps(url, BARE_INSERT, clients, SECONDS, users))
        ours = max(ours, pgbench_tps(url, LOG_REQUEST, clients, SECONDS, users))
    report(f"log_request throughput / bare insert, {durability}, {clients} client(s), {spread}",
           ours, bare, goal=0.7 if clients == 32 else None, higher_is_better=True)


def _load_day(conn: psycopg.Connection, day: str) -> None:
    conn.execute(
        """
        insert into llm.request_logs (
            created_at, user_id, request_type, provider, model, prompt_tokens,
            completion_tokens, tokens_total, cost_usd, latency_ms, success, status_code)
        select %s::timestamptz + (g %% 86400) * interval '1 second',
               ('00000000-0000-4000-8000-' || lpad((g %% 10000)::text, 12, '0'))::uuid,
               'chat', 'openai', 'gpt-4o-mini', 1200, 300, 1500, 0.00036, 850, true, 200
        from generate_series(1, %s) as g
        """,
        (day, ROWS_PER_DAY),
    )


def test_retention_drop_against_delete(bench_db):
    with psycopg.connect(bench_db, autocommit=True) as conn:
        old, newer = conn.execute(
            "select (current_date - 102)::text, (current_date - 101)::text").fetchone()
        conn.execute("select llm.create_request_log_partitions(%s::date, %s::date)", (old, newer))
        _load_day(conn, old)
        _load_day(conn, newer)
        conn.execute("vacuum analyze llm.request_logs")
        conn.execute("select llm.set_setting('request_log_retention_days', '101')")
        # usage metering folds the journal continuously; here nothing is left to fold
        conn.execute("delete from llm.usage_journal")
        conn.execute("vacuum llm.usage_journal")

        start = time.perf_counter()
        dropped = conn.execute(
            "select partition_name from llm.apply_request_log_retention()"
            " where action = 'dropped'").fetchall()
        drop_time = time.perf_counter() - start
        assert dropped == [(f"request_logs_p{old.replace('-', '')}",)]

        start = time.perf_counter()
        cur = conn.execute(
            "delete from llm.request_logs where created_at >= %s::date"
            " and created_at < %s::date + 1", (newer, newer))
        delete_time = time.perf_counter() - start
        assert cur.rowcount == ROWS_PER_DAY
    report("retention drop of a 1,000,000-row day / DELETE of the same rows",
           drop_time, delete_time)
