"""Applies the package the way Supabase tooling does.

``apply_migrations`` mirrors ``supabase db push``: each file of ``supabase/migrations`` in
version order, each in its own transaction, recorded in
``supabase_migrations.schema_migrations`` so a second run applies only what is new.
The paste-in bundle and the release files are built by ``harness.sources``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS_DIR = ROOT / "supabase" / "migrations"
SHIM_FILE = ROOT / "python_tests" / "sql" / "supabase_shim.sql"
SEED_FILE = ROOT / "supabase" / "seed.sql"
SEEDS_DIR = ROOT / "supabase" / "seeds"

TRACKING_DDL = """
create schema if not exists supabase_migrations;
create table if not exists supabase_migrations.schema_migrations (
    version text not null primary key,
    statements text[],
    name text
);
"""


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text()


def migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found = []
    for path in sorted(directory.glob("*.sql")):
        version, _, name = path.stem.partition("_")
        if not (version.isdigit() and len(version) == 14 and name):
            raise ValueError(f"{path.name}: migration files are named YYYYMMDDHHMMSS_name.sql")
        found.append(Migration(version, name, path))
    return found


def run_sql(conn: psycopg.Connection, sql: str) -> None:
    """Runs a multi-statement SQL text in one transaction."""
    with conn.transaction():
        conn.execute(sql)


def apply_file(url: str, path: Path) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        run_sql(conn, path.read_text())


def shim_needed(conn: psycopg.Connection) -> bool:
    return conn.execute("select to_regclass('auth.users') is null").fetchone()[0]


def apply_shim(url: str) -> bool:
    """Installs the Supabase shim unless the server is a real Supabase database."""
    with psycopg.connect(url, autocommit=True) as conn:
        if not shim_needed(conn):
            return False
        run_sql(conn, SHIM_FILE.read_text())
        return True


def apply_migrations(url: str, directory: Path = MIGRATIONS_DIR,
                     only: list[str] | None = None) -> list[str]:
    """Applies the migrations not yet recorded (of ``only``, file names, when given);
    returns the names applied."""
    applied = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("set client_min_messages = warning")
        run_sql(conn, TRACKING_DDL)
        done = {
            row[0]
            for row in conn.execute("select version from supabase_migrations.schema_migrations")
        }
        for migration in migrations(directory):
            if migration.version in done or (only is not None and migration.path.name not in only):
                continue
            with conn.transaction():
                conn.execute(migration.sql)
                conn.execute(
                    "insert into supabase_migrations.schema_migrations (version, name, statements)"
                    " values (%s, %s, %s)",
                    (migration.version, migration.name, [migration.sql]),
                )
            applied.append(migration.path.name)
    return applied


def sync_jobs(url: str) -> None:
    """Re-points the package's pg_cron jobs at this server (host, port) where it is installed."""
    with psycopg.connect(url, autocommit=True) as conn:
        if conn.execute("select to_regprocedure('llm.sync_jobs()') is not null").fetchone()[0]:
            conn.execute("select count(*) from llm.sync_jobs()")


def seed_files() -> list[Path]:
    """supabase/seed.sql, then supabase/seeds/*.sql: the [db.seed] sql_paths of config.toml."""
    return [SEED_FILE, *sorted(SEEDS_DIR.glob("*.sql"))]


def apply_seed(url: str) -> None:
    for path in seed_files():
        apply_file(url, path)
