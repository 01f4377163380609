"""Conversations: the chat-session API, the conversation API (TTL, stats, export), token
totals, archive and soft delete, summaries, search, import, jobs and realtime."""

import uuid

import psycopg
import pytest
from psycopg import errors

from harness.client import Api

NAMESPACE_DNS = uuid.UUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
SESSION_KEYS = {"id", "user_id", "title", "created_at", "updated_at", "metadata"}


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# -- chat-session API ---------------------------------------------------------------------

def test_create_chat_session_returns_the_documented_keys(service):
    session = service.rpc("create_chat_session", user_id="user-123",
                          title="BigQuery Analysis Session",
                          metadata={"context": "analyzing sales data"})
    assert SESSION_KEYS <= set(session)
    assert session["user_id"] == "user-123"
    assert session["title"] == "BigQuery Analysis Session"
    assert session["metadata"] == {"context": "analyzing sales data"}
    assert isinstance(session["id"], uuid.UUID)
    assert session["created_at"] == session["updated_at"]
    assert session["expires_at"] is None  # chat sessions do not expire


def test_create_chat_session_defaults(service):
    session = service.rpc("create_chat_session", user_id="user-123")
    assert session["title"] is None and session["metadata"] == {}


def test_chat_session_round_trip_with_a_non_uuid_user(service):
    user = new_id("user")
    session = service.rpc("create_chat_session", user_id=user, title="t")
    sid = str(session["id"])
    got = service.rpc("get_chat_session", session_id=sid, user_id=user)
    assert got["user_id"] == user and got["id"] == session["id"]
    assert service.rpc("get_chat_session", session_id=sid)["title"] == "t"
    # the UUID form of the same user is the same user
    assert service.rpc("get_chat_session", session_id=sid,
                       user_id=str(uuid.uuid5(NAMESPACE_DNS, user)))["id"] == session["id"]


def test_get_chat_session_checks_the_given_user(service):
    session = service.rpc("create_chat_session", user_id=new_id("owner"))
    with pytest.raises(errors.NoDataFound):
        service.rpc("get_chat_session", session_id=str(session["id"]), user_id="someone-else")


def test_get_user_chat_sessions_pages_newest_activity_first(service):
    user = new_id("user")
    ids = [service.rpc("create_chat_session", user_id=user, title=f"s{i}")["id"] for i in range(5)]
    service.rpc("append_chat_message", session_id=str(ids[0]), user_id=user, role="user",
                content="bump")
    sessions = service.rpc("get_user_chat_sessions", user_id=user, limit=50, offset=0)
    assert [s["id"] for s in sessions] == [ids[0], ids[4], ids[3], ids[2], ids[1]]
    page = service.rpc("get_user_chat_sessions", user_id=user, limit=2, offset=1)
    assert [s["id"] for s in page] == [ids[4], ids[3]]
    assert service.rpc("get_user_chat_sessions", user_id=new_id("nobody")) == []


def test_update_chat_session_changes_title_and_metadata(service):
    user = new_id("user")
    sid = str(service.rpc("create_chat_session", user_id=user, title="old",
                          metadata={"a": 1})["id"])
    assert service.rpc("update_chat_session", session_id=sid, title="Updated Title",
                       metadata={"context": "updated context", "tags": ["analytics"]}) is True
    got = service.rpc("get_chat_session", session_id=sid)
    assert got["title"] == "Updated Title"
    assert got["metadata"] == {"context": "updated context", "tags": ["analytics"]}
    assert got["updated_at"] > got["created_at"]
    assert service.rpc("update_chat_session", session_id=sid, title="only title") is True
    got = service.rpc("get_chat_session", session_id=sid)
    assert (got["title"], got["metadata"]["tags"]) == ("only title", ["analytics"])


def test_append_and_read_chat_messages_in_order(service):
    user = new_id("user")
    sid = str(service.rpc("create_chat_session", user_id=user)["id"])
    m1 = service.rpc("append_chat_message", session_id=sid, user_id=user, role="user",
                     content="What are the top 10 products by revenue?",
                     metadata={"tokens": 12})
    m2 = service.rpc("append_chat_message", session_id=sid, user_id=user, role="assistant",
                     content="Here's the query to get top 10 products...",
                     metadata={"tokens": 150, "model": "gpt-4", "finish_reason": "stop"})
    assert {"id", "user_id", "role", "content", "created_at", "metadata"} <= set(m1)
    assert (m1["user_id"], m1["tokens"], m1["seq"]) == (user, 12, 1)
    assert (m2["model"], m2["tokens"], m2["parent_id"]) == ("gpt-4", 150, m1["id"])
    msgs = service.rpc("get_chat_messages", session_id=sid, user_id=user, limit=100, offset=0)
    assert [(m["role"], m["content"][:4]) for m in msgs] == [("user", "What"),
                                                             ("assistant", "Here")]
    assert [m["id"] for m in service.rpc("get_chat_messages", session_id=sid, limit=1,
                                         offset=1)] == [m2["id"]]
    session = service.rpc("get_chat_session", session_id=sid)
    assert (session["message_count"], session["total_tokens"]) == (2, 162)
    assert session["last_message_at"] == m2["created_at"]


def test_get_chat_history_gives_recent_sessions_with_their_latest_messages(service):
    user = new_id("user")
    older = str(service.rpc("create_chat_session", user_id=user, title="older")["id"])
    newer = str(service.rpc("create_chat_session", user_id=user, title="newer")["id"])
    for i in range(25):
        service.rpc("append_chat_message", session_id=newer, user_id=user, role="user",
                    content=f"m{i}")
    history = service.rpc("get_chat_history", user_id=user, limit_sessions=10)
    assert [h["title"] for h in history] == ["newer", "older"]
    assert SESSION_KEYS | {"messages"} <= set(history[0])
    assert [m["content"] for m in history[0]["messages"]] == [f"m{i}" for i in range(5, 25)]
    assert history[1]["messages"] == []
    one = service.rpc("get_chat_history", user_id=user, limit_sessions=1, limit_messages=2)
    assert [m["content"] for m in one[0]["messages"]] == ["m23", "m24"]
    assert service.rpc("get_chat_history", user_id=new_id("nobody")) == []


# -- conversation API ---------------------------------------------------------------------

def test_create_conversation_with_a_client_id_and_default_ttl(service):
    cid = new_id("conv")
    assert service.rpc("create_conversation", user_id="user-uuid-123", conversation_id=cid) == cid
    conv = service.rpc("get_conversation", conversation_id=cid)
    assert conv["conversation_id"] == cid and conv["user_id"] == "user-uuid-123"
    hours = (conv["expires_at"] - conv["created_at"]).total_seconds() / 3600
    assert hours == 24
    # the UUID works as well as the client id
    assert service.rpc("get_conversation", conversation_id=str(conv["id"]))["conversation_id"] == cid


def test_create_conversation_generates_an_id_and_accepts_a_uuid(service):
    generated = service.rpc("create_conversation", user_id="u1")
    assert uuid.UUID(generated)
    mine = str(uuid.uuid4())
    assert service.rpc("create_conversation", user_id="u1", conversation_id=mine) == mine
    assert service.rpc("get_conversation", conversation_id=mine)["id"] == uuid.UUID(mine)


def test_ttl_zero_never_expires_and_the_default_is_a_setting(fresh_db):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        service = Api(conn, "service_role")
        forever = service.rpc("create_conversation", user_id="u", ttl_hours=0)
        assert service.rpc("get_conversation", conversation_id=forever)["expires_at"] is None
        service.rpc("set_setting", key="conversation_ttl_hours", value=0)
        default = service.rpc("create_conversation", user_id="u")
        assert service.rpc("get_conversation", conversation_id=default)["expires_at"] is None
        assert service.rpc("conversation_stats")["ttl_hours"] == 0
        short = service.rpc("create_conversation", user_id="u", ttl_hours=2)
        conv = service.rpc("get_conversation", conversation_id=short)
        assert (conv["expires_at"] - conv["created_at"]).total_seconds() == 7200


def test_backends_may_keep_conversations_without_a_user(service):
    cid = service.rpc("create_conversation", conversation_id=new_id("anon-conv"))
    assert service.rpc("get_conversation", conversation_id=cid)["user_id"] is None
    assert service.rpc("add_message", conversation_id=cid, role="user", content="hi")["seq"] == 1


def test_add_message_and_get_messages_latest_first_window(service):
    cid = service.rpc("create_conversation", user_id="u", conversation_id=new_id("conv"))
    for i in range(12):
        service.rpc("add_message", conversation_id=cid, role="user" if i % 2 == 0 else "assistant",
                    content=f"m{i}")
    tool = service.rpc("add_message", conversation_id=cid, role="assistant", content="Response text",
                       metadata={"tool_calls": [{"tool": "get_bus_line_status", "args": {}}],
                                 "model": "gemma-2-27b-it", "tokens": 150, "duration_ms": 1200})
    assert (tool["model"], tool["tokens"]) == ("gemma-2-27b-it", 150)
    latest = service.rpc("get_messages", conversation_id=cid)
    assert [m["content"] for m in latest] == [f"m{i}" for i in range(3, 12)] + ["Response text"]
    assert [m["content"] for m in service.rpc("get_messages", conversation_id=cid, limit=2)] == [
        "m11", "Response text"]


def test_extend_ttl_adds_hours(service):
    cid = service.rpc("create_conversation", user_id="u", ttl_hours=1)
    before = service.rpc("get_conversation", conversation_id=cid)["expires_at"]
    after = service.rpc("extend_ttl", conversation_id=cid, hours=24)["expires_at"]
    assert (after - before).total_seconds() == 24 * 3600
    forever = service.rpc("create_conversation", user_id="u", ttl_hours=0)
    assert service.rpc("extend_ttl", conversation_id=forever, hours=5)["expires_at"] is None


def test_expired_conversations_are_invisible_before_cleanup(service, superuser):
    cid = service.rpc("create_conversation", user_id="exp-user", conversation_id=new_id("exp"))
    service.rpc("add_message", conversation_id=cid, role="user", content="hi")
    superuser.execute("update llm.conversations set expires_at = now() - interval '1 second'"
                      " where external_id = %s", (cid,))
    for call in [
        lambda: service.rpc("get_conversation", conversation_id=cid),
        lambda: service.rpc("get_messages", conversation_id=cid),
        lambda: service.rpc("add_message", conversation_id=cid, role="user", content="x"),
        lambda: service.rpc("extend_ttl", conversation_id=cid, hours=1),
        lambda: service.rpc("export_conversation", conversation_id=cid),
    ]:
        with pytest.raises(errors.NoDataFound):
            call()
    assert service.rpc("get_user_conversations", user_id="exp-user") == []


def test_clear_conversation_removes_messages_and_resets_counters(service):
    cid = service.rpc("create_conversation", user_id="u")
    for i in range(3):
        service.rpc("add_message", conversation_id=cid, role="user", content=f"m{i}",
                    metadata={"tokens": 5})
    assert service.rpc("clear_conversation", conversation_id=cid) == 3
    conv = service.rpc("get_conversation", conversation_id=cid)
    assert (conv["message_count"], conv["total_tokens"], conv["active_leaf_id"]) == (0, 0, None)
    assert service.rpc("get_messages", conversation_id=cid) == []
    again = service.rpc("add_message", conversation_id=cid, role="user", content="fresh start")
    assert (again["seq"], again["parent_id"]) == (1, None)


def test_conversation_stats_and_cleanup(fresh_db):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        service = Api(conn, "service_role")
        live = service.rpc("create_conversation", user_id="u")
        service.rpc("add_message", conversation_id=live, role="user", content="a")
        service.rpc("add_message", conversation_id=live, role="assistant", content="b")
        gone = service.rpc("create_conversation", user_id="u")
        service.rpc("add_message", conversation_id=gone, role="user", content="c")
        conn.execute("update llm.conversations set expires_at = now() - interval '1 hour'"
                     " where id = %s", (gone,))
        stats = service.rpc("conversation_stats")
        assert {k: stats[k] for k in ("total_conversations", "total_messages",
                                      "expired_conversations", "ttl_hours")} == {
            "total_conversations": 1, "total_messages": 2, "expired_conversations": 1,
            "ttl_hours": 24}
        assert service.rpc("cleanup_expired_conversations") == 1
        assert service.rpc("cleanup_expired_conversations") == 0
        assert conn.execute("select count(*) from llm.messages").fetchone()[0] == 2
        assert service.rpc("conversation_stats")["expired_conversations"] == 0


def test_users_see_their_own_stats_and_may_not_run_cleanup(service, make_user, as_user):
    alice = make_user()
    api = as_user(alice)
    cid = api.rpc("create_conversation")
    api.rpc("add_message", conversation_id=cid, role="user", content="hi")
    stats = api.rpc("conversation_stats")
    assert (stats["total_conversations"], stats["total_messages"]) == (1, 1)
    with pytest.raises(errors.InsufficientPrivilege):
        api.rpc("cleanup_expired_conversations")
    with pytest.raises(errors.InsufficientPrivilege):
        api.rpc("purge_deleted_conversations")


# -- token totals -------------------------------------------------------------------------

@pytest.mark.parametrize("args, expected", [
    ({"metadata": {"tokens": 2336}}, (None, None, 2336)),
    ({"metadata": {"processingDetails": {"prompt_tokens": 1435, "completion_tokens": 901,
                                         "total_tokens": 2336}}}, (1435, 901, 2336)),
    ({"metadata": {"usage": {"prompt_tokens": 3, "completion_tokens": 4}}}, (3, 4, 7)),
    ({"metadata": {"prompt_tokens": 50, "completion_tokens": 200, "tokens": 250}}, (50, 200, 250)),
    ({"tokens": 9, "prompt_tokens": 4, "completion_tokens": 5, "metadata": {"tokens": 1}}, (4, 5, 9)),
    ({}, (None, None, 0)),
])
def test_message_token_counts_come_from_arguments_or_metadata(service, args, expected):
    cid = service.rpc("create_conversation", user_id="u")
    msg = service.rpc("add_message", conversation_id=cid, role="assistant", content="x", **args)
    assert (msg["prompt_tokens"], msg["completion_tokens"], msg["tokens"]) == expected
    conv = service.rpc("get_conversation", conversation_id=cid)
    assert (conv["prompt_tokens"], conv["completion_tokens"], conv["total_tokens"]) == tuple(
        v or 0 for v in expected)


# -- archive, soft delete, purge ----------------------------------------------------------

def test_archived_conversations_leave_the_lists_but_stay_readable(service):
    user = new_id("user")
    cid = service.rpc("create_conversation", user_id=user)
    assert service.rpc("archive_conversation", conversation_id=cid)["archived_at"] is not None
    assert service.rpc("get_user_conversations", user_id=user) == []
    assert len(service.rpc("get_user_conversations", user_id=user, include_archived=True)) == 1
    assert service.rpc("get_chat_history", user_id=user) == []
    assert service.rpc("get_conversation", conversation_id=cid)["archived_at"] is not None
    assert service.rpc("archive_conversation", conversation_id=cid,
                       archived=False)["archived_at"] is None
    assert len(service.rpc("get_user_conversations", user_id=user)) == 1


def test_soft_delete_hides_restore_brings_back_purge_removes(fresh_db):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        service = Api(conn, "service_role")
        cid = service.rpc("create_conversation", user_id="u", conversation_id="to-delete")
        service.rpc("add_message", conversation_id=cid, role="user", content="keep me")
        assert service.rpc("delete_conversation", conversation_id=cid) is True
        with pytest.raises(errors.NoDataFound):
            service.rpc("get_conversation", conversation_id=cid)
        assert service.rpc("get_user_conversations", user_id="u") == []
        assert service.rpc("purge_deleted_conversations") == 0  # within the retention
        restored = service.rpc("restore_conversation", conversation_id=cid)
        assert restored["message_count"] == 1
        assert service.rpc("delete_conversation", conversation_id=cid) is True
        conn.execute("update llm.conversations set deleted_at = now() - interval '31 days'")
        assert service.rpc("purge_deleted_conversations") == 1
        assert conn.execute("select count(*) from llm.messages").fetchone()[0] == 0
        with pytest.raises(errors.NoDataFound):
            service.rpc("restore_conversation", conversation_id=cid)


def test_deleting_the_auth_user_removes_their_conversations(service, make_user, as_user,
                                                           superuser):
    alice, bob = make_user(), make_user()
    cid = as_user(alice).rpc("create_conversation", ttl_hours=0)
    as_user(alice).rpc("add_message", conversation_id=cid, role="user", content="hi")
    service.rpc("add_conversation_summary", conversation_id=cid, summary="s")
    kept = as_user(bob).rpc("create_conversation")
    superuser.execute("delete from auth.users where id = %s", (alice.id,))
    counts = superuser.execute(
        "select (select count(*) from llm.conversations where user_id = %(u)s),"
        " (select count(*) from llm.messages where user_id = %(u)s),"
        " (select count(*) from llm.conversation_summaries where user_id = %(u)s)",
        {"u": alice.id}).fetchone()
    assert counts == (0, 0, 0)
    assert service.rpc("get_conversation", conversation_id=kept)["user_id"] == str(bob.id)


# -- summaries ----------------------------------------------------------------------------

def test_summaries_are_written_by_backends_and_read_by_owners(service, make_user, as_user):
    alice = make_user()
    cid = as_user(alice).rpc("create_conversation")
    row = service.rpc("add_conversation_summary", conversation_id=cid, summary="About sales",
                      key_points=["revenue", "top products"])
    assert row["key_points"] == ["revenue", "top products"]
    got = as_user(alice).rpc("get_conversation_summaries", conversation_id=cid)
    assert [s["summary"] for s in got] == ["About sales"]
    with pytest.raises(errors.InsufficientPrivilege):
        as_user(alice).rpc("add_conversation_summary", conversation_id=cid, summary="mine")
    table = "select summary from llm.conversation_summaries"
    assert as_user(alice).sql(table) == [{"summary": "About sales"}]
    as_user(alice).rpc("delete_conversation", conversation_id=cid)
    assert as_user(alice).sql(table) == []  # summaries follow their conversation


# -- search -------------------------------------------------------------------------------

def test_search_finds_own_messages_ranked_with_their_conversation(service, make_user, as_user):
    alice, bob = make_user(), make_user()
    a = as_user(alice)
    first = a.rpc("create_chat_session", title="Revenue chat")
    sid = str(first["id"])
    a.rpc("append_chat_message", session_id=sid, role="user",
          content="What are the top products by revenue? revenue matters")
    a.rpc("append_chat_message", session_id=sid, role="user", content="Show revenue")
    a.rpc("append_chat_message", session_id=sid, role="user", content="unrelated words")
    b = as_user(bob)
    bsid = str(b.rpc("create_chat_session")["id"])
    b.rpc("append_chat_message", session_id=bsid, role="user", content="bob's revenue secret")
    hits = a.rpc("search_messages", query="revenue")
    assert [h["content"] for h in hits] == [
        "What are the top products by revenue? revenue matters", "Show revenue"]
    assert hits[0]["rank"] >= hits[1]["rank"]
    assert hits[0]["conversation_id"] == first["id"]
    assert hits[0]["conversation_title"] == "Revenue chat"
    assert "<b>revenue</b>" in hits[0]["snippet"]
    assert a.rpc("search_messages", query="product") != []  # stemmed
    assert a.rpc("search_messages", query="secret") == []
    assert a.rpc("search_messages", query='"top products" -missing')[0]["content"].startswith(
        "What")
    with pytest.raises(errors.InsufficientPrivilege):
        a.rpc("search_messages", query="revenue", user_id=str(bob.id))


def test_search_skips_deleted_conversations(service):
    user = new_id("user")
    cid = service.rpc("create_conversation", user_id=user)
    service.rpc("add_message", conversation_id=cid, role="user", content="zanzibar")
    assert len(service.rpc("search_messages", query="zanzibar", user_id=user)) == 1
    service.rpc("delete_conversation", conversation_id=cid)
    assert service.rpc("search_messages", query="zanzibar", user_id=user) == []


# -- export and import --------------------------------------------------------------------

def _conversation_with_branches(service, user):
    cid = service.rpc("create_conversation", user_id=user, conversation_id=new_id("exp"),
                      metadata={"topic": "buses"}, title="Line 999")
    q = service.rpc("add_message", conversation_id=cid, role="user", content="How is line 999?",
                    metadata={"tokens": 6})
    service.rpc("add_message", conversation_id=cid, role="assistant", content="Delayed.",
                metadata={"model": "gpt-4", "prompt_tokens": 10, "completion_tokens": 2})
    service.rpc("edit_message", message_id=str(q["id"]), content="How is line 998?")
    service.rpc("add_message", conversation_id=cid, role="assistant", content="On time.",
                tokens=4)
    service.rpc("add_conversation_summary", conversation_id=cid, summary="bus lines",
                key_points=["999 delayed"])
    return cid


def test_export_contains_fields_metadata_and_ordered_messages(service):
    cid = _conversation_with_branches(service, "exporter")
    doc = service.rpc("export_conversation", conversation_id=cid)
    assert {"conversation_id", "created_at", "updated_at", "messages", "metadata"} <= set(doc)
    assert doc["conversation_id"] == cid and doc["metadata"] == {"topic": "buses"}
    assert [m["content"] for m in doc["messages"]] == [
        "How is line 999?", "Delayed.", "How is line 998?", "On time."]
    assert [m["active"] for m in doc["messages"]] == [False, False, True, True]
    assert doc["summaries"][0]["key_points"] == ["999 delayed"]


def test_import_of_an_export_is_exact(service, superuser):
    cid = _conversation_with_branches(service, "mover")
    doc = service.rpc("export_conversation", conversation_id=cid)
    superuser.execute("delete from llm.conversations where external_id = %s", (cid,))
    imported = service.rpc("import_conversation", conversation=doc)
    assert imported["conversation_id"] == cid and imported["user_id"] == "mover"
    assert service.rpc("export_conversation", conversation_id=cid) == doc
    assert [m["content"] for m in service.rpc("get_messages", conversation_id=cid)] == [
        "How is line 998?", "On time."]
    assert service.rpc("add_message", conversation_id=cid, role="user", content="next")["seq"] == 5


def test_import_refuses_an_existing_conversation(service):
    cid = _conversation_with_branches(service, "dup")
    doc = service.rpc("export_conversation", conversation_id=cid)
    with pytest.raises(errors.UniqueViolation):
        service.rpc("import_conversation", conversation=doc)


def test_import_accepts_a_plain_message_list(service):
    doc = {"conversation_id": new_id("legacy"), "metadata": {"from": "ai_conversations"},
           "created_at": "2025-10-04T10:00:00+00:00",
           "messages": [{"role": "user", "content": "How is line 999?",
                         "timestamp": "2025-10-04T10:00:01+00:00"},
                        {"role": "assistant", "content": "On time.", "metadata": {"tokens": 3}}]}
    conv = service.rpc("import_conversation", conversation=doc, user_id="legacy-user")
    assert (conv["message_count"], conv["total_tokens"], conv["user_id"]) == (2, 3, "legacy-user")
    msgs = service.rpc("get_messages", conversation_id=doc["conversation_id"])
    assert [m["content"] for m in msgs] == ["How is line 999?", "On time."]
    assert msgs[1]["parent_id"] == msgs[0]["id"]
    assert msgs[0]["created_at"].isoformat() == "2025-10-04T10:00:01+00:00"


def test_users_import_their_own_user_messages_only(make_user, as_user, service):
    alice = make_user()
    api = as_user(alice)
    conv = api.rpc("import_conversation", conversation={
        "messages": [{"role": "user", "content": "note to self"}]})
    assert conv["user_id"] == str(alice.id) and conv["message_count"] == 1
    with pytest.raises(errors.InsufficientPrivilege):
        api.rpc("import_conversation", conversation={
            "messages": [{"role": "assistant", "content": "forged"}]})


# -- jobs and realtime --------------------------------------------------------------------

def test_cleanup_and_purge_are_named_jobs_with_schedules_from_settings(cron_db):
    with psycopg.connect(cron_db, autocommit=True) as conn:
        rows = dict(conn.execute(
            "select jobname, schedule from cron.job where jobname like 'llm_%conversations'"
        ).fetchall())
        assert rows == {"llm_cleanup_expired_conversations": "7 * * * *",
                        "llm_purge_deleted_conversations": "17 3 * * *"}
        commands = {r[0] for r in conn.execute(
            "select command from cron.job where jobname like 'llm_%conversations'")}
        assert commands == {"select llm.cleanup_expired_conversations()",
                            "select llm.purge_deleted_conversations()"}


def test_jobs_run_by_hand_without_pg_cron(superuser):
    assert superuser.execute("select llm.cleanup_expired_conversations()").fetchone()[0] >= 0
    assert superuser.execute("select llm.purge_deleted_conversations()").fetchone()[0] >= 0
    rows = superuser.execute(
        "select job_name, scheduled from llm.sync_jobs() where job_name like '%conversations'"
    ).fetchall()
    assert sorted(rows) == [("llm_cleanup_expired_conversations", False),
                            ("llm_purge_deleted_conversations", False)]


def test_messages_are_published_for_realtime(superuser):
    assert superuser.execute(
        "select tablename from pg_publication_tables"
        " where pubname = 'supabase_realtime' and schemaname = 'llm'").fetchall() == [("messages",)]
