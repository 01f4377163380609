"""The shim behaves like Supabase under PostgREST-style impersonation."""

import json

from harness.client import Api


def test_auth_helpers_read_the_request_claims(make_user, as_user):
    user = make_user(email="shim@example.test")
    row = as_user(user).sql(
        "select auth.uid() as uid, auth.role() as role, auth.email() as email,"
        " auth.jwt() as jwt, current_user as db_role"
    )[0]
    assert row["uid"] == user.id
    assert row["role"] == "authenticated"
    assert row["email"] == "shim@example.test"
    assert row["jwt"]["sub"] == str(user.id)
    assert row["jwt"]["app_metadata"]["provider"] == "email"
    assert row["db_role"] == "authenticated"


def test_claims_and_role_are_empty_after_the_transaction(make_user, as_user):
    api = as_user(make_user())
    api.sql("select 1")
    # back on the bare authenticator login, which may not even use schema auth
    row = api.conn.execute(
        "select nullif(current_setting('request.jwt.claims', true), ''),"
        " current_user::text, has_schema_privilege('auth', 'usage')"
    ).fetchone()
    assert row == (None, "authenticator", False)


def test_service_role_and_anon_claims(service, anon):
    assert service.one("select auth.role()") == "service_role"
    assert service.one("select current_user::text") == "service_role"
    assert anon.one("select auth.uid()") is None
    assert anon.one("select auth.role()") == "anon"


def test_legacy_claim_settings_are_honoured(connect, make_user):
    user = make_user()
    conn = connect()
    with conn.transaction():
        conn.execute("select set_config('request.jwt.claim.sub', %s, true)", (str(user.id),))
        conn.execute("select set_config('request.jwt.claim.role', 'authenticated', true)")
        assert conn.execute("select auth.uid(), auth.role()").fetchone() == (
            user.id, "authenticated")


def test_service_role_bypasses_rls_and_api_roles_exist(superuser):
    roles = dict(superuser.execute(
        "select rolname, rolbypassrls from pg_roles"
        " where rolname in ('anon', 'authenticated', 'service_role', 'authenticator')"
    ).fetchall())
    assert roles == {"anon": False, "authenticated": False, "service_role": True,
                     "authenticator": False}


def test_realtime_publication_exists(superuser):
    assert superuser.execute(
        "select count(*) from pg_publication where pubname = 'supabase_realtime'"
    ).fetchone()[0] == 1


def test_api_rpc_binds_named_arguments_like_postgrest(connect, make_user):
    api = Api(connect(), "authenticated", make_user().claims())
    assert str(api.rpc("user_uuid", identifier="user-123")) == (
        "3a1b8473-3492-5076-98f9-b2dfa6d37933")
    assert json.loads(json.dumps(api.rpc("is_admin"))) is False
