"""Command line of the harness, driven by the Makefile: `python -m harness <command>`.

The development database is the embedded cluster in the checkout's `.pgdata` folder,
or the server in DATABASE_URL when that is set.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

import psycopg

from . import dblint, migrate, report, sources
from .cluster import LocalCluster, default_data_dir, throwaway_cluster


def dev_cluster() -> LocalCluster:
    return LocalCluster(default_data_dir(migrate.ROOT))


def dev_url(start: bool = True, admin: bool = False) -> str:
    """The development database as postgres (or, ``admin``, as supabase_admin: DATABASE_ADMIN_URL
    or DATABASE_URL on a server of your own)."""
    if os.environ.get("DATABASE_URL"):
        if admin:
            return os.environ.get("DATABASE_ADMIN_URL") or os.environ["DATABASE_URL"]
        return os.environ["DATABASE_URL"]
    cluster = dev_cluster()
    if start:
        cluster.start()
    elif not cluster.is_running():
        sys.exit("the embedded database is not running; `make db-up` starts it")
    return cluster.admin_url() if admin else cluster.url()


def cmd_db_up(_args) -> None:
    url = dev_url()
    print(f"database ready: {url}")


def cmd_db_down(_args) -> None:
    if os.environ.get("DATABASE_URL"):
        print("DATABASE_URL is set: nothing of ours to stop")
        return
    dev_cluster().stop()
    print("embedded database stopped")


def cmd_db_url(_args) -> None:
    print(dev_url(start=False))


def cmd_migrate(_args) -> None:
    url = dev_url()
    if migrate.apply_shim(dev_url(admin=True)):
        print("installed the Supabase shim (auth schema, extensions, publication) as supabase_admin")
    how = ("supabase db push" if migrate.migrator() == "cli"
           else "the Python applier (the Supabase CLI is not available)")
    print(f"applying migrations as postgres with {how}")
    applied = migrate.apply_migrations(url)
    for name in applied:
        print(f"applied {name}")
    # pg_cron jobs keep the port they were scheduled with: after a restart on another port
    # (or a restore) llm.sync_jobs() schedules them again for this server
    migrate.sync_jobs(url)
    print(f"{len(applied)} new migration(s); {len(migrate.migrations())} in total")


def cmd_seed(_args) -> None:
    url = dev_url()
    migrate.apply_seed(url)
    print("loaded " + ", ".join(str(p.relative_to(migrate.ROOT)) for p in migrate.seed_files()))


def cmd_report(_args) -> None:
    print(report.render(dev_url()))


def cmd_demo(args) -> None:
    cmd_migrate(args)
    cmd_seed(args)
    print()
    cmd_report(args)
    url = dev_url()
    print(f"Connect: psql '{url}'   (or DATABASE_URL={url}); users are shown with the UUIDs"
          " the API returns (user_id) beside their e-mail or original identifier.")
    if os.environ.get("LLM_DEMO_SERVE", "1") != "0":
        serve_functions(dev_url())


def serve_functions(url: str) -> None:
    """Serves the Edge Functions against a built-in fake LLM until Ctrl-C (supabase/functions/_dev/serve.ts)."""
    functions = migrate.ROOT / "supabase" / "functions"
    deno = migrate.ROOT / "node_modules" / ".bin" / "deno"
    env = {**os.environ, "SUPABASE_DB_URL": url, "DENO_DIR": str(migrate.ROOT / ".deno")}
    try:
        subprocess.run([str(deno), "run", "--frozen", "--allow-net", "--allow-env", "--allow-read",
                        "_dev/serve.ts"], cwd=functions, env=env, check=False)
    except KeyboardInterrupt:
        pass


def cmd_bundle(_args) -> None:
    for path in sources.write_dist():
        print(f"wrote {path.relative_to(migrate.ROOT)}")


def cmd_migration(args) -> None:
    try:
        path = sources.write_migration(args.name or os.environ.get("NAME") or None)
    except sources.ReleaseError as exc:
        sys.exit(str(exc))
    if path is None:
        print(f"nothing pending: {sources.released_versions()[-1]} is the last release and no "
              "upgrades/<from>--<to>.sql starts there")
    else:
        print(f"wrote {path.relative_to(migrate.ROOT)} ({sources.current_version()}, not released)")
    cmd_bundle(args)


def cmd_release(args) -> None:
    version = args.name or os.environ.get("VERSION")
    if not version:
        sys.exit("VERSION=x.y.z names the release")
    try:
        entry = sources.release(version)
    except sources.ReleaseError as exc:
        sys.exit(str(exc))
    cmd_bundle(args)
    print(f"released {version}: {', '.join(entry['migrations'])}")


def cmd_uninstall(_args) -> None:
    sources.write_dist()
    migrate.apply_file(dev_url(), sources.UNINSTALL_FILE)
    print("uninstalled: schema llm, its jobs, publication membership, auth.users trigger and "
          "migration records are gone")


def lint_database(work) -> None:
    """Runs ``work(url)`` on a throwaway cluster's database ``lint``, migrated as on Supabase."""
    cluster = throwaway_cluster()
    try:
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute("create database lint")
        migrate.apply_shim(cluster.admin_url("lint"))
        url = cluster.url("lint")
        migrate.apply_migrations(url)
        with psycopg.connect(cluster.admin_url("lint"), autocommit=True) as conn:
            # supautils lets postgres create plpgsql_check on Supabase; supabase_admin stands in
            conn.execute("create extension if not exists plpgsql_check with schema extensions")
        work(url)
    finally:
        cluster.destroy()


def cmd_dblint(_args) -> None:
    failures = []

    def work(url: str) -> None:
        findings = dblint.check(url)
        if findings:
            print(dblint.format_findings(findings))
            failures.append(f"plpgsql_check: {len(findings)} finding(s)")
        else:
            print("plpgsql_check: no errors or warnings in schema llm")
        if migrate.migrator() != "cli":
            print("supabase db lint / db advisors: skipped (the Supabase CLI is not available)")
            return
        failures.extend(dblint.cli_lint(url))
        failures.extend(dblint.cli_advisors(url, os.environ.get("ADVISORS_FAIL_ON") or "none"))

    lint_database(work)
    if failures:
        sys.exit("; ".join(failures))


def cmd_types(_args) -> None:
    lint_database(lambda url: dblint.TYPES_FILE.write_text(dblint.generate_types(url)))
    print(f"wrote {dblint.TYPES_FILE.relative_to(migrate.ROOT)}")


COMMANDS = {
    "db-up": cmd_db_up, "db-down": cmd_db_down, "db-url": cmd_db_url, "migrate": cmd_migrate,
    "seed": cmd_seed, "report": cmd_report, "demo": cmd_demo, "bundle": cmd_bundle,
    "dblint": cmd_dblint, "types": cmd_types, "migration": cmd_migration, "release": cmd_release,
    "uninstall": cmd_uninstall,
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m harness")
    parser.add_argument("command", choices=sorted(COMMANDS))
    parser.add_argument("name", nargs="?", help="migration name or release version")
    args = parser.parse_args()
    COMMANDS[args.command](args)


if __name__ == "__main__":
    main()
