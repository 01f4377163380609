"""Migrations apply as `supabase db push` does; the bundle on top of them is harmless."""

import psycopg

from conftest import _janitor
from harness import catalog, migrate, sources


def test_every_migration_is_recorded_like_supabase_db_push(superuser):
    rows = superuser.execute(
        "select version, name from supabase_migrations.schema_migrations order by version"
    ).fetchall()
    assert rows == [(m.version, m.name) for m in migrate.migrations()]


def test_second_push_applies_nothing(db_url):
    assert migrate.apply_migrations(db_url) == []


def test_bundle_on_top_of_the_migrations_changes_nothing(fresh_db):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("select llm.set_setting('period_timezone', '\"Europe/Paris\"')")
    before = catalog.snapshot(fresh_db)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("set client_min_messages = warning")
        conn.execute(sources.bundle_text())
        conn.execute(sources.bundle_text())
    after = catalog.snapshot(fresh_db)
    assert catalog.diff(before, after) == []
    # a value an admin changed survives the re-run
    assert ("period_timezone", "timezone", "Europe/Paris", "UTC") in [
        r[:4] for r in after["settings"]]


def test_bundle_is_one_transaction(server, tmp_path):
    text = sources.bundle_text()
    assert text.count("\nbegin;\n") == 1 and text.rstrip().endswith("commit;")
    name = f"bundle_fail_{tmp_path.name[-12:]}".lower()
    _janitor(server, name).init()
    try:
        url = server.url(name)
        migrate.apply_shim(server.admin_url(name))
        broken = text.replace("\ncommit;\n", "\nselect 1 / 0;\ncommit;\n")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("set client_min_messages = warning")
            try:
                conn.execute(broken)
            except psycopg.errors.DivisionByZero:
                conn.execute("rollback")
            assert conn.execute("select to_regnamespace('llm')").fetchone()[0] is None
    finally:
        _janitor(server, name).drop()


def test_migrations_apply_without_pg_cron_and_schedule_with_it(db_url, cron_db):
    with psycopg.connect(db_url) as conn:
        assert conn.execute(
            "select count(*) from pg_extension where extname = 'pg_cron'").fetchone()[0] == 0
    with psycopg.connect(cron_db) as conn:
        assert conn.execute(
            "select count(*) from pg_extension where extname = 'pg_cron'").fetchone()[0] == 1


def test_migration_file_names_follow_supabase_convention():
    names = [m.path.name for m in migrate.migrations()]
    assert names == sorted(names) and len(set(m.version for m in migrate.migrations())) == len(names)
