"""Response cache, semantic search: pgvector HNSW per dimension, scope isolation, exact
filters, threshold semantics, iterative scans under selective filters, bad input."""

import uuid

import psycopg
import pytest
from psycopg import errors

from harness.client import Api


def basis(dims: int, *hot: int, values: tuple[float, ...] = ()) -> list[float]:
    """A vector of ``dims`` zeros with ``values`` (default 1.0) at the ``hot`` positions."""
    v = [0.0] * dims
    for i, index in enumerate(hot):
        v[index] = values[i] if i < len(values) else 1.0
    return v


def ns() -> str:
    return f"sem-{uuid.uuid4().hex[:10]}"


def store(service: Api, prompt: str, embedding: list[float], **kw) -> None:
    kw.setdefault("provider", "openai")
    kw.setdefault("model", "gpt-4")
    assert service.rpc("cache_llm_response", prompt=prompt, response=f"answer to {prompt}",
                       embedding=embedding, **kw) is True


def similar(api: Api, embedding: list[float], **kw) -> list[dict]:
    return api.rpc("get_similar_cached_prompts", embedding=embedding, **kw)


def test_seed_call_shape(service):
    e = basis(1536, 7)
    service.rpc("cache_llm_response", prompt="Explain BigQuery partitioning", provider="openai",
                model="gpt-4", response="BigQuery partitioning is...", embedding=e,
                metadata={"tokens": 250})
    rows = similar(service, e, limit=5, similarity_threshold=0.8)
    assert rows[0]["prompt"] == "Explain BigQuery partitioning"
    assert rows[0]["response"] == "BigQuery partitioning is..."
    assert rows[0]["similarity"] == pytest.approx(1.0)
    assert rows[0]["scope"] == "global" and rows[0]["hit_count"] == 0


def test_dimensions_coexist_and_are_searched_separately(service):
    scope = ns()
    for dims in (384, 768, 1536, 3072):
        store(service, f"{scope}-{dims}", basis(dims, 3), namespace=scope)
    for dims in (384, 768, 1536, 3072):
        rows = similar(service, basis(dims, 3), namespace=scope, similarity_threshold=0.99)
        assert [r["prompt"] for r in rows] == [f"{scope}-{dims}"]
        assert rows[0]["similarity"] == pytest.approx(1.0, abs=1e-3)  # halfvec at 3072


def test_user_scoped_entries_stay_private_even_at_similarity_one(service, make_user, as_user):
    alice, bob = make_user(), make_user()
    e = basis(384, 11, 12)
    store(service, "alice's secret prompt", e, user_id=str(alice.id))
    assert similar(as_user(bob), e, similarity_threshold=0) == []
    assert similar(service, e, user_id=str(bob.id), similarity_threshold=0) == []
    assert [r["prompt"] for r in similar(service, e, similarity_threshold=0)
            if r["prompt"] == "alice's secret prompt"] == []
    with pytest.raises(errors.InsufficientPrivilege):
        similar(as_user(bob), e, user_id=str(alice.id))
    mine = similar(as_user(alice), e, similarity_threshold=1)
    assert [r["prompt"] for r in mine] == ["alice's secret prompt"]


def test_threshold_is_inclusive_at_the_boundary(service):
    scope = ns()
    store(service, "same", basis(384, 0), namespace=scope)
    store(service, "cos 0.6", basis(384, 0, 1, values=(3.0, 4.0)), namespace=scope)
    query = basis(384, 0)
    at = similar(service, query, namespace=scope, similarity_threshold=0.6)
    assert [(r["prompt"], r["similarity"]) for r in at] == [("same", 1.0), ("cos 0.6", 0.6)]
    above = similar(service, query, namespace=scope, similarity_threshold=0.6000001)
    assert [r["prompt"] for r in above] == ["same"]
    assert [r["prompt"] for r in similar(service, query, namespace=scope, similarity_threshold=1)] == ["same"]
    assert len(similar(service, query, namespace=scope, similarity_threshold=0, limit=1)) == 1


def test_provider_model_and_parameters_filter_exactly(service):
    scope = ns()
    e = basis(384, 20)
    store(service, "a", e, namespace=scope, model="m1", parameters={"temperature": 0.2, "top_p": 1})
    store(service, "b", e, namespace=scope, model="m2", parameters={"temperature": 0.2, "top_p": 1})
    store(service, "c", e, namespace=scope, model="m1", parameters={"temperature": 0.9})
    store(service, "d", e, namespace=scope, provider="anthropic", model="m1",
          parameters={"temperature": 0.2, "top_p": 1})

    def prompts(**kw):
        return sorted(r["prompt"] for r in similar(service, e, namespace=scope, **kw))

    assert prompts() == ["a", "b", "c", "d"]
    assert prompts(provider="openai", model="m1") == ["a", "c"]
    assert prompts(provider="OpenAI", model="m1", parameters={"top_p": 1.0, "temperature": 0.20}) == ["a"]
    assert prompts(model="m1", parameters={"temperature": 0.2, "top_p": 1}) == ["a", "d"]


def test_expired_entries_are_not_similar(service, superuser):
    scope = ns()
    e = basis(384, 30)
    store(service, "old", e, namespace=scope)
    superuser.execute("update llm.response_cache set expires_at = now() where prompt = 'old' "
                      "and scope = %s", (f"namespace:{scope}",))
    assert similar(service, e, namespace=scope, similarity_threshold=0) == []


def test_count_hit_counts_the_best_result_only(service):
    scope = ns()
    store(service, "best", basis(384, 40), namespace=scope)
    store(service, "second", basis(384, 40, 41), namespace=scope)
    rows = similar(service, basis(384, 40), namespace=scope, similarity_threshold=0.5, count_hit=True)
    assert [(r["prompt"], r["hit_count"]) for r in rows] == [("best", 1), ("second", 0)]


def test_selective_filters_still_find_matches_through_the_index(service, superuser):
    """The HNSW index serves the lookup (exact search is off). A plain index scan stops after
    hnsw.ef_search candidates, all of them unfiltered bulk rows, and would return nothing;
    iterative scans keep going until the filtered matches are found."""
    scope = f"namespace:{ns()}"
    superuser.execute("""
        insert into llm.response_cache (scope, prompt_hash, prompt, provider, model, parameters,
                                        response, size_bytes, expires_at, embedding)
        select %(scope)s, encode(sha256(convert_to(%(scope)s || g, 'UTF8')), 'hex'),
               case when g <= 3 then 'rare ' else 'bulk ' end || g, 'openai', 'gpt-4',
               case when g <= 3 then '{"temperature": 0.1}' else '{"temperature": 0.7}' end::jsonb,
               'r', 1, now() + interval '1 day',
               case when g <= 3
                   then (select array_agg((i <= 50)::int)::extensions.vector
                         from generate_series(1, 384) as i where g > 0)
                   else (select array_agg(random())::extensions.vector
                         from generate_series(1, 384) as i where g > 0)
               end
        from generate_series(1, 600) as g
    """, {"scope": scope})
    query = [1.0] * 384
    with service.conn.transaction(force_rollback=True):
        # no exact search for small scopes: the HNSW index serves this one
        service.rpc("set_setting", key="cache_exact_search_max", value=0)
        rows = similar(service, query, namespace=scope.split(":", 1)[1], limit=3,
                       similarity_threshold=0.3, parameters={"temperature": 0.1})
    assert sorted(r["prompt"] for r in rows) == ["rare 1", "rare 2", "rare 3"]


@pytest.mark.parametrize("args, sqlstate, field", [
    ({"similarity_threshold": -0.01}, "22023", "similarity_threshold"),
    ({"similarity_threshold": 1.01}, "22023", "similarity_threshold"),
    ({"similarity_threshold": None}, "22004", "similarity_threshold"),
    ({"limit": 0}, "22023", "limit"),
    ({"embedding": basis(100, 1)}, "22023", "embedding"),
    ({"embedding": basis(384)}, "22023", "embedding"),
    ({"embedding": None}, "22004", "embedding"),
])
def test_bad_search_arguments(service, args, sqlstate, field):
    call = {"embedding": basis(384, 1), **args}
    with pytest.raises(psycopg.Error) as exc:
        service.rpc("get_similar_cached_prompts", **call)
    assert exc.value.sqlstate == sqlstate
    assert field in str(exc.value)


def test_embedding_model_dimension_mismatch(service, superuser):
    model = f"emb-{uuid.uuid4().hex[:8]}"
    store(service, "first", basis(384, 1), embedding_model=model, namespace=ns())
    with pytest.raises(errors.InvalidParameterValue) as exc:
        store(service, "second", basis(768, 1), embedding_model=model)
    assert "384" in str(exc.value) and "768" in str(exc.value)
    assert superuser.execute("select count(*) from llm.response_cache where embedding_model = %s",
                             (model,)).fetchone()[0] == 1
    with pytest.raises(errors.InvalidParameterValue):
        similar(service, basis(768, 1), embedding_model=model)
    assert similar(service, basis(384, 1), embedding_model=model, similarity_threshold=0) == []
