"""The real Supabase CLI against the test cluster: `db push` records migrations as the Python
applier does, `migration list` reads them back, and the committed TypeScript types are what
`supabase gen types typescript` generates from the migrations."""

import psycopg
import pytest

from conftest import _janitor
from harness import dblint, migrate


@pytest.fixture(scope="module")
def cli():
    if migrate.migrator() != "cli":
        pytest.skip("the Supabase CLI is not available here (`make deps` installs it)")
    return migrate.cli_version()


def records(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select version, name, cardinality(statements) > 0"
            " from supabase_migrations.schema_migrations order by version").fetchall()


def test_the_cli_is_the_pinned_version(cli):
    import json

    pinned = json.loads((migrate.ROOT / "package.json").read_text())["devDependencies"]["supabase"]
    assert cli == pinned


def test_db_push_and_the_python_applier_record_the_same_rows(cli, server, db_url, tmp_path):
    name = f"python_applier_{tmp_path.name[-8:]}".lower()
    _janitor(server, name).init()
    try:
        migrate.apply_shim(server.admin_url(name))
        url = server.url(name)
        assert migrate.apply_migrations_python(url) == [m.path.name for m in migrate.migrations()]
        assert records(url) == records(db_url) == [
            (m.version, m.name, True) for m in migrate.migrations()]
    finally:
        _janitor(server, name).drop()


def test_migration_list_shows_every_migration_applied(cli, db_url):
    out = migrate.run_cli(["migration", "list", f"--remote={db_url}"])
    for m in migrate.migrations():
        assert f"`{m.version}` | `{m.version}`" in out.stdout, out.stdout


def test_pushing_only_some_files_applies_only_those(cli, server, tmp_path):
    name = f"push_only_{tmp_path.name[-8:]}".lower()
    _janitor(server, name).init()
    try:
        migrate.apply_shim(server.admin_url(name))
        url = server.url(name)
        first = [m.path.name for m in migrate.migrations()][:2]
        assert migrate.apply_migrations(url, only=first) == first
        assert [r[0] for r in records(url)] == [n.partition("_")[0] for n in first]
    finally:
        _janitor(server, name).drop()


def test_generated_types_are_current(cli, db_url):
    """supabase/types/database.types.ts is what `supabase gen types typescript -s llm` makes
    of the migrations; `make types` regenerates it."""
    assert dblint.TYPES_FILE.exists(), "run `make types`"
    assert dblint.generate_types(db_url) == dblint.TYPES_FILE.read_text(), (
        "supabase/types/database.types.ts is stale: run `make types` and commit it")
    # nothing in them depends on the day: the request log's daily partitions are private
    assert "request_logs_p2" not in dblint.TYPES_FILE.read_text()


def test_db_reset_rebuilds_the_database_from_the_migrations_and_seeds(cli, server, tmp_path):
    """`supabase db reset` against the local cluster, as postgres: it drops what the project
    created (the package's schemas, vector), applies every migration and loads the seeds."""
    name = f"db_reset_{tmp_path.name[-8:]}".lower()
    _janitor(server, name).init()
    try:
        migrate.apply_shim(server.admin_url(name))
        url = server.url(name)
        migrate.apply_migrations(url)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("create table llm.stray (id int)")  # gone after the reset
        out = migrate.run_cli(["db", "reset", f"--remote={url}", "--yes"], check=False)
        assert out.returncode == 0, out.stdout + out.stderr
        with psycopg.connect(url) as conn:
            assert conn.execute("select to_regclass('llm.stray')").fetchone()[0] is None
            assert records(url) == [(m.version, m.name, True) for m in migrate.migrations()]
            # the demo seeds loaded
            assert conn.execute("select count(*) from llm.conversations").fetchone()[0] > 0
    finally:
        _janitor(server, name).drop()


def test_the_advisors_report_no_warning(cli, db_url):
    """`supabase db advisors --fail-on warn` passes: what the dashboard's Security and
    Performance Advisors show on a fresh install is information only."""
    code, results = dblint.advisors(db_url, "warn")
    assert [(r["level"], r["name"], r["detail"]) for r in results
            if r["level"] not in ("INFO",)] == []
    assert code == 0
