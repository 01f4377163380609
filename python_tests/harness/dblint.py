"""Database lints: plpgsql_check over every plpgsql function of schema llm (what
`supabase db lint` runs), the real `supabase db lint` and `supabase db advisors`, and the
TypeScript types of schema llm from `supabase gen types typescript`."""

from __future__ import annotations

import json
from collections import Counter

import psycopg
from psycopg.rows import dict_row

from . import migrate

TYPES_FILE = migrate.ROOT / "supabase" / "types" / "database.types.ts"

CHECK_SQL = """
select p.oid::regprocedure::text as function, r.level, r.message, r.lineno,
       r.statement, r.sqlstate, r.hint
from pg_catalog.pg_proc as p
join pg_catalog.pg_language as l on l.oid = p.prolang and l.lanname = 'plpgsql'
left join lateral (
    select tg.tgrelid, tg.tgoldtable, tg.tgnewtable
    from pg_catalog.pg_trigger as tg where tg.tgfoid = p.oid limit 1
) as t on true
cross join lateral plpgsql_check_function_tb(
    p.oid, coalesce(t.tgrelid, 0), fatal_errors => false, other_warnings => true,
    oldtable => t.tgoldtable, newtable => t.tgnewtable
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


def cli_lint(url: str) -> list[str]:
    """``supabase db lint --fail-on error`` on schema llm; returns the failures (empty: clean)."""
    out = migrate.run_cli(["db", "lint", f"--remote={url}", "--schema", "llm",
                           "--fail-on", "error"], check=False)
    text = out.stdout.strip()
    print(f"supabase db lint --fail-on error: exit {out.returncode}")
    if text and text != "[]":
        print(text)
    if out.returncode != 0:
        print(out.stderr.strip())
        return [f"supabase db lint: exit {out.returncode}"]
    return []


def advisors(url: str, fail_on: str = "none") -> tuple[int, list[dict]]:
    """``supabase db advisors`` (security and performance): its exit code and findings."""
    out = migrate.run_cli(["db", "advisors", f"--remote={url}", "--type", "all",
                           "--level", "info", "--fail-on", fail_on, "--output-format", "json"],
                          check=False)
    try:
        results = json.loads(out.stdout)["results"]
    except (ValueError, KeyError) as exc:
        raise migrate.MigrationError(f"supabase db advisors: unreadable output ({exc}):\n"
                                     f"{out.stdout}\n{out.stderr}") from exc
    return out.returncode, results


def cli_advisors(url: str, fail_on: str = "none") -> list[str]:
    """Prints the advisors' findings and their count by level; fails (returns the failure)
    only when ``fail_on`` (ADVISORS_FAIL_ON) is a level the findings reach."""
    code, results = advisors(url, fail_on)
    for r in results:
        print(f"  {r['level']:5} {r['name']}: {r['detail']}")
    counts = Counter(r["level"] for r in results)
    by_lint = Counter(r["name"] for r in results)
    summary = ", ".join(f"{n} {level}" for level, n in sorted(counts.items())) or "nothing"
    print(f"supabase db advisors: {summary} ({', '.join(f'{k} {v}' for k, v in by_lint.items())})"
          if results else "supabase db advisors: no findings")
    if code != 0:
        return [f"supabase db advisors --fail-on {fail_on}: {summary}"]
    if counts and fail_on == "none":
        print("  (not failing: ADVISORS_FAIL_ON=none reports them only)")
    return []


def generate_types(url: str) -> str:
    """``supabase gen types typescript`` for schema llm."""
    out = migrate.run_cli(["gen", "types", "typescript", f"--remote={url}", "--schema", "llm"])
    return out.stdout
