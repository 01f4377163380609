"""A local PostgreSQL 15 cluster for development and tests.

The cluster has pg_cron preloaded (``cron.database_name`` = ``postgres``) and pgvector,
pgTAP and plpgsql_check available. PostgreSQL refuses to run as root, so when this
process is root the server files belong to, and the server runs as, an unprivileged
OS user (``postgres``).

Its roles are those of a hosted Supabase project: the bootstrap superuser is
``supabase_admin``; ``postgres`` (``OWNER``), which applies the package, is a
non-superuser with createrole, createdb, replication and bypassrls
(``python_tests/sql/supabase_roles.sql``). ``url()`` connects as ``postgres``,
``admin_url()`` as ``supabase_admin``.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PG_MAJOR = "15"
PG_BIN = Path(os.environ.get("PG_BIN", f"/usr/lib/postgresql/{PG_MAJOR}/bin"))
SERVER_USER = os.environ.get("PG_SERVER_OS_USER", "postgres")
SUPERUSER = "supabase_admin"
OWNER = "postgres"
CRON_DATABASE = "postgres"
ROLES_FILE = Path(__file__).resolve().parents[1] / "sql" / "supabase_roles.sql"

# Durability is irrelevant for a throwaway test cluster; these make it several times faster.
FAST_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "checkpoint_timeout": "30min",
}

BASE_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "max_connections": "200",
    "shared_buffers": "256MB",
    "shared_preload_libraries": "'pg_cron'",
    "cron.database_name": f"'{CRON_DATABASE}'",
    "timezone": "'UTC'",
    "log_min_messages": "warning",
    "logging_collector": "off",
}


def running_as_root() -> bool:
    return os.geteuid() == 0


def _as_server_user(cmd: list[str]) -> list[str]:
    if running_as_root():
        return ["runuser", "-u", SERVER_USER, "--", *cmd]
    return cmd


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(_as_server_user(cmd), check=True, text=True, capture_output=True, **kwargs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _reachable_by_server_user(path: Path) -> bool:
    """True when the server OS user can create and enter ``path``."""
    if not running_as_root():
        return True
    probe = path if path.exists() else path.parent
    result = subprocess.run(
        ["runuser", "-u", SERVER_USER, "--", "test", "-x", str(probe)], capture_output=True
    )
    return result.returncode == 0


def default_data_dir(checkout: Path) -> Path:
    """The git-ignored ``.pgdata`` folder of the checkout, or a stable path under /var/tmp
    when the server OS user cannot reach the checkout (e.g. a checkout inside /root)."""
    wanted = checkout / ".pgdata"
    if _reachable_by_server_user(checkout):
        return wanted
    digest = hashlib.sha1(str(checkout.resolve()).encode()).hexdigest()[:12]
    return Path("/var/tmp") / f"llm-pgdata-{digest}"


class LocalCluster:
    """A PostgreSQL cluster in ``data_dir``, started on a free loopback port."""

    def __init__(self, data_dir: Path, fast: bool = False):
        self.data_dir = Path(data_dir)
        self.fast = fast
        self.pgdata = self.data_dir / "pgdata"
        self.port_file = self.data_dir / "port"
        self.log_file = self.data_dir / "server.log"

    # -- state ---------------------------------------------------------------------------
    @property
    def initialized(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists()

    @property
    def port(self) -> int | None:
        try:
            return int(self.port_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def is_running(self) -> bool:
        if not self.initialized:
            return False
        result = subprocess.run(
            _as_server_user([str(PG_BIN / "pg_ctl"), "status", "-D", str(self.pgdata)]),
            capture_output=True,
        )
        return result.returncode == 0

    def url(self, dbname: str = "postgres", user: str = OWNER) -> str:
        """Connects as ``postgres``, the non-superuser owner of the package's objects."""
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    def admin_url(self, dbname: str = "postgres") -> str:
        """Connects as ``supabase_admin``, the bootstrap superuser."""
        return self.url(dbname, SUPERUSER)

    # -- lifecycle -----------------------------------------------------------------------
    def _prepare_dir(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if running_as_root():
            user = pwd.getpwnam(SERVER_USER)
            os.chown(self.data_dir, user.pw_uid, user.pw_gid)
            self.data_dir.chmod(0o755)

    def init(self) -> None:
        if self.initialized:
            return
        if not (PG_BIN / "initdb").exists():
            raise RuntimeError(
                f"PostgreSQL {PG_MAJOR} is not installed ({PG_BIN}); run `make deps` first"
            )
        self._prepare_dir()
        _run([
            str(PG_BIN / "initdb"), "-D", str(self.pgdata), "-U", SUPERUSER, "--auth=trust",
            "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync",
        ])
        settings = dict(BASE_SETTINGS)
        if self.fast:
            settings.update(FAST_SETTINGS)
        conf = "\n# llm harness\n" + "".join(f"{k} = {v}\n" for k, v in settings.items())
        conf_file = self.pgdata / "postgresql.conf"
        _run(["sh", "-c", f"cat >> {conf_file}"], input=conf)

    def start(self) -> None:
        self.init()
        if self.is_running():
            return
        port = free_port()
        _run([
            str(PG_BIN / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(self.pgdata),
            "-l", str(self.log_file),
            "-o", f"-p {port} -k {self.data_dir}",
        ])
        self.port_file.write_text(f"{port}\n")
        self._wait_ready()
        self.create_roles()

    def create_roles(self) -> None:
        """Creates hosted Supabase's roles (idempotent), as supabase_admin."""
        import psycopg

        try:
            conn = psycopg.connect(self.admin_url(), autocommit=True)
        except psycopg.OperationalError as exc:
            if f'role "{SUPERUSER}" does not exist' in str(exc):
                raise RuntimeError(
                    f"{self.data_dir} was created by an older harness whose superuser was "
                    f"postgres; `make clean` removes it (its data is lost)") from exc
            raise
        with conn:
            conn.execute("set client_min_messages = warning")
            conn.execute(ROLES_FILE.read_text())

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            result = subprocess.run(
                [str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                capture_output=True,
            )
            if result.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError(f"PostgreSQL did not become ready; see {self.log_file}")

    def stop(self, mode: str = "fast") -> None:
        if self.is_running():
            _run([str(PG_BIN / "pg_ctl"), "stop", "-w", "-m", mode, "-D", str(self.pgdata)])

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.data_dir, ignore_errors=True)


def throwaway_cluster(fast: bool = True) -> LocalCluster:
    """A cluster in a fresh temporary directory, for one test or benchmark run: ``fast`` turns
    durability off (tests); ``fast=False`` keeps PostgreSQL's defaults (fsync and synchronous
    commit on, as a production server runs), for benchmarks where commit cost matters."""
    base = Path(tempfile.mkdtemp(prefix="llm-pg-"))
    base.chmod(0o755)
    cluster = LocalCluster(base, fast=fast)
    cluster.start()
    return cluster
