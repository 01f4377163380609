"""record_completion: one chat turn (assistant message, logged request, settled reservation)
stored atomically."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import errors

from harness.client import Api


@pytest.fixture
def session(service):
    """A chat session of a string-identified user, with the user's question in it."""
    user = f"user-{uuid.uuid4().hex[:10]}"
    sid = service.rpc("create_chat_session", user_id=user, title="turns")["id"]
    service.rpc("append_chat_message", session_id=str(sid), user_id=user, role="user",
                content="What is 2 + 2?")
    return user, str(sid)


def _state(superuser, sid: str) -> tuple:
    return superuser.execute(
        "select c.message_count, c.total_tokens,"
        " (select count(*) from llm.request_logs as r where r.conversation_id = c.id)"
        " from llm.conversations as c where c.id = %s", (sid,)).fetchone()


def test_a_turn_stores_the_message_logs_the_request_and_settles_the_reservation(
        service, superuser, session):
    user, sid = session
    service.rpc("set_user_quota", user_id=user, quota_period="daily", token_limit=1000)
    rid = service.rpc("reserve_quota", user_id=user, tokens=500)
    turn = service.rpc("record_completion", conversation_id=sid, content="4", provider="openai",
                       model="gpt-4o", prompt_tokens=12, completion_tokens=3,
                       reservation_id=str(rid), request_id="turn-a", latency_ms=420)
    assert set(turn) == {"message_id", "request_log_id"}
    message = superuser.execute(
        "select role, content, model, prompt_tokens, completion_tokens, tokens, active"
        " from llm.messages where id = %s", (turn["message_id"],)).fetchone()
    assert message == ("assistant", "4", "gpt-4o", 12, 3, 15, True)
    logged = superuser.execute(
        "select conversation_id::text, message_id, user_id = llm.user_uuid(%s), tokens_total,"
        " reservation_id, latency_ms from llm.request_logs where id = %s",
        (user, turn["request_log_id"])).fetchone()
    assert logged == (sid, turn["message_id"], True, 15, rid, 420)
    assert superuser.execute("select count(*) from llm.quota_reservations where id = %s",
                             (rid,)).fetchone()[0] == 0
    quota = service.rpc("check_user_quota", user_id=user)
    assert (quota["tokens_used"], quota["tokens_reserved"], quota["remaining"]) == (15, 0, 985)
    assert service.rpc("get_user_token_usage", user_id=user, days=1)["conversation_count"] == 1
    assert _state(superuser, sid) == (2, 15, 1)


def test_a_retried_turn_returns_the_first_ids_and_stores_nothing(service, superuser, session):
    _, sid = session
    args = {"conversation_id": sid, "content": "4", "provider": "openai", "model": "gpt-4o",
            "prompt_tokens": 12, "completion_tokens": 3, "request_id": f"turn-{uuid.uuid4()}"}
    first = service.rpc("record_completion", **args)
    assert service.rpc("record_completion", **args) == first
    assert _state(superuser, sid) == (2, 15, 1)
    other = service.rpc("create_chat_session", user_id="someone-else")["id"]
    with pytest.raises(errors.UniqueViolation):
        service.rpc("record_completion", **{**args, "conversation_id": str(other)})


def test_a_retried_turn_settles_its_reservation(service, superuser, session):
    user, sid = session
    service.rpc("set_user_quota", user_id=user, quota_period="daily", token_limit=1000)
    args = {"conversation_id": sid, "content": "4", "provider": "openai", "model": "gpt-4o",
            "prompt_tokens": 12, "completion_tokens": 3, "request_id": f"turn-{uuid.uuid4()}"}
    first = service.rpc("record_completion", **args,
                        reservation_id=str(service.rpc("reserve_quota", user_id=user, tokens=500)))
    retry = service.rpc("reserve_quota", user_id=user, tokens=500)
    assert service.rpc("record_completion", **args, reservation_id=str(retry)) == first
    assert superuser.execute("select count(*) from llm.quota_reservations where id = %s",
                             (retry,)).fetchone()[0] == 0
    quota = service.rpc("check_user_quota", user_id=user)
    assert (quota["tokens_used"], quota["tokens_reserved"], quota["remaining"]) == (15, 0, 985)
    assert _state(superuser, sid) == (2, 15, 1)


@pytest.mark.parametrize("kw, state", [
    ({"cost_usd": -1}, "22023"),            # refused by the request log, after the message
    ({"provider": None}, "22004"),
    ({"prompt_tokens": -5}, "22023"),
    ({"content": None}, "22004"),
    ({"conversation_id": "no-such-conversation"}, "P0002"),
    ({"user_id": "not-the-owner"}, "P0002"),
])
def test_a_failing_turn_stores_neither_message_nor_usage(service, superuser, session, kw, state):
    user, sid = session
    rid = service.rpc("reserve_quota", user_id=user, tokens=10)
    args = {"conversation_id": sid, "content": "4", "provider": "openai", "model": "gpt-4o",
            "prompt_tokens": 12, "completion_tokens": 3, "reservation_id": str(rid), **kw}
    with pytest.raises(psycopg.Error) as exc:
        service.rpc("record_completion", **args)
    assert exc.value.sqlstate == state
    assert _state(superuser, sid) == (1, 0, 0)
    assert superuser.execute("select count(*) from llm.quota_reservations where id = %s",
                             (rid,)).fetchone()[0] == 1


def test_only_backends_record_turns(make_user, as_user, anon, service):
    alice = make_user()
    sid = str(service.rpc("create_chat_session", user_id=str(alice.id))["id"])
    for api in (as_user(alice), anon):
        with pytest.raises(errors.InsufficientPrivilege):
            api.rpc("record_completion", conversation_id=sid, content="4", provider="openai",
                    model="gpt-4o")


def test_concurrent_turns_of_one_conversation_are_all_kept(connect, service, superuser, session):
    import threading

    _, sid = session
    apis = [Api(connect(), "service_role") for _ in range(8)]

    def turn(api: Api):
        for _ in range(5):
            api.rpc("record_completion", conversation_id=sid, content="ok", provider="openai",
                    model="gpt-4o-mini", prompt_tokens=1, completion_tokens=1)

    threads = [threading.Thread(target=turn, args=(a,)) for a in apis]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert _state(superuser, sid) == (41, 80, 40)
    assert superuser.execute(
        "select count(distinct seq) from llm.messages where conversation_id = %s", (sid,)
    ).fetchone()[0] == 41


def _turn(sid: str, **kw) -> dict:
    return {"conversation_id": sid, "content": "4", "provider": "openai", "model": "gpt-4o",
            "prompt_tokens": 12, "completion_tokens": 3, **kw}


def test_a_batch_of_turns_is_recorded_in_order_in_one_call(service, superuser, session):
    user, sid = session
    rid = service.rpc("reserve_quota", user_id=user, tokens=500)
    turns = service.rpc("record_completions", completions=[
        _turn(sid, content="first", request_id="batch-a", reservation_id=str(rid)),
        _turn(sid, content="second", metadata={"tool": "calc"}, latency_ms=300),
    ])
    assert [set(t) for t in turns] == [{"message_id", "request_log_id"}] * 2
    stored = superuser.execute(
        "select m.content, m.metadata, r.id, r.latency_ms from llm.messages as m"
        " join llm.request_logs as r on r.message_id = m.id"
        " where m.conversation_id = %s order by m.seq", (sid,)).fetchall()
    assert stored == [("first", {}, turns[0]["request_log_id"], None),
                      ("second", {"tool": "calc"}, turns[1]["request_log_id"], 300)]
    assert superuser.execute("select count(*) from llm.quota_reservations where id = %s",
                             (rid,)).fetchone()[0] == 0
    assert _state(superuser, sid) == (3, 30, 2)
    # the same batch again: every turn is a retry, answered with the first ids
    again = service.rpc("record_completions", completions=[
        _turn(sid, content="first", request_id="batch-a")])
    assert again == turns[:1]
    assert service.rpc("record_completions", completions=[]) == []


@pytest.mark.parametrize("bad, state, message", [
    ({"prompt_tokens": "12"}, "22023", "completions[1]: prompt_tokens must be an integer"),
    ({"tokens": 5}, "22023", "completions[1]: unknown turn field(s): tokens"),
    ({"conversation_id": "no-such-conversation"}, "P0002", "completions[1]: "),
    ({"cost_usd": -1}, "22023", "completions[1]: "),
])
def test_a_bad_turn_raises_its_error_and_stores_nothing(service, superuser, session, bad, state,
                                                        message):
    _, sid = session
    with pytest.raises(psycopg.Error) as exc:
        service.rpc("record_completions", completions=[_turn(sid), _turn(sid, **bad)])
    assert exc.value.sqlstate == state
    assert str(exc.value).startswith(message)
    assert _state(superuser, sid) == (1, 0, 0)


@pytest.mark.parametrize("completions", [{"content": "4"}, "turns", None, [1]])
def test_a_batch_must_be_an_array_of_objects(service, completions):
    with pytest.raises(psycopg.Error) as exc:
        service.rpc("record_completions", completions=completions)
    assert exc.value.sqlstate == "22023"


def test_only_backends_record_batches_of_turns(make_user, as_user, anon, service):
    alice = make_user()
    sid = str(service.rpc("create_chat_session", user_id=str(alice.id))["id"])
    for api in (as_user(alice), anon):
        with pytest.raises(errors.InsufficientPrivilege):
            api.rpc("record_completions", completions=[_turn(sid)])
