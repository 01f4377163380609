"""Conversations: branching (edit, regenerate, switch), keyset pagination, and exact counters
and order under concurrent appends."""

import threading
import uuid

import pytest

from harness.client import Api


@pytest.fixture
def chat(service):
    """A conversation q1 -> a1 -> q2 -> a2; returns (conversation id, {name: message id})."""
    cid = service.rpc("create_conversation", user_id="brancher", ttl_hours=0)
    ids = {}
    for name, role in [("q1", "user"), ("a1", "assistant"), ("q2", "user"), ("a2", "assistant")]:
        ids[name] = str(service.rpc("add_message", conversation_id=cid, role=role,
                                    content=name)["id"])
    return cid, ids


def path(service, cid):
    return [m["content"] for m in service.rpc("get_messages", conversation_id=cid, limit=100)]


def test_editing_a_message_starts_a_new_branch_and_keeps_the_old_one(service, chat):
    cid, ids = chat
    edited = service.rpc("edit_message", message_id=ids["q2"], content="q2 edited")
    assert edited["parent_id"] == uuid.UUID(ids["a1"]) and edited["role"] == "user"
    assert path(service, cid) == ["q1", "a1", "q2 edited"]
    service.rpc("add_message", conversation_id=cid, role="assistant", content="a2'")
    assert path(service, cid) == ["q1", "a1", "q2 edited", "a2'"]
    alternatives = service.rpc("get_message_alternatives", message_id=ids["q2"])
    assert [(m["content"], m["active"]) for m in alternatives] == [("q2", False),
                                                                   ("q2 edited", True)]
    conv = service.rpc("get_conversation", conversation_id=cid)
    assert conv["message_count"] == 6  # every branch is kept and counted


def test_regenerating_an_answer_is_an_edit_by_the_service_role(service, chat):
    cid, ids = chat
    service.rpc("edit_message", message_id=ids["a2"], content="a2 take 2", tokens=7)
    service.rpc("edit_message", message_id=ids["a2"], content="a2 take 3", tokens=9)
    assert path(service, cid) == ["q1", "a1", "q2", "a2 take 3"]
    assert [m["content"] for m in service.rpc("get_message_alternatives",
                                              message_id=ids["a2"])] == [
        "a2", "a2 take 2", "a2 take 3"]
    assert service.rpc("get_conversation", conversation_id=cid)["total_tokens"] == 16


def test_switching_branches_follows_the_most_recent_replies(service, chat):
    cid, ids = chat
    edited = service.rpc("edit_message", message_id=ids["q2"], content="q2 edited")
    service.rpc("add_message", conversation_id=cid, role="assistant", content="a2'")
    leaf = service.rpc("switch_branch", message_id=ids["q2"])
    assert leaf["content"] == "a2" and leaf["active"] is True
    assert path(service, cid) == ["q1", "a1", "q2", "a2"]
    # new messages continue the branch now active
    service.rpc("add_message", conversation_id=cid, role="user", content="q3")
    assert path(service, cid) == ["q1", "a1", "q2", "a2", "q3"]
    assert service.rpc("switch_branch", message_id=str(edited["id"]))["content"] == "a2'"
    assert path(service, cid) == ["q1", "a1", "q2 edited", "a2'"]
    # switching to a message in the middle keeps the branch through it
    assert service.rpc("switch_branch", message_id=ids["q1"])["content"] == "a2'"
    conv = service.rpc("get_conversation", conversation_id=cid)
    assert conv["active_leaf_id"] == service.rpc("get_messages", conversation_id=cid)[-1]["id"]


def test_editing_the_first_message_starts_a_new_root(service, chat):
    cid, ids = chat
    root = service.rpc("edit_message", message_id=ids["q1"], content="q1 again")
    assert root["parent_id"] is None
    assert path(service, cid) == ["q1 again"]
    assert [m["content"] for m in service.rpc("get_message_alternatives",
                                              message_id=ids["q1"])] == ["q1", "q1 again"]
    service.rpc("switch_branch", message_id=ids["q1"])
    assert path(service, cid) == ["q1", "a1", "q2", "a2"]


def test_users_branch_their_own_conversations(make_user, as_user, service):
    alice = make_user()
    api = as_user(alice)
    cid = api.rpc("create_conversation")
    q = api.rpc("add_message", conversation_id=cid, role="user", content="first try")
    service.rpc("add_message", conversation_id=cid, role="assistant", content="answer")
    api.rpc("edit_message", message_id=str(q["id"]), content="second try")
    assert [m["content"] for m in api.rpc("get_messages", conversation_id=cid)] == ["second try"]
    api.rpc("switch_branch", message_id=str(q["id"]))
    assert [m["content"] for m in api.rpc("get_messages", conversation_id=cid)] == [
        "first try", "answer"]
    # the table shows the same active branch
    assert [r["content"] for r in api.sql(
        "select content from llm.messages where active order by seq")] == ["first try", "answer"]


# -- keyset pagination --------------------------------------------------------------------

def test_keyset_pages_before_and_after_a_message(service):
    cid = service.rpc("create_conversation", user_id="pager", ttl_hours=0)
    ids = [str(service.rpc("add_message", conversation_id=cid, role="user", content=f"m{i}")["id"])
           for i in range(30)]

    def contents(**kw):
        return [m["content"] for m in service.rpc("get_messages", conversation_id=cid, **kw)]

    assert contents(limit=5) == [f"m{i}" for i in range(25, 30)]
    assert contents(limit=5, before=ids[25]) == [f"m{i}" for i in range(20, 25)]
    assert contents(limit=5, before=ids[3]) == ["m0", "m1", "m2"]
    assert contents(limit=5, after=ids[25]) == [f"m{i}" for i in range(26, 30)]
    assert contents(limit=3, after=ids[0]) == ["m1", "m2", "m3"]
    # walking back page by page visits every message once, in order
    seen, cursor = [], None
    while True:
        page = service.rpc("get_messages", conversation_id=cid, limit=7,
                           **({"before": cursor} if cursor else {}))
        if not page:
            break
        seen = [m["content"] for m in page] + seen
        cursor = str(page[0]["id"])
    assert seen == [f"m{i}" for i in range(30)]


def test_pages_skip_other_branches(service, chat):
    cid, ids = chat
    service.rpc("edit_message", message_id=ids["a1"], content="a1'")
    service.rpc("add_message", conversation_id=cid, role="user", content="q2'")
    assert [m["content"] for m in service.rpc("get_messages", conversation_id=cid, limit=2,
                                              after=ids["q1"])] == ["a1'", "q2'"]


# -- concurrency --------------------------------------------------------------------------

def test_two_hundred_concurrent_appends_are_exact_ordered_and_deadlock_free(service, connect,
                                                                            make_user):
    owner = make_user()
    cid = service.rpc("create_conversation", user_id=str(owner.id), ttl_hours=0)
    threads_n, per_thread = 20, 10
    barrier = threading.Barrier(threads_n)
    errors_seen: list[BaseException] = []

    def worker(n: int) -> None:
        # half the writers are backends, half the signed-in owner, each on its own connection
        conn = connect()
        api = Api(conn, "service_role") if n % 2 else Api(conn, "authenticated", owner.claims())
        barrier.wait()
        try:
            for i in range(per_thread):
                role = "assistant" if n % 2 else "user"
                api.rpc("add_message", conversation_id=cid, role=role, content=f"t{n}-{i}",
                        metadata={"tokens": n + 1})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors_seen.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors_seen == []
    total = threads_n * per_thread
    conv = service.rpc("get_conversation", conversation_id=cid)
    assert conv["message_count"] == total
    assert conv["total_tokens"] == per_thread * sum(n + 1 for n in range(threads_n))
    msgs = service.rpc("get_chat_messages", session_id=cid, limit=1000)
    assert [m["seq"] for m in msgs] == list(range(1, total + 1))
    # one chain: each message's parent is the one before it, and all are on the active branch
    assert [m["parent_id"] for m in msgs] == [None] + [m["id"] for m in msgs[:-1]]
    assert all(m["active"] for m in msgs) and conv["active_leaf_id"] == msgs[-1]["id"]
    # each writer's messages keep the order it wrote them in
    for n in range(threads_n):
        mine = [m["content"] for m in msgs if m["content"].startswith(f"t{n}-")]
        assert mine == [f"t{n}-{i}" for i in range(per_thread)]
    # the order is stable: a second read is identical
    assert service.rpc("get_chat_messages", session_id=cid, limit=1000) == msgs


def test_concurrent_edits_and_appends_leave_one_consistent_branch(service, connect, chat):
    cid, ids = chat
    barrier = threading.Barrier(8)
    errors_seen: list[BaseException] = []

    def worker(n: int) -> None:
        api = Api(connect(), "service_role")
        barrier.wait()
        try:
            for i in range(5):
                if n % 2:
                    api.rpc("edit_message", message_id=ids["a2"], content=f"regen {n}-{i}")
                else:
                    api.rpc("add_message", conversation_id=cid, role="user", content=f"q {n}-{i}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors_seen.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors_seen == []
    conv = service.rpc("get_conversation", conversation_id=cid)
    assert conv["message_count"] == 4 + 40
    active = service.rpc("get_messages", conversation_id=cid, limit=1000)
    assert [m["parent_id"] for m in active] == [None] + [m["id"] for m in active[:-1]]
    assert active[-1]["id"] == conv["active_leaf_id"]
    assert [m["content"] for m in active[:3]] == ["q1", "a1", "q2"]
