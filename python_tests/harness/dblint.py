"""plpgsql_check over every plpgsql function of schema llm, as `supabase db lint` does."""

from __future__ import annotations

import psycopg
from psycopg.rows import dict_row

CHECK_SQL = """
select p.oid::regprocedure::text as function, r.level, r.message, r.lineno,
       r.statement, r.sqlstate, r.hint
from pg_catalog.pg_proc as p
join pg_catalog.pg_language as l on l.oid = p.prolang and l.lanname = 'plpgsql'
left join lateral (
    select tg.tgrelid from pg_catalog.pg_trigger as tg where tg.tgfoid = p.oid limit 1
) as t on true
cross join lateral plpgsql_check_function_tb(
    p.oid, coalesce(t.tgrelid, 0), fatal_errors => false, other_warnings => true
) as r
where p.pronamespace = 'llm'::regnamespace
  and (p.prorettype <> 'trigger'::regtype or t.tgrelid is not null)
order by 1, r.lineno
"""

FAILING_LEVELS = ("error", "warning")


def check(url: str) -> list[dict]:
    """Returns every finding of level error or warning (an empty list means clean)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("set client_min_messages = warning")
        conn.execute("create extension if not exists plpgsql_check")
        rows = conn.cursor(row_factory=dict_row).execute(CHECK_SQL).fetchall()
    return [r for r in rows if r["level"] in FAILING_LEVELS]


def format_findings(findings: list[dict]) -> str:
    return "\n".join(
        f"{f['function']} line {f['lineno']}: {f['level']}: {f['message']}"
        + (f" ({f['sqlstate']})" if f["sqlstate"] else "")
        for f in findings
    )
