"""Usage metering: the seed APIs key by key, quotas, periods, bad input and who may see what."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import psycopg
import pytest
from psycopg import errors

from harness.client import Api
from usage_checks import fold_all, mismatches

NAMESPACE_DNS = uuid.UUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
UTC = dt.timezone.utc


def uid() -> str:
    return f"user-{uuid.uuid4().hex[:10]}"


def log(service: Api, user: str, **kw) -> int:
    args = {"provider": "openai", "model": "gpt-4o", "user_id": user, "prompt_tokens": 100,
            "completion_tokens": 50, **kw}
    return service.rpc("log_request", **args)


def logged(superuser, user: str) -> int:
    return superuser.execute(
        "select count(*) from llm.request_logs where user_id = llm.user_uuid(%s)", (user,)
    ).fetchone()[0]


# -- record_token_usage -------------------------------------------------------------------

def test_record_token_usage_logs_the_request_and_returns_true(service, superuser):
    user = uid()
    ok = service.rpc(
        "record_token_usage", user_id=user, tokens_consumed=500, provider="openai", model="gpt-4",
        request_metadata={"endpoint": "chat/completions", "prompt_tokens": 100,
                          "completion_tokens": 400},
    )
    assert ok is True
    row = superuser.execute(
        "select user_id, request_type::text, prompt_tokens, completion_tokens, tokens_total,"
        " cost_usd, operation from llm.request_logs where user_id = llm.user_uuid(%s)", (user,)
    ).fetchone()
    # gpt-4 list price: 30 USD in, 60 USD out per million tokens
    assert row == (uuid.uuid5(NAMESPACE_DNS, user), "chat", 100, 400, 500,
                   Decimal("0.027"), "chat/completions")


def test_record_token_usage_without_breakdown_counts_completion_tokens(service, superuser):
    user = uid()
    assert service.rpc("record_token_usage", user_id=user, tokens_consumed=70,
                       provider="openai", model="text-embedding-3-small",
                       request_metadata={"endpoint": "embeddings", "prompt_tokens": 70}) is True
    assert service.rpc("record_token_usage", user_id=user, tokens_consumed=30,
                       provider="acme", model="m1") is True
    rows = superuser.execute(
        "select request_type::text, prompt_tokens, completion_tokens, tokens_total"
        " from llm.request_logs where user_id = llm.user_uuid(%s) order by id", (user,)
    ).fetchall()
    assert rows == [("embedding", 70, 0, 70), ("chat", 0, 30, 30)]


@pytest.mark.parametrize("kw, state, field", [
    ({"tokens_consumed": -1}, "22023", "tokens_consumed"),
    ({"tokens_consumed": None}, "22004", "tokens_consumed"),
    ({"user_id": ""}, "22023", "user_id"),
    ({"user_id": "   "}, "22023", "user_id"),
    ({"user_id": None}, "22023", "user_id"),
    ({"provider": None}, "22004", "provider"),
    ({"request_metadata": ["x"]}, "22023", "request_metadata"),
    ({"request_metadata": {"prompt_tokens": "ten"}}, "22023", "prompt_tokens"),
    ({"request_metadata": {"prompt_tokens": 80, "completion_tokens": 80}}, "22023", "exceed"),
    ({"request_metadata": {"completion_tokens": -5}}, "22023", "completion_tokens"),
])
def test_record_token_usage_rejects_bad_input_and_writes_nothing(service, superuser, kw, state, field):
    user = uid()
    args = {"user_id": user, "tokens_consumed": 100, "provider": "openai", "model": "gpt-4", **kw}
    with pytest.raises(psycopg.Error) as exc:
        service.rpc("record_token_usage", **args)
    assert exc.value.sqlstate == state and field in str(exc.value)
    assert logged(superuser, user) == 0


# -- get_user_token_usage -----------------------------------------------------------------

def test_get_user_token_usage_has_the_seed_shape_and_is_real_time(service, superuser):
    user = uid()
    today = dt.datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    yesterday = today - dt.timedelta(days=1)
    conv = str(uuid.uuid4())
    log(service, user, created_at=today, conversation_id=conv, cost_usd=0.01)
    log(service, user, created_at=today, model="gpt-4o-mini", cost_usd=0.002,
        prompt_tokens=10, completion_tokens=5)
    log(service, user, created_at=yesterday, provider="anthropic", model="claude-sonnet-4",
        cost_usd=0.5, conversation_id=conv, success=False)
    log(service, user, created_at=today - dt.timedelta(days=40), cost_usd=9)  # outside 30 days
    before = service.rpc("get_user_token_usage", user_id=user, days=30)
    fold_all(superuser)
    after = service.rpc("get_user_token_usage", user_id=user, days=30)
    assert before == after
    assert set(after) == {
        "user_id", "days", "period_start", "period_end", "total_tokens", "total_requests",
        "failed_requests", "prompt_tokens", "completion_tokens", "cached_tokens",
        "total_cost_usd", "cache_hits", "saved_tokens", "saved_cost_usd", "last_activity",
        "conversation_count", "agent_ids", "provider_breakdown", "daily_breakdown",
    }
    assert after["user_id"] == str(uuid.uuid5(NAMESPACE_DNS, user))
    assert after["days"] == 30
    assert after["period_end"] == today.date().isoformat()
    assert after["period_start"] == (today.date() - dt.timedelta(days=29)).isoformat()
    assert (after["total_tokens"], after["total_requests"], after["failed_requests"]) == (315, 3, 1)
    assert (after["prompt_tokens"], after["completion_tokens"]) == (210, 105)
    assert Decimal(str(after["total_cost_usd"])) == Decimal("0.512")
    assert after["conversation_count"] == 1
    assert after["provider_breakdown"] == {
        "openai": {
            "gpt-4o": {"tokens": 150, "requests": 1, "cost_usd": 0.01},
            "gpt-4o-mini": {"tokens": 15, "requests": 1, "cost_usd": 0.002},
        },
        "anthropic": {"claude-sonnet-4": {"tokens": 150, "requests": 1, "cost_usd": 0.5}},
    }
    assert after["daily_breakdown"] == [
        {"period_start": today.date().isoformat(), "tokens_consumed": 165, "requests_count": 2,
         "cost_usd": 0.012},
        {"period_start": yesterday.date().isoformat(), "tokens_consumed": 150,
         "requests_count": 1, "cost_usd": 0.5},
    ]
    assert service.rpc("get_user_token_usage", user_id=user, days=90)["total_tokens"] == 465


def test_get_user_token_usage_of_a_user_without_usage_is_zero(service):
    usage = service.rpc("get_user_token_usage", user_id=uid(), days=7)
    assert (usage["total_tokens"], usage["total_requests"], usage["provider_breakdown"],
            usage["daily_breakdown"], usage["conversation_count"]) == (0, 0, {}, [], 0)


@pytest.mark.parametrize("days, state", [(0, "22023"), (-3, "22023"), (91, "22023"),
                                         (None, "22004")])
def test_get_user_token_usage_rejects_bad_days(service, days, state):
    with pytest.raises(psycopg.Error) as exc:
        service.rpc("get_user_token_usage", user_id=uid(), days=days)
    assert exc.value.sqlstate == state and "days" in str(exc.value)


def test_cache_hits_count_as_savings_not_usage(service):
    user = uid()
    log(service, user, cache_hit=True)
    usage = service.rpc("get_user_token_usage", user_id=user, days=1)
    assert (usage["total_tokens"], usage["total_requests"], usage["cache_hits"],
            usage["saved_tokens"]) == (0, 1, 1, 150)
    assert usage["saved_cost_usd"] > 0 and usage["total_cost_usd"] == 0


# -- quotas -------------------------------------------------------------------------------

QUOTA_KEYS = {
    "user_id", "quota_period", "is_over_quota", "tokens_used", "quota_limit", "remaining",
    "unlimited", "hard", "quota_source", "period_start", "reset_at", "cost_used_usd",
    "cost_limit_usd", "cost_remaining_usd", "requests_used", "request_limit",
    "requests_remaining", "tokens_reserved", "cost_reserved_usd", "requests_reserved",
}


def test_check_user_quota_without_a_quota_reports_unlimited(service):
    user = uid()
    log(service, user)
    quota = service.rpc("check_user_quota", user_id=user, quota_period="daily")
    assert set(quota) == QUOTA_KEYS
    assert quota["is_over_quota"] is False and quota["unlimited"] is True
    assert (quota["tokens_used"], quota["quota_limit"], quota["remaining"]) == (150, None, None)
    assert quota["requests_used"] == 1 and quota["quota_source"] is None


def test_check_user_quota_counts_up_to_the_limit(service):
    user = uid()
    stored = service.rpc("set_user_quota", user_id=user, quota_period="daily", token_limit=400,
                         cost_limit=1, request_limit=None, hard=False)
    assert (stored["token_limit"], stored["quota_period"], stored["hard"]) == (400, "daily", False)
    log(service, user)
    log(service, user)
    quota = service.rpc("check_user_quota", user_id=user, quota_period="daily")
    assert (quota["is_over_quota"], quota["tokens_used"], quota["quota_limit"],
            quota["remaining"]) == (False, 300, 400, 100)
    assert (quota["quota_source"], quota["hard"], quota["unlimited"]) == ("user", False, False)
    assert quota["cost_limit_usd"] == 1 and quota["request_limit"] is None
    assert quota["requests_remaining"] is None
    now = dt.datetime.now(UTC)
    assert quota["period_start"] == now.date().isoformat()
    assert dt.datetime.fromisoformat(quota["reset_at"]) == dt.datetime.combine(
        now.date() + dt.timedelta(days=1), dt.time(), UTC)
    log(service, user)
    quota = service.rpc("check_user_quota", user_id=user, quota_period="daily")
    assert (quota["is_over_quota"], quota["tokens_used"], quota["remaining"]) == (True, 450, 0)
    # a soft quota is only reported: reserving still works
    assert service.rpc("reserve_quota", user_id=user, tokens=1000, cost_usd=0)


def test_weekly_and_monthly_quotas_read_their_own_periods(service):
    user = uid()
    service.rpc("set_user_quota", user_id=user, quota_period="monthly", token_limit=10_000)
    service.rpc("set_user_quota", user_id=user, quota_period="weekly", token_limit=None,
                request_limit=2)
    log(service, user)
    log(service, user, created_at=dt.datetime.now(UTC) - dt.timedelta(days=40))
    monthly = service.rpc("check_user_quota", user_id=user, quota_period="monthly")
    assert (monthly["tokens_used"], monthly["remaining"]) == (150, 9850)
    assert monthly["period_start"] == dt.date.today().replace(day=1).isoformat()
    weekly = service.rpc("check_user_quota", user_id=user, quota_period="weekly")
    assert (weekly["requests_used"], weekly["request_limit"], weekly["requests_remaining"],
            weekly["quota_limit"]) == (1, 2, 1, None)
    assert dt.date.fromisoformat(weekly["period_start"]).isoweekday() == 1


def test_default_quota_applies_to_everyone_until_a_user_override(fresh_db):
    conn = psycopg.connect(fresh_db, autocommit=True)
    service = Api(conn, "service_role")
    alice, bob = uid(), uid()
    service.rpc("set_user_quota", user_id=None, quota_period="daily", token_limit=1000)
    service.rpc("set_user_quota", user_id=alice, quota_period="daily", token_limit=None)
    assert service.rpc("check_user_quota", user_id=bob)["quota_limit"] == 1000
    assert service.rpc("check_user_quota", user_id=bob)["quota_source"] == "default"
    assert service.rpc("check_user_quota", user_id=alice)["unlimited"] is True
    assert service.rpc("clear_user_quota", user_id=alice, quota_period="daily") is True
    assert service.rpc("clear_user_quota", user_id=alice, quota_period="daily") is False
    assert service.rpc("check_user_quota", user_id=alice)["quota_limit"] == 1000
    conn.close()


@pytest.mark.parametrize("period, state", [("hourly", "22023"), ("Daily", "22023"),
                                           (None, "22004")])
def test_check_user_quota_rejects_unknown_periods(service, period, state):
    with pytest.raises(psycopg.Error) as exc:
        service.rpc("check_user_quota", user_id=uid(), quota_period=period)
    assert exc.value.sqlstate == state and "quota_period" in str(exc.value)


@pytest.mark.parametrize("kw, state, field", [
    ({"token_limit": -1}, "22023", "token_limit"),
    ({"request_limit": -1}, "22023", "request_limit"),
    ({"cost_limit": -0.01}, "22023", "cost_limit"),
    ({"quota_period": "fortnightly"}, "22023", "quota_period"),
    ({"hard": None}, "22004", "hard"),
    ({"user_id": " "}, "22023", "user_id"),
])
def test_set_user_quota_rejects_bad_input_and_writes_nothing(service, superuser, kw, state, field):
    user = uid()
    args = {"user_id": user, "quota_period": "daily", "token_limit": 10, **kw}
    with pytest.raises(psycopg.Error) as exc:
        service.rpc("set_user_quota", **args)
    assert exc.value.sqlstate == state and field in str(exc.value)
    assert superuser.execute(
        "select count(*) from llm.usage_quotas where user_id = llm.user_uuid(%s)", (user,)
    ).fetchone()[0] == 0


# -- periods ------------------------------------------------------------------------------

def _periods(superuser, user: str, source: str) -> set[tuple]:
    return set(superuser.execute(
        f"select period_type, period_start::text, sum(requests)::int from {source}"
        " where user_id = llm.user_uuid(%s) group by 1, 2", (user,)).fetchall())


def test_period_boundaries_in_utc(service, superuser):
    user = uid()
    for at in ("2025-01-31 23:59:59.999+00", "2025-02-01 00:00:00+00",
               "2024-12-31 23:59:59.999+00", "2025-01-05 23:59:59.999+00",
               "2025-01-06 00:00:00+00"):
        log(service, user, created_at=at)
    live = _periods(superuser, user, "llm.usage_live")
    fold_all(superuser)
    assert _periods(superuser, user, "llm.usage_rollups") == live == {
        ("daily", "2025-01-31", 1), ("daily", "2025-02-01", 1), ("daily", "2024-12-31", 1),
        ("daily", "2025-01-05", 1), ("daily", "2025-01-06", 1),
        # ISO weeks start on Monday: 2024-12-30 is the Monday of the week of 2025-01-01
        ("weekly", "2025-01-27", 2), ("weekly", "2024-12-30", 2), ("weekly", "2025-01-06", 1),
        ("monthly", "2025-01-01", 3), ("monthly", "2025-02-01", 1), ("monthly", "2024-12-01", 1),
        ("yearly", "2025-01-01", 4), ("yearly", "2024-01-01", 1),
    }


def test_periods_follow_the_period_timezone_setting(fresh_db):
    conn = psycopg.connect(fresh_db, autocommit=True)
    service = Api(conn, "service_role")
    service.rpc("set_setting", key="period_timezone", value="America/New_York")
    user = uid()
    # 04:59:59.999 UTC on 1 March is still 28 February in New York (UTC-5)
    log(service, user, created_at="2026-03-01 04:59:59.999+00")
    log(service, user, created_at="2026-03-01 05:00:00+00")
    live = _periods(conn, user, "llm.usage_live")
    fold_all(conn)
    assert _periods(conn, user, "llm.usage_rollups") == live == {
        ("daily", "2026-02-28", 1), ("daily", "2026-03-01", 1),
        ("weekly", "2026-02-23", 2), ("monthly", "2026-02-01", 1), ("monthly", "2026-03-01", 1),
        ("yearly", "2026-01-01", 2),
    }
    assert mismatches(conn) == []
    conn.close()


def test_quota_checks_bucket_like_the_rollups_where_midnight_is_ambiguous(fresh_db):
    conn = psycopg.connect(fresh_db, autocommit=True)
    service = Api(conn, "service_role")
    # Havana leaves daylight saving time at 01:00 on 3 November 2024, back to 00:00: the hour
    # from midnight happens twice, and 04:30 UTC is already 3 November there
    service.rpc("set_setting", key="period_timezone", value="America/Havana")
    user = uid()
    for at in ("2024-11-03 03:59:59+00", "2024-11-03 04:30:00+00", "2024-11-03 05:30:00+00",
               "2024-11-04 04:59:59+00", "2024-11-04 05:00:00+00"):
        log(service, user, created_at=at)
    live = _periods(conn, user, "llm.usage_live")
    assert {p for p in live if p[0] == "daily"} == {
        ("daily", "2024-11-02", 1), ("daily", "2024-11-03", 3), ("daily", "2024-11-04", 1)}
    totals = {(t, d, conn.execute(
        "select requests::int from llm.usage_totals(llm.user_uuid(%s), %s, %s)", (user, t, d)
    ).fetchone()[0]) for t, d, _ in live}
    assert totals == live
    # a day that does not start a period has no usage of that period type
    assert conn.execute("select requests from llm.usage_totals(llm.user_uuid(%s), 'weekly',"
                        " '2024-11-03')", (user,)).fetchone()[0] == 0
    fold_all(conn)
    assert _periods(conn, user, "llm.usage_rollups") == live
    conn.close()


def test_daily_quota_resets_at_midnight_in_the_period_timezone(fresh_db):
    conn = psycopg.connect(fresh_db, autocommit=True)
    service = Api(conn, "service_role")
    service.rpc("set_setting", key="period_timezone", value="Asia/Tokyo")
    quota = service.rpc("check_user_quota", user_id=uid(), quota_period="daily")
    reset = dt.datetime.fromisoformat(quota["reset_at"]).astimezone(
        dt.timezone(dt.timedelta(hours=9)))
    assert (reset.hour, reset.minute) == (0, 0)
    assert quota["period_start"] == (reset.date() - dt.timedelta(days=1)).isoformat()
    conn.close()


# -- who may call and see what ------------------------------------------------------------

def test_users_read_their_own_usage_and_quota(make_user, as_user, service):
    alice = make_user()
    log(service, str(alice.id))
    me = as_user(alice)
    assert me.rpc("get_user_token_usage", days=1)["total_tokens"] == 150
    assert me.rpc("get_user_token_usage", user_id=str(alice.id), days=1)["total_requests"] == 1
    assert me.rpc("check_user_quota", quota_period="daily")["tokens_used"] == 150


def test_users_cannot_read_other_users_usage(make_user, as_user, service):
    alice, bob = make_user(), make_user()
    log(service, str(bob.id))
    for fn, args in [("get_user_token_usage", {"days": 1}), ("check_user_quota", {})]:
        with pytest.raises(errors.InsufficientPrivilege):
            as_user(alice).rpc(fn, user_id=str(bob.id), **args)


def test_admins_read_any_users_usage(admin, service):
    user = uid()
    log(service, user)
    assert admin.rpc("get_user_token_usage", user_id=user, days=1)["total_tokens"] == 150
    assert admin.rpc("check_user_quota", user_id=user)["tokens_used"] == 150


@pytest.mark.parametrize("fn, args", [
    ("set_user_quota", {"user_id": None, "quota_period": "daily", "token_limit": 1}),
    ("clear_user_quota", {"user_id": None, "quota_period": "daily"}),
    ("fold_usage", {}),
    ("usage_report", {}),
    ("aggregate_user_token_usage", {"p_user_id": str(uuid.uuid4()),
                                    "p_period_start": "2026-01-01T00:00:00Z",
                                    "p_period_end": "2026-01-02T00:00:00Z",
                                    "p_period_type": "daily"}),
    ("start_usage_backfill", {"from_day": "2026-01-01", "to_day": "2026-01-02"}),
    ("run_usage_backfill", {}),
    ("sweep_quota_reservations", {}),
    ("apply_usage_rollup_retention", {}),
    ("record_token_usage", {"user_id": None, "tokens_consumed": 1, "provider": "p", "model": "m"}),
    ("reserve_quota", {"user_id": None, "tokens": 1}),
    ("release_reservation", {"reservation_id": str(uuid.uuid4())}),
    ("import_legacy_usage", {"messages": []}),
])
def test_users_may_not_call_admin_and_backend_functions(make_user, as_user, fn, args):
    with pytest.raises(errors.InsufficientPrivilege):
        as_user(make_user()).rpc(fn, **args)


@pytest.mark.parametrize("fn, args", [
    ("get_user_token_usage", {"user_id": "x", "days": 1}),
    ("check_user_quota", {"user_id": "x"}),
    ("record_token_usage", {"user_id": "x", "tokens_consumed": 1, "provider": "p", "model": "m"}),
    ("reserve_quota", {"user_id": "x", "tokens": 1}),
    ("set_user_quota", {"user_id": "x", "quota_period": "daily"}),
    ("usage_report", {}),
])
def test_anon_is_denied(anon, fn, args):
    with pytest.raises(errors.InsufficientPrivilege):
        anon.rpc(fn, **args)


@pytest.mark.parametrize("relation", [
    "usage_rollups", "usage_rollup_members", "usage_quotas", "quota_reservations",
    "usage_backfills", "usage_live", "usage_members_live", "daily_usage_summary",
    "user_token_usage", "user_usage_stats",
])
def test_anon_reads_no_usage_relation(anon, relation):
    with pytest.raises(errors.InsufficientPrivilege):
        anon.sql(f"select * from llm.{relation}")


@pytest.fixture(scope="module")
def two_users(db_url):
    """Alice and Bob, each with usage (a conversation and an agent), a quota and a reservation."""
    from conftest import create_user

    conn = psycopg.connect(db_url, autocommit=True)
    alice, bob = create_user(conn), create_user(conn)
    service = Api(conn, "service_role")
    for user in (alice, bob):
        log(service, str(user.id), conversation_id=str(uuid.uuid4()), agent_id=str(uuid.uuid4()))
        service.rpc("set_user_quota", user_id=str(user.id), quota_period="monthly",
                    token_limit=5000)
        service.rpc("reserve_quota", user_id=str(user.id), tokens=0)
    fold_all(conn)
    for user in (alice, bob):
        log(service, str(user.id))  # still in the journal
    yield alice, bob
    conn.close()


SELECTS = {
    "usage_rollups": 4, "usage_rollup_members": 8, "usage_quotas": 1, "quota_reservations": 1,
    "usage_live": 8, "usage_members_live": 8, "daily_usage_summary": 1, "user_token_usage": 4,
    "user_usage_stats": 4,
}


@pytest.mark.parametrize("relation", sorted(SELECTS))
def test_users_select_only_their_own_rows(two_users, as_user, relation):
    alice, bob = two_users
    rows = as_user(alice).sql(f"select * from llm.{relation}")
    if relation != "daily_usage_summary":
        assert {r["user_id"] for r in rows} == {alice.id}
    assert len(rows) >= 1
    if relation in ("usage_rollups", "usage_rollup_members", "usage_quotas",
                    "quota_reservations"):
        assert as_user(alice).sql(
            f"select * from llm.{relation} where user_id = %s", (bob.id,)) == []


def test_users_see_the_default_quota_but_not_backfills(two_users, as_user, admin, service):
    alice, _ = two_users
    service.rpc("start_usage_backfill", from_day="2026-01-01", to_day="2026-01-01")
    assert as_user(alice).sql("select * from llm.usage_backfills") == []
    assert len(admin.sql("select * from llm.usage_backfills")) >= 1


def test_admins_select_every_users_rows(two_users, admin):
    alice, bob = two_users
    for relation in ("usage_rollups", "usage_quotas", "quota_reservations", "user_token_usage"):
        users = {r["user_id"] for r in admin.sql(f"select user_id from llm.{relation}")}
        assert {alice.id, bob.id} <= users


WRITES = {
    "insert": "insert into llm.{t} default values",
    "update": "update llm.{t} set {c} = {c}",
    "delete": "delete from llm.{t}",
}
TABLES = {
    "usage_rollups": "requests", "usage_rollup_members": "member_id", "usage_quotas": "hard",
    "quota_reservations": "tokens", "usage_backfills": "status",
}


@pytest.mark.parametrize("table", sorted(TABLES))
@pytest.mark.parametrize("operation", sorted(WRITES))
def test_tables_are_written_only_through_functions(two_users, as_user, admin, service, table,
                                                   operation):
    alice, _ = two_users
    query = WRITES[operation].format(t=table, c=TABLES[table])
    for api in (as_user(alice), admin, service):
        with pytest.raises(errors.InsufficientPrivilege):
            api.sql(query)


def test_usage_is_exact_after_all_of_the_above(superuser):
    assert mismatches(superuser) == []


# -- the fold's writes ---------------------------------------------------------------------

def test_the_fold_updates_rollup_rows_in_place(fresh_db, connect):
    db = connect(fresh_db)
    service = Api(connect(fresh_db), "service_role")
    batch = [{"provider": "openai", "model": "gpt-4o", "user_id": f"in-place-{n}",
              "prompt_tokens": 1} for n in range(50)]

    def updates() -> tuple[int, int]:
        """(updates, of which on the row's own page) of llm.usage_rollups so far."""
        db.execute("select pg_stat_force_next_flush()")  # this session's, when it goes idle
        db.execute("select pg_stat_clear_snapshot()")
        return db.execute("select n_tup_upd, n_tup_hot_upd from pg_stat_user_tables"
                          " where relid = 'llm.usage_rollups'::regclass").fetchone()

    service.rpc("log_requests", requests=batch)
    fold_all(db)  # 200 rollup rows made: 50 users in 4 periods
    before = updates()
    for _ in range(3):
        service.rpc("log_requests", requests=batch)
        fold_all(db)
    upd, hot = (a - b for a, b in zip(updates(), before))
    # every update is heap-only: no new index entry, the page keeps room for the next one
    assert (upd, hot) == (600, 600)
    assert mismatches(db) == []
