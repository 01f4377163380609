"""Model prices and cost: the registry with effective dates, cost at insert, cache-hit
savings, unknown models, and llm.recompute_costs."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from decimal import Decimal

import pytest
from psycopg import errors

from harness.client import Api

UTC = dt.timezone.utc
T0 = dt.datetime(2025, 3, 1, tzinfo=UTC)


def model_name() -> str:
    return f"test-model-{uuid.uuid4().hex[:8]}"


def cost_of(superuser, log_id: int) -> tuple:
    return superuser.execute(
        "select cost_usd, cost_source, saved_cost_usd from llm.request_logs where id = %s",
        (log_id,)).fetchone()


def test_seeded_prices_cover_the_common_providers(superuser):
    rows = dict(superuser.execute(
        "select provider, count(*) from llm.model_prices group by provider").fetchall())
    assert rows["openai"] >= 10 and rows["anthropic"] >= 4 and rows["google"] >= 4
    kinds = superuser.execute("""
        select count(*) filter (where model like '%embedding%'),
               count(*) filter (where per_audio_second is not null)
        from llm.model_prices""").fetchone()
    assert kinds[0] >= 3 and kinds[1] >= 2


def test_cost_is_computed_from_the_registry(service, superuser):
    # gpt-4o-mini: 0.15 input, 0.075 cached input, 0.60 output per million tokens
    log_id = service.rpc("log_request", provider="openai", model="gpt-4o-mini",
                         prompt_tokens=1_200, cached_tokens=200, completion_tokens=300)
    expected = (Decimal(1000) * Decimal("0.15") + Decimal(200) * Decimal("0.075")
                + Decimal(300) * Decimal("0.60")) / Decimal(1_000_000)
    assert cost_of(superuser, log_id) == (expected, "registry", None)
    assert service.rpc("estimate_cost", provider="openai", model="gpt-4o-mini",
                       prompt_tokens=1_200, cached_tokens=200, completion_tokens=300) == expected


def test_cache_writes_and_reads_use_their_own_prices(service, superuser):
    # claude-sonnet-4-5: 3 input, 15 output, 0.30 cache read, 3.75 cache write
    log_id = service.rpc("log_request", provider="anthropic", model="claude-sonnet-4-5",
                         prompt_tokens=10_000, cached_tokens=6_000, cache_write_tokens=3_000,
                         completion_tokens=500)
    expected = (Decimal(1000) * 3 + Decimal(6000) * Decimal("0.30")
                + Decimal(3000) * Decimal("3.75") + Decimal(500) * 15) / Decimal(1_000_000)
    assert cost_of(superuser, log_id)[0] == expected


def test_transcriptions_are_priced_per_audio_second(service, superuser):
    log_id = service.rpc("log_request", provider="openai", model="whisper-1",
                         request_type="transcription", audio_seconds="90")
    assert cost_of(superuser, log_id)[0] == Decimal("0.009")


def test_the_price_in_force_at_the_request_time_applies(service, superuser):
    model = model_name()
    service.rpc("set_model_price", provider="acme", model=model, effective_from=T0.isoformat(),
                input_per_mtok="1", output_per_mtok="2", per_request="0.001")
    later = T0 + dt.timedelta(days=30)
    service.rpc("set_model_price", provider="acme", model=model,
                effective_from=later.isoformat(), input_per_mtok="10", output_per_mtok="20")
    periods = superuser.execute(
        "select effective_from, effective_to, input_per_mtok from llm.model_prices"
        " where model = %s order by effective_from", (model,)).fetchall()
    assert periods == [(T0, later, Decimal("1")), (later, None, Decimal("10"))]

    def log(at):
        return service.rpc("log_request", provider="acme", model=model, prompt_tokens=1_000_000,
                           completion_tokens=1_000_000, created_at=at.isoformat())

    assert cost_of(superuser, log(T0))[0] == Decimal("3.001")
    assert cost_of(superuser, log(later - dt.timedelta(microseconds=1)))[0] == Decimal("3.001")
    assert cost_of(superuser, log(later))[0] == Decimal("30")
    assert cost_of(superuser, log(T0 - dt.timedelta(seconds=1))) == (None, "unpriced", None)


def test_a_price_set_in_the_past_ends_at_the_next_known_period(service, superuser):
    model = model_name()
    later = T0 + dt.timedelta(days=10)
    service.rpc("set_model_price", provider="acme", model=model, effective_from=later.isoformat(),
                input_per_mtok="5")
    service.rpc("set_model_price", provider="acme", model=model, effective_from=T0.isoformat(),
                input_per_mtok="4")
    assert superuser.execute(
        "select effective_from, effective_to from llm.model_prices where model = %s"
        " order by 1", (model,)).fetchall() == [(T0, later), (later, None)]
    # setting the same instant again replaces that price
    same = service.rpc("set_model_price", provider="acme", model=model,
                       effective_from=T0.isoformat(), input_per_mtok="4.5")
    assert superuser.execute("select input_per_mtok from llm.model_prices where id = %s",
                             (same,)).fetchone() == (Decimal("4.5"),)


def test_overlapping_periods_are_refused(service, superuser):
    model = model_name()
    service.rpc("set_model_price", provider="acme", model=model, effective_from=T0.isoformat(),
                input_per_mtok="1")
    with pytest.raises(errors.ExclusionViolation):
        superuser.execute(
            "insert into llm.model_prices (provider, model, effective_from, input_per_mtok)"
            " values ('acme', %s, %s, 2)", (model, T0 + dt.timedelta(days=1)))
    assert superuser.execute("select count(*) from llm.model_prices where model = %s",
                             (model,)).fetchone() == (1,)


def test_concurrent_overlapping_inserts_keep_one(connect, superuser):
    model = model_name()
    conns = [connect() for _ in range(8)]
    barrier = threading.Barrier(len(conns))
    outcomes: list[str] = []

    def insert(conn, n):
        barrier.wait()
        try:
            conn.execute(
                "insert into llm.model_prices (provider, model, effective_from, input_per_mtok)"
                " values ('acme', %s, %s, %s)", (model, T0 + dt.timedelta(hours=n), n))
            outcomes.append("ok")
        except errors.ExclusionViolation:
            outcomes.append("refused")

    threads = [threading.Thread(target=insert, args=(c, n)) for n, c in enumerate(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok"] + ["refused"] * 7
    assert superuser.execute("select count(*) from llm.model_prices where model = %s",
                             (model,)).fetchone() == (1,)


@pytest.mark.parametrize("args, error", [
    (dict(provider=None), errors.NullValueNotAllowed),
    (dict(model=" "), errors.NullValueNotAllowed),
    (dict(effective_from=None), errors.InvalidParameterValue),
    (dict(effective_from="infinity"), errors.InvalidParameterValue),
    (dict(input_per_mtok="-1"), errors.InvalidParameterValue),
    (dict(output_per_mtok="NaN"), errors.InvalidParameterValue),
])
def test_bad_prices_are_refused(service, superuser, args, error):
    call = {"provider": "acme", "model": model_name(), "effective_from": T0.isoformat(), **args}
    before = superuser.execute("select count(*) from llm.model_prices").fetchone()
    with pytest.raises(error):
        service.rpc("set_model_price", **call)
    assert superuser.execute("select count(*) from llm.model_prices").fetchone() == before


def test_a_caller_cost_wins_over_the_registry(service, superuser):
    log_id = service.rpc("log_request", provider="openai", model="gpt-4o", prompt_tokens=1000,
                         cost_usd="0.5")
    assert cost_of(superuser, log_id) == (Decimal("0.5"), "caller", None)


def test_a_cache_hit_costs_nothing_and_journals_what_it_saved(service, superuser):
    log_id = service.rpc("log_request", provider="openai", model="gpt-4o", prompt_tokens=1000,
                         completion_tokens=500, cache_hit=True, user_id="cache-user")
    saved = (Decimal(1000) * Decimal("2.50") + Decimal(500) * 10) / Decimal(1_000_000)
    assert cost_of(superuser, log_id) == (Decimal(0), "cache_hit", saved)
    j = superuser.execute("""
        select prompt_tokens, completion_tokens, total_tokens, cost_usd, saved_tokens,
               saved_cost_usd, cache_hit
        from llm.usage_journal where request_log_id = %s""", (log_id,)).fetchone()
    assert j == (0, 0, 0, Decimal(0), 1500, saved, True)


def test_unknown_models_are_logged_without_cost_and_listed(service, superuser, admin,
                                                            make_user, as_user):
    model = model_name()
    user = make_user()
    log_id = service.rpc("log_request", provider="acme", model=model, prompt_tokens=100,
                         user_id=str(user.id))
    assert cost_of(superuser, log_id) == (None, "unpriced", None)
    assert superuser.execute("select cost_usd from llm.usage_journal where request_log_id = %s",
                             (log_id,)).fetchone() == (None,)
    listed = {(r["provider"], r["model"]): r["requests"] for r in admin.rpc("unpriced_models")}
    assert listed[("acme", model)] == 1
    assert [r["model"] for r in as_user(user).rpc("unpriced_models")] == [model]
    assert as_user(make_user()).rpc("unpriced_models") == []


def test_recompute_costs_reprices_history_and_journals_the_change(service, superuser):
    model = model_name()
    day = T0 + dt.timedelta(days=100)
    logged = [service.rpc("log_request", provider="acme", model=model, prompt_tokens=2_000_000,
                          user_id="repriced", created_at=(day + dt.timedelta(hours=h)).isoformat())
              for h in range(3)]
    hit = service.rpc("log_request", provider="acme", model=model, prompt_tokens=1_000_000,
                      cache_hit=True, created_at=day.isoformat())
    kept = service.rpc("log_request", provider="acme", model=model, prompt_tokens=1_000_000,
                       cost_usd="7", created_at=day.isoformat())
    assert cost_of(superuser, logged[0]) == (None, "unpriced", None)

    service.rpc("set_model_price", provider="acme", model=model, effective_from=T0.isoformat(),
                input_per_mtok="1.5")
    result = service.rpc("recompute_costs", since=day.isoformat(),
                         until=(day + dt.timedelta(days=1)).isoformat())
    assert result == {"repriced": 4, "cost_change_usd": Decimal("9")}
    assert [cost_of(superuser, i) for i in logged] == [(Decimal("3"), "registry", None)] * 3
    assert cost_of(superuser, hit) == (Decimal(0), "cache_hit", Decimal("1.5"))
    assert cost_of(superuser, kept) == (Decimal("7"), "caller", None)
    corrections = superuser.execute("""
        select request_log_id, cost_usd, saved_cost_usd from llm.usage_journal
        where request_log_id = any(%s) and requests = 0 order by request_log_id""",
        (logged + [hit, kept],)).fetchall()
    assert corrections == [(i, Decimal("3"), Decimal(0)) for i in logged] + [
        (hit, Decimal(0), Decimal("1.5"))]
    # the journal sums now equal the log: requests counted once, cost corrected
    sums = superuser.execute("""
        select sum(requests), sum(cost_usd), sum(saved_cost_usd) from llm.usage_journal
        where request_log_id = any(%s)""", (logged + [hit],)).fetchone()
    assert sums == (4, Decimal("9"), Decimal("1.5"))

    # a second run changes nothing
    assert service.rpc("recompute_costs", since=day.isoformat(),
                       until=(day + dt.timedelta(days=1)).isoformat()) == {
        "repriced": 0, "cost_change_usd": Decimal(0)}


def test_recompute_costs_checks_its_arguments_and_caller(service, make_user, as_user):
    with pytest.raises(errors.NullValueNotAllowed):
        service.rpc("recompute_costs", since=None, until=T0.isoformat())
    with pytest.raises(errors.InvalidParameterValue):
        service.rpc("recompute_costs", since=T0.isoformat(), until=T0.isoformat())
    with pytest.raises(errors.InsufficientPrivilege):
        as_user(make_user()).rpc("recompute_costs", since=T0.isoformat(),
                                 until=(T0 + dt.timedelta(days=1)).isoformat())


def test_users_read_prices_but_only_admins_change_them(make_user, as_user, admin, superuser):
    user = as_user(make_user())
    assert len(user.sql("select * from llm.model_prices where model = 'gpt-4o'")) == 1
    with pytest.raises(errors.InsufficientPrivilege):
        user.rpc("set_model_price", provider="acme", model=model_name(),
                 effective_from=T0.isoformat(), input_per_mtok="1")
    with pytest.raises(errors.InsufficientPrivilege):
        user.sql("insert into llm.model_prices (provider, model, effective_from) values"
                 " ('acme', 'x', now())")
    assert user.sql("update llm.model_prices set input_per_mtok = 0 returning id") == []
    assert user.sql("delete from llm.model_prices returning id") == []
    model = model_name()
    admin.rpc("set_model_price", provider="acme", model=model, effective_from=T0.isoformat(),
              input_per_mtok="1")
    admin.sql("update llm.model_prices set output_per_mtok = 2 where model = %s", (model,))
    admin.sql("delete from llm.model_prices where model = %s", (model,))
    assert superuser.execute("select count(*) from llm.model_prices where model = %s",
                             (model,)).fetchone() == (0,)


def test_estimate_cost_is_null_for_an_unknown_model(service):
    assert service.rpc("estimate_cost", provider="acme", model=model_name(),
                       prompt_tokens=10) is None
    with pytest.raises(errors.InvalidParameterValue):
        service.rpc("estimate_cost", provider="openai", model="gpt-4o", prompt_tokens=-1)


def test_log_request_and_estimate_cost_agree(service, superuser):
    api = Api(service.conn, "service_role")
    cases = [("openai", "gpt-5", 5000, 700, 1000, 0, None),
             ("anthropic", "claude-haiku-4-5", 8000, 100, 2000, 3000, None),
             ("google", "gemini-2.5-pro", 100, 100, 0, 0, None),
             ("openai", "gpt-4o-mini-transcribe", 0, 0, 0, 0, "12.5")]
    for provider, model, prompt, completion, cached, write, audio in cases:
        log_id = api.rpc("log_request", provider=provider, model=model, prompt_tokens=prompt,
                         completion_tokens=completion, cached_tokens=cached,
                         cache_write_tokens=write, audio_seconds=audio)
        assert cost_of(superuser, log_id)[0] == api.rpc(
            "estimate_cost", provider=provider, model=model, prompt_tokens=prompt,
            completion_tokens=completion, cached_tokens=cached, cache_write_tokens=write,
            audio_seconds=audio)


@pytest.mark.parametrize("field", ["input_per_mtok", "per_audio_second", "per_request"])
@pytest.mark.parametrize("price", ["-1", "NaN", "Infinity", "1000000"])
def test_set_model_price_refuses_a_price_out_of_range_naming_the_field(service, field, price):
    with pytest.raises(errors.InvalidParameterValue, match=field):
        service.rpc("set_model_price", provider="acme", model="m1",
                    effective_from="2025-03-01T00:00:00+00:00", **{field: price})
