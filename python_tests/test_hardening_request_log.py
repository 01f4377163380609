"""Hardening of the request log's write paths: inputs bounded where they enter, client
conversation ids, and the rows usage metering can never be blocked by."""

from __future__ import annotations

import uuid

import pytest
from psycopg import errors

from harness.client import Api


def counts(superuser) -> tuple[int, int, int]:
    return superuser.execute(
        "select (select count(*) from llm.request_logs), (select count(*) from llm.usage_journal),"
        " (select count(*) from llm.request_ids)").fetchone()


OUT_OF_BOUNDS = [
    (dict(created_at="4714-11-24 00:00:00+00 BC"), "created_at"),
    (dict(created_at="1999-12-31 23:59:59+00"), "created_at"),
    (dict(created_at="294276-01-01 00:00:00+00"), "created_at"),
    (dict(created_at="-infinity"), "created_at"),
    (dict(provider="p" * 256), "provider"),
    (dict(model="m" * 3000, cost_usd="0.01"), "model"),
    (dict(request_id="r" * 3000), "request_id"),
    (dict(prompt_tokens=2_000_000_000, completion_tokens=2_000_000_000), "prompt_tokens"),
    (dict(prompt_tokens=2_000_000_000, cached_tokens=2_000_000_000,
          cache_write_tokens=2_000_000_000), "cached_tokens"),
    (dict(conversation_id=""), "conversation_id"),
    (dict(conversation_id="c" * 256), "conversation_id"),
]


@pytest.mark.parametrize("args, field", OUT_OF_BOUNDS,
                         ids=[f"{b[1]}-{i}" for i, b in enumerate(OUT_OF_BOUNDS)])
def test_log_request_refuses_values_outside_the_documented_bounds_with_22023(
        service, superuser, args, field):
    before = counts(superuser)
    with pytest.raises(errors.InvalidParameterValue) as exc:
        service.rpc("log_request", **{"provider": "openai", "model": "gpt-4o", **args})
    assert field in str(exc.value)
    assert counts(superuser) == before


def test_log_request_accepts_the_edges_of_the_window(service, superuser):
    service.rpc("log_request", provider="openai", model="gpt-4o",
                created_at="2000-01-01 00:00:00+00")
    service.rpc("log_request", provider="p" * 255, model="m" * 255, request_id="r" * 255,
                cost_usd="0.01", prompt_tokens=2_000_000_000, completion_tokens=147_483_647)
    superuser.execute("select llm.fold_usage(100000)")
    assert superuser.execute("select count(*) from llm.usage_journal").fetchone()[0] == 0


def test_log_request_accepts_a_client_conversation_id(service, superuser):
    conv = service.rpc("create_conversation", conversation_id="conv-abc", user_id="user-conv")
    assert conv == "conv-abc"
    conv_uuid = superuser.execute(
        "select id from llm.conversations where external_id = 'conv-abc'").fetchone()[0]
    log_id = service.rpc("log_request", provider="openai", model="gpt-4o", user_id="user-conv",
                         conversation_id="conv-abc", prompt_tokens=3)
    assert superuser.execute("select conversation_id from llm.request_logs where id = %s",
                             (log_id,)).fetchone()[0] == conv_uuid
    assert superuser.execute("select conversation_id from llm.usage_journal"
                             " where request_log_id = %s", (log_id,)).fetchone()[0] == conv_uuid
    # the same through the batch and the seed API
    [batch_id] = service.rpc("log_requests", requests=[
        {"provider": "openai", "model": "gpt-4o", "conversation_id": "conv-abc"}])
    assert superuser.execute("select conversation_id from llm.request_logs where id = %s",
                             (batch_id,)).fetchone()[0] == conv_uuid
    assert service.rpc("record_token_usage", user_id="user-conv", tokens_consumed=5,
                       provider="openai", model="gpt-4o",
                       request_metadata={"conversation_id": "conv-abc"}) is True
    assert superuser.execute(
        "select count(*) from llm.request_logs where conversation_id = %s",
        (conv_uuid,)).fetchone()[0] == 3
    # a UUID is stored as given, known or not
    other = uuid.uuid4()
    log_id = service.rpc("log_request", provider="openai", model="gpt-4o",
                         conversation_id=str(other).upper())
    assert superuser.execute("select conversation_id from llm.request_logs where id = %s",
                             (log_id,)).fetchone()[0] == other


def test_log_request_with_an_unknown_client_conversation_id_raises_p0002(service, superuser):
    before = counts(superuser)
    with pytest.raises(errors.NoDataFound) as exc:
        service.rpc("log_request", provider="openai", model="gpt-4o", conversation_id="conv-nope")
    assert "conversation_id" in str(exc.value)
    assert counts(superuser) == before


BAD_JOURNAL_ROW = """
    insert into llm.usage_journal (
        request_log_id, occurred_at, user_id, provider, model, request_type, requests,
        prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens, total_tokens,
        cost_usd, success, cache_hit, saved_tokens)
    values (%s, %s, null, 'openai', %s, 'chat', 1, 1, 1, 0, 0, 2, 0.01, true, false, 0)
"""


def test_a_journal_row_the_fold_cannot_fold_is_dead_lettered_and_the_rest_folds(
        fresh_db, connect):
    db = connect(fresh_db)
    service = Api(connect(fresh_db), "service_role")
    for n in range(5):
        service.rpc("log_request", provider="openai", model="gpt-4o", user_id="fold-user",
                    prompt_tokens=10 + n)
    # rows an earlier release accepted: a time outside the calendar, a name too long for an index
    db.execute(BAD_JOURNAL_ROW, (-1, "4714-11-24 00:00:00+00 BC", "gpt-4o"))
    long_model = db.execute(
        "select string_agg(md5(g::text), '') from generate_series(1, 100) as g").fetchone()[0]
    db.execute(BAD_JOURNAL_ROW, (-2, "2026-11-02 00:00:00+00", long_model))
    for n in range(3):
        service.rpc("log_request", provider="openai", model="gpt-4o", user_id="fold-user",
                    prompt_tokens=20 + n)

    folded = db.execute("select llm.fold_usage(100000)").fetchone()[0]
    assert folded == 10
    assert db.execute("select count(*) from llm.usage_journal").fetchone()[0] == 0
    rejects = db.execute("select request_log_id, sqlstate, error, journal_row ->> 'model'"
                         " from llm.usage_journal_rejects order by request_log_id").fetchall()
    assert [(r[0], r[1]) for r in rejects] == [(-2, "54000"), (-1, "22008")]
    assert rejects[0][3] == long_model and rejects[1][3] == "gpt-4o"
    # every good row is in the rollups, and later folds go on
    assert db.execute(
        "select sum(requests), sum(prompt_tokens) from llm.usage_rollups"
        " where period_type = 'daily' and user_id = llm.user_uuid('fold-user')").fetchone() == (
        8, sum(range(10, 15)) + sum(range(20, 23)))
    service.rpc("log_request", provider="openai", model="gpt-4o", user_id="fold-user")
    assert db.execute("select llm.fold_usage(100000)").fetchone()[0] == 1
    # and the reports read the rollups again
    assert service.rpc("usage_report") is not None


@pytest.mark.parametrize("audio", ["NaN", "Infinity", "-Infinity", "-1"])
def test_estimate_cost_refuses_an_audio_length_that_is_not_a_finite_number(service, audio):
    with pytest.raises(errors.InvalidParameterValue) as exc:
        service.rpc("estimate_cost", provider="openai", model="whisper-1", audio_seconds=audio)
    assert "audio_seconds" in str(exc.value)
