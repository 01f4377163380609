"""Response cache: seed API shapes, cache keys, scopes, TTL, bad input, access, savings,
eviction, invalidation and jobs. Semantic search and concurrency have their own modules."""

import uuid
from datetime import datetime

import psycopg
import pytest
from psycopg import errors

from harness.client import Api

SEED_METADATA = {"tokens": 250, "finish_reason": "stop", "completion_tokens": 200, "prompt_tokens": 50}
SEED_PARAMETERS = {"temperature": 0.7, "max_tokens": 500}


def unique(label: str = "p") -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}"


def cache(service: Api, prompt: str, response: str = "an answer", **kw) -> bool:
    kw.setdefault("provider", "openai")
    kw.setdefault("model", "gpt-4")
    return service.rpc("cache_llm_response", prompt=prompt, response=response, **kw)


def get(api: Api, prompt: str, **kw):
    kw.setdefault("provider", "openai")
    kw.setdefault("model", "gpt-4")
    return api.rpc("get_cached_llm_response", prompt=prompt, **kw)


def missed(result) -> bool:
    """A cache miss as the Data API returns it: JSON ``null``."""
    return result is None


def entries(superuser, prompt: str) -> int:
    return superuser.execute(
        "select count(*) from llm.response_cache where prompt = %s", (prompt,)).fetchone()[0]


# -- seed API -----------------------------------------------------------------------------

def test_seed_calls_cache_and_return_a_hit(service):
    prompt = unique("Explain BigQuery partitioning")
    assert service.rpc(
        "cache_llm_response", prompt=prompt, provider="openai", model="gpt-4",
        response="BigQuery partitioning is a technique...", metadata=SEED_METADATA,
        parameters=SEED_PARAMETERS, ttl_hours=168,
    ) is True
    hit = service.rpc("get_cached_llm_response", prompt=prompt, provider="openai", model="gpt-4",
                      parameters=SEED_PARAMETERS)
    assert hit["response"] == "BigQuery partitioning is a technique..."
    assert hit["hit_count"] == 1
    assert hit["metadata"] == SEED_METADATA
    assert (datetime.fromisoformat(hit["expires_at"])
            - datetime.fromisoformat(hit["cached_at"])).total_seconds() == 168 * 3600
    # what a caller needs to log the hit as a zero-cost request: entry id, tokens, cost saved
    assert str(uuid.UUID(hit["id"])) == hit["id"]
    assert (hit["prompt_tokens"], hit["completion_tokens"], hit["total_tokens"]) == (50, 200, 250)
    assert service.rpc("get_cached_llm_response", prompt=prompt, provider="openai", model="gpt-4",
                       parameters=SEED_PARAMETERS)["hit_count"] == 2


def test_seed_calls_without_parameters_or_ttl(service):
    prompt = unique()
    assert service.rpc("cache_llm_response", prompt=prompt, provider="openai", model="gpt-4",
                       response="r", metadata={"tokens": 3}) is True
    hit = service.rpc("get_cached_llm_response", prompt=prompt, provider="openai", model="gpt-4")
    assert hit["response"] == "r" and hit["total_tokens"] == 3
    assert (datetime.fromisoformat(hit["expires_at"])
            - datetime.fromisoformat(hit["cached_at"])).total_seconds() == 168 * 3600


def test_a_miss_is_null(service):
    assert missed(get(service, unique()))


def test_a_miss_reaches_supabase_js_as_null(service):
    """What `supabase.schema('llm').rpc('get_cached_llm_response', ...)` puts in `data` on a
    miss: null, so seed 000's `if cached:` takes the miss branch."""
    assert service.rpc_json("get_cached_llm_response", prompt=unique(), provider="openai",
                            model="gpt-4") is None


def test_a_hit_reaches_supabase_js_as_an_object(service):
    prompt = unique()
    cache(service, prompt, "answer")
    data = service.rpc_json("get_cached_llm_response", prompt=prompt, provider="openai",
                            model="gpt-4")
    assert data["response"] == "answer" and data["hit_count"] == 1
    assert set(data) >= {"id", "response", "hit_count", "cached_at", "expires_at", "metadata",
                         "prompt_tokens", "completion_tokens", "total_tokens", "cost_saved_usd"}


def test_storing_the_same_key_again_replaces_the_entry(service, superuser):
    prompt = unique()
    cache(service, prompt, "first")
    get(service, prompt)
    cache(service, prompt, "second")
    assert entries(superuser, prompt) == 1
    hit = get(service, prompt)
    assert hit["response"] == "second" and hit["hit_count"] == 1


def test_explicit_token_and_cost_arguments_win_over_metadata(service):
    prompt = unique()
    cache(service, prompt, metadata={"prompt_tokens": 1, "completion_tokens": 2, "cost_usd": 9},
          prompt_tokens=10, completion_tokens=20, cost_usd="0.0042")
    hit = get(service, prompt)
    assert (hit["prompt_tokens"], hit["completion_tokens"], hit["total_tokens"]) == (10, 20, 30)
    assert str(hit["cost_saved_usd"]) == "0.0042"


# -- cache keys ---------------------------------------------------------------------------

def test_reordered_and_renormalised_parameters_hit(service):
    prompt = unique()
    cache(service, prompt, parameters={"temperature": 0.7, "max_tokens": 500, "top_p": 1})
    for same in ({"max_tokens": 500, "top_p": 1, "temperature": 0.7},
                 {"top_p": 1.0, "max_tokens": 500.00, "temperature": 0.70},
                 {"top_p": 1, "max_tokens": 5e2, "temperature": 0.7, "user": "u-1", "stream": True}):
        assert get(service, prompt, parameters=same) is not None, same


@pytest.mark.parametrize("changed", [
    {"temperature": 0.8, "max_tokens": 500},
    {"temperature": 0.7, "max_tokens": 501},
    {"temperature": 0.7},
    {"temperature": 0.7, "max_tokens": 500, "seed": 1},
    {"temperature": 0.7, "max_tokens": "500"},
])
def test_changed_parameters_miss(service, changed):
    prompt = unique()
    cache(service, prompt, parameters={"temperature": 0.7, "max_tokens": 500})
    assert missed(get(service, prompt, parameters=changed))


def test_provider_model_and_prompt_are_part_of_the_key(service):
    prompt = unique()
    cache(service, prompt)
    assert missed(get(service, prompt, provider="anthropic"))
    assert missed(get(service, prompt, model="gpt-4o"))
    assert missed(get(service, prompt + " "))
    assert get(service, prompt, provider=" OpenAI ") is not None


def test_chat_message_arrays_are_keyed_by_their_canonical_json(service):
    marker = unique()
    messages = '[{"role": "user", "content": "%s"}, {"role": "assistant", "content": "ok", "n": 1.0}]' % marker
    same = '[{"content": "%s", "role": "user"},{"n": 1, "content": "ok","role":"assistant"}]' % marker
    reordered = '[{"role": "assistant", "content": "ok", "n": 1}, {"role": "user", "content": "%s"}]' % marker
    cache(service, messages)
    assert get(service, same) is not None
    assert missed(get(service, reordered))


def test_ignored_parameters_are_a_setting(fresh_db):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        service = Api(conn, "service_role")
        service.rpc("set_setting", key="cache_ignored_parameters", value=["user", "trace_id"])
        prompt = unique()
        cache(service, prompt, parameters={"temperature": 0, "trace_id": "a"})
        assert get(service, prompt, parameters={"temperature": 0, "trace_id": "b"}) is not None
        assert missed(get(service, prompt, parameters={"temperature": 0, "stream": True}))


def test_cache_key_is_exposed_and_stable(service):
    key = service.rpc("llm_cache_key", prompt="hi", provider="openai", model="m",
                      parameters={"b": 1, "a": 2.0})
    assert len(key) == 64
    assert key == service.rpc("llm_cache_key", prompt="hi", provider="OPENAI", model="m",
                              parameters={"a": 2, "b": 1.00, "user": "x"})
    assert key != service.rpc("llm_cache_key", prompt="hi", provider="openai", model="m")


# -- scopes -------------------------------------------------------------------------------

def test_scopes_are_separate(service):
    prompt = unique()
    cache(service, prompt, "global answer")
    cache(service, prompt, "alice answer", user_id="alice-1")
    cache(service, prompt, "docs answer", namespace="docs")
    assert get(service, prompt)["response"] == "global answer"
    assert get(service, prompt, user_id="alice-1")["response"] == "alice answer"
    assert get(service, prompt, namespace="docs")["response"] == "docs answer"
    assert missed(get(service, prompt, user_id="bob-1"))
    assert missed(get(service, prompt, namespace="other"))
    assert get(service, prompt, user_id="alice-1")["scope"] == (
        f"user:{service.rpc('user_uuid', identifier='alice-1')}")


def test_users_read_their_own_scope_through_the_api(service, make_user, as_user):
    alice, bob = make_user(), make_user()
    prompt = unique()
    cache(service, prompt, "for alice", user_id=str(alice.id))
    cache(service, prompt, "for everyone")
    assert get(as_user(alice), prompt)["response"] == "for alice"
    assert get(as_user(alice), prompt, user_id=str(alice.id))["response"] == "for alice"
    assert missed(get(as_user(bob), prompt))


def test_users_cannot_name_another_scope(service, make_user, as_user):
    alice, bob = make_user(), make_user()
    prompt = unique()
    cache(service, prompt, user_id=str(alice.id))
    cache(service, prompt, namespace="team")
    with pytest.raises(errors.InsufficientPrivilege):
        get(as_user(bob), prompt, user_id=str(alice.id))
    with pytest.raises(errors.InsufficientPrivilege):
        get(as_user(bob), prompt, namespace="team")


def test_user_and_namespace_together_are_refused(service):
    with pytest.raises(errors.InvalidParameterValue) as exc:
        get(service, unique(), user_id="u", namespace="n")
    assert "user_id or namespace" in str(exc.value)


# -- TTL ----------------------------------------------------------------------------------

def test_expired_entries_are_never_returned_even_before_cleanup(service, superuser):
    prompt = unique()
    cache(service, prompt, ttl_hours=1)
    assert not missed(get(service, prompt))
    superuser.execute("update llm.response_cache set expires_at = now() - interval '1 second' "
                      "where prompt = %s", (prompt,))
    assert missed(get(service, prompt))
    assert entries(superuser, prompt) == 1


def test_fractional_ttl_hours(service):
    prompt = unique()
    cache(service, prompt, ttl_hours=0.5)
    hit = get(service, prompt)
    assert (datetime.fromisoformat(hit["expires_at"])
            - datetime.fromisoformat(hit["cached_at"])).total_seconds() == 1800


def test_cleanup_removes_only_expired_entries(service, superuser):
    old, live = unique(), unique()
    cache(service, old)
    cache(service, live)
    superuser.execute("update llm.response_cache set expires_at = now() - interval '1 minute' "
                      "where prompt = %s", (old,))
    assert service.rpc("cleanup_expired_llm_cache") >= 1
    assert entries(superuser, old) == 0 and entries(superuser, live) == 1
    assert service.rpc("cleanup_expired_llm_cache") == 0


# -- bad input ----------------------------------------------------------------------------

@pytest.mark.parametrize("args, sqlstate, field", [
    ({"ttl_hours": -1}, "22023", "ttl_hours"),
    ({"ttl_hours": 0}, "22023", "ttl_hours"),
    ({"ttl_hours": None}, "22004", "ttl_hours"),
    ({"response": None}, "22004", "response"),
    ({"provider": None}, "22004", "provider"),
    ({"model": "  "}, "22023", "model"),
    ({"parameters": [1, 2]}, "22023", "parameters"),
    ({"metadata": "text"}, "22023", "metadata"),
    ({"metadata": {"prompt_tokens": "many"}}, "22023", "prompt_tokens"),
    ({"metadata": {"cost_usd": -1}}, "22023", "cost_usd"),
    ({"completion_tokens": -5}, "22023", "completion_tokens"),
    ({"namespace": " "}, "22023", "namespace"),
    ({"embedding": [0.1] * 100}, "22023", "embedding"),
    ({"embedding": [0.0] * 384}, "22023", "embedding"),
    ({"embedding_model": "e"}, "22023", "embedding_model"),
])
def test_bad_writes_raise_and_write_nothing(service, superuser, args, sqlstate, field):
    prompt = unique()
    call = {"provider": "openai", "model": "gpt-4", "response": "r", **args}
    with pytest.raises(psycopg.Error) as exc:
        service.rpc("cache_llm_response", prompt=prompt, **call)
    assert exc.value.sqlstate == sqlstate
    assert field in str(exc.value)
    assert entries(superuser, prompt) == 0


def test_null_prompt_is_refused(service):
    with pytest.raises(errors.NullValueNotAllowed) as exc:
        service.rpc("cache_llm_response", prompt=None, provider="p", model="m", response="r")
    assert "prompt" in str(exc.value)
    with pytest.raises(errors.NullValueNotAllowed):
        get(service, None)


# -- access -------------------------------------------------------------------------------

def test_anon_gets_nothing(anon):
    with pytest.raises(errors.InsufficientPrivilege):
        get(anon, "x")
    with pytest.raises(errors.InsufficientPrivilege):
        anon.rpc("cache_llm_response", prompt="x", provider="p", model="m", response="r")
    for table in ("response_cache", "response_cache_hits", "response_cache_hit_journal",
                  "response_cache_totals", "response_cache_leases"):
        with pytest.raises(errors.InsufficientPrivilege):
            anon.sql(f"select * from llm.{table}")


def test_users_cannot_write_the_cache(make_user, as_user):
    user = as_user(make_user())
    with pytest.raises(errors.InsufficientPrivilege):
        user.rpc("cache_llm_response", prompt="x", provider="p", model="m", response="r")
    with pytest.raises(errors.InsufficientPrivilege):
        user.rpc("claim_llm_cache_key", prompt="x", provider="p", model="m")
    with pytest.raises(errors.InsufficientPrivilege):
        user.rpc("cleanup_expired_llm_cache")
    with pytest.raises(errors.InsufficientPrivilege):
        user.rpc("get_llm_cache_stats")


def test_users_select_only_their_own_entries(service, make_user, as_user, admin):
    alice, bob = make_user(), make_user()
    prompt = unique()
    cache(service, prompt, user_id=str(alice.id))
    cache(service, prompt)
    get(service, prompt, user_id=str(alice.id))
    query = "select scope from llm.response_cache where prompt = %s"
    assert [r["scope"] for r in as_user(alice).sql(query, (prompt,))] == [f"user:{alice.id}"]
    assert as_user(bob).sql(query, (prompt,)) == []
    assert len(admin.sql(query, (prompt,))) == 2
    # a hit is a journal row until the fold job adds it to the entry's counter row
    unfolded = ("select count(*) as hits from llm.response_cache_hit_journal as j "
                "join llm.response_cache as c on c.id = j.entry_id where c.prompt = %s")
    assert [r["hits"] for r in as_user(alice).sql(unfolded, (prompt,))] == [1]
    assert [r["hits"] for r in as_user(bob).sql(unfolded, (prompt,))] == [0]
    service.rpc("run_cache_hit_fold")
    hits = ("select h.hits from llm.response_cache_hits as h join llm.response_cache as c "
            "on c.id = h.entry_id where c.prompt = %s")
    assert [r["hits"] for r in as_user(alice).sql(hits, (prompt,))] == [1]
    assert as_user(bob).sql(hits, (prompt,)) == []


@pytest.mark.parametrize("table", ["response_cache_totals", "response_cache_leases"])
def test_only_admins_read_totals_and_leases(service, make_user, as_user, admin, table):
    get(service, unique())  # a miss: one totals row
    service.rpc("claim_llm_cache_key", prompt=unique(), provider="p", model="m")
    assert as_user(make_user()).sql(f"select * from llm.{table}") == []
    assert admin.sql(f"select * from llm.{table}") != []


@pytest.mark.parametrize("statement", [
    "insert into llm.response_cache (scope, prompt_hash, prompt, provider, model, response, "
    "size_bytes, expires_at) values ('global', repeat('a', 64), 'p', 'p', 'm', 'r', 1, now())",
    "update llm.response_cache set response = 'x'",
    "delete from llm.response_cache",
    "update llm.response_cache_hits set hits = hits + 100",
    "delete from llm.response_cache_hits",
    "insert into llm.response_cache_hit_journal (entry_id, scope, provider, model) "
    "values (gen_random_uuid(), 'global', 'p', 'm')",
    "delete from llm.response_cache_hit_journal",
    "insert into llm.response_cache_totals (provider, model, scope, shard) values ('p', 'm', 'global', 0)",
    "delete from llm.response_cache_totals",
    "insert into llm.response_cache_leases (scope, prompt_hash, expires_at) values ('global', 'x', now())",
    "delete from llm.response_cache_leases",
])
def test_tables_are_written_only_through_the_functions(service, make_user, as_user, admin, statement):
    for api in (service, admin, as_user(make_user())):
        with pytest.raises(errors.InsufficientPrivilege):
            api.sql(statement)


# -- savings and statistics ---------------------------------------------------------------

def stats_for(api: Api, provider: str) -> list[dict]:
    return [r for r in api.rpc("get_llm_cache_stats") if r["provider"] == provider]


def test_statistics_report_hit_rate_and_savings_by_model_and_scope(service, admin):
    provider = unique("prov")
    a, b = unique(), unique()
    cache(service, a, provider=provider, model="m1", metadata={"prompt_tokens": 10, "completion_tokens": 30},
          cost_usd="0.002")
    cache(service, b, provider=provider, model="m2", namespace="ns1", prompt_tokens=5,
          completion_tokens=5, cost_usd="0.01")
    for _ in range(3):
        get(service, a, provider=provider, model="m1")
    get(service, b, provider=provider, model="m2", namespace="ns1")
    get(service, unique(), provider=provider, model="m1")  # a miss
    rows = {(r["model"], r["scope"]): r for r in stats_for(admin, provider)}
    m1 = rows[("m1", "global")]
    assert (m1["entries"], m1["hits"], m1["misses"]) == (1, 3, 1)
    assert m1["hit_rate"] == pytest.approx(0.75)
    assert (m1["prompt_tokens_saved"], m1["completion_tokens_saved"], m1["total_tokens_saved"]) == (30, 90, 120)
    assert str(m1["cost_saved_usd"]) == "0.006"
    m2 = rows[("m2", "namespace:ns1")]
    assert (m2["hits"], m2["misses"], m2["hit_rate"], m2["total_tokens_saved"]) == (1, 0, 1, 10)
    assert str(m2["cost_saved_usd"]) == "0.01"


def test_savings_survive_expiry_replacement_and_invalidation(service):
    provider = unique("prov")
    prompts = [unique() for _ in range(3)]
    for p in prompts:
        cache(service, p, provider=provider, prompt_tokens=1, completion_tokens=1, cost_usd=1)
        get(service, p, provider=provider)
        get(service, p, provider=provider)
    cache(service, prompts[0], provider=provider, prompt_tokens=1, completion_tokens=1, cost_usd=1)
    assert service.rpc("invalidate_llm_cache", provider=provider, scope="global") == 3
    (row,) = stats_for(service, provider)
    assert (row["entries"], row["hits"], row["total_tokens_saved"], row["cost_saved_usd"]) == (0, 6, 12, 6)


# -- invalidation and eviction ------------------------------------------------------------

def test_invalidation_by_model_scope_and_age(service, superuser):
    provider = unique("prov")
    p1, p2, p3 = unique(), unique(), unique()
    cache(service, p1, provider=provider, model="a")
    cache(service, p2, provider=provider, model="b", user_id="user-9")
    cache(service, p3, provider=provider, model="b")
    superuser.execute("update llm.response_cache set created_at = now() - interval '2 days' "
                      "where prompt = %s", (p3,))
    assert service.rpc("invalidate_llm_cache", provider=provider, scope="user:user-9") == 1
    assert service.rpc("invalidate_llm_cache", provider=provider, older_than="1 day") == 1
    assert service.rpc("invalidate_llm_cache", provider=provider, model="a") == 1
    assert [entries(superuser, p) for p in (p1, p2, p3)] == [0, 0, 0]


@pytest.mark.parametrize("args", [{}, {"scope": "team"}, {"older_than": "-1 day"}])
def test_invalidation_needs_a_valid_filter(service, superuser, args):
    before = superuser.execute("select count(*) from llm.response_cache").fetchone()[0]
    with pytest.raises(errors.InvalidParameterValue):
        service.rpc("invalidate_llm_cache", **args)
    assert superuser.execute("select count(*) from llm.response_cache").fetchone()[0] == before


def test_eviction_removes_least_recently_used_first(fresh_db):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        service = Api(conn, "service_role")
        prompts = [f"evict-{i}" for i in range(5)]
        for i, p in enumerate(prompts):
            cache(service, p)
            conn.execute("update llm.response_cache set created_at = now() - %s * interval '1 hour' "
                         "where prompt = %s", (10 - i, p))
        get(service, prompts[0])  # the oldest entry is the most recently used now
        service.rpc("set_setting", key="cache_max_entries", value=3)
        assert service.rpc("evict_llm_cache") == 2
        left = {r[0] for r in conn.execute("select prompt from llm.response_cache")}
        assert left == {prompts[0], prompts[3], prompts[4]}
        service.rpc("set_setting", key="cache_max_bytes", value=1)
        assert service.rpc("evict_llm_cache") == 3


def test_jobs_are_registered(service):
    jobs = {j["name"]: j["command"] for j in service.sql("select name, command from llm.jobs")}
    assert jobs["llm_cache_cleanup"] == "select llm.cleanup_expired_llm_cache()"
    assert jobs["llm_cache_evict"] == "select llm.evict_llm_cache()"


def test_jobs_are_scheduled_in_pg_cron(cron_db):
    with psycopg.connect(cron_db) as conn:
        names = {r[0] for r in conn.execute("select jobname from cron.job")}
    assert {"llm_cache_cleanup", "llm_cache_evict"} <= names
