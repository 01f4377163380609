"""Core: user identifiers, settings, package admins, caller checks, jobs, plpgsql_check."""

import uuid

import psycopg
import pytest
from psycopg import errors

from harness import dblint
from harness.client import Api

NAMESPACE_DNS = uuid.UUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8")


# -- llm.user_uuid ------------------------------------------------------------------------

@pytest.mark.parametrize("identifier", ["user-123", "test-user", "test_123", "ünïcødé 用户", " x "])
def test_user_uuid_is_uuid5_in_the_dns_namespace(service, identifier):
    assert service.rpc("user_uuid", identifier=identifier) == uuid.uuid5(NAMESPACE_DNS, identifier)


def test_user_uuid_is_stable_across_calls_and_connections(service, connect):
    other = Api(connect(), "service_role")
    assert service.rpc("user_uuid", identifier="user-42") == other.rpc(
        "user_uuid", identifier="user-42")


def test_user_uuid_passes_uuids_through(service):
    u = uuid.uuid4()
    assert service.rpc("user_uuid", identifier=str(u)) == u
    assert service.rpc("user_uuid", identifier=str(u).upper()) == u


@pytest.mark.parametrize("bad", [None, "", "   ", "\t\n"])
def test_user_uuid_rejects_null_and_blank(service, bad):
    with pytest.raises(errors.InvalidParameterValue) as exc:
        service.sql("select llm.user_uuid(%s::text)", (bad,))
    assert exc.value.sqlstate == "22023"
    assert "user_id" in str(exc.value)


def test_user_uuid_remembers_the_original_identifier(service, superuser):
    u = service.rpc("user_uuid", identifier="remember-me")
    assert service.rpc("user_label", p_user_id=str(u)) == "remember-me"
    assert superuser.execute(
        "select identifier from llm.user_aliases where user_id = %s", (u,)).fetchone() == (
        "remember-me",)
    plain = uuid.uuid4()
    assert service.rpc("user_label", p_user_id=str(plain)) == str(plain)


def test_user_uuid_works_in_a_read_only_transaction(connect):
    conn = connect()
    with conn.transaction():
        conn.execute("set transaction read only")
        conn.execute("select set_config('role', 'service_role', true)")
        got = conn.execute("select llm.user_uuid('read-only-user')").fetchone()[0]
    assert got == uuid.uuid5(NAMESPACE_DNS, "read-only-user")


def test_user_uuid_is_denied_to_anon(anon):
    with pytest.raises(errors.InsufficientPrivilege):
        anon.rpc("user_uuid", identifier="x")


# -- settings -----------------------------------------------------------------------------

def test_admins_read_settings_and_users_do_not(admin, make_user, as_user):
    keys = {r["key"] for r in admin.sql("select key from llm.settings")}
    assert {"admin_claim", "period_timezone"} <= keys
    assert as_user(make_user()).sql("select key from llm.settings") == []


def test_setting_functions_read_as_the_table_does(admin, service, make_user, as_user, anon):
    """llm.setting()/setting_text() show what RLS on llm.settings shows: admins and backends
    read values, other callers get 42501 rather than a way around the policy."""
    assert admin.rpc("setting", p_key="admin_claim") == "llm_admin"
    assert service.rpc("setting_text", p_key="period_timezone") == "UTC"
    user = as_user(make_user())
    for function in ("setting", "setting_text"):
        with pytest.raises(errors.InsufficientPrivilege) as exc:
            user.rpc(function, p_key="admin_claim")
        assert exc.value.http_status == 403
        with pytest.raises(errors.InsufficientPrivilege):
            anon.rpc(function, p_key="admin_claim")


def test_set_setting_checks_type_and_name(fresh_db):
    conn = psycopg.connect(fresh_db, autocommit=True)
    service = Api(conn, "service_role")
    assert service.rpc("set_setting", key="period_timezone", value="Asia/Tokyo") == "Asia/Tokyo"
    assert service.rpc("setting", p_key="period_timezone") == "Asia/Tokyo"
    with pytest.raises(errors.InvalidParameterValue) as exc:
        service.rpc("set_setting", key="period_timezone", value=5)
    assert "period_timezone" in str(exc.value) and exc.value.sqlstate == "22023"
    with pytest.raises(errors.UndefinedObject) as exc:
        service.rpc("set_setting", key="no_such_setting", value="x")
    assert exc.value.sqlstate == "42704"
    assert service.rpc("reset_setting", key="period_timezone") == "UTC"
    conn.close()


def test_setting_values_are_typed(superuser):
    def check(kind, value):
        superuser.execute("select llm.check_setting_value('k', %s, %s::jsonb)", (kind, value))

    for kind, good in [("integer", "5"), ("numeric", "1.5"), ("boolean", "true"),
                       ("interval", '"3 days"'), ("cron", '"*/5 * * * *"'),
                       ("cron", '"@daily"'), ("jsonb", '{"a": 1}')]:
        check(kind, good)
    for kind, bad in [("integer", "1.5"), ("integer", '"5"'), ("boolean", '"yes"'),
                      ("interval", '"soon"'), ("cron", '"every day"'), ("text", "null")]:
        with pytest.raises(errors.InvalidParameterValue):
            check(kind, bad)


def test_users_cannot_change_settings(make_user, as_user, anon):
    with pytest.raises(errors.InsufficientPrivilege):
        as_user(make_user()).rpc("set_setting", key="period_timezone", value="UTC")
    with pytest.raises(errors.InsufficientPrivilege):
        anon.rpc("set_setting", key="period_timezone", value="UTC")


def test_settings_table_is_not_writable_directly(service, admin):
    for api in (service, admin):
        with pytest.raises(errors.InsufficientPrivilege):
            api.sql("update llm.settings set value = '\"x\"' where key = 'admin_claim'")


def test_unknown_setting_read_is_an_error(service):
    with pytest.raises(errors.UndefinedObject):
        service.rpc("setting", p_key="typo")


# -- admins and callers -------------------------------------------------------------------

def test_is_admin_from_table_or_claim(admin, make_user, as_user, service, anon):
    assert admin.rpc("is_admin") is True
    assert as_user(make_user()).rpc("is_admin") is False
    assert as_user(make_user(app_metadata={"llm_admin": True})).rpc("is_admin") is True
    assert as_user(make_user(app_metadata={"llm_admin": "true"})).rpc("is_admin") is False
    assert service.rpc("is_admin") is False  # the service role is a backend, not a user


def test_admin_claim_name_is_a_setting(fresh_db):
    conn = psycopg.connect(fresh_db, autocommit=True)
    from conftest import create_user

    user = create_user(conn, app_metadata={"is_staff": True})
    Api(conn, "service_role").rpc("set_setting", key="admin_claim", value="is_staff")
    assert Api(conn, "authenticated", user.claims()).rpc("is_admin") is True
    conn.close()


def test_admin_rows_are_managed_by_the_service_role(service, make_user, as_user, admin):
    user = make_user()
    service.sql("insert into llm.admins (user_id) values (%s)", (user.id,))
    assert as_user(user).rpc("is_admin") is True
    with pytest.raises(errors.InsufficientPrivilege):
        admin.sql("insert into llm.admins (user_id) values (%s)", (make_user().id,))
    assert len(as_user(make_user()).sql("select * from llm.admins")) == 0
    assert len(admin.sql("select * from llm.admins")) >= 2


def test_deleting_the_auth_user_removes_admin_rights(service, make_user, superuser):
    user = make_user()
    service.sql("insert into llm.admins (user_id) values (%s)", (user.id,))
    superuser.execute("delete from auth.users where id = %s", (user.id,))
    assert superuser.execute(
        "select count(*) from llm.admins where user_id = %s", (user.id,)).fetchone()[0] == 0


def test_resolve_user_for_each_caller(service, make_user, as_user, admin, anon, admin_user):
    alice, bob = make_user(), make_user()
    call = "select llm.resolve_user(%s, %s)"
    assert as_user(alice).one(call, (None, False)) == alice.id
    assert as_user(alice).one(call, (str(alice.id), False)) == alice.id
    with pytest.raises(errors.InsufficientPrivilege) as exc:
        as_user(alice).one(call, (str(bob.id), True))
    assert str(bob.id) in str(exc.value)
    assert admin.one(call, (str(bob.id), True)) == bob.id
    with pytest.raises(errors.InsufficientPrivilege):
        admin.one(call, (str(bob.id), False))
    assert service.one(call, ("user-123", False)) == uuid.uuid5(NAMESPACE_DNS, "user-123")
    with pytest.raises(errors.InvalidParameterValue):
        service.one(call, (None, False))
    with pytest.raises(errors.InsufficientPrivilege):
        anon.sql("select llm.resolve_user(null, false)")


# -- jobs ---------------------------------------------------------------------------------

JOB = ("llm_test_job", "test_job_schedule", "select 1", "a job used by the tests")


def _define_test_job(conn):
    conn.execute("select llm.define_setting('test_job_schedule', 'cron', '\"*/5 * * * *\"', 't')")
    conn.execute("select llm.register_job(%s, %s, %s, %s)", JOB)


def test_jobs_are_scheduled_in_pg_cron_by_name_and_idempotently(cron_db):
    with psycopg.connect(cron_db) as conn:  # one transaction, rolled back at the end
        _define_test_job(conn)
        _define_test_job(conn)
        rows = conn.execute(
            "select schedule, command from cron.job where jobname = 'llm_test_job'").fetchall()
        assert rows == [("*/5 * * * *", "select 1")]
        conn.execute("select set_config('role', 'service_role', true)")
        conn.execute("select llm.set_setting('test_job_schedule', '\"0 * * * *\"')")
        conn.execute("reset role")
        assert conn.execute(
            "select schedule from cron.job where jobname = 'llm_test_job'").fetchall() == [
            ("0 * * * *",)]
        conn.execute("select llm.set_job_enabled('llm_test_job', false)")
        assert conn.execute(
            "select count(*) from cron.job where jobname = 'llm_test_job'").fetchone()[0] == 0
        conn.rollback()


def test_jobs_are_reported_unscheduled_without_pg_cron(fresh_db):
    with psycopg.connect(fresh_db) as conn:
        _define_test_job(conn)
        rows = conn.execute(
            "select job_name, schedule, scheduled from llm.sync_jobs()"
            " where job_name = 'llm_test_job'").fetchall()
        assert rows == [("llm_test_job", "*/5 * * * *", False)]
        conn.rollback()


def test_unknown_job_is_an_error(service):
    with pytest.raises(errors.UndefinedObject):
        service.rpc("set_job_enabled", job_name="llm_nope", enabled=False)


# -- plpgsql_check ------------------------------------------------------------------------

def test_plpgsql_check_finds_no_errors_or_warnings(db_url, superuser):
    # on Supabase, supautils lets postgres create it; here supabase_admin stands in
    superuser.execute("create extension if not exists plpgsql_check with schema extensions")
    findings = dblint.check(db_url)
    assert findings == [], dblint.format_findings(findings)
