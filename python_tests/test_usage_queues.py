"""The usage journal and the open reservations are queues: their size swings between a fold or
a settlement and the next. A session keeps the plans of its quota reads, made when it first
ran them; these read one user's rows through their indexes whatever the queues held then, so
a quota check or an escrow recompute costs the same when the queues later hold other users'
rows by the thousand (a plan made on an empty queue would read every row of it each time)."""

from __future__ import annotations

import psycopg

from harness.client import Api
from test_usage_metering_concurrency import uid

QUEUED = 20_000

# another user's unfolded usage and open reservations, by the thousand
FILL_QUEUES = [f"""
insert into llm.usage_journal (
    request_log_id, occurred_at, user_id, provider, model, request_type, requests,
    prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens, total_tokens, cost_usd,
    success, cache_hit, saved_tokens)
select g, now(), %(other)s, 'openai', 'gpt-4o', 'chat', 1, 1, 1, 0, 0, 2, 0, true, false, 0
from generate_series(1, {QUEUED}) as g
""", f"""
insert into llm.quota_reservations (user_id, tokens, expires_at)
select %(other)s, 1, now() + interval '1 hour' from generate_series(1, {QUEUED})
"""]

ROWS_READ = """
select relname, seq_scan, seq_tup_read from pg_stat_xact_user_tables
where schemaname = 'llm' and relname in ('usage_journal', 'quota_reservations')
order by relname
"""


def check_and_recompute(conn: psycopg.Connection, user: str, limit: int) -> None:
    """As a backend, in the current transaction: a quota check, then a reservation of 10
    tokens that recomputes the user's escrow (the quota just changed)."""
    conn.execute("select set_config('role', 'service_role', true),"
                 " set_config('request.jwt.claims', '{\"role\": \"service_role\"}', true)")
    conn.execute("select llm.set_user_quota(%s, 'daily', %s, null, null, true)", (user, limit))
    conn.execute("select llm.check_user_quota(%s, 'daily')", (user,))
    conn.execute("select llm.reserve_quota(%s, 10)", (user,))


def test_quota_reads_stay_index_reads_when_the_queues_fill_after_planning(fresh_db, connect):
    backend = Api(connect(fresh_db), "service_role")  # logged in as PostgREST logs in
    session = backend.conn
    user = uid()
    # the queues emptied and vacuumed, as autovacuum leaves them after a fold; the session
    # makes its plans then (plpgsql keeps a statement's plan after its fifth run)
    connect(fresh_db).execute("vacuum analyze llm.usage_journal, llm.quota_reservations")
    for n in range(8):
        with session.transaction():
            check_and_recompute(session, user, 1_000_000 + n)
    other = str(connect(fresh_db).execute("select llm.user_uuid(%s)", (uid(),)).fetchone()[0])
    for statement in FILL_QUEUES:
        connect(fresh_db).execute(statement, {"other": other})
    with session.transaction():
        check_and_recompute(session, user, 2_000_000)
        read = session.execute(ROWS_READ).fetchall()
        assert session.execute("select llm.check_user_quota(%s, 'daily') ->> 'tokens_reserved'",
                               (user,)).fetchone()[0] == "90"
    # neither queue was read row by row: the user's own rows were found through the indexes
    assert [(name, rows) for name, _, rows in read] == [
        ("quota_reservations", 0), ("usage_journal", 0)]
