"""What supabase-js receives when an API function has nothing to return: through PostgREST a
NULL composite becomes an object whose every field is null (PostgREST #3694), which callers
take for a result. So every function returning one row either answers `null` (a jsonb result),
or raises the error its missing input deserves; set-returning functions answer `[]`."""

import uuid

import psycopg
import pytest

from harness.client import Api

MISSING = str(uuid.uuid4())

# every API function returning a single composite row, with a call that finds nothing
SINGLE_ROW_CALLS = {
    "add_conversation_summary": dict(conversation_id=MISSING, summary="s"),
    "add_message": dict(conversation_id=MISSING, role="user", content="c"),
    "append_chat_message": dict(session_id=MISSING, user_id="u", role="user", content="c"),
    "archive_conversation": dict(conversation_id=MISSING),
    "create_chat_session": dict(user_id=None),
    "edit_message": dict(message_id=MISSING, content="c"),
    "extend_ttl": dict(conversation_id=MISSING, hours=1),
    "get_chat_session": dict(session_id=MISSING, user_id="u"),
    "get_conversation": dict(conversation_id=MISSING),
    "record_completion": dict(conversation_id=MISSING, content="c", provider="openai",
                              model="gpt-4o", prompt_tokens=1, completion_tokens=1),
    "restore_conversation": dict(conversation_id=MISSING),
    "switch_branch": dict(message_id=MISSING),
    "usage_period_bounds": dict(p_period_type=None, p_period_start=None),
}
# single rows that always exist: a status, or counts over an empty range
ALWAYS_A_ROW = {
    "claim_llm_cache_key": (dict(prompt=f"nothing {MISSING}", provider="openai", model="gpt-4"),
                            lambda r: r["status"] == "claimed"),
    "recompute_costs": (dict(since="2001-01-01", until="2001-01-02"),
                        lambda r: r == {"repriced": 0, "cost_change_usd": 0}),
    "import_conversation": (dict(conversation={}),  # an empty export: an empty conversation
                            lambda r: r["id"] and r["message_count"] == 0),
}


def single_row_functions(conn: psycopg.Connection) -> set[str]:
    return {r[0] for r in conn.execute("""
        select p.proname
        from pg_proc as p
        join pg_type as t on t.oid = p.prorettype
        where p.pronamespace = 'llm'::regnamespace and not p.proretset
          and (t.typtype = 'c' or p.prorettype = 'record'::regtype)
          and (has_function_privilege('authenticated', p.oid, 'execute')
               or has_function_privilege('service_role', p.oid, 'execute'))
    """).fetchall()}


def test_every_single_row_function_is_covered(superuser):
    assert single_row_functions(superuser) == set(SINGLE_ROW_CALLS) | set(ALWAYS_A_ROW)


@pytest.mark.parametrize("function", sorted(SINGLE_ROW_CALLS))
def test_nothing_found_is_an_error_not_an_object_of_nulls(service, function):
    with pytest.raises(psycopg.Error) as exc:
        body = service.rpc_json(function, **SINGLE_ROW_CALLS[function])
        pytest.fail(f"{function} answered {body!r}")
    assert exc.value.sqlstate in {"P0002", "22004", "22023"}, exc.value


@pytest.mark.parametrize("function", sorted(ALWAYS_A_ROW))
def test_functions_that_always_answer_a_row(service, function):
    args, check = ALWAYS_A_ROW[function]
    assert check(service.rpc_json(function, **args))


def test_a_cache_miss_is_null(service):
    assert service.rpc_json("get_cached_llm_response", prompt=f"nothing {MISSING}",
                            provider="openai", model="gpt-4") is None


@pytest.mark.parametrize("function,args", [
    ("get_user_chat_sessions", dict(user_id=MISSING)),
    ("get_user_conversations", dict(user_id=MISSING)),
    ("search_messages", dict(user_id=MISSING, query="nothing")),
    ("get_llm_cache_stats", dict()),
    ("unpriced_models", dict(since="2001-01-01", until="2001-01-02")),
    ("cost_by_user", dict(since="2001-01-01", until="2001-01-02")),
])
def test_empty_sets_are_empty_arrays(fresh_db, function, args):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        assert Api(conn, "service_role").rpc_json(function, **args) == []
