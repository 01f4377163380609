"""Hardening of the core: who is a backend, what a user learns about others, bounded work
and bounded shared tables, and settings checked against their declared ranges."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import errors

from harness.client import Api, User

CUSTOM_ROLE = "llm_test_custom_jwt_role"


@pytest.fixture
def custom_role(superuser) -> str:
    """A custom JWT role as Supabase's custom access token hook makes them: it inherits
    authenticated (roles are cluster-wide, so it is created once)."""
    superuser.execute(f"""
        do $$ begin
            if not exists (select from pg_roles where rolname = '{CUSTOM_ROLE}') then
                create role {CUSTOM_ROLE};
            end if;
        end $$""")
    superuser.execute(f"grant authenticated to {CUSTOM_ROLE}")
    # PostgREST switches to it from authenticator, which must be a member (as on Supabase)
    superuser.execute(f"grant {CUSTOM_ROLE} to authenticator")
    return CUSTOM_ROLE


def as_custom(conn, role: str, user: User) -> Api:
    claims = {**user.claims(), "role": role}
    return Api(conn, role, claims)


# -- 7: backends are an allow-list; a custom JWT role is the user it carries ----------------

def test_custom_jwt_role_is_a_signed_in_user_not_a_backend(
        custom_role, make_user, as_user, connect, service):
    alice, mallory = make_user(), make_user()
    cid = as_user(alice).rpc("create_conversation", conversation_id=f"a-{uuid.uuid4().hex[:8]}")
    as_user(alice).rpc("add_message", conversation_id=cid, role="user", content="private")
    api = as_custom(connect(), custom_role, mallory)

    assert api.rpc("is_backend") is False
    assert api.rpc("request_role") == "authenticated"
    # reads only its own rows
    assert api.rpc("get_user_chat_sessions") == []
    with pytest.raises(errors.InsufficientPrivilege):
        api.rpc("get_user_chat_sessions", user_id=str(alice.id))
    # cannot change settings
    with pytest.raises(errors.InsufficientPrivilege):
        api.rpc("set_setting", key="admin_claim", value="x")
    assert service.rpc("setting", p_key="admin_claim") == "llm_admin"
    # cannot add (system) messages to another user's chat: it does not exist for them
    with pytest.raises(errors.NoDataFound):
        api.rpc("add_message", conversation_id=cid, role="system", content="injected")
    assert [m["content"] for m in as_user(alice).rpc("get_messages", conversation_id=cid)] \
        == ["private"]
    # and acts as the user its JWT carries
    own = api.rpc("create_conversation", conversation_id=f"m-{uuid.uuid4().hex[:8]}")
    assert str(api.rpc("get_conversation", conversation_id=own)["user_id"]) == str(mallory.id)


def test_role_not_inheriting_authenticated_is_nobody(superuser, make_user, connect):
    superuser.execute("""
        do $$ begin
            if not exists (select from pg_roles where rolname = 'llm_test_stray_role') then
                create role llm_test_stray_role;
            end if;
        end $$""")
    superuser.execute("grant execute on function llm.request_role(), llm.is_backend()"
                      " to llm_test_stray_role")
    superuser.execute("grant usage on schema llm to llm_test_stray_role")
    superuser.execute("grant llm_test_stray_role to authenticator")
    api = as_custom(connect(), "llm_test_stray_role", make_user())
    assert api.rpc("request_role") == "anon"
    assert api.rpc("is_backend") is False


def test_backends_are_the_service_role_and_the_owners(service, superuser):
    assert service.rpc("is_backend") is True
    assert superuser.execute("select llm.is_backend()").fetchone()[0] is True


# -- 8: user_label tells a user only about themself ----------------------------------------

def test_user_label_does_not_reveal_other_users_identifiers(service, make_user, as_user, admin):
    uid = service.rpc("user_uuid", identifier="alice@corp.example")
    assert service.rpc("user_label", p_user_id=uid) == "alice@corp.example"
    assert admin.rpc("user_label", p_user_id=uid) == "alice@corp.example"
    stranger = as_user(make_user())
    assert stranger.rpc("user_label", p_user_id=uid) == str(uid)


# -- 5: bounded work and bounded shared tables ---------------------------------------------

@pytest.mark.parametrize("p_from, p_to", [
    ("-infinity", "2026-01-01"), ("2026-01-01", "infinity"), ("0001-01-01", "5000-01-01"),
])
def test_usage_cover_refuses_unbounded_ranges(make_user, as_user, p_from, p_to):
    api = as_user(make_user())
    with pytest.raises(errors.InvalidParameterValue) as exc:
        api.rpc("usage_cover", p_from=p_from, p_to=p_to)
    assert "p_from" in str(exc.value) or "p_to" in str(exc.value)


def test_usage_cover_refuses_null_ends(service):
    with pytest.raises(errors.NullValueNotAllowed):
        service.rpc("usage_cover", p_from=None, p_to="2026-01-01")


@pytest.mark.parametrize("from_day, to_day, field", [
    ("-infinity", "2026-01-01", "from_day"), ("2026-01-01", "infinity", "to_day"),
    ("1900-01-01", "2026-01-01", "from_day"),
])
def test_usage_backfill_refuses_unbounded_ranges(service, from_day, to_day, field):
    before = service.one("select count(*) from llm.usage_backfills")
    with pytest.raises(errors.InvalidParameterValue) as exc:
        service.rpc("start_usage_backfill", from_day=from_day, to_day=to_day)
    assert field in str(exc.value)
    assert service.one("select count(*) from llm.usage_backfills") == before


def test_users_cannot_grow_the_alias_table(make_user, as_user, superuser, service):
    api = as_user(make_user())
    before = superuser.execute("select count(*) from llm.user_aliases").fetchone()[0]
    ids = [api.rpc("user_uuid", identifier=f"junk-{i}") for i in range(20)]
    assert len(set(ids)) == 20  # the mapping still works
    assert superuser.execute("select count(*) from llm.user_aliases").fetchone()[0] == before
    # backends still record the identifiers they name
    uid = service.rpc("user_uuid", identifier="backend-user-7")
    assert superuser.execute(
        "select identifier from llm.user_aliases where user_id = %s", (uid,)
    ).fetchone()[0] == "backend-user-7"


# -- 6: settings have declared ranges, checked on write ------------------------------------

@pytest.mark.parametrize("key, value, words", [
    ("quota_reservation_ttl", "-10 minutes", "between 1 second and 1 day"),
    ("deleted_conversation_retention", "-30 days", "between 1 hour and 10 years"),
    ("period_timezone", "Mars/Olympus", "time zone"),
    ("cache_max_entries", -1, "between 1 and 2000000000"),
    ("usage_fold_batch_rows", 0, "between 1 and 1000000"),
    ("conversation_ttl_hours", 3000000000, "between 0 and 87600"),
    ("request_log_retention_days", 10 ** 30, "integer"),
    ("admin_claim", "  ", "blank"),
])
def test_settings_outside_their_range_are_refused(fresh_db, key, value, words):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        service = Api(conn, "service_role")
        before = service.rpc("setting", p_key=key)
        with pytest.raises(errors.InvalidParameterValue) as exc:
            service.rpc("set_setting", key=key, value=value)
        assert key in str(exc.value) and words in str(exc.value)
        assert service.rpc("setting", p_key=key) == before


def test_settings_inside_their_range_are_accepted(fresh_db):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        service = Api(conn, "service_role")
        for key, value in [("quota_reservation_ttl", "1 day"), ("period_timezone", "Asia/Tokyo"),
                           ("cache_max_entries", 1), ("conversation_ttl_hours", 0)]:
            assert service.rpc("set_setting", key=key, value=value) == value


def test_every_numeric_and_interval_setting_declares_its_range(superuser):
    missing = superuser.execute(
        "select key from llm.settings where value_type in ('integer', 'numeric', 'interval')"
        " and (min_value is null or max_value is null) and key !~ '^test_'"
    ).fetchall()
    assert missing == []


def test_redefining_a_setting_restores_a_value_outside_the_new_range(fresh_db):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("select llm.define_setting('test_ranged', 'integer', '5', 't')")
        conn.execute("select llm.set_setting('test_ranged', '50')")
        conn.execute("select llm.define_setting('test_ranged', 'integer', '5', 't', '1', '10')")
        assert conn.execute("select llm.setting('test_ranged')").fetchone()[0] == 5
        conn.execute("select llm.define_setting('test_ranged', 'integer', '5', 't', '1', '10')")
        conn.execute("select llm.set_setting('test_ranged', '7')")
        conn.execute("select llm.define_setting('test_ranged', 'integer', '5', 't', '1', '10')")
        assert conn.execute("select llm.setting('test_ranged')").fetchone()[0] == 7
