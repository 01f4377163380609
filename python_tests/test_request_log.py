"""Request log: llm.log_request, idempotent request ids, bad input, batches and dead letters,
partitions, and who may read or write what."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from decimal import Decimal

import pytest
from psycopg import errors

from harness.client import Api

UTC = dt.timezone.utc


def counts(superuser) -> tuple[int, int, int]:
    return superuser.execute(
        "select (select count(*) from llm.request_logs), (select count(*) from llm.usage_journal),"
        " (select count(*) from llm.request_ids)").fetchone()


def row(superuser, request_log_id: int) -> dict:
    cur = superuser.execute("select * from llm.request_logs where id = %s", (request_log_id,))
    names = [d.name for d in cur.description]
    return dict(zip(names, cur.fetchone()))


def journal(superuser, request_log_id: int) -> list[dict]:
    cur = superuser.execute(
        "select * from llm.usage_journal where request_log_id = %s order by requests desc",
        (request_log_id,))
    names = [d.name for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


# -- happy path -----------------------------------------------------------------------------

def test_every_field_round_trips(service, superuser, make_user):
    user = make_user()
    conversation, message, agent, reservation = (uuid.uuid4() for _ in range(4))
    at = dt.datetime.now(UTC).replace(microsecond=0) - dt.timedelta(minutes=5)
    args = dict(
        provider="anthropic", model="claude-sonnet-4-5", request_type="chat",
        user_id=str(user.id), prompt_tokens=1200, completion_tokens=300, cached_tokens=200,
        cache_write_tokens=100, total_tokens=1550, cost_usd="0.0123", latency_ms=850,
        time_to_first_token_ms=120, success=False, status_code=529, error_type="overloaded",
        error_message="Overloaded", cache_hit=False, request_id=f"msg_{uuid.uuid4().hex}",
        conversation_id=str(conversation), message_id=str(message), agent_id=str(agent),
        metadata={"feature": "chat", "attempt": 2}, service="chat", operation="reply",
        audio_seconds="1.5", created_at=at.isoformat(), reservation_id=str(reservation),
    )
    log_id = service.rpc("log_request", **args)
    r = row(superuser, log_id)
    assert r["provider"] == "anthropic" and r["model"] == "claude-sonnet-4-5"
    assert r["request_type"] == "chat" and r["user_id"] == user.id
    assert (r["prompt_tokens"], r["completion_tokens"], r["cached_tokens"],
            r["cache_write_tokens"], r["tokens_total"]) == (1200, 300, 200, 100, 1550)
    assert r["cost_usd"] == Decimal("0.0123") and r["cost_source"] == "caller"
    assert (r["latency_ms"], r["time_to_first_token_ms"]) == (850, 120)
    assert (r["success"], r["status_code"], r["error_type"], r["error_message"]) == (
        False, 529, "overloaded", "Overloaded")
    assert r["cache_hit"] is False and r["request_id"] == args["request_id"]
    assert (r["conversation_id"], r["message_id"], r["agent_id"], r["reservation_id"]) == (
        conversation, message, agent, reservation)
    assert r["metadata"] == {"feature": "chat", "attempt": 2}
    assert (r["service"], r["operation"]) == ("chat", "reply")
    assert r["audio_seconds"] == Decimal("1.5") and r["created_at"] == at
    assert r["request_body"] is None and r["response_body"] is None

    [j] = journal(superuser, log_id)
    assert j["user_id"] == user.id and j["occurred_at"] == at and j["requests"] == 1
    assert (j["prompt_tokens"], j["completion_tokens"], j["cached_tokens"],
            j["cache_write_tokens"], j["total_tokens"]) == (1200, 300, 200, 100, 1550)
    assert j["cost_usd"] == Decimal("0.0123") and j["success"] is False
    assert (j["conversation_id"], j["agent_id"], j["reservation_id"]) == (
        conversation, agent, reservation)
    assert (j["saved_tokens"], j["saved_cost_usd"], j["cache_hit"]) == (0, None, False)


def test_only_provider_and_model_are_required(service, superuser):
    log_id = service.rpc("log_request", provider="openai", model="gpt-4o-mini")
    r = row(superuser, log_id)
    assert r["request_type"] == "chat" and r["user_id"] is None and r["success"] is True
    assert (r["prompt_tokens"], r["completion_tokens"], r["tokens_total"]) == (0, 0, 0)
    assert r["cost_usd"] == 0 and r["cost_source"] == "registry" and r["metadata"] == {}


def test_non_uuid_user_ids_map_to_their_uuid5(service, superuser):
    log_id = service.rpc("log_request", provider="openai", model="gpt-4o", user_id="user-123")
    assert row(superuser, log_id)["user_id"] == uuid.uuid5(uuid.NAMESPACE_DNS, "user-123")
    upper = str(uuid.uuid4()).upper()
    log_id = service.rpc("log_request", provider="openai", model="gpt-4o", user_id=upper)
    assert row(superuser, log_id)["user_id"] == uuid.UUID(upper)


def test_total_tokens_defaults_to_prompt_plus_completion(service, superuser):
    log_id = service.rpc("log_request", provider="openai", model="gpt-4o",
                         prompt_tokens=10, completion_tokens=5)
    assert row(superuser, log_id)["tokens_total"] == 15


@pytest.mark.parametrize("request_type", [
    "chat", "completion", "embedding", "transcription", "speech", "image", "moderation",
    "rerank", "other"])
def test_every_request_type_is_accepted(service, superuser, request_type):
    log_id = service.rpc("log_request", provider="openai", model="m", request_type=request_type)
    assert row(superuser, log_id)["request_type"] == request_type


# -- idempotent request ids -------------------------------------------------------------------

def test_the_same_request_id_is_stored_once(service, superuser):
    rid = f"chatcmpl-{uuid.uuid4().hex}"
    before = counts(superuser)
    first = service.rpc("log_request", provider="openai", model="gpt-4o", user_id="u-idem",
                        request_id=rid, prompt_tokens=10)
    again = service.rpc("log_request", provider="openai", model="gpt-4o", user_id="u-idem",
                        request_id=rid, prompt_tokens=10)
    assert first == again
    assert counts(superuser) == (before[0] + 1, before[1] + 1, before[2] + 1)


def test_a_request_id_of_another_user_is_refused(service, superuser):
    rid = f"req-{uuid.uuid4().hex}"
    service.rpc("log_request", provider="openai", model="gpt-4o", user_id="owner", request_id=rid)
    before = counts(superuser)
    with pytest.raises(errors.UniqueViolation) as exc:
        service.rpc("log_request", provider="openai", model="gpt-4o", user_id="intruder",
                    request_id=rid)
    assert "request_id" in str(exc.value)
    assert counts(superuser) == before


def test_concurrent_duplicate_submissions_are_stored_once(connect, superuser):
    rid = f"race-{uuid.uuid4().hex}"
    clients = [Api(connect(), "service_role") for _ in range(16)]
    results: list[int] = []
    failures: list[BaseException] = []
    barrier = threading.Barrier(len(clients))

    def submit(api: Api) -> None:
        try:
            barrier.wait()
            results.append(api.rpc("log_request", provider="openai", model="gpt-4o",
                                   user_id="racer", request_id=rid, prompt_tokens=7))
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=submit, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert len(results) == 16 and len(set(results)) == 1
    assert superuser.execute(
        "select count(*) from llm.request_logs where request_id = %s", (rid,)).fetchone() == (1,)
    assert superuser.execute(
        "select count(*) from llm.usage_journal where request_log_id = %s",
        (results[0],)).fetchone() == (1,)


# -- bad input: exact SQLSTATE, nothing written --------------------------------------------------

BAD = [
    (dict(provider=None, model="gpt-4o"), errors.NullValueNotAllowed, "provider"),
    (dict(provider="  ", model="gpt-4o"), errors.NullValueNotAllowed, "provider"),
    (dict(provider="openai", model=None), errors.NullValueNotAllowed, "model"),
    (dict(provider="openai", model=""), errors.NullValueNotAllowed, "model"),
    (dict(request_type="telepathy"), errors.InvalidParameterValue, "request_type"),
    (dict(request_type=None), errors.NullValueNotAllowed, "request_type"),
    (dict(prompt_tokens=-1), errors.InvalidParameterValue, "prompt_tokens"),
    (dict(completion_tokens=-5), errors.InvalidParameterValue, "completion_tokens"),
    (dict(cached_tokens=-1), errors.InvalidParameterValue, "cached_tokens"),
    (dict(cache_write_tokens=-1), errors.InvalidParameterValue, "cache_write_tokens"),
    (dict(total_tokens=-1), errors.InvalidParameterValue, "total_tokens"),
    (dict(prompt_tokens=10, cached_tokens=11), errors.InvalidParameterValue, "cached_tokens"),
    (dict(cost_usd="NaN"), errors.InvalidParameterValue, "cost_usd"),
    (dict(cost_usd="Infinity"), errors.InvalidParameterValue, "cost_usd"),
    (dict(cost_usd="-0.01"), errors.InvalidParameterValue, "cost_usd"),
    (dict(cache_hit=True, cost_usd="0.5"), errors.InvalidParameterValue, "cost_usd"),
    (dict(latency_ms=-1), errors.InvalidParameterValue, "latency_ms"),
    (dict(time_to_first_token_ms=-1), errors.InvalidParameterValue, "time_to_first_token_ms"),
    (dict(audio_seconds="NaN"), errors.InvalidParameterValue, "audio_seconds"),
    (dict(status_code=42), errors.InvalidParameterValue, "status_code"),
    (dict(success=None), errors.NullValueNotAllowed, "success"),
    (dict(created_at="infinity"), errors.InvalidParameterValue, "created_at"),
    (dict(request_id=" "), errors.InvalidParameterValue, "request_id"),
    (dict(metadata=[1, 2]), errors.InvalidParameterValue, "metadata"),
    (dict(metadata=None), errors.InvalidParameterValue, "metadata"),
    (dict(user_id=""), errors.InvalidParameterValue, "user_id"),
]


@pytest.mark.parametrize("args, error, field", BAD, ids=[f"{b[2]}-{i}" for i, b in enumerate(BAD)])
def test_bad_input_raises_its_sqlstate_and_writes_nothing(service, superuser, args, error, field):
    call = {"provider": "openai", "model": "gpt-4o", **args}
    before = counts(superuser)
    with pytest.raises(error) as exc:
        service.rpc("log_request", **call)
    assert field in str(exc.value)
    assert counts(superuser) == before


# -- batches and dead letters -----------------------------------------------------------------

def test_log_requests_logs_a_batch_in_order(service, superuser):
    ids = service.rpc("log_requests", requests=[
        {"provider": "openai", "model": "gpt-4o", "prompt_tokens": 10, "user_id": "batch-user"},
        {"provider": "google", "model": "gemini-2.5-flash", "request_type": "embedding",
         "prompt_tokens": 5, "metadata": {"k": 1}, "created_at": "2026-01-02T03:04:05Z"},
    ])
    assert len(ids) == 2 and ids[0] < ids[1]
    assert row(superuser, ids[1])["model"] == "gemini-2.5-flash"
    assert row(superuser, ids[1])["created_at"] == dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize("item, error, text", [
    ({"provider": "openai", "model": "gpt-4o", "prompt_tokens": "ten"},
     errors.InvalidParameterValue, "requests[1]: prompt_tokens must be an integer"),
    ({"provider": "openai", "model": "gpt-4o", "promt_tokens": 3},
     errors.InvalidParameterValue, "requests[1]: unknown request field(s): promt_tokens"),
    ({"provider": "openai", "model": "gpt-4o", "completion_tokens": -2},
     errors.InvalidParameterValue, "requests[1]: completion_tokens must be >= 0"),
    ({"model": "gpt-4o"}, errors.NullValueNotAllowed, "requests[1]: provider is required"),
    ({"provider": "openai", "model": "gpt-4o", "created_at": "yesterday-ish"},
     errors.InvalidParameterValue, "requests[1]: created_at must be"),
    ("not an object", errors.InvalidParameterValue, "requests[1]: a request must be"),
])
def test_a_bad_item_fails_the_whole_batch(service, superuser, item, error, text):
    before = counts(superuser)
    with pytest.raises(error) as exc:
        service.rpc("log_requests", requests=[{"provider": "openai", "model": "gpt-4o"}, item])
    assert text in str(exc.value)
    assert counts(superuser) == before


def test_log_requests_needs_an_array(service):
    with pytest.raises(errors.InvalidParameterValue):
        service.rpc("log_requests", requests={"provider": "openai", "model": "gpt-4o"})


def test_try_log_requests_logs_good_items_and_dead_letters_bad_ones(service, superuser):
    bad = {"provider": "openai", "model": "gpt-4o", "cost_usd": -1, "note": "kept"}
    before = counts(superuser)
    rows = service.rpc("try_log_requests", requests=[
        {"provider": "openai", "model": "gpt-4o", "prompt_tokens": 3},
        bad,
        {"provider": "openai", "model": "gpt-4o", "prompt_tokens": -3},
        {"provider": "openai", "model": "gpt-4o", "prompt_tokens": 4},
    ])
    assert [r["item"] for r in rows] == [0, 1, 2, 3]
    assert rows[0]["id"] and rows[3]["id"] and rows[0]["reject_id"] is None
    assert rows[1]["id"] is None and rows[1]["sqlstate"] == "22023"
    assert "unknown request field(s): note" in rows[1]["error"]
    assert rows[2]["sqlstate"] == "22023" and "prompt_tokens must be >= 0" in rows[2]["error"]
    assert counts(superuser)[:2] == (before[0] + 2, before[1] + 2)
    dead = superuser.execute(
        "select payload, sqlstate, error from llm.request_log_rejects where id = %s",
        (rows[1]["reject_id"],)).fetchone()
    assert dead == (bad, "22023", rows[1]["error"])


def test_try_log_requests_takes_one_object_and_never_raises_on_garbage(service, superuser):
    [ok] = service.rpc("try_log_requests", requests={"provider": "openai", "model": "gpt-4o"})
    assert ok["id"] and ok["reject_id"] is None
    [dead] = service.rpc("try_log_requests", requests=42)
    assert dead["id"] is None and dead["sqlstate"] == "22023"
    assert superuser.execute("select payload from llm.request_log_rejects where id = %s",
                             (dead["reject_id"],)).fetchone() == (42,)


# -- bodies ---------------------------------------------------------------------------------

def test_bodies_are_stored_only_when_allowed_and_capped(fresh_db):
    import psycopg
    conn = psycopg.connect(fresh_db, autocommit=True)
    service = Api(conn, "service_role")
    body = {"messages": [{"role": "user", "content": "x" * 500}]}
    log_id = service.rpc("log_request", provider="openai", model="gpt-4o",
                         request_body=body, response_body={"ok": True})
    assert conn.execute("select request_body, response_body from llm.request_logs where id = %s",
                        (log_id,)).fetchone() == (None, None)
    service.rpc("set_setting", key="request_log_store_bodies", value=True)
    service.rpc("set_setting", key="request_log_body_max_bytes", value=100)
    log_id = service.rpc("log_request", provider="openai", model="gpt-4o",
                         request_body=body, response_body={"ok": True})
    req, resp = conn.execute(
        "select request_body, response_body from llm.request_logs where id = %s",
        (log_id,)).fetchone()
    assert resp == {"ok": True}
    assert req["truncated"] is True and req["original_bytes"] > 500 and len(req["prefix"]) == 100
    conn.close()


# -- partitions -----------------------------------------------------------------------------

def partition_of(superuser, log_id: int) -> str:
    return superuser.execute(
        "select tableoid::regclass::text from llm.request_logs where id = %s",
        (log_id,)).fetchone()[0]


def test_rows_land_in_their_day_partition_or_the_default_one(service, superuser):
    today = dt.datetime.now(UTC)
    log_id = service.rpc("log_request", provider="openai", model="gpt-4o")
    assert partition_of(superuser, log_id) == f"llm_private.request_logs_p{today:%Y%m%d}"
    tomorrow = (today + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    log_id = service.rpc("log_request", provider="openai", model="gpt-4o",
                         created_at=tomorrow.isoformat())
    assert partition_of(superuser, log_id) == f"llm_private.request_logs_p{tomorrow:%Y%m%d}"
    for far in ("2000-01-01T00:00:00Z", "2001-06-30T23:59:59Z"):
        log_id = service.rpc("log_request", provider="openai", model="gpt-4o", created_at=far)
        assert partition_of(superuser, log_id) == "llm_private.request_logs_default"


def test_every_partition_has_rls_and_no_grants(superuser):
    rows = superuser.execute("""
        select c.relname, c.relrowsecurity,
               has_table_privilege('authenticated', c.oid, 'select'),
               has_table_privilege('service_role', c.oid, 'select')
        from pg_inherits as i join pg_class as c on c.oid = i.inhrelid
        where i.inhparent = 'llm.request_logs'::regclass
    """).fetchall()
    assert len(rows) >= 9
    assert [r for r in rows if r[1:] != (True, False, False)] == []


# -- who may read and write ---------------------------------------------------------------------

def test_users_see_only_their_own_requests_and_admins_all(service, make_user, as_user, admin):
    alice, bob = make_user(), make_user()
    a = service.rpc("log_request", provider="openai", model="gpt-4o", user_id=str(alice.id))
    b = service.rpc("log_request", provider="openai", model="gpt-4o", user_id=str(bob.id))
    seen = {r["id"] for r in as_user(alice).sql("select id from llm.request_logs")}
    assert a in seen and b not in seen
    assert as_user(alice).sql("select 1 from llm.usage_journal where request_log_id = %s",
                              (b,)) == []
    assert len(as_user(alice).sql("select 1 from llm.usage_journal where request_log_id = %s",
                                  (a,))) == 1
    assert {a, b} <= {r["id"] for r in admin.sql("select id from llm.request_logs")}


def test_users_cannot_read_partitions_directly(service, make_user, as_user):
    alice = make_user()
    service.rpc("log_request", provider="openai", model="gpt-4o", user_id=str(alice.id))
    today = dt.datetime.now(UTC)
    with pytest.raises(errors.InsufficientPrivilege):
        as_user(alice).sql(f"select * from llm_private.request_logs_p{today:%Y%m%d}")
    with pytest.raises(errors.InsufficientPrivilege):
        as_user(alice).sql("select * from llm_private.request_logs_default")


@pytest.mark.parametrize("statement", [
    "insert into llm.request_logs (provider, model) values ('openai', 'gpt-4o')",
    "update llm.request_logs set cost_usd = 0",
    "delete from llm.request_logs",
    "insert into llm.usage_journal (occurred_at, provider, model, request_type, requests,"
    " prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens, total_tokens,"
    " success, cache_hit, saved_tokens) values (now(), 'a', 'b', 'chat', 1, 0, 0, 0, 0, 0,"
    " true, false, 0)",
    "delete from llm.usage_journal",
    "insert into llm.request_ids values ('x', 1, null, now())",
])
@pytest.mark.parametrize("who", ["user", "service"])
def test_tables_are_written_only_through_the_functions(statement, who, service, make_user,
                                                       as_user):
    api = service if who == "service" else as_user(make_user())
    with pytest.raises(errors.InsufficientPrivilege):
        api.sql(statement)


def test_users_cannot_log_requests(make_user, as_user):
    user = make_user()
    for fn, args in [("log_request", {"provider": "openai", "model": "gpt-4o"}),
                     ("log_requests", {"requests": []}),
                     ("try_log_requests", {"requests": []})]:
        with pytest.raises(errors.InsufficientPrivilege):
            as_user(user).rpc(fn, **args)


def test_only_admins_read_request_ids_and_dead_letters(service, make_user, as_user, admin):
    rid = f"vis-{uuid.uuid4().hex}"
    service.rpc("log_request", provider="openai", model="gpt-4o", request_id=rid)
    [dead] = service.rpc("try_log_requests", requests=[{"bogus": True}])
    user = as_user(make_user())
    assert user.sql("select * from llm.request_ids where request_id = %s", (rid,)) == []
    assert user.sql("select * from llm.request_log_rejects") == []
    assert len(admin.sql("select * from llm.request_ids where request_id = %s", (rid,))) == 1
    assert len(admin.sql("select * from llm.request_log_rejects where id = %s",
                         (dead["reject_id"],))) == 1
    user.sql("delete from llm.request_log_rejects")  # silently nothing for a non-admin
    admin.sql("delete from llm.request_log_rejects where id = %s", (dead["reject_id"],))
    assert admin.sql("select * from llm.request_log_rejects where id = %s",
                     (dead["reject_id"],)) == []


@pytest.mark.parametrize("fn, args", [
    ("log_request", {"provider": "openai", "model": "gpt-4o"}),
    ("log_requests", {"requests": []}),
    ("try_log_requests", {"requests": []}),
    ("cost_by_user", {}),
    ("estimate_cost", {"provider": "openai", "model": "gpt-4o"}),
])
def test_anon_is_denied(anon, fn, args):
    with pytest.raises(errors.InsufficientPrivilege):
        anon.rpc(fn, **args)


def test_anon_reads_no_table(anon):
    for table in ("request_logs", "usage_journal", "model_prices", "request_ids",
                  "request_log_rejects"):
        with pytest.raises(errors.InsufficientPrivilege):
            anon.sql(f"select * from llm.{table}")


def test_journal_rows_are_written_with_the_request_in_one_transaction(connect, superuser):
    conn = connect()
    with conn.transaction(force_rollback=True):
        conn.execute("select set_config('role', 'service_role', true)")
        log_id = conn.execute(
            "select llm.log_request(provider => 'openai', model => 'gpt-4o')").fetchone()[0]
    assert superuser.execute("select count(*) from llm.request_logs where id = %s",
                             (log_id,)).fetchone() == (0,)
    assert superuser.execute("select count(*) from llm.usage_journal where request_log_id = %s",
                             (log_id,)).fetchone() == (0,)


def test_metadata_is_stored_as_given(service, superuser):
    meta = {"nested": {"list": [1, "two", None]}, "unicode": "ünï"}
    log_id = service.rpc("log_request", provider="openai", model="gpt-4o", metadata=meta)
    assert row(superuser, log_id)["metadata"] == meta
