"""The opt-in testcontainers backend: the supabase/postgres image, where Docker exists."""

import psycopg
import pytest

from harness import backends, migrate


@pytest.mark.docker
def test_migrations_apply_on_the_supabase_postgres_image(monkeypatch):
    ok, why = backends.docker_engine_reachable()
    if not ok:
        pytest.skip(f"testcontainers backend: {why}")
    monkeypatch.setenv("LLM_TEST_BACKEND", "docker")
    with backends.server() as srv:
        url = srv.url("postgres")
        assert migrate.apply_shim(url) is False  # the image has a real auth schema
        assert migrate.apply_migrations(url)
        with psycopg.connect(url) as conn:
            assert conn.execute("select count(*) from llm.settings").fetchone()[0] > 0


def test_backend_selection_follows_the_environment(monkeypatch):
    monkeypatch.delenv("LLM_TEST_BACKEND", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert backends.selected_backend() == "local"
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:54322/postgres")
    assert backends.selected_backend() == "url"
    monkeypatch.setenv("LLM_TEST_BACKEND", "docker")
    assert backends.selected_backend() == "docker"


def test_server_urls_point_at_other_databases():
    srv = backends.Server("url", "postgresql://postgres:pw@127.0.0.1:54322/postgres")
    assert srv.url("llm_t") == "postgresql://postgres:pw@127.0.0.1:54322/llm_t"
    assert (srv.host, srv.port, srv.user, srv.password) == ("127.0.0.1", 54322, "postgres", "pw")
