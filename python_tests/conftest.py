"""Shared fixtures: one PostgreSQL server per run, a migrated template database, and a
clone of it per test module (or per test with ``fresh_db``), with PostgREST-style clients.

The roles are hosted Supabase's: ``supabase_admin`` is the only superuser; ``postgres`` is not
one (createrole, createdb, replication, bypassrls), creates the databases and applies the
package, so it owns the package's objects, as in a user's project. The Data API logs in as
``authenticator`` and switches to ``anon``, ``authenticated`` or ``service_role`` per request.

Fixtures most tests need:

- ``service``: the service role (backends), ``anon``: the anonymous key;
- ``make_user(...)``: creates an ``auth.users`` row and returns a ``User``;
- ``as_user(user)``: an ``Api`` that calls as that signed-in user;
- ``admin``: a package admin's ``Api``;
- ``owner``: a raw autocommit connection as ``postgres`` (what the SQL editor, migrations and
  backends with the database password use: the package's owner, not a superuser);
- ``superuser``: a raw autocommit connection as ``supabase_admin`` (raw access for checks and
  set-up that no project role could do; prefer ``owner`` when the point is what users can do);
- ``connect()``: extra connections as ``postgres`` for concurrency tests.

``db_url``, ``fresh_db`` and ``cron_db`` connect as ``postgres``.
"""

from __future__ import annotations

import itertools
import os
import re
import uuid
from typing import Callable, Iterator

import psycopg
import pytest
from psycopg.types.json import Jsonb
from pytest_postgresql.janitor import DatabaseJanitor

from harness import backends, bench, migrate
from harness.client import Api, User, role_url

_clone_counter = itertools.count()


def pytest_report_header(config) -> str:
    how = migrate.migrator()
    if how == "cli":
        return f"migrations: supabase db push (Supabase CLI {migrate.cli_version()}), as postgres"
    return "migrations: the Python applier (fallback: no Supabase CLI), as postgres"


def pytest_sessionfinish(session, exitstatus) -> None:
    # `make bench`: the chart of what the benchmarks reported (dist/bench.png)
    if bench.reported():
        bench.render_chart()


class _Janitor(DatabaseJanitor):
    """Ends only other roles' client sessions before CREATE DATABASE ... TEMPLATE and DROP
    DATABASE: postgres (not a superuser) may not end an autovacuum worker or a superuser's
    session. Both commands end autovacuum workers themselves and wait a few seconds for other
    sessions to go; the tests' superuser sessions are closed by their fixtures, though their
    backends may still be exiting when this runs."""

    @staticmethod
    def _terminate_connection(cur, dbname: str) -> None:
        cur.execute(
            "select pg_terminate_backend(a.pid) from pg_stat_activity as a"
            " join pg_roles as r on r.oid = a.usesysid"
            " where a.datname = %s and a.backend_type = 'client backend' and not r.rolsuper",
            (dbname,),
        )


def _janitor(server: backends.Server, dbname: str, template: str | None = None) -> DatabaseJanitor:
    return _Janitor(
        user=server.user, host=server.host, port=server.port, password=server.password,
        dbname=dbname, template_dbname=template, maintenance_dbname=server.maintenance_db,
    )


@pytest.fixture(scope="session")
def server() -> Iterator[backends.Server]:
    try:
        with backends.server() as srv:
            yield srv
    except backends.BackendUnavailable as exc:
        pytest.skip(str(exc))


def build_migrated_database(server: backends.Server, dbname: str) -> str:
    """Creates ``dbname`` (as ``postgres``) with the Supabase shim (as ``supabase_admin``) and
    every migration applied (as ``postgres``)."""
    _janitor(server, dbname).init()
    migrate.apply_shim(server.admin_url(dbname))
    url = server.url(dbname)
    migrate.apply_migrations(url)
    return url


@pytest.fixture(scope="session")
def template_db(server: backends.Server) -> Iterator[str]:
    name = f"llm_template_{os.getpid()}"
    build_migrated_database(server, name)
    yield name
    _janitor(server, name).drop()


def _clone(server: backends.Server, template: str, label: str) -> tuple[DatabaseJanitor, str]:
    label = re.sub(r"[^a-z0-9]+", "_", label.lower())[-30:]
    name = f"t_{os.getpid()}_{next(_clone_counter)}_{label}"
    janitor = _janitor(server, name, template)
    janitor.init()
    return janitor, server.url(name)


@pytest.fixture(scope="module")
def db_url(server, template_db, request) -> Iterator[str]:
    """A migrated database shared by the tests of one module."""
    janitor, url = _clone(server, template_db, request.module.__name__)
    yield url
    janitor.drop()


@pytest.fixture
def fresh_db(server, template_db, request) -> Iterator[str]:
    """A migrated database of this test's own, for tests that look at global state."""
    janitor, url = _clone(server, template_db, request.node.name)
    yield url
    janitor.drop()


@pytest.fixture(scope="session")
def cron_db(server) -> str:
    """The database pg_cron runs in (``cron.database_name``), migrated; jobs are real here."""
    migrate.apply_shim(server.admin_url(server.maintenance_db))
    url = server.url(server.maintenance_db)
    migrate.apply_migrations(url)
    return url


@pytest.fixture
def connect(db_url) -> Iterator[Callable[..., psycopg.Connection]]:
    """Opens extra autocommit connections to the module database; closes them afterwards."""
    opened: list[psycopg.Connection] = []

    def _connect(url: str | None = None) -> psycopg.Connection:
        conn = psycopg.connect(url or db_url, autocommit=True)
        opened.append(conn)
        return conn

    yield _connect
    for conn in opened:
        conn.close()


def _dbname(url: str) -> str:
    return url.rsplit("/", 1)[1].split("?")[0]


@pytest.fixture
def superuser(connect, server, db_url) -> psycopg.Connection:
    """``supabase_admin`` on the module database: raw access, bypassing every check."""
    return connect(server.admin_url(_dbname(db_url)))


@pytest.fixture
def owner(connect) -> psycopg.Connection:
    """``postgres`` on the module database: the package's owner, not a superuser."""
    return connect()


@pytest.fixture
def api_connect(connect, db_url) -> Callable[..., psycopg.Connection]:
    """Opens a connection as ``authenticator``, as PostgREST does."""
    return lambda url=None: connect(role_url(url or db_url, "authenticator"))


@pytest.fixture
def service(api_connect) -> Api:
    return Api(api_connect(), "service_role")


@pytest.fixture
def anon(api_connect) -> Api:
    return Api(api_connect(), "anon")


def create_user(conn: psycopg.Connection, email: str | None = None,
                app_metadata: dict | None = None) -> User:
    user_id = uuid.uuid4()
    email = email or f"{user_id.hex[:12]}@example.test"
    meta = {"provider": "email", "providers": ["email"], **(app_metadata or {})}
    conn.execute(
        "insert into auth.users (id, email, raw_app_meta_data) values (%s, %s, %s)",
        (user_id, email, Jsonb(meta)),
    )
    return User(user_id, email, app_metadata or {})


@pytest.fixture
def make_user(superuser) -> Callable[..., User]:
    def _make(email: str | None = None, app_metadata: dict | None = None) -> User:
        return create_user(superuser, email, app_metadata)

    return _make


@pytest.fixture
def as_user(api_connect) -> Callable[[User], Api]:
    conn = api_connect()

    def _as(user: User) -> Api:
        return Api(conn, "authenticated", user.claims())

    return _as


@pytest.fixture
def admin_user(make_user, superuser) -> User:
    user = make_user()
    superuser.execute("insert into llm.admins (user_id, note) values (%s, 'test admin')", (user.id,))
    return user


@pytest.fixture
def admin(admin_user, as_user) -> Api:
    return as_user(admin_user)
