"""Conversations hardening (issue 12): import reveals nothing and names bad fields, client ids
of hidden conversations, import as a copy, search ranking with negated terms, numeric bounds."""

import uuid

import pytest
from psycopg import errors


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _refused(call, error, *words):
    with pytest.raises(error) as exc:
        call()
    for word in words:
        assert word in str(exc.value), str(exc.value)
    return exc.value


@pytest.fixture
def counts(superuser):
    def _counts():
        return superuser.execute(
            "select (select count(*) from llm.conversations), (select count(*) from llm.messages),"
            " (select count(*) from llm.conversation_summaries)").fetchone()
    return _counts


# -- item 8: import reveals nothing about other users' rows -------------------------------

def test_import_with_another_users_ids_reveals_nothing(make_user, as_user):
    alice, bob = make_user(), make_user()
    bobs = as_user(bob)
    cid = bobs.rpc("create_conversation", conversation_id=new_id("bob"), ttl_hours=0)
    taken_message = str(bobs.rpc("add_message", conversation_id=cid, role="user", content="b")["id"])
    taken_conversation = str(bobs.rpc("get_conversation", conversation_id=cid)["id"])

    def imported(conversation_id: str, message_id: str) -> dict:
        api = as_user(alice)
        conv = api.rpc("import_conversation", conversation={
            "id": conversation_id, "conversation_id": conversation_id,
            "messages": [{"id": message_id, "role": "user", "content": "mine"}]})
        msgs = api.rpc("get_messages", conversation_id=str(conv["id"]))
        return {"count": conv["message_count"], "contents": [m["content"] for m in msgs],
                "kept_conversation_id": str(conv["id"]) == conversation_id,
                "kept_message_id": str(msgs[0]["id"]) == message_id}

    # ids held by Bob and ids that exist nowhere give Alice the same observable result
    assert imported(taken_conversation, taken_message) == imported(
        str(uuid.uuid4()), str(uuid.uuid4()))
    assert bobs.rpc("get_messages", conversation_id=cid)[0]["content"] == "b"


# -- item 9: import values name their field -----------------------------------------------

def _msg(**kw):
    return {"role": "user", "content": "a", **kw}


@pytest.mark.parametrize("doc, error, field", [
    ({"id": "not-a-uuid", "messages": []}, errors.InvalidParameterValue, "conversation.id"),
    ({"expires_at": "next tuesday", "messages": []}, errors.InvalidParameterValue,
     "conversation.expires_at"),
    ({"created_at": "99999-01-01", "messages": []}, errors.InvalidParameterValue,
     "conversation.created_at"),
    ({"archived_at": 5, "messages": []}, errors.InvalidParameterValue, "conversation.archived_at"),
    ({"messages": [_msg(id="x")]}, errors.InvalidParameterValue, "conversation.messages[0].id"),
    ({"messages": [_msg(), _msg(parent_id="12")]}, errors.InvalidParameterValue,
     "conversation.messages[1].parent_id"),
    ({"messages": [_msg(created_at="2025-13-45")]}, errors.InvalidParameterValue,
     "conversation.messages[0].created_at"),
    ({"messages": [_msg(timestamp="infinity")]}, errors.InvalidParameterValue,
     "conversation.messages[0].timestamp"),
    ({"messages": [_msg(active="maybe")]}, errors.InvalidParameterValue,
     "conversation.messages[0].active"),
    ({"messages": [{"role": None, "content": "a"}]}, errors.NullValueNotAllowed,
     "conversation.messages[0].role"),
    ({"messages": [{"role": "user", "content": {"a": 1}}]}, errors.InvalidParameterValue,
     "conversation.messages[0].content"),
    ({"messages": [], "summaries": [{"key_points": []}]}, errors.NullValueNotAllowed,
     "conversation.summaries[0].summary"),
    ({"messages": [], "summaries": [{"summary": "s", "key_points": 5}]},
     errors.InvalidParameterValue, "conversation.summaries[0].key_points"),
    ({"messages": [], "summaries": [{"summary": "s", "created_at": "soon"}]},
     errors.InvalidParameterValue, "conversation.summaries[0].created_at"),
    ({"messages": [], "summaries": ["s"]}, errors.InvalidParameterValue, "conversation.summaries[0]"),
    ({"messages": [], "summaries": {"summary": "s"}}, errors.InvalidParameterValue,
     "conversation.summaries"),
])
def test_import_values_of_the_wrong_type_name_the_field(service, counts, doc, error, field):
    before = counts()
    _refused(lambda: service.rpc("import_conversation", conversation=doc, user_id="importer"),
             error, field)
    assert counts() == before


def test_import_refuses_an_active_branch_that_does_not_start_at_a_first_message(service, counts):
    root, child = str(uuid.uuid4()), str(uuid.uuid4())
    before = counts()
    _refused(lambda: service.rpc("import_conversation", user_id="importer", conversation={
        "messages": [_msg(id=root, parent_id=None, active=False),
                     _msg(id=child, parent_id=root, active=True)]}),
             errors.InvalidParameterValue, "one branch")
    assert counts() == before


# -- item 14: hidden conversations and their client ids -----------------------------------

def test_an_expired_conversations_client_id_can_be_created_again(service, superuser):
    cid = new_id("ttl")
    service.rpc("create_conversation", user_id="u1", conversation_id=cid, ttl_hours=1)
    service.rpc("add_message", conversation_id=cid, role="user", content="old")
    superuser.execute("update llm.conversations set expires_at = now() - interval '1 second'"
                      " where external_id = %s", (cid,))
    assert service.rpc("create_conversation", user_id="u2", conversation_id=cid) == cid
    assert service.rpc("get_conversation", conversation_id=cid)["user_id"] == "u2"
    assert service.rpc("get_messages", conversation_id=cid) == []


def test_an_expired_conversations_uuid_can_be_created_again(make_user, as_user, superuser):
    alice = make_user()
    api = as_user(alice)
    conv_id = str(uuid.uuid4())
    api.rpc("create_conversation", conversation_id=conv_id, ttl_hours=1)
    superuser.execute("update llm.conversations set expires_at = now() where id = %s", (conv_id,))
    assert api.rpc("create_conversation", conversation_id=conv_id) == conv_id
    assert api.rpc("get_conversation", conversation_id=conv_id)["message_count"] == 0


def test_a_soft_deleted_conversations_client_id_is_refused_naming_restore(make_user, as_user):
    alice = make_user()
    api = as_user(alice)
    cid = api.rpc("create_conversation", conversation_id=new_id("del"))
    api.rpc("delete_conversation", conversation_id=cid)
    exc = _refused(lambda: api.rpc("create_conversation", conversation_id=cid),
                   errors.UniqueViolation, "deleted conversation")
    assert "restore_conversation" in exc.diag.message_hint
    assert api.rpc("restore_conversation", conversation_id=cid)["conversation_id"] == cid


def test_another_users_deleted_conversation_is_not_revealed_as_deleted(make_user, as_user):
    alice, bob = make_user(), make_user()
    cid = as_user(bob).rpc("create_conversation", conversation_id=new_id("bob"))
    as_user(bob).rpc("delete_conversation", conversation_id=cid)
    exc = _refused(lambda: as_user(alice).rpc("create_conversation", conversation_id=cid),
                   errors.UniqueViolation, "already exists")
    assert "deleted" not in str(exc) and exc.diag.message_hint is None


def test_import_as_new_copies_an_existing_conversation(service):
    cid = service.rpc("create_conversation", user_id="copier", conversation_id=new_id("orig"))
    first = service.rpc("add_message", conversation_id=cid, role="user", content="q")
    service.rpc("add_message", conversation_id=cid, role="assistant", content="a1", tokens=5)
    service.rpc("edit_message", message_id=str(first["id"]), content="q2")
    service.rpc("add_conversation_summary", conversation_id=cid, summary="s")
    doc = service.rpc("export_conversation", conversation_id=cid)
    with pytest.raises(errors.UniqueViolation):
        service.rpc("import_conversation", conversation=doc)
    copy = service.rpc("import_conversation", conversation=doc, as_new=True)
    assert str(copy["id"]) != doc["id"] and copy["conversation_id"] == str(copy["id"])
    assert (copy["message_count"], copy["total_tokens"], copy["user_id"]) == (3, 5, "copier")
    again = service.rpc("export_conversation", conversation_id=copy["conversation_id"])
    ids = {m["id"] for m in doc["messages"]}
    assert not ids & {m["id"] for m in again["messages"]}
    strip = ("id", "parent_id")
    assert [{k: v for k, v in m.items() if k not in strip} for m in again["messages"]] == [
        {k: v for k, v in m.items() if k not in strip} for m in doc["messages"]]
    # the branches are the same shape: each parent is the copy of the original's parent
    position = {m["id"]: i for i, m in enumerate(doc["messages"])}
    copied = [m["id"] for m in again["messages"]]
    assert [m["parent_id"] for m in again["messages"]] == [
        None if m["parent_id"] is None else copied[position[m["parent_id"]]]
        for m in doc["messages"]]
    assert [s["summary"] for s in again["summaries"]] == ["s"]
    assert service.rpc("export_conversation", conversation_id=cid) == doc


def test_users_import_as_new_a_copy_of_their_own_conversation(make_user, as_user):
    alice = make_user()
    api = as_user(alice)
    cid = api.rpc("create_conversation", conversation_id=new_id("mine"))
    api.rpc("add_message", conversation_id=cid, role="user", content="hello")
    doc = api.rpc("export_conversation", conversation_id=cid)
    with pytest.raises(errors.UniqueViolation):
        api.rpc("import_conversation", conversation=doc)
    copy = api.rpc("import_conversation", conversation=doc, as_new=True)
    assert copy["message_count"] == 1 and copy["conversation_id"] != cid
    with pytest.raises(errors.NullValueNotAllowed):
        api.rpc("import_conversation", conversation=doc, as_new=None)


# -- item 16: negated search terms --------------------------------------------------------

def test_search_with_a_negated_term_ranks_on_the_positive_terms(service):
    user = new_id("searcher")
    cid = service.rpc("create_conversation", user_id=user, conversation_id=new_id("s"))
    service.rpc("add_message", conversation_id=cid, role="user",
                content="A long note about logistics, trucks, ports, weather, staff and, once, revenue.")
    service.rpc("add_message", conversation_id=cid, role="user",
                content="Revenue, revenue: quarterly revenue grew.")
    service.rpc("add_message", conversation_id=cid, role="user", content="Revenue forecast for Q4.")
    hits = service.rpc("search_messages", query="revenue -forecast", user_id=user)
    assert [h["content"][:7] for h in hits] == ["Revenue", "A long "]
    assert hits[0]["rank"] > hits[1]["rank"] > 1e-6
    only_negated = service.rpc("search_messages", query="-forecast", user_id=user)
    assert len(only_negated) == 2 and {h["rank"] for h in only_negated} == {0}


# -- item 6: numeric inputs of the conversation API ---------------------------------------

@pytest.mark.parametrize("call, field", [
    (lambda s, cid: s.rpc("create_conversation", user_id="n", ttl_hours=2_147_483_647), "ttl_hours"),
    (lambda s, cid: s.rpc("extend_ttl", conversation_id=cid, hours=2_000_000_000), "hours"),
    (lambda s, cid: [s.rpc("extend_ttl", conversation_id=cid, hours=876_000) for _ in range(2)],
     "hours"),
    (lambda s, cid: s.rpc("add_message", conversation_id=cid, role="user", content="x",
                          prompt_tokens=2_000_000_000, completion_tokens=2_000_000_000), "tokens"),
])
def test_conversation_numeric_inputs_are_bounded_with_22023(service, call, field):
    cid = service.rpc("create_conversation", user_id="n", conversation_id=new_id("n"), ttl_hours=1)
    _refused(lambda: call(service, cid), errors.InvalidParameterValue, field)
