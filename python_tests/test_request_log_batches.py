"""Request log batches: llm.log_requests and llm.try_log_requests log set-based with every
guarantee of logging the items one by one through llm.log_request: the same errors (SQLSTATE
and message, prefixed with the item's index), nothing written by a refused batch, request ids
logged once (first writer wins, another user refused), prices at ingest, usage journaled,
reservations settled, exact usage under concurrency."""

from __future__ import annotations

import random
import threading
import uuid
from decimal import Decimal

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import errors
from psycopg.types.json import Jsonb

from harness.client import Api
from usage_checks import fold_all, mismatches


def counts(conn) -> tuple[int, int, int]:
    return conn.execute(
        "select (select count(*) from llm.request_logs), (select count(*) from llm.usage_journal),"
        " (select count(*) from llm.request_ids)").fetchone()


def item(**fields) -> dict:
    return {"provider": "openai", "model": "gpt-4o", **fields}


# -- the single-row path as the oracle ----------------------------------------------------------

def outcome(conn: psycopg.Connection, sql: str, *params) -> tuple[str, object]:
    """("ok", result) or (SQLSTATE, message) of one statement, in a savepoint."""
    try:
        with conn.transaction():
            return "ok", conn.execute(sql, params).fetchone()[0]
    except psycopg.Error as exc:
        return exc.sqlstate, exc.diag.message_primary


def id_pattern(ids: list) -> list:
    """For each item, the index of the first item given the same id (None when not logged)."""
    first: dict = {}
    return [None if i is None else first.setdefault(i, n) for n, i in enumerate(ids)]


def journal_sums(conn: psycopg.Connection, ids: list,
                 occurred_at: str = "nullif(j.occurred_at, now())") -> list[tuple]:
    """The usage journaled for requests (the rows of these ids: one per request logged alone,
    the first request's of a batch's group), summed per what tells usage apart, the time as
    ``occurred_at`` says (by default now() masked): a batch's group row and the rows of its
    requests logged one by one give the same sums."""
    return conn.execute(f"""
    select
        jsonb_build_object(
            'occurred_at', {occurred_at}, 'user_id', j.user_id,
            'provider', j.provider, 'model', j.model, 'request_type', j.request_type,
            'success', j.success, 'cache_hit', j.cache_hit, 'conversation_id', j.conversation_id,
            'agent_id', j.agent_id, 'reservation_id', j.reservation_id,
            'unpriced', j.cost_usd is null, 'no_audio', j.audio_seconds is null,
            'no_saving', j.saved_cost_usd is null) as k,
        sum(j.requests), sum(j.prompt_tokens), sum(j.completion_tokens), sum(j.cached_tokens),
        sum(j.cache_write_tokens), sum(j.total_tokens), sum(j.audio_seconds), sum(j.cost_usd),
        sum(j.saved_tokens), sum(j.saved_cost_usd)
    from llm.usage_journal as j
    where j.request_log_id = any(%s)
    group by k
    order by k""", (ids,)).fetchall()


def written(conn: psycopg.Connection, ids: list, rejects_after: int) -> dict:
    """What this transaction wrote for these ids: request rows, the usage journaled
    (journal_sums), claimed request ids (times of now() masked), new aliases and dead letters,
    in item order."""
    logged = [i for i in dict.fromkeys(ids) if i is not None]
    rows = conn.execute("""
        select to_jsonb(r) - 'id' || jsonb_build_object(
            'created_at', nullif(r.created_at, now()))
        from unnest(%s::bigint[]) with ordinality as x (id, o)
        join llm.request_logs as r on r.id = x.id order by x.o""", (logged,)).fetchall()
    journal = journal_sums(conn, logged)
    claims = conn.execute("""
        select q.request_id, q.user_id, nullif(q.created_at, now())
        from unnest(%s::bigint[]) with ordinality as x (id, o)
        join llm.request_ids as q on q.request_log_id = x.id order by x.o""", (logged,)).fetchall()
    aliases = conn.execute(
        "select user_id, identifier from llm.user_aliases where created_at = now()"
        " order by identifier").fetchall()
    dead = conn.execute(
        "select payload, sqlstate, error from llm.request_log_rejects where id > %s order by id",
        (rejects_after,)).fetchall()
    return {"rows": rows, "journal": journal, "claims": claims, "aliases": aliases, "dead": dead}


def one_by_one(conn: psycopg.Connection, batch: list, dead_letter: bool) -> dict:
    """What logging the items one by one through llm.log_request_json does (the releases
    before 0.4.0 did exactly this), in a transaction rolled back."""
    with conn.transaction(force_rollback=True):
        last = conn.execute("select coalesce(max(id), 0) from llm.request_log_rejects").fetchone()[0]
        ids, results = [], []
        for n, entry in enumerate(batch):
            state, value = outcome(conn, "select llm.log_request_json(%s)", Jsonb(entry))
            if state == "ok":
                ids.append(value)
                results.append("ok")
                continue
            if not dead_letter:
                return {"error": (state, f"requests[{n}]: {value}")}
            conn.execute("insert into llm.request_log_rejects (payload, sqlstate, error)"
                         " values (%s, %s, %s)", (Jsonb(entry), state, value))
            ids.append(None)
            results.append((state, value))
        return {"ids": id_pattern(ids), "results": results, **written(conn, ids, last)}


def as_a_batch(conn: psycopg.Connection, batch: list, dead_letter: bool) -> dict:
    """What llm.log_requests / llm.try_log_requests do with the same items, rolled back."""
    with conn.transaction(force_rollback=True):
        last = conn.execute("select coalesce(max(id), 0) from llm.request_log_rejects").fetchone()[0]
        if not dead_letter:
            state, value = outcome(conn, "select llm.log_requests(%s)", Jsonb(batch))
            if state != "ok":
                return {"error": (state, value)}
            ids = value
            results = ["ok"] * len(ids)
        else:
            rows = conn.execute("select item, id, sqlstate, error from llm.try_log_requests(%s)",
                                (Jsonb(batch),)).fetchall()
            assert [r[0] for r in rows] == list(range(len(batch)))
            ids = [r[1] for r in rows]
            results = ["ok" if r[1] is not None else (r[2], r[3]) for r in rows]
        return {"ids": id_pattern(ids), "results": results, **written(conn, ids, last)}


@pytest.fixture(scope="module")
def known(db_url):
    """A client conversation id, and a request id logged earlier for user-a."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        service = Api(conn, "service_role")
        service.rpc("create_conversation", conversation_id="conv-batch", user_id="user-a")
        service.rpc("log_request", provider="openai", model="gpt-4o", user_id="user-a",
                    request_id="r-old", prompt_tokens=3)
    return {"conversation": "conv-batch"}


UUID = "3f1c2b5e-8d7a-4c1e-9b2f-6a5d4c3b2a10"
FIELDS: dict[str, list] = {
    "provider": ["openai", "anthropic", "acme", "", " \t", 5, "p" * 256],
    "model": ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5", "unpriced-x", "", True, "m" * 256],
    "request_type": ["chat", "embedding", "telepathy", None, 3],
    "user_id": ["user-a", "user-b", UUID, UUID.upper(), "", " ", 7, "ünï", None],
    "prompt_tokens": [0, 10, 1200, -1, 1.5, 100.0, "10", 2147483647, 2147483648, None],
    "completion_tokens": [0, 5, 300, -2, 2147483647, 0.5, None],
    "cached_tokens": [0, 3, 200, -1, 11, None, 3.0, [3]],
    "cache_write_tokens": [0, 2, -1, 2147483647, 2.5],
    "total_tokens": [15, -1, 1.0, None, False],
    "latency_ms": [850, -1, "850", None, 8.5, 1e12],
    "time_to_first_token_ms": [120, -5, 0.1, "1"],
    "status_code": [200, 529, 42, 600, 200.5, None],
    "cost_usd": [0, 0.0123, -1, "0.01", None, 1e-9],
    "audio_seconds": [1.5, 0, -1, "x", None],
    "success": [True, False, None, "yes", 1],
    "cache_hit": [True, False, None, 1],
    "request_id": ["r1", "r2", "r-old", "", " ", "x" * 256, 5],
    "conversation_id": [UUID, "conv-batch", "conv-unknown", "", "c" * 256, 9],
    "agent_id": [UUID, UUID.replace("-", ""), "not-a-uuid", 5],
    "message_id": [UUID, "{" + UUID + "}", None],
    "reservation_id": [str(uuid.UUID(int=1)), "nope"],
    "metadata": [{}, {"feature": "chat"}, [1, 2], "x", None],
    "created_at": ["2026-01-02T03:04:05Z", "2024-02-29 10:00:00+00", "2023-02-29T00:00:00Z",
                   "2026-01-31T23:59:59.123456+05:30", "yesterday-ish", "1999-12-31T23:59:59Z",
                   "2000-01-01 00:00:00+00", "2999-01-01T00:00:00Z", "infinity", "today",
                   "Jan 2 2026 10:00", 5, None],
    "service": ["chat", 1],
    "operation": ["reply", None],
    "error_type": ["timeout", False],
    "error_message": ["boom", None],
    "request_body": [{"messages": []}, None],
    "response_body": [{"ok": True}, "text", None],
    "bogus": [1],
}


@st.composite
def requests(draw) -> object:
    kind = draw(st.integers(0, 19))
    if kind == 0:
        return draw(st.sampled_from(["not an object", 5, [1], None]))
    entry = {"provider": "openai", "model": "gpt-4o"}
    # request ids shared by items (and an earlier call) of one user or another
    if draw(st.booleans()):
        entry["request_id"] = draw(st.sampled_from(["r1", "r2", "r-old"]))
        entry["user_id"] = draw(st.sampled_from(["user-a", "user-b", UUID, None]))
    for name in draw(st.lists(st.sampled_from(sorted(FIELDS)), max_size=5, unique=True)):
        if name == "bogus" and draw(st.integers(0, 2)):
            continue
        entry[name] = draw(st.sampled_from(FIELDS[name]))
    # drop the required fields now and then
    for name in ("provider", "model"):
        if not draw(st.integers(0, 15)):
            del entry[name]
    return entry


@settings(max_examples=150, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(batch=st.lists(requests(), min_size=1, max_size=6))
def test_a_batch_does_what_logging_its_items_one_by_one_does(owner, known, batch):
    for dead_letter in (False, True):
        assert as_a_batch(owner, batch, dead_letter) == one_by_one(owner, batch, dead_letter)


@pytest.mark.parametrize("value, accepted", [
    (0, True), (-0, True), (2147483647, True), (-2147483648, True), (2147483648, False),
    (1.0, False), (1.5, False), (100.0, False), (1e-3, False), ("12", False), (True, False),
    (12345678901, False),
])
def test_integers_are_read_exactly_as_the_single_row_path_reads_them(owner, value, accepted):
    entry = item(latency_ms=value)
    for dead_letter in (False, True):
        assert as_a_batch(owner, [entry], dead_letter) == one_by_one(owner, [entry], dead_letter)
    [result] = as_a_batch(owner, [entry], True)["results"]
    assert ("must be an integer" not in str(result)) is accepted


@pytest.mark.parametrize("value", [
    "2026-01-02T03:04:05Z", "2026-01-02 03:04:05+00", "2026-01-02T03:04Z", "2026-01-02",
    "2024-02-29T00:00:00Z", "2023-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-01-31T00:00:00Z",
    "2026-01-02T24:00:00Z", "2026-01-02T03:04:05.1234567Z", "2026-01-02T03:04:05+14:59",
    "2026-01-02T03:04:05-16:00", "2026-01-02T03:04:05z", "now", "epoch", "yesterday",
    "allballs", "", " ", "2026-1-2", "20260102T030405Z", "-infinity",
])
def test_times_are_read_exactly_as_the_single_row_path_reads_them(owner, value):
    entry = item(created_at=value)
    for dead_letter in (False, True):
        assert as_a_batch(owner, [entry], dead_letter) == one_by_one(owner, [entry], dead_letter)


READABLE = [
    item(user_id="user-a", prompt_tokens=1200, completion_tokens=300, cached_tokens=200,
         latency_ms=850, status_code=200, metadata={"feature": "chat"}),
    item(user_id=UUID.upper(), cost_usd=0.0123, success=False, error_type="timeout",
         error_message="boom", agent_id=UUID.replace("-", ""), message_id=UUID),
    item(model="gpt-4o-mini", request_type="embedding", user_id="user-b", audio_seconds=1.5,
         created_at="2026-01-02T03:04:05Z", conversation_id="conv-batch", cache_hit=True,
         total_tokens=15, time_to_first_token_ms=120, service="chat", operation="reply"),
]


@pytest.mark.parametrize("unreadable", [
    item(prompt_tokens=1.5), item(latency_ms=2147483648), item(agent_id="agent-7"),
    item(reservation_id="nope"), item(created_at="soon"), item(cost_usd="x"),
    item(success="maybe"), "not an object", None,
])
def test_an_item_that_does_not_read_as_its_types_leaves_the_others_read_as_they_are(
        owner, known, unreadable):
    # the array is read at once, else item by item: either way, as one by one
    batch = READABLE[:2] + [unreadable] + READABLE[2:]
    got = as_a_batch(owner, batch, True)
    assert got == one_by_one(owner, batch, True)
    assert [r == "ok" for r in got["results"]] == [True, True, False, True]
    assert as_a_batch(owner, batch, False) == one_by_one(owner, batch, False)


# -- all or nothing -------------------------------------------------------------------------------

BAD_ITEMS = [
    (item(prompt_tokens=-1), errors.InvalidParameterValue, "prompt_tokens must be >= 0"),
    (item(cached_tokens=20, prompt_tokens=10), errors.InvalidParameterValue, "cached_tokens"),
    (item(cost_usd=-1), errors.InvalidParameterValue, "cost_usd must be a finite number"),
    (item(cache_hit=True, cost_usd=0.5), errors.InvalidParameterValue, "cost_usd must be 0"),
    (item(status_code=42), errors.InvalidParameterValue, "status_code must be an HTTP status"),
    (item(created_at="1999-12-31T23:59:59Z"), errors.InvalidParameterValue, "created_at must lie"),
    (item(request_id=" "), errors.InvalidParameterValue, "request_id must not be blank"),
    (item(metadata=[1]), errors.InvalidParameterValue, "metadata must be a JSON object"),
    (item(user_id=""), errors.InvalidParameterValue, "user_id must be a UUID"),
    (item(conversation_id="conv-nowhere"), errors.NoDataFound, "conversation_id 'conv-nowhere'"),
    (item(conversation_id="c" * 256), errors.InvalidParameterValue, "conversation_id must be"),
    (item(request_type="telepathy"), errors.InvalidParameterValue, "request_type must be one of"),
    (item(provider=" "), errors.NullValueNotAllowed, "provider is required"),
    ({"model": "gpt-4o"}, errors.NullValueNotAllowed, "provider is required"),
    (item(model="m" * 256), errors.InvalidParameterValue, "model must be at most 255"),
    (item(prompt_tokens="ten"), errors.InvalidParameterValue, "prompt_tokens must be an integer"),
    (item(agent_id="agent-7"), errors.InvalidParameterValue, "agent_id must be a UUID"),
    (item(created_at="soon"), errors.InvalidParameterValue, "created_at must be a finite ISO"),
    (item(promt_tokens=3), errors.InvalidParameterValue, "unknown request field(s): promt_tokens"),
    ("not an object", errors.InvalidParameterValue, "a request must be a JSON object"),
]


@pytest.mark.parametrize("bad, error, text", BAD_ITEMS,
                         ids=[f"{b[2][:24]}-{i}" for i, b in enumerate(BAD_ITEMS)])
def test_one_bad_item_raises_its_error_with_its_index_and_writes_nothing(
        service, superuser, bad, error, text):
    rid = f"batch-{uuid.uuid4().hex}"
    batch = [item(request_id=f"{rid}-{n}", user_id="user-x", prompt_tokens=n) for n in range(5)]
    batch.insert(3, bad)
    before = counts(superuser)
    aliases = superuser.execute("select count(*) from llm.user_aliases").fetchone()
    with pytest.raises(error) as exc:
        service.rpc("log_requests", requests=batch)
    assert str(exc.value).startswith(f"requests[3]: {text}")
    assert counts(superuser) == before
    assert superuser.execute("select count(*) from llm.request_ids where request_id like %s",
                             (f"{rid}%",)).fetchone() == (0,)
    assert superuser.execute("select count(*) from llm.user_aliases").fetchone() == aliases


def test_the_first_failing_item_decides_even_when_a_request_id_refuses_it(service, superuser):
    rid = f"owned-{uuid.uuid4().hex}"
    service.rpc("log_request", provider="openai", model="gpt-4o", user_id="owner", request_id=rid)
    before = counts(superuser)
    # item 1 is refused (another user's request id) before item 2 is even looked at
    with pytest.raises(errors.UniqueViolation) as exc:
        service.rpc("log_requests", requests=[
            item(), item(request_id=rid, user_id="intruder"), item(prompt_tokens=-1)])
    assert str(exc.value).startswith(
        f"requests[1]: request_id '{rid}' was already logged for another user")
    # the same within the batch: item 0 logs the id, item 1 is another user's
    with pytest.raises(errors.UniqueViolation) as exc:
        service.rpc("log_requests", requests=[
            item(request_id=f"{rid}-2", user_id="a"), item(request_id=f"{rid}-2", user_id="b"),
            item(prompt_tokens=-1)])
    assert str(exc.value).startswith("requests[1]: request_id")
    # and a bad item before them wins
    with pytest.raises(errors.InvalidParameterValue) as exc:
        service.rpc("log_requests", requests=[
            item(prompt_tokens=-1), item(request_id=rid, user_id="intruder")])
    assert str(exc.value).startswith("requests[0]: prompt_tokens")
    assert counts(superuser) == before


def test_a_batch_of_100_gets_100_rows_with_ascending_ids(service, superuser):
    batch = [item(user_id=f"u-{n % 7}", prompt_tokens=n, request_id=f"asc-{uuid.uuid4().hex}")
             for n in range(100)]
    before = counts(superuser)
    ids = service.rpc("log_requests", requests=batch)
    assert len(ids) == 100 and ids == sorted(set(ids))
    # a journal row per user: their requests and tokens, the id of their first request
    assert counts(superuser) == (before[0] + 100, before[1] + 7, before[2] + 100)
    got = superuser.execute("select id, prompt_tokens from llm.request_logs where id = any(%s)"
                            " order by id", (ids,)).fetchall()
    assert got == [(i, n) for n, i in enumerate(ids)]
    journal = superuser.execute(
        "select request_log_id, requests, prompt_tokens from llm.usage_journal"
        " where request_log_id = any(%s) order by request_log_id", (ids,)).fetchall()
    assert journal == [(ids[u], len(range(u, 100, 7)), sum(range(u, 100, 7))) for u in range(7)]
    assert service.rpc("log_requests", requests=[]) == []


def test_requests_the_usage_cannot_tell_apart_share_a_journal_row(service, superuser):
    user, other = f"group-{uuid.uuid4().hex[:8]}", f"alone-{uuid.uuid4().hex[:8]}"
    big = 1_500_000_000  # two such requests would overflow a journal row's integer columns
    batch = [
        item(user_id=user, prompt_tokens=10, completion_tokens=5),
        item(user_id=user, prompt_tokens=20, completion_tokens=5),
        item(user_id=user, model="gpt-4o-mini", prompt_tokens=30),
        item(user_id=user, prompt_tokens=40, success=False, status_code=500),
        item(user_id=user, prompt_tokens=50, cache_hit=True),
        item(user_id=user, prompt_tokens=60, cache_hit=True),
        item(user_id=user, provider="acme", model="unpriced", prompt_tokens=70),
        item(user_id=user, provider="acme", model="unpriced", prompt_tokens=80),
        item(user_id=user, prompt_tokens=90, cost_usd=1),
        item(user_id=user, prompt_tokens=big),
        item(user_id=user, prompt_tokens=big),
        item(prompt_tokens=100),
        item(prompt_tokens=110),
        item(user_id=user, prompt_tokens=120, created_at="2026-01-02T03:04:05Z"),
    ]
    ids = service.rpc("log_requests", requests=batch)
    rows = superuser.execute("""
        select request_log_id, requests, prompt_tokens, total_tokens, saved_tokens,
            cost_usd is null
        from llm.usage_journal where request_log_id = any(%s) order by request_log_id""",
                             (ids,)).fetchall()
    # the same model, outcome and pricing: one row; a priced request and one whose cost the
    # caller gave are both known costs, so they are summed (the request rows tell them apart)
    assert [r[:3] for r in rows] == [
        (ids[0], 3, 120), (ids[2], 1, 30), (ids[3], 1, 40), (ids[4], 2, 0), (ids[6], 2, 150),
        (ids[9], 1, big), (ids[10], 1, big), (ids[11], 1, 100), (ids[12], 1, 110),
        (ids[13], 1, 120)]
    assert rows[3][3:] == (0, 110, False)  # cache hits: their tokens saved, not billed
    assert rows[4][5] is True  # unpriced stays unknown
    # the usage is what logging each request alone gives, folded or not
    for entry in batch:
        service.rpc("log_request", **{**entry, "user_id": other if "user_id" in entry else None})
    assert mismatches(superuser) == []
    fold_all(superuser)
    assert mismatches(superuser) == []
    def usage(who):
        return superuser.execute("""
            select period_type, period_start, provider, model, request_type, requests,
                failed_requests, prompt_tokens, completion_tokens, total_tokens, cost_usd,
                cache_hits, saved_tokens, saved_cost_usd
            from llm.usage_rollups where user_id = llm.user_uuid(%s) order by 1, 2, 3, 4, 5""",
                                 (who,)).fetchall()
    # three models in four periods, and the January request's day, week and month
    assert usage(user) == usage(other) and len(usage(user)) == 15


# -- request ids ------------------------------------------------------------------------------

def test_a_request_id_repeated_in_a_batch_and_across_batches_is_logged_once(service, superuser):
    rid = f"dup-{uuid.uuid4().hex}"
    before = counts(superuser)
    first = service.rpc("log_requests", requests=[
        item(request_id=rid, user_id="dup-user", prompt_tokens=10), item(prompt_tokens=1),
        item(request_id=rid, user_id="dup-user", prompt_tokens=99)])
    assert first[0] == first[2] != first[1]
    again = service.rpc("log_requests", requests=[
        item(request_id=rid, user_id="dup-user", prompt_tokens=10)])
    assert again == [first[0]]
    [retry] = service.rpc("try_log_requests", requests=[
        item(request_id=rid, user_id="dup-user")])
    assert retry["id"] == first[0] and retry["reject_id"] is None
    assert counts(superuser) == (before[0] + 2, before[1] + 2, before[2] + 1)
    # the first item's values were logged
    assert superuser.execute("select prompt_tokens from llm.request_logs where request_id = %s",
                             (rid,)).fetchall() == [(10,)]


def test_try_log_requests_dead_letters_a_request_id_of_another_user(service, superuser):
    rid = f"dup-{uuid.uuid4().hex}"
    rows = service.rpc("try_log_requests", requests=[
        item(request_id=rid, user_id="a"), item(request_id=rid, user_id="b"),
        item(request_id=rid, user_id="a")])
    assert rows[0]["id"] and rows[2]["id"] == rows[0]["id"]
    assert rows[1]["id"] is None and rows[1]["sqlstate"] == "23505"
    assert rows[1]["error"] == f"request_id '{rid}' was already logged for another user"
    assert superuser.execute("select payload ->> 'user_id' from llm.request_log_rejects"
                             " where id = %s", (rows[1]["reject_id"],)).fetchone() == ("b",)


# -- what is logged -----------------------------------------------------------------------------

MIX = [
    item(prompt_tokens=1200, completion_tokens=300, cached_tokens=200, user_id="mix-1"),
    item(model="gpt-4o-mini", prompt_tokens=50, completion_tokens=5, cache_hit=True,
         user_id="mix-1"),
    item(provider="acme", model="unpriced-model", prompt_tokens=7, user_id="mix-2"),
    item(cost_usd=0.25, prompt_tokens=9, success=False, status_code=529, user_id=UUID),
    item(provider="anthropic", model="claude-sonnet-4-5", prompt_tokens=1500,
         cache_write_tokens=300, cached_tokens=700, completion_tokens=80,
         created_at="2026-01-02T03:04:05Z", user_id="mix-2", request_type="chat"),
    item(provider="openai", model="whisper-1", request_type="transcription", audio_seconds=61.5,
         created_at="2025-06-30T23:59:59+02:00"),
    item(model="text-embedding-3-small", request_type="embedding", prompt_tokens=4000,
         total_tokens=4000, metadata={"doc": 1}, service="docs", operation="embed"),
]


def test_batch_rows_are_the_rows_log_request_writes(service, superuser):
    ids = service.rpc("log_requests", requests=MIX)
    singles = [service.rpc("log_request", **entry) for entry in MIX]
    columns = """request_type, user_id, provider, model, conversation_id, prompt_tokens,
        completion_tokens, cached_tokens, cache_write_tokens, tokens_total, audio_seconds,
        cost_usd, cost_source, saved_cost_usd, latency_ms, success, status_code, cache_hit,
        service, operation, metadata"""
    def rows(which):
        return superuser.execute(f"select {columns} from llm.request_logs where id = any(%s)"
                                 " order by id", (which,)).fetchall()
    def journal(which):
        # each call is a transaction of its own: the times are not compared
        return [r[1:] for r in journal_sums(superuser, which, occurred_at="null")]
    assert rows(ids) == rows(singles)
    assert journal(ids) == journal(singles)
    got = {r[0]: r[1:] for r in superuser.execute(
        "select id, cost_source, cost_usd, saved_cost_usd from llm.request_logs"
        " where id = any(%s)", (ids,)).fetchall()}
    assert got[ids[1]][0] == "cache_hit" and got[ids[1]][1] == 0 and got[ids[1]][2] > 0
    assert got[ids[2]] == ("unpriced", None, None)
    assert got[ids[3]] == ("caller", Decimal("0.25"), None)
    assert superuser.execute("select llm.user_uuid('mix-1') = user_id from llm.request_logs"
                             " where id = %s", (ids[0],)).fetchone() == (True,)
    assert superuser.execute("select identifier from llm.user_aliases where user_id ="
                             " llm.user_uuid('mix-2')").fetchone() == ("mix-2",)


def test_each_item_is_priced_at_its_own_time(service, superuser):
    model = f"periods-{uuid.uuid4().hex[:8]}"
    service.rpc("set_model_price", provider="acme", model=model, effective_from="2025-01-01",
                input_per_mtok=1, output_per_mtok=2)
    service.rpc("set_model_price", provider="acme", model=model, effective_from="2026-01-01",
                input_per_mtok=3, output_per_mtok=4, cached_input_per_mtok=0.5,
                per_request=0.001)
    batch = [item(provider="acme", model=model, prompt_tokens=1000, completion_tokens=100,
                  cached_tokens=400, created_at=at)
             for at in ("2024-06-01T00:00:00Z", "2025-06-01T00:00:00Z", "2026-06-01T00:00:00Z")]
    batch.append(item(provider="acme", model=model, prompt_tokens=1000, cache_hit=True))
    ids = service.rpc("log_requests", requests=batch)
    singles = [service.rpc("log_request", **entry) for entry in batch]
    get = ("select cost_usd, cost_source, saved_cost_usd from llm.request_logs"
           " where id = any(%s) order by id")
    assert superuser.execute(get, (ids,)).fetchall() == superuser.execute(get, (singles,)).fetchall()
    assert [r[1] for r in superuser.execute(get, (ids,)).fetchall()] == [
        "unpriced", "registry", "registry", "cache_hit"]


def test_a_client_conversation_id_is_resolved_and_an_unknown_one_refused(service, superuser):
    service.rpc("create_conversation", conversation_id="conv-in-batch", user_id="conv-user")
    conv = superuser.execute("select id from llm.conversations where external_id ="
                             " 'conv-in-batch'").fetchone()[0]
    other = uuid.uuid4()
    ids = service.rpc("log_requests", requests=[
        item(conversation_id="conv-in-batch"), item(conversation_id=str(other).upper())])
    assert superuser.execute("select conversation_id from llm.request_logs where id = any(%s)"
                             " order by id", (ids,)).fetchall() == [(conv,), (other,)]
    with pytest.raises(errors.NoDataFound) as exc:
        service.rpc("log_requests", requests=[item(), item(conversation_id="conv-nope")])
    assert str(exc.value).startswith("requests[1]: conversation_id 'conv-nope' not found")


def test_bodies_follow_the_settings_in_a_batch(fresh_db):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        service = Api(conn, "service_role")
        body = {"messages": [{"role": "user", "content": "x" * 500}]}
        [kept_not] = service.rpc("log_requests", requests=[item(request_body=body)])
        service.rpc("set_setting", key="request_log_store_bodies", value=True)
        service.rpc("set_setting", key="request_log_body_max_bytes", value=100)
        [kept, small] = service.rpc("log_requests", requests=[
            item(request_body=body, response_body={"ok": True}), item(response_body={"a": 1})])
        get = "select request_body, response_body from llm.request_logs where id = %s"
        assert conn.execute(get, (kept_not,)).fetchone() == (None, None)
        req, resp = conn.execute(get, (kept,)).fetchone()
        assert resp == {"ok": True} and req["truncated"] is True and len(req["prefix"]) == 100
        assert conn.execute(get, (small,)).fetchone() == (None, {"a": 1})


# -- usage and reservations -----------------------------------------------------------------------

def test_usage_stays_exact_after_batches(fresh_db):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        service = Api(conn, "service_role")
        rnd = random.Random(7)
        for b in range(12):
            batch = [dict(rnd.choice(MIX), user_id=f"usage-{rnd.randrange(5)}",
                          request_id=f"usage-{rnd.randrange(60)}") for _ in range(20)]
            service.rpc("try_log_requests", requests=batch)
            if b % 4 == 3:
                assert mismatches(conn) == []
                fold_all(conn)
        assert mismatches(conn) == []
        fold_all(conn)
        assert mismatches(conn) == []
        assert mismatches(conn, "llm.usage_rollups") == []
        assert conn.execute("select count(*) = count(distinct request_id) from llm.request_logs"
                            ).fetchone() == (True,)


def test_batch_items_settle_their_reservations(service, superuser):
    user = f"res-{uuid.uuid4().hex[:8]}"
    reservations = [service.rpc("reserve_quota", user_id=user, tokens=1000, cost_usd=0.01)
                    for _ in range(4)]
    rid = f"res-{uuid.uuid4().hex}"
    ids = service.rpc("log_requests", requests=[
        item(user_id=user, prompt_tokens=10, reservation_id=str(reservations[0])),
        item(user_id=user, prompt_tokens=20, reservation_id=str(reservations[1]),
             request_id=rid),
        # a retry of the request above: logged once, its reservation settled all the same
        item(user_id=user, prompt_tokens=20, reservation_id=str(reservations[2]),
             request_id=rid),
        item(user_id=user, prompt_tokens=30)])
    assert ids[1] == ids[2]
    left = superuser.execute("select id from llm.quota_reservations where user_id ="
                             " llm.user_uuid(%s)", (user,)).fetchall()
    assert left == [(reservations[3],)]
    assert superuser.execute(
        "select array_agg(reservation_id order by id) from llm.request_logs where id = any(%s)",
        (ids,)).fetchone()[0] == [reservations[0], reservations[1], None]
    # a retry in a later batch settles its reservation too
    [again] = service.rpc("try_log_requests", requests=[
        item(user_id=user, request_id=rid, reservation_id=str(reservations[3]))])
    assert again["id"] == ids[1]
    assert superuser.execute("select count(*) from llm.quota_reservations where user_id ="
                             " llm.user_uuid(%s)", (user,)).fetchone() == (0,)
    assert superuser.execute("select sum(total_tokens) from llm.usage_journal where user_id ="
                             " llm.user_uuid(%s)", (user,)).fetchone() == (60,)


def test_concurrent_batches_with_shared_request_ids_log_each_once(fresh_db):
    shared = [f"shared-{uuid.uuid4().hex}" for _ in range(40)]
    users = {rid: f"conc-{n % 5}" for n, rid in enumerate(shared)}
    conns = [psycopg.connect(fresh_db, autocommit=True) for _ in range(8)]
    results: list[list] = [[] for _ in conns]
    failures: list[BaseException] = []
    start = threading.Barrier(len(conns))

    def run(n: int) -> None:
        api = Api(conns[n], "service_role")
        rnd = random.Random(n)
        try:
            start.wait()
            for _ in range(6):
                rids = rnd.sample(shared, 15)
                batch = [item(request_id=r, user_id=users[r], prompt_tokens=len(r),
                              completion_tokens=n) for r in rids]
                batch += [item(user_id=f"conc-{n}", prompt_tokens=1) for _ in range(5)]
                rnd.shuffle(batch)
                call = "log_requests" if n % 2 else "try_log_requests"
                got = api.rpc(call, requests=batch)
                ids = got if call == "log_requests" else [r["id"] for r in got]
                results[n].append(list(zip([b.get("request_id") for b in batch], ids)))
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(conns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert failures == []
        db = conns[0]
        logged = dict(db.execute("select request_id, id from llm.request_logs"
                                 " where request_id = any(%s)", (shared,)).fetchall())
        seen = {rid for calls in results for batch in calls for rid, _ in batch if rid}
        assert set(logged) == seen
        assert db.execute("select count(*) from llm.request_logs where request_id = any(%s)",
                          (shared,)).fetchone()[0] == len(seen)
        # every call got the id of the one row logged for each shared request id
        for calls in results:
            for batch in calls:
                for rid, got in batch:
                    assert got is not None
                    if rid:
                        assert got == logged[rid]
        assert db.execute("select count(*) from llm.request_log_rejects").fetchone() == (0,)
        assert mismatches(db) == []
        fold_all(db)
        assert mismatches(db) == []
    finally:
        for conn in conns:
            conn.close()
