"""The PostgreSQL servers the suite can run against.

- ``local`` (default): a throwaway cluster this process starts and removes.
- ``DATABASE_URL``: an existing server, e.g. ``supabase start`` (port 54322). Its real
  ``auth`` schema is used and the shim is skipped.
- ``LLM_TEST_BACKEND=docker``: the ``supabase/postgres`` image through testcontainers,
  when a Docker engine is reachable.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator
from urllib.parse import urlsplit, urlunsplit

from .cluster import throwaway_cluster

SUPABASE_IMAGE = os.environ.get("SUPABASE_POSTGRES_IMAGE", "supabase/postgres:15.8.1.085")


class BackendUnavailable(RuntimeError):
    """The selected backend cannot run here; the message says why."""


@dataclass(frozen=True)
class Server:
    """Where the suite's databases live.

    ``url(db)`` connects as ``postgres``, which on hosted Supabase (and on the local cluster) is
    NOT a superuser: it creates the databases, applies the package and owns its objects.
    ``admin_url(db)`` connects as the bootstrap superuser ``supabase_admin`` (the Supabase shim,
    raw access in tests); on a server given by ``DATABASE_URL`` it is ``DATABASE_ADMIN_URL``,
    or ``DATABASE_URL`` itself when that is not set.
    """

    kind: str
    base_url: str
    admin_base_url: str | None = None

    def url(self, dbname: str) -> str:
        parts = urlsplit(self.base_url)
        return urlunsplit(parts._replace(path=f"/{dbname}"))

    def admin_url(self, dbname: str) -> str:
        parts = urlsplit(self.admin_base_url or self.base_url)
        return urlunsplit(parts._replace(path=f"/{dbname}"))

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        return urlsplit(self.base_url).port or 5432

    @property
    def user(self) -> str:
        return urlsplit(self.base_url).username or "postgres"

    @property
    def password(self) -> str | None:
        return urlsplit(self.base_url).password

    @property
    def maintenance_db(self) -> str:
        return urlsplit(self.base_url).path.lstrip("/") or "postgres"


def selected_backend() -> str:
    if os.environ.get("LLM_TEST_BACKEND"):
        return os.environ["LLM_TEST_BACKEND"]
    return "url" if os.environ.get("DATABASE_URL") else "local"


def docker_engine_reachable() -> tuple[bool, str]:
    try:
        import docker  # installed with testcontainers

        docker.from_env().ping()
        return True, ""
    except Exception as exc:  # any failure means "no engine here"
        return False, f"no Docker engine reachable ({exc.__class__.__name__}: {exc})"


@contextmanager
def server() -> Iterator[Server]:
    kind = selected_backend()
    if kind == "local":
        cluster = throwaway_cluster()
        try:
            yield Server("local", cluster.url("postgres"), cluster.admin_url("postgres"))
        finally:
            cluster.destroy()
    elif kind == "url":
        url = os.environ.get("DATABASE_URL")
        if not url:
            raise BackendUnavailable("LLM_TEST_BACKEND=url needs DATABASE_URL")
        yield Server("url", url, os.environ.get("DATABASE_ADMIN_URL"))
    elif kind == "docker":
        ok, why = docker_engine_reachable()
        if not ok:
            raise BackendUnavailable(f"testcontainers backend skipped: {why}")
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer(
            SUPABASE_IMAGE, username="postgres", password="postgres", dbname="postgres"
        ) as container:
            url = container.get_connection_url(driver=None)
            admin = urlunsplit(urlsplit(url)._replace(
                netloc=urlsplit(url).netloc.replace("postgres:", "supabase_admin:", 1)))
            yield Server("docker", url, admin)
    else:
        raise BackendUnavailable(f"unknown LLM_TEST_BACKEND {kind!r} (local, url or docker)")
