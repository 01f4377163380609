"""A cache hit logged as a zero-cost request: its savings reach the request log, the usage
rollups and the usage report, priced from the model price registry."""

import uuid
from decimal import Decimal

import pytest
from psycopg import errors

PROVIDER, MODEL = "openai", "gpt-4o-mini"


@pytest.fixture
def hit(service):
    prompt = f"What is partitioning? {uuid.uuid4().hex[:8]}"
    service.rpc("cache_llm_response", prompt=prompt, provider=PROVIDER, model=MODEL,
                response="Splitting a table by a key.",
                metadata={"prompt_tokens": 1000, "completion_tokens": 200})
    return service.rpc("get_cached_llm_response", prompt=prompt, provider=PROVIDER, model=MODEL)


def test_a_logged_hit_costs_nothing_and_records_what_it_saved(service, superuser, hit):
    user = f"user-{uuid.uuid4().hex[:8]}"
    log_id = service.rpc("log_cache_hit", entry_id=str(hit["id"]), user_id=user,
                         request_id=f"hit-{hit['id']}")
    expected = service.rpc("estimate_cost", provider=PROVIDER, model=MODEL,
                           prompt_tokens=1000, completion_tokens=200)
    assert expected > 0
    row = superuser.execute(
        "select cache_hit, cost_usd, saved_cost_usd, tokens_total, service,"
        " metadata ->> 'cache_entry_id' from llm.request_logs where id = %s", (log_id,)
    ).fetchone()
    assert row == (True, 0, expected, 1200, "response_cache", str(hit["id"]))

    # real time, before any fold: the usage report already shows the saving, not usage
    usage = service.rpc("get_user_token_usage", user_id=user, days=1)
    assert (usage["total_tokens"], usage["cache_hits"], usage["saved_tokens"],
            Decimal(str(usage["saved_cost_usd"]))) == (0, 1, 1200, expected)

    # and the folded rollups keep it
    service.rpc("fold_usage")
    rollup = superuser.execute(
        "select requests, cache_hits, total_tokens, cost_usd, saved_tokens, saved_cost_usd"
        " from llm.usage_rollups where user_id = llm.user_uuid(%s) and period_type = 'daily'",
        (user,),
    ).fetchall()
    assert rollup == [(1, 1, 0, 0, 1200, expected)]


def test_logging_the_same_hit_twice_with_one_request_id_counts_once(service, superuser, hit):
    user = f"user-{uuid.uuid4().hex[:8]}"
    first = service.rpc("log_cache_hit", entry_id=str(hit["id"]), user_id=user, request_id="once")
    again = service.rpc("log_cache_hit", entry_id=str(hit["id"]), user_id=user, request_id="once")
    assert first == again
    assert service.rpc("get_user_token_usage", user_id=user, days=1)["cache_hits"] == 1


def test_a_hit_of_a_user_scoped_entry_is_logged_for_its_owner(service, make_user, superuser):
    owner = make_user()
    prompt = f"private {uuid.uuid4().hex[:8]}"
    service.rpc("cache_llm_response", prompt=prompt, provider=PROVIDER, model=MODEL,
                response="r", user_id=str(owner.id), metadata={"prompt_tokens": 10})
    entry = service.rpc("get_cached_llm_response", prompt=prompt, provider=PROVIDER,
                        model=MODEL, user_id=str(owner.id))
    log_id = service.rpc("log_cache_hit", entry_id=str(entry["id"]))
    assert superuser.execute(
        "select user_id from llm.request_logs where id = %s", (log_id,)).fetchone() == (owner.id,)


def _logged(superuser) -> int:
    return superuser.execute("select count(*) from llm.request_logs").fetchone()[0]


def test_unknown_or_null_entries_are_refused_and_nothing_is_logged(service, superuser):
    before = _logged(superuser)
    with pytest.raises(errors.NoDataFound):
        service.rpc("log_cache_hit", entry_id=str(uuid.uuid4()), user_id="u")
    with pytest.raises(errors.NullValueNotAllowed):
        service.rpc("log_cache_hit", entry_id=None, user_id="u")
    assert _logged(superuser) == before


def test_bad_metadata_is_refused(service, superuser, hit):
    before = _logged(superuser)
    with pytest.raises(errors.InvalidParameterValue):
        service.rpc("log_cache_hit", entry_id=str(hit["id"]), user_id="u", metadata=[1])
    assert _logged(superuser) == before


def test_only_backends_log_hits(as_user, make_user, anon, hit):
    for api in (as_user(make_user()), anon):
        with pytest.raises(errors.InsufficientPrivilege):
            api.rpc("log_cache_hit", entry_id=str(hit["id"]))


def test_log_cache_hit_accepts_the_client_id_of_a_conversation(service, superuser, hit):
    user = f"user-{uuid.uuid4().hex[:8]}"
    conversation = f"conv-{uuid.uuid4().hex[:8]}"
    service.rpc("create_conversation", user_id=user, conversation_id=conversation)
    log_id = service.rpc("log_cache_hit", entry_id=str(hit["id"]), user_id=user,
                         conversation_id=conversation)
    assert superuser.execute(
        "select c.external_id from llm.request_logs as r"
        " join llm.conversations as c on c.id = r.conversation_id where r.id = %s", (log_id,)
    ).fetchone()[0] == conversation
