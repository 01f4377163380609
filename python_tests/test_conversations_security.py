"""Conversations: who may read and write what, and bad input (exact SQLSTATE, nothing written)."""

import uuid

import pytest
from psycopg import errors

TABLES = ["conversations", "messages", "conversation_summaries"]


@pytest.fixture
def alice(make_user):
    return make_user()


@pytest.fixture
def bob(make_user):
    return make_user()


@pytest.fixture
def alices(alice, as_user, service):
    """Alice's conversation (client id), with a user message, a reply and a summary."""
    api = as_user(alice)
    cid = api.rpc("create_conversation", conversation_id=f"alice-{uuid.uuid4().hex[:8]}")
    msg = api.rpc("add_message", conversation_id=cid, role="user", content="private question")
    service.rpc("add_message", conversation_id=cid, role="assistant", content="private answer")
    service.rpc("add_conversation_summary", conversation_id=cid, summary="private summary")
    conv = api.rpc("get_conversation", conversation_id=cid)
    return {"cid": cid, "uuid": str(conv["id"]), "message": str(msg["id"])}


@pytest.fixture
def counts(superuser):
    """Row counts of every conversation table, to prove a failed call wrote nothing."""
    def _counts():
        return superuser.execute(
            "select (select count(*) from llm.conversations),"
            " (select count(*) from llm.messages),"
            " (select count(*) from llm.conversation_summaries),"
            " (select coalesce(sum(message_count), 0) from llm.conversations),"
            " (select coalesce(sum(total_tokens), 0) from llm.conversations),"
            " (select md5(coalesce(string_agg(c::text, ',' order by id), ''))"
            "  from llm.conversations as c)").fetchone()
    return _counts


# -- users: their own rows ----------------------------------------------------------------

def test_users_work_on_their_own_conversations_without_naming_themselves(alice, as_user):
    api = as_user(alice)
    session = api.rpc("create_chat_session", title="mine")
    assert session["user_id"] == str(alice.id)
    sid = str(session["id"])
    api.rpc("append_chat_message", session_id=sid, role="user", content="hello")
    assert [m["content"] for m in api.rpc("get_chat_messages", session_id=sid)] == ["hello"]
    assert [s["id"] for s in api.rpc("get_user_chat_sessions")] == [session["id"]]
    assert api.rpc("get_chat_history")[0]["messages"][0]["content"] == "hello"
    assert api.rpc("update_chat_session", session_id=sid, title="renamed") is True
    assert api.sql("select title from llm.conversations") == [{"title": "renamed"}]
    assert [r["content"] for r in api.sql("select content from llm.messages")] == ["hello"]


def test_users_stop_seeing_rows_of_expired_or_deleted_conversations(alice, as_user, superuser):
    api = as_user(alice)
    expiring, deleted = api.rpc("create_conversation"), api.rpc("create_conversation")
    for cid in (expiring, deleted):
        api.rpc("add_message", conversation_id=cid, role="user", content=cid)
    assert len(api.sql("select * from llm.messages")) == 2
    superuser.execute("update llm.conversations set expires_at = now() where id = %s", (expiring,))
    api.rpc("delete_conversation", conversation_id=deleted)
    assert api.sql("select * from llm.conversations") == []
    assert api.sql("select * from llm.messages") == []


def test_users_may_add_only_user_messages(alice, as_user, counts):
    api = as_user(alice)
    cid = api.rpc("create_conversation")
    before = counts()
    for role in ("assistant", "system", "tool"):
        with pytest.raises(errors.InsufficientPrivilege) as exc:
            api.rpc("add_message", conversation_id=cid, role=role, content="forged")
        assert role in str(exc.value)
    assert counts() == before


def test_users_may_not_edit_an_assistant_message(alice, as_user, service, alices, counts):
    reply = as_user(alice).rpc("get_messages", conversation_id=alices["cid"])[-1]
    before = counts()
    with pytest.raises(errors.InsufficientPrivilege):
        as_user(alice).rpc("edit_message", message_id=str(reply["id"]), content="forged")
    assert counts() == before
    # the service role regenerates it
    assert service.rpc("edit_message", message_id=str(reply["id"]),
                       content="regenerated")["role"] == "assistant"


def test_naming_another_user_is_refused(alice, bob, as_user):
    api = as_user(alice)
    for call in [
        lambda: api.rpc("create_chat_session", user_id=str(bob.id)),
        lambda: api.rpc("create_conversation", user_id=str(bob.id)),
        lambda: api.rpc("get_user_chat_sessions", user_id=str(bob.id)),
        lambda: api.rpc("get_user_conversations", user_id=str(bob.id)),
        lambda: api.rpc("get_chat_history", user_id="user-123"),
    ]:
        with pytest.raises(errors.InsufficientPrivilege):
            call()


# -- other users: one test per table and operation ----------------------------------------

def test_other_users_cannot_select_conversations(bob, as_user, alices):
    api = as_user(bob)
    assert api.sql("select * from llm.conversations") == []
    for cid in (alices["cid"], alices["uuid"]):
        with pytest.raises(errors.NoDataFound):
            api.rpc("get_conversation", conversation_id=cid)
        with pytest.raises(errors.NoDataFound):
            api.rpc("get_chat_session", session_id=cid)
        with pytest.raises(errors.NoDataFound):
            api.rpc("export_conversation", conversation_id=cid)
    assert api.rpc("get_user_conversations") == []


def test_other_users_cannot_select_messages(bob, as_user, alices):
    api = as_user(bob)
    assert api.sql("select * from llm.messages") == []
    with pytest.raises(errors.NoDataFound):
        api.rpc("get_messages", conversation_id=alices["cid"])
    with pytest.raises(errors.NoDataFound):
        api.rpc("get_chat_messages", session_id=alices["uuid"])
    with pytest.raises(errors.NoDataFound):
        api.rpc("get_message_alternatives", message_id=alices["message"])
    assert api.rpc("search_messages", query="private") == []


def test_other_users_cannot_select_summaries(bob, as_user, alices):
    api = as_user(bob)
    assert api.sql("select * from llm.conversation_summaries") == []
    with pytest.raises(errors.NoDataFound):
        api.rpc("get_conversation_summaries", conversation_id=alices["cid"])


def test_other_users_cannot_insert_into_conversations(bob, as_user, alice, counts):
    before = counts()
    with pytest.raises(errors.InsufficientPrivilege):
        as_user(bob).sql("insert into llm.conversations (user_id) values (%s)", (alice.id,))
    assert counts() == before


def test_other_users_cannot_insert_messages(bob, as_user, alices, alice, counts):
    api = as_user(bob)
    before = counts()
    with pytest.raises(errors.NoDataFound):
        api.rpc("add_message", conversation_id=alices["cid"], role="user", content="intrusion")
    with pytest.raises(errors.NoDataFound):
        api.rpc("append_chat_message", session_id=alices["uuid"], role="user", content="x")
    with pytest.raises(errors.NoDataFound):
        api.rpc("edit_message", message_id=alices["message"], content="x")
    with pytest.raises(errors.InsufficientPrivilege):
        api.sql("insert into llm.messages (conversation_id, user_id, seq, role, content)"
                " values (%s, %s, 99, 'user', 'x')", (alices["uuid"], alice.id))
    assert counts() == before


def test_other_users_cannot_insert_summaries(bob, as_user, alices, counts):
    before = counts()
    with pytest.raises(errors.InsufficientPrivilege):
        as_user(bob).sql("insert into llm.conversation_summaries (conversation_id, summary)"
                         " values (%s, 'x')", (alices["uuid"],))
    assert counts() == before


def test_other_users_cannot_update_conversations(bob, as_user, alices, counts):
    api = as_user(bob)
    before = counts()
    for call in [
        lambda: api.rpc("update_chat_session", session_id=alices["cid"], title="pwned"),
        lambda: api.rpc("extend_ttl", conversation_id=alices["cid"], hours=1),
        lambda: api.rpc("archive_conversation", conversation_id=alices["cid"]),
        lambda: api.rpc("switch_branch", message_id=alices["message"]),
    ]:
        with pytest.raises(errors.NoDataFound):
            call()
    with pytest.raises(errors.InsufficientPrivilege):
        api.sql("update llm.conversations set title = 'pwned'")
    assert counts() == before


def test_other_users_cannot_update_messages(bob, as_user, alice, alices, counts):
    before = counts()
    for who in (bob, alice):  # messages are immutable through the table, even for the owner
        with pytest.raises(errors.InsufficientPrivilege):
            as_user(who).sql("update llm.messages set content = 'changed'")
    assert counts() == before


def test_other_users_cannot_update_summaries(bob, as_user, alices, counts):
    before = counts()
    with pytest.raises(errors.InsufficientPrivilege):
        as_user(bob).sql("update llm.conversation_summaries set summary = 'changed'")
    assert counts() == before


def test_other_users_cannot_delete_conversations(bob, as_user, alices, counts):
    api = as_user(bob)
    before = counts()
    with pytest.raises(errors.NoDataFound):
        api.rpc("delete_conversation", conversation_id=alices["cid"])
    with pytest.raises(errors.InsufficientPrivilege):
        api.sql("delete from llm.conversations")
    assert counts() == before


def test_other_users_cannot_delete_messages(bob, as_user, alices, counts):
    api = as_user(bob)
    before = counts()
    with pytest.raises(errors.NoDataFound):
        api.rpc("clear_conversation", conversation_id=alices["cid"])
    with pytest.raises(errors.InsufficientPrivilege):
        api.sql("delete from llm.messages")
    assert counts() == before


def test_other_users_cannot_delete_summaries(bob, as_user, alices, counts):
    before = counts()
    with pytest.raises(errors.InsufficientPrivilege):
        as_user(bob).sql("delete from llm.conversation_summaries")
    assert counts() == before


def test_a_backend_naming_the_wrong_user_finds_nothing(service, alices, counts):
    before = counts()
    with pytest.raises(errors.NoDataFound):
        service.rpc("append_chat_message", session_id=alices["cid"], user_id="user-123",
                    role="user", content="x")
    with pytest.raises(errors.NoDataFound):
        service.rpc("get_chat_messages", session_id=alices["cid"], user_id="user-123")
    assert counts() == before


# -- admins and anon ----------------------------------------------------------------------

def test_admins_read_everything_but_do_not_write_for_others(admin, alice, alices, counts):
    assert admin.rpc("get_conversation", conversation_id=alices["cid"])["message_count"] == 2
    assert len(admin.rpc("get_messages", conversation_id=alices["cid"])) == 2
    assert len(admin.rpc("get_user_conversations", user_id=str(alice.id))) == 1
    assert len(admin.sql("select * from llm.messages where conversation_id = %s",
                         (alices["uuid"],))) == 2
    assert len(admin.sql("select * from llm.conversation_summaries where conversation_id = %s",
                         (alices["uuid"],))) == 1
    before = counts()
    with pytest.raises(errors.NoDataFound):
        admin.rpc("add_message", conversation_id=alices["cid"], role="user", content="x")
    with pytest.raises(errors.InsufficientPrivilege):
        admin.rpc("create_conversation", user_id=str(alice.id))
    assert counts() == before


@pytest.mark.parametrize("table", TABLES)
def test_anon_reads_no_table(anon, table):
    with pytest.raises(errors.InsufficientPrivilege):
        anon.sql(f"select * from llm.{table}")


@pytest.mark.parametrize("function, args", [
    ("create_chat_session", {"user_id": "user-123"}),
    ("get_chat_session", {"session_id": "x"}),
    ("append_chat_message", {"session_id": "x", "content": "x"}),
    ("create_conversation", {}),
    ("add_message", {"conversation_id": "x", "role": "user", "content": "x"}),
    ("get_messages", {"conversation_id": "x"}),
    ("export_conversation", {"conversation_id": "x"}),
    ("search_messages", {"query": "x"}),
    ("conversation_stats", {}),
    ("cleanup_expired_conversations", {}),
])
def test_anon_calls_no_function(anon, function, args):
    with pytest.raises(errors.InsufficientPrivilege):
        anon.rpc(function, **args)


# -- bad input ----------------------------------------------------------------------------

def _assert_refused(call, error, counts, *words):
    before = counts()
    with pytest.raises(error) as exc:
        call()
    for word in words:
        assert word in str(exc.value)
    assert counts() == before
    return exc.value


@pytest.fixture
def conv(service):
    return service.rpc("create_conversation", user_id="bad-input-user",
                       conversation_id=f"bad-{uuid.uuid4().hex[:8]}")


def test_unknown_role_is_refused(service, conv, counts):
    _assert_refused(lambda: service.rpc("add_message", conversation_id=conv, role="robot",
                                        content="x"), errors.InvalidParameterValue, counts, "role")
    _assert_refused(lambda: service.rpc("add_message", conversation_id=conv, role=None,
                                        content="x"), errors.NullValueNotAllowed, counts, "role")


def test_null_content_is_refused(service, conv, counts):
    _assert_refused(lambda: service.rpc("add_message", conversation_id=conv, role="user",
                                        content=None), errors.NullValueNotAllowed, counts, "content")
    _assert_refused(lambda: service.rpc("append_chat_message", session_id=conv, role="user"),
                    errors.NullValueNotAllowed, counts, "content")


@pytest.mark.parametrize("metadata", [[1, 2], "text", 5, True])
def test_metadata_that_is_not_an_object_is_refused(service, conv, counts, metadata):
    _assert_refused(lambda: service.rpc("add_message", conversation_id=conv, role="user",
                                        content="x", metadata=metadata),
                    errors.InvalidParameterValue, counts, "metadata")
    _assert_refused(lambda: service.rpc("create_chat_session", user_id="u", metadata=metadata),
                    errors.InvalidParameterValue, counts, "metadata")
    _assert_refused(lambda: service.rpc("update_chat_session", session_id=conv,
                                        metadata=metadata),
                    errors.InvalidParameterValue, counts, "metadata")


def test_content_above_the_size_limit_is_refused(service, conv, counts):
    big = "x" * (1048576 + 1)
    exc = _assert_refused(lambda: service.rpc("add_message", conversation_id=conv, role="user",
                                              content=big),
                          errors.StringDataRightTruncation, counts, "max_message_bytes")
    assert exc.sqlstate == "22001"
    assert service.rpc("add_message", conversation_id=conv, role="user",
                       content="é" * 524288)["seq"] == 1  # exactly the limit, in bytes


@pytest.mark.parametrize("session_id", [str(uuid.uuid4()), "test_123", "no-such-conversation"])
def test_unknown_session_ids_raise_not_found(service, counts, session_id):
    _assert_refused(lambda: service.rpc("append_chat_message", session_id=session_id,
                                        user_id="test-user", role="user", content="lost?"),
                    errors.NoDataFound, counts, "session_id", session_id)
    _assert_refused(lambda: service.rpc("update_chat_session", session_id=session_id, title="t"),
                    errors.NoDataFound, counts)
    with pytest.raises(errors.NoDataFound):
        service.rpc("get_chat_messages", session_id=session_id)


def test_a_string_session_id_resolves_or_raises_never_silently(service):
    sid = f"test_{uuid.uuid4().hex[:6]}"
    service.rpc("create_conversation", user_id="test-user", conversation_id=sid, ttl_hours=0)
    saved = service.rpc("append_chat_message", session_id=sid, user_id="test-user", role="user",
                        content="saved")
    assert saved["user_id"] == "test-user"
    assert [m["content"] for m in service.rpc("get_chat_messages", session_id=sid,
                                              user_id="test-user")] == ["saved"]


@pytest.mark.parametrize("blank", [None, "", "  "])
def test_null_or_blank_ids_are_refused(service, counts, blank):
    _assert_refused(lambda: service.rpc("get_conversation", conversation_id=blank),
                    errors.NullValueNotAllowed, counts, "conversation_id")
    _assert_refused(lambda: service.rpc("append_chat_message", session_id=blank, role="user",
                                        content="x"), errors.NullValueNotAllowed, counts)


@pytest.mark.parametrize("function, args, field", [
    ("get_user_chat_sessions", {"user_id": "u", "limit": -1}, "limit"),
    ("get_user_chat_sessions", {"user_id": "u", "offset": -1}, "offset"),
    ("get_chat_messages", {"limit": -5}, "limit"),
    ("get_chat_messages", {"offset": -5}, "offset"),
    ("get_user_conversations", {"user_id": "u", "limit": -1}, "limit"),
    ("get_messages", {"limit": -1}, "limit"),
    ("get_chat_history", {"user_id": "u", "limit_sessions": -1}, "limit_sessions"),
    ("search_messages", {"user_id": "u", "query": "x", "limit": -1}, "limit"),
])
def test_negative_limits_and_offsets_are_refused(service, conv, function, args, field):
    if function == "get_chat_messages":
        args = {"session_id": conv, **args}
    elif function == "get_messages":
        args = {"conversation_id": conv, **args}
    with pytest.raises(errors.InvalidParameterValue) as exc:
        service.rpc(function, **args)
    assert field in str(exc.value)
    with pytest.raises(errors.NullValueNotAllowed):
        service.rpc(function, **{**args, field: None})


def test_backends_must_name_the_user_of_a_chat_session(service, counts):
    _assert_refused(lambda: service.rpc("create_chat_session", title="whose?"),
                    errors.InvalidParameterValue, counts, "user_id")
    _assert_refused(lambda: service.rpc("create_chat_session", user_id="  "),
                    errors.InvalidParameterValue, counts, "user_id")


def test_bad_conversation_ids_and_ttls_are_refused(service, counts):
    taken = service.rpc("create_conversation", user_id="u", conversation_id="taken-id")
    _assert_refused(lambda: service.rpc("create_conversation", user_id="u", conversation_id=taken),
                    errors.UniqueViolation, counts, "taken-id")
    _assert_refused(lambda: service.rpc("create_conversation", user_id="u", conversation_id=" "),
                    errors.InvalidParameterValue, counts, "conversation_id")
    _assert_refused(lambda: service.rpc("create_conversation", user_id="u",
                                        conversation_id="x" * 256),
                    errors.InvalidParameterValue, counts, "conversation_id")
    _assert_refused(lambda: service.rpc("create_conversation", user_id="u", ttl_hours=-1),
                    errors.InvalidParameterValue, counts, "ttl_hours")
    _assert_refused(lambda: service.rpc("extend_ttl", conversation_id=taken, hours=0),
                    errors.InvalidParameterValue, counts, "hours")
    _assert_refused(lambda: service.rpc("extend_ttl", conversation_id=taken, hours=None),
                    errors.NullValueNotAllowed, counts, "hours")


@pytest.mark.parametrize("args, field", [
    ({"tokens": -1}, "tokens"),
    ({"metadata": {"tokens": "many"}}, "metadata.tokens"),
    ({"metadata": {"tokens": 1.5}}, "metadata.tokens"),
    ({"metadata": {"processingDetails": {"prompt_tokens": -3}}},
     "metadata.processingDetails.prompt_tokens"),
])
def test_bad_token_counts_are_refused(service, conv, counts, args, field):
    _assert_refused(lambda: service.rpc("add_message", conversation_id=conv, role="assistant",
                                        content="x", **args),
                    errors.InvalidParameterValue, counts, field)


def test_bad_cursors_are_refused(service, conv):
    m = str(service.rpc("add_message", conversation_id=conv, role="user", content="x")["id"])
    with pytest.raises(errors.InvalidParameterValue):
        service.rpc("get_messages", conversation_id=conv, before=m, after=m)
    other = service.rpc("create_conversation", user_id="bad-input-user")
    with pytest.raises(errors.NoDataFound) as exc:
        service.rpc("get_messages", conversation_id=other, before=m)
    assert "before" in str(exc.value)


def test_unknown_or_null_message_ids_are_refused(service, counts):
    _assert_refused(lambda: service.rpc("edit_message", message_id=str(uuid.uuid4()),
                                        content="x"), errors.NoDataFound, counts, "message_id")
    _assert_refused(lambda: service.rpc("switch_branch", message_id=None),
                    errors.NullValueNotAllowed, counts, "message_id")


@pytest.mark.parametrize("doc, error, words", [
    ([1], errors.InvalidParameterValue, "conversation must be a JSON object"),
    ({"messages": {}}, errors.InvalidParameterValue, "conversation.messages"),
    ({"messages": [{"role": "user", "content": "a"}, "b"]}, errors.InvalidParameterValue,
     "conversation.messages[1]"),
    ({"messages": [{"role": "bot", "content": "a"}]}, errors.InvalidParameterValue, "role"),
    ({"messages": [{"role": "user", "content": None}]}, errors.NullValueNotAllowed, "content"),
    ({"messages": [{"role": "user", "content": "a", "parent_id": str(uuid.uuid4())}]},
     errors.InvalidParameterValue, "parent_id"),
    ({"messages": [{"role": "user", "content": "a"},
                   {"role": "user", "content": "b", "parent_id": None}]},
     errors.InvalidParameterValue, "one branch"),
    ({"messages": [{"role": "user", "content": "a", "tokens": -2}]},
     errors.InvalidParameterValue, "conversation.messages[0].tokens"),
])
def test_bad_import_documents_are_refused(service, counts, doc, error, words):
    _assert_refused(lambda: service.rpc("import_conversation", conversation=doc,
                                        user_id="importer"), error, counts, words)


def test_blank_search_is_refused(service):
    with pytest.raises(errors.InvalidParameterValue):
        service.rpc("search_messages", query=" ", user_id="u")
