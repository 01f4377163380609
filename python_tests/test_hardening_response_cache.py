"""Response cache hardening (issue 12): bounded canonicalisation of parameters, finite numeric
inputs, and semantic lookups that reveal nothing about other scopes."""

import json
import uuid

import pytest
from psycopg import errors

from harness.client import Api


def _refused(call, error, *words):
    with pytest.raises(error) as exc:
        call()
    for word in words:
        assert word in str(exc.value), str(exc.value)


def _key(api: Api, parameters) -> str:
    """llm_cache_key with parameters given as JSON text (to keep numbers such as 1.50 as written)."""
    text = parameters if isinstance(parameters, str) else json.dumps(parameters)
    return api.one("select llm.llm_cache_key('p', 'openai', 'gpt-4', %s::jsonb)", (text,))


def _store(service: Api, **kw):
    args = {"prompt": f"p-{uuid.uuid4().hex}", "provider": "openai", "model": "gpt-4",
            "response": "r"}
    args.update(kw)
    return service.rpc("cache_llm_response", **args)


# -- item 5: canonicalising parameters is bounded -----------------------------------------

def test_parameters_above_the_size_limit_are_refused_naming_parameters(service):
    # 1 MB of parameters (27.6 s of CPU before); refused at once under Supabase's 8 s timeout
    service.conn.execute("set statement_timeout = '8s'")
    big = "{" + ", ".join(f'"k{i:06d}": 1.50' for i in range(70000)) + "}"
    assert len(big) > 1_000_000
    _refused(lambda: _key(service, big), errors.InvalidParameterValue, "parameters", "262144")
    _refused(lambda: service.one(
        "select llm.cache_llm_response('p', 'openai', 'gpt-4', 'r', parameters => %s::jsonb)", (big,)),
        errors.InvalidParameterValue, "parameters")


def test_deeply_nested_parameters_are_refused_with_22023_naming_parameters(service):
    deep = '{"a": ' * 2000 + "1" + "}" * 2000
    _refused(lambda: _key(service, deep), errors.InvalidParameterValue, "parameters", "64 levels")
    _refused(lambda: service.rpc("get_similar_cached_prompts", embedding=[1.0] * 384,
                                 parameters=json.loads('{"a": ' * 100 + "1" + "}" * 100)),
             errors.InvalidParameterValue, "parameters")
    # 64 levels are accepted, numbers normalised at the bottom
    assert _key(service, '{"x": ' + "[" * 63 + "1.0" + "]" * 63 + "}") != _key(
        service, '{"x": ' + "[" * 63 + "2" + "]" * 63 + "}")
    assert _key(service, '{"x": ' + "[" * 63 + "1.0" + "]" * 63 + "}") == _key(
        service, '{"x": ' + "[" * 63 + "1" + "]" * 63 + "}")


def test_parameters_at_the_size_limit_are_keyed_with_numbers_normalised_and_strings_kept(service):
    service.conn.execute("set statement_timeout = '8s'")
    written = "{" + ", ".join(
        f'"k{i:05d}": [{i}.50, {{"t": 2.000, "s": "{i}.50"}}]' for i in range(5000)) + "}"
    assert 200_000 < len(written) < 262_144
    normalised = "{" + ", ".join(
        f'"k{i:05d}": [{i}.5, {{"t": 2, "s": "{i}.50"}}]' for i in range(5000)) + "}"
    assert _key(service, written) == _key(service, normalised)
    # numbers inside strings are text, not numbers: "1.50" and "1.5" stay different
    assert _key(service, '{"stop": "1.50"}') != _key(service, '{"stop": "1.5"}')
    assert _key(service, r'{"a": {"b": [1.0, "x\"1.0\\", 0.10]}}') == _key(
        service, r'{"a": {"b": [1, "x\"1.0\\", 0.1]}}')
    assert _key(service, r'{"a": {"b": [1.0, "x\"1.0"]}}') != _key(service, r'{"a": {"b": [1, "x\"1"]}}')


# -- item 6: numeric inputs are finite ----------------------------------------------------

@pytest.mark.parametrize("args, field", [
    ({"cost_usd": "NaN"}, "cost_usd"),
    ({"cost_usd": "Infinity"}, "cost_usd"),
    ({"cost_usd": "-Infinity"}, "cost_usd"),
    ({"cost_usd": -0.01}, "cost_usd"),
    ({"ttl_hours": "NaN"}, "ttl_hours"),
    ({"ttl_hours": "Infinity"}, "ttl_hours"),
    ({"ttl_hours": 1e12}, "ttl_hours"),
    ({"prompt_tokens": 3_000_000_000}, "prompt_tokens"),
    ({"metadata": {"completion_tokens": 1e30}}, "metadata.completion_tokens"),
    ({"prompt_tokens": 2_000_000_000, "completion_tokens": 2_000_000_000}, "tokens"),
])
def test_cache_numeric_inputs_must_be_finite_and_in_range(service, superuser, args, field):
    before = superuser.execute("select count(*) from llm.response_cache").fetchone()[0]
    _refused(lambda: _store(service, **args), errors.InvalidParameterValue, field)
    assert superuser.execute("select count(*) from llm.response_cache").fetchone()[0] == before


def test_savings_totals_stay_numbers(service):
    model = f"m-{uuid.uuid4().hex[:8]}"
    with pytest.raises(errors.InvalidParameterValue):
        _store(service, model=model, cost_usd="NaN")
    _store(service, prompt="q", model=model, cost_usd=0.25)
    assert service.rpc("get_cached_llm_response", prompt="q", provider="openai", model=model)
    stats = [s for s in service.rpc("get_llm_cache_stats") if s["model"] == model]
    assert [float(s["cost_saved_usd"]) for s in stats] == [0.25]


# -- item 8: a semantic lookup reveals nothing about other scopes -------------------------

def test_similar_lookup_by_a_user_reveals_nothing_about_other_scopes_embedding_models(
        service, make_user, as_user):
    alice, bob = make_user(), make_user()
    hidden = f"emb-{uuid.uuid4().hex[:8]}"
    e384 = [0.0] * 384
    e384[5] = 1.0
    _store(service, embedding=e384, embedding_model=hidden, user_id=str(bob.id))
    e768 = [0.0] * 768
    e768[5] = 1.0
    api = as_user(alice)
    # model X exists (in Bob's scope, with 384 dimensions): Alice gets what she gets for a
    # model that exists nowhere
    unknown = f"emb-{uuid.uuid4().hex[:8]}"
    assert api.rpc("get_similar_cached_prompts", embedding=e768, embedding_model=hidden) == []
    assert api.rpc("get_similar_cached_prompts", embedding=e768, embedding_model=unknown) == []
    # in her own scope the rule still holds
    _store(service, embedding=e384, embedding_model=unknown, user_id=str(alice.id))
    _refused(lambda: api.rpc("get_similar_cached_prompts", embedding=e768, embedding_model=unknown),
             errors.InvalidParameterValue, "embedding_model")
