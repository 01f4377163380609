"""pg_cron schedules: the validator accepts what pg_cron accepts (checked against the installed
pg_cron's own parser, and against pg_cron 1.6's grammar, which hosted Supabase runs), and the
fold job runs every few seconds where pg_cron has second-level schedules."""

import psycopg
import pytest
from psycopg import errors

# accepted by every pg_cron
CLASSIC = ["* * * * *", "*/5 * * * *", "0 3 * * *", "7,37 * * * *", "0 9-17/2 * * mon-fri",
           "0 0 1 jan,jul *", "0 0 * * 7", "59 23 31 12 6", "@daily", "@hourly", "@yearly",
           "@annually", "@midnight", "@weekly", "@monthly", "  17 3 * * *  ", "0 0 * * SUN"]
# refused by every pg_cron
BAD = ["", "   ", "every day", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *",
       "* * 0 * *", "* * 32 * *", "* * * 13 *", "* * * * 8", "5/10 * * * *", "*/0 * * * *",
       "*/60 * * * *", "* * * foo *", "@often", "@DAILY", "a-b * * * *", "1-99 * * * *",
       "0 0 * mon *"]
# refused here though pg_cron's parser lets them through: it stops reading after the fifth
# field (so a six-field "*/10 * * * * *" would run every 10 minutes, not every 10 seconds) and
# skips what follows a field's value; pg_cron before 1.6 also takes steps above the field's range
STRICTER = ["* * * * * *", "*/10 * * * * *", "0 0 1 jan,jul *x", "*/60 * * * *"]
# pg_cron 1.5 and later (hosted Supabase: 1.6)
SINCE_1_5 = ["5 seconds", "1 second", "59 seconds", "30 Seconds", "0 12 $ * *"]
# refused by 1.6 too
BAD_1_6 = ["0 seconds", "60 seconds", "90 seconds", "5 secs", "5 seconds later", "$ * * * *",
           "0 0 $,1 * *"]


def problem(conn, schedule: str, version: str) -> str | None:
    return conn.execute("select llm.cron_schedule_problem(%s, %s::integer[])",
                        (schedule, version)).fetchone()[0]


@pytest.mark.parametrize("schedule", CLASSIC + SINCE_1_5)
def test_pg_cron_1_6_accepts(superuser, schedule):
    assert problem(superuser, schedule, "{1,6}") is None


@pytest.mark.parametrize("schedule", BAD + BAD_1_6 + STRICTER)
def test_pg_cron_1_6_refuses(superuser, schedule):
    assert problem(superuser, schedule, "{1,6}")


def test_before_1_5_seconds_and_last_day_are_refused_with_the_version_named(superuser):
    for schedule in SINCE_1_5:
        reason = problem(superuser, schedule, "{1,4}")
        assert reason and "1.5 or later" in reason and "1.4" in reason, schedule
    assert "1 to 59 seconds" in problem(superuser, "90 seconds", "{1,6}")


def test_the_validator_agrees_with_the_installed_pg_cron(cron_db):
    """Every schedule of the corpus, through the installed pg_cron's own parser: what the
    validator accepts, cron.schedule accepts; what cron.schedule accepts, the validator accepts
    unless it is one of the documented stricter cases."""
    with psycopg.connect(cron_db) as conn:
        version = conn.execute("select llm.pg_cron_version()::text").fetchone()[0]
        disagreements = []
        for schedule in CLASSIC + BAD + SINCE_1_5 + BAD_1_6 + STRICTER:
            ours = problem(conn, schedule, version) is None
            conn.execute("savepoint s")
            try:
                conn.execute("select cron.schedule('llm_test_schedule', %s, 'select 1')",
                             (schedule,))
                theirs = True
            except psycopg.Error:
                theirs = False
            conn.execute("rollback to savepoint s")
            if ours != theirs and not (theirs and schedule in STRICTER):
                disagreements.append((schedule, ours, theirs))
        conn.rollback()
    assert disagreements == []


def test_a_schedule_setting_is_checked_for_the_installed_pg_cron(service, superuser):
    version = superuser.execute("select llm.pg_cron_version()::text").fetchone()[0]
    with pytest.raises(errors.InvalidParameterValue) as exc:
        service.rpc("set_setting", key="usage_fold_schedule", value="90 seconds")
    assert exc.value.sqlstate == "22023" and "usage_fold_schedule" in str(exc.value)
    if version >= "{1,5}":
        assert service.rpc("set_setting", key="usage_fold_schedule", value="10 seconds") \
            == "10 seconds"
    else:
        with pytest.raises(errors.InvalidParameterValue, match="1.5 or later"):
            service.rpc("set_setting", key="usage_fold_schedule", value="10 seconds")


@pytest.mark.parametrize("where", ["cron_db", "db_url"])
def test_the_fold_runs_every_5_seconds_where_pg_cron_allows(request, where):
    """In the database pg_cron runs in (this machine's pg_cron), and in one without pg_cron,
    where schedules are checked as hosted Supabase's 1.6 would."""
    with psycopg.connect(request.getfixturevalue(where)) as conn:
        modern, installed, schedule = conn.execute(
            "select llm.pg_cron_version() >= array[1, 5],"
            " exists (select from pg_extension where extname = 'pg_cron'), default_value #>> '{}'"
            " from llm.settings where key = 'usage_fold_schedule'").fetchone()
    assert installed == (where == "cron_db")
    assert schedule == ("5 seconds" if modern else "* * * * *")


def test_a_value_left_at_the_default_follows_a_new_default(superuser):
    superuser.execute("select llm.define_setting('llm_test_follow', 'integer', '1', 'test')")
    superuser.execute("select llm.define_setting('llm_test_follow', 'integer', '2', 'test')")
    assert superuser.execute(
        "select value from llm.settings where key = 'llm_test_follow'").fetchone()[0] == 2
    superuser.execute("update llm.settings set value = '7' where key = 'llm_test_follow'")
    superuser.execute("select llm.define_setting('llm_test_follow', 'integer', '3', 'test')")
    assert superuser.execute(
        "select value, default_value from llm.settings where key = 'llm_test_follow'"
    ).fetchone() == (7, 3)
