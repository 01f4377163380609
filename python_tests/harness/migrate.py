"""Applies the package the way Supabase tooling does.

``apply_migrations`` runs the real Supabase CLI, ``supabase db push --remote=<url> --yes
--include-all`` (the pinned npm package, ``node_modules/.bin/supabase``): each file of
``supabase/migrations`` in version order, each in its own transaction, recorded in
``supabase_migrations.schema_migrations`` so a second run applies only what is new. When the
CLI is not installed or cannot run, a Python applier that does the same takes over and says
so on stderr. ``LLM_MIGRATOR=cli`` or ``LLM_MIGRATOR=python`` forces either.
The paste-in bundle and the release files are built by ``harness.sources``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
CONFIG_FILE = ROOT / "supabase" / "config.toml"
SUPABASE_CLI = Path(os.environ.get("SUPABASE_CLI", ROOT / "node_modules" / ".bin" / "supabase"))
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
    """Installs the Supabase shim unless the server is a real Supabase database. ``url``
    connects as the bootstrap superuser (``Server.admin_url``), as Supabase sets a project up."""
    with psycopg.connect(url, autocommit=True) as conn:
        if not shim_needed(conn):
            return False
        run_sql(conn, SHIM_FILE.read_text())
        return True


class MigrationError(RuntimeError):
    """``supabase db push`` failed; the message holds what it printed."""


class CliUnavailable(RuntimeError):
    """The Supabase CLI is not installed here or does not run."""


def cli_env() -> dict[str, str]:
    # the local cluster has no TLS: say so rather than let the CLI try it first and warn
    return {**os.environ, "PGSSLMODE": os.environ.get("PGSSLMODE", "disable"),
            "SUPABASE_TELEMETRY_DISABLED": "1", "DO_NOT_TRACK": "1"}


@lru_cache(maxsize=1)
def cli_version() -> str:
    """The CLI's version; raises CliUnavailable (with the reason) when it cannot run. Reads
    the installed package instead of running ``--version`` (each start of the CLI costs a
    second); a CLI that is installed but does not start fails the push with its own error,
    unless ``LLM_MIGRATOR=python``."""
    where = SUPABASE_CLI.relative_to(ROOT) if SUPABASE_CLI.is_relative_to(ROOT) else SUPABASE_CLI
    if not SUPABASE_CLI.exists():
        raise CliUnavailable(f"{where} not found (`make deps` installs it with npm)")
    package = SUPABASE_CLI.resolve().parents[1] / "package.json"
    platform = list((ROOT / "node_modules" / "@supabase").glob("cli-*/bin/supabase"))
    if package.exists() and SUPABASE_CLI.parent.name == ".bin":
        if not platform:
            raise CliUnavailable(f"{where} is installed without its platform binary "
                                 "(@supabase/cli-<os>-<arch>: no build for this machine?)")
        return json.loads(package.read_text())["version"]
    try:
        out = subprocess.run([str(SUPABASE_CLI), "--version"], capture_output=True, text=True,
                             timeout=60, env=cli_env())
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CliUnavailable(f"{where} does not run: {exc}") from exc
    if out.returncode != 0:
        raise CliUnavailable(f"{where} --version failed: {(out.stderr or out.stdout).strip()}")
    return out.stdout.strip()


_notified = False


def notice_fallback(reason: str) -> None:
    """Says once per process, on the real stderr (past pytest's capture), that the Python
    applier stands in for the CLI."""
    global _notified
    if not _notified:
        _notified = True
        message = (f"migrations are applied by the Python applier (harness/migrate.py), not "
                   f"`supabase db push`: {reason}")
        print(f"notice: {message}", file=sys.__stderr__, flush=True)
        warnings.warn(message, stacklevel=3)


def migrator() -> str:
    """``cli`` or ``python``: LLM_MIGRATOR when set, else the CLI when it runs here."""
    wanted = os.environ.get("LLM_MIGRATOR", "").lower()
    if wanted == "python":
        notice_fallback("LLM_MIGRATOR=python")
        return "python"
    try:
        cli_version()
        return "cli"
    except CliUnavailable as exc:
        if wanted == "cli":
            raise
        notice_fallback(str(exc))
        return "python"


def run_cli(args: list[str], workdir: Path = ROOT, check: bool = True,
            timeout: int = 600) -> subprocess.CompletedProcess:
    """Runs ``supabase <args>`` with ``--workdir`` (the folder holding ``supabase/``)."""
    cli_version()
    out = subprocess.run([str(SUPABASE_CLI), *args, "--workdir", str(workdir)],
                         capture_output=True, text=True, timeout=timeout, env=cli_env(),
                         cwd=workdir)
    if check and out.returncode != 0:
        raise MigrationError(f"supabase {' '.join(args[:2])} failed ({out.returncode}):\n"
                             f"{out.stdout}\n{out.stderr}".strip())
    return out


def recorded_versions(url: str) -> list[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        if conn.execute("select to_regclass('supabase_migrations.schema_migrations')"
                        ).fetchone()[0] is None:
            return []
        return [r[0] for r in conn.execute(
            "select version from supabase_migrations.schema_migrations order by version")]


def push_with_cli(url: str, files: list[Path]) -> list[str]:
    """``supabase db push`` of exactly ``files`` (a project folder of their own holding
    config.toml and those migrations); returns the names applied."""
    before = set(recorded_versions(url))
    with tempfile.TemporaryDirectory(prefix="llm-push-") as tmp:
        project = Path(tmp)
        (project / "supabase" / "migrations").mkdir(parents=True)
        shutil.copy(CONFIG_FILE, project / "supabase" / "config.toml")
        for path in files:
            shutil.copy(path, project / "supabase" / "migrations" / path.name)
        run_cli(["db", "push", f"--remote={url}", "--yes", "--include-all"], workdir=project)
    after = set(recorded_versions(url))
    return [p.name for p in files if p.name.partition("_")[0] in after - before]


def apply_migrations(url: str, directory: Path = MIGRATIONS_DIR,
                     only: list[str] | None = None) -> list[str]:
    """Applies the migrations not yet recorded (of ``only``, file names, when given), with
    ``supabase db push`` (or the Python applier, see ``migrator``); returns the names applied."""
    files = [m.path for m in migrations(directory) if only is None or m.path.name in only]
    if migrator() == "cli":
        return push_with_cli(url, files)
    return apply_migrations_python(url, directory, only)


def apply_migrations_python(url: str, directory: Path = MIGRATIONS_DIR,
                            only: list[str] | None = None) -> list[str]:
    """The fallback applier: what ``supabase db push`` does, in Python."""
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
