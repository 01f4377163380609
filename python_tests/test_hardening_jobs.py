"""Jobs that survive restarts and port changes, job health, and schema-only backups that
can be restored and repaired (publication membership, trigger on auth.users, jobs)."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest

from harness import migrate, sources

PG_BIN = Path("/usr/lib/postgresql/15/bin")


# -- 10: jobs keep running across restarts, and their health is visible ----------------------

def test_sync_jobs_repoints_jobs_scheduled_for_another_port(cron_db, server):
    # supabase_admin: only it may rewrite cron.job, as on hosted Supabase
    with psycopg.connect(server.admin_url(server.maintenance_db)) as conn:  # rolled back at the end
        port = int(conn.execute("show port").fetchone()[0])
        # as after `make db-down; make demo`: the jobs still point at the old port
        conn.execute("update cron.job set nodeport = 1 where jobname like 'llm\\_%'")
        stale = conn.execute(
            "select job_name from llm.job_health() where not points_here").fetchall()
        assert len(stale) == conn.execute("select count(*) from llm.jobs where enabled").fetchone()[0]
        conn.execute("select count(*) from llm.sync_jobs()")
        assert conn.execute(
            "select distinct nodeport from cron.job where jobname like 'llm\\_%'"
        ).fetchall() == [(port,)]
        assert conn.execute(
            "select bool_and(points_here and scheduled) from llm.job_health() where enabled"
        ).fetchone()[0] is True
        conn.rollback()


def test_job_health_shows_last_run_last_error_and_failing_since(cron_db, server):
    # run history written as pg_cron writes it (supabase_admin owns cron.job_run_details)
    # dated after any real run (pg_cron runs the job meanwhile), so they are the latest
    with psycopg.connect(server.admin_url(server.maintenance_db)) as conn:
        jobid = conn.execute(
            "select jobid from cron.job where jobname = 'llm_usage_fold'").fetchone()[0]
        conn.execute("""
            insert into cron.job_run_details (jobid, runid, status, return_message, start_time, end_time)
            values (%(j)s, -3, 'succeeded', '1 row', '2099-01-01 00:00Z', '2099-01-01 00:00:01Z'),
                   (%(j)s, -2, 'failed', 'connection to server failed', '2099-01-01 00:01Z', '2099-01-01 00:01:01Z'),
                   (%(j)s, -1, 'failed', 'connection refused', '2099-01-01 00:02Z', '2099-01-01 00:02:01Z')
            """, {"j": jobid})
        row = conn.execute(
            "select last_status, last_error, failing_since, failed_runs, last_run_at"
            " from llm.job_health() where job_name = 'llm_usage_fold'").fetchone()
        assert row[0] == "failed" and row[1] == "connection refused"
        assert row[2].isoformat() == "2099-01-01T00:01:00+00:00" and row[3] == 2
        conn.execute("""
            insert into cron.job_run_details (jobid, runid, status, return_message, start_time, end_time)
            values (%s, -4, 'succeeded', '1 row', '2099-01-01 00:03Z', '2099-01-01 00:03:01Z')
            """, (jobid,))
        row = conn.execute(
            "select last_status, last_error, failing_since, failed_runs from llm.job_health()"
            " where job_name = 'llm_usage_fold'").fetchone()
        assert row == ("succeeded", None, None, 0)
        conn.rollback()


def test_job_health_is_for_admins_and_backends(service, make_user, as_user, admin):
    from psycopg import errors

    with pytest.raises(errors.InsufficientPrivilege):
        as_user(make_user()).rpc("job_health")
    assert {r["job_name"] for r in service.rpc("job_health")} >= {"llm_usage_fold"}
    assert admin.rpc("job_health")


# -- 11: a schema-only dump restores, and one call (or the bundle) repairs the rest ---------

def _pieces(url: str) -> dict:
    with psycopg.connect(url) as conn:
        return {
            "trigger": conn.execute(
                "select count(*) from pg_trigger where tgrelid = 'auth.users'::regclass"
                " and tgname = 'llm_delete_user_conversations'").fetchone()[0],
            "publication": conn.execute(
                "select count(*) from pg_publication_tables where pubname = 'supabase_realtime'"
                " and schemaname = 'llm' and tablename = 'messages'").fetchone()[0],
        }


@pytest.fixture
def restored_db(server, fresh_db, tmp_path):
    """fresh_db dumped with `pg_dump --schema=llm --schema=llm_private` and restored into a new
    database that has the Supabase shim and the extensions, as the README's procedure says."""
    dump = tmp_path / "llm.dump"
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    subprocess.run([str(PG_BIN / "pg_dump"), "--schema=llm", "--schema=llm_private", "-Fc",
                    "-f", str(dump), fresh_db], check=True, env=env, capture_output=True)
    name = f"t_{os.getpid()}_restore_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server.url(server.maintenance_db), autocommit=True) as conn:
        conn.execute(f"create database {name}")
    url = server.url(name)
    try:
        migrate.apply_shim(server.admin_url(name))  # roles, auth, pgcrypto
        with psycopg.connect(url, autocommit=True) as conn:  # step 1 of the README
            conn.execute("create extension if not exists vector with schema extensions")
        subprocess.run([str(PG_BIN / "pg_restore"), "--exit-on-error", "-d", url, str(dump)],
                       check=True, env=env, capture_output=True)
        yield url
    finally:
        with psycopg.connect(server.url(server.maintenance_db), autocommit=True) as conn:
            conn.execute(f"drop database if exists {name} with (force)")


def test_repair_installation_restores_what_a_schema_dump_leaves_out(restored_db):
    assert _pieces(restored_db) == {"trigger": 0, "publication": 0}
    with psycopg.connect(restored_db, autocommit=True) as conn:
        rows = dict(conn.execute("select piece, status from llm.repair_installation()").fetchall())
        assert rows["trigger llm_delete_user_conversations on auth.users"] == "added"
        assert rows["publication supabase_realtime: llm.messages"] == "added"
        assert any(k.startswith("job llm_") for k in rows)
        again = dict(conn.execute("select piece, status from llm.repair_installation()").fetchall())
        assert again["trigger llm_delete_user_conversations on auth.users"] == "present"
    assert _pieces(restored_db) == {"trigger": 1, "publication": 1}
    # the restored package works: deleting an auth user removes their conversations
    with psycopg.connect(restored_db, autocommit=True) as conn:
        uid = uuid.uuid4()
        conn.execute("insert into auth.users (id, email) values (%s, 'r@example.test')", (uid,))
        conn.execute("insert into llm.conversations (user_id) values (%s)", (uid,))
        conn.execute("delete from auth.users where id = %s", (uid,))
        assert conn.execute(
            "select count(*) from llm.conversations where user_id = %s", (uid,)).fetchone()[0] == 0


def test_reapplying_the_bundle_restores_what_a_schema_dump_leaves_out(restored_db):
    assert _pieces(restored_db) == {"trigger": 0, "publication": 0}
    with psycopg.connect(restored_db, autocommit=True) as conn:
        conn.execute("set client_min_messages = warning")
        conn.execute(sources.bundle_text())
    assert _pieces(restored_db) == {"trigger": 1, "publication": 1}


def test_repair_installation_reschedules_missing_jobs(cron_db):
    with psycopg.connect(cron_db) as conn:
        conn.execute("select cron.unschedule(jobid) from cron.job where jobname like 'llm\\_%'")
        conn.execute("select count(*) from llm.repair_installation()")
        assert conn.execute(
            "select count(*) from cron.job where jobname like 'llm\\_%'").fetchone()[0] == \
            conn.execute("select count(*) from llm.jobs where enabled").fetchone()[0]
        conn.rollback()
