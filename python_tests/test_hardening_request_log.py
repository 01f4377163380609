"""Hardening of the request log's write paths: inputs bounded where they enter, client
conversation ids, and the rows usage metering can never be blocked by."""

from __future__ import annotations

import uuid

import pytest
from psycopg import errors


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
