"""A comparable description of everything in schema llm: objects, definitions, privileges,
comments, policies, and the package's own configuration rows (settings and jobs).

Two databases, or one database before and after re-running the migrations, hold the same
package exactly when their snapshots are equal.
"""

from __future__ import annotations

import psycopg

from .sources import SCHEMAS

_NS = "any(array[" + ", ".join(f"'{n}'" for n in SCHEMAS) + "]::regnamespace[])"

QUERIES = {
    "relations": """
        select c.relnamespace::regnamespace::text, c.relname, c.relkind, c.relrowsecurity,
               c.relforcerowsecurity,
               array(select a::text from unnest(c.relacl) as a order by 1),
               obj_description(c.oid, 'pg_class'),
               pg_get_partkeydef(c.oid), pg_get_expr(c.relpartbound, c.oid)
        from pg_class as c
        where c.relnamespace = {ns} and c.relkind not in ('i', 'I')
    """,
    "columns": """
        select c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid), col_description(c.oid, a.attnum),
               a.attidentity, a.attgenerated
        from pg_attribute as a
        join pg_class as c on c.oid = a.attrelid
        left join pg_attrdef as d on d.adrelid = a.attrelid and d.adnum = a.attnum
        where c.relnamespace = {ns} and a.attnum > 0 and not a.attisdropped
    """,
    "constraints": """
        select conrelid::regclass::text, conname, pg_get_constraintdef(oid)
        from pg_constraint where connamespace = {ns}
    """,
    "indexes": """
        select indexname, indexdef from pg_indexes where schemaname::regnamespace = {ns}
    """,
    "functions": """
        select p.oid::regprocedure::text, md5(pg_get_functiondef(p.oid)), p.prosecdef,
               p.proconfig, array(select a::text from unnest(p.proacl) as a order by 1),
               obj_description(p.oid, 'pg_proc')
        from pg_proc as p where p.pronamespace = {ns}
    """,
    "policies": """
        select tablename, policyname, permissive, roles::text, cmd, qual, with_check,
               obj_description(p.oid, 'pg_policy')
        from pg_policies as pp
        join pg_policy as p on p.polname = pp.policyname
            and p.polrelid = format('%I.%I', pp.schemaname, pp.tablename)::regclass
        where pp.schemaname::regnamespace = {ns}
    """,
    "triggers": """
        select tgrelid::regclass::text, tgname, pg_get_triggerdef(oid)
        from pg_trigger
        where not tgisinternal
          and (tgrelid in (select oid from pg_class where relnamespace = {ns})
               or tgfoid in (select oid from pg_proc where pronamespace = {ns}))
    """,
    "types": """
        select t.typname, t.typtype,
               array(select e.enumlabel from pg_enum as e where e.enumtypid = t.oid
                     order by e.enumsortorder),
               obj_description(t.oid, 'pg_type')
        from pg_type as t
        where t.typnamespace = {ns} and t.typtype in ('e', 'd')
    """,
    "publication": """
        select schemaname, tablename from pg_publication_tables
        where pubname = 'supabase_realtime' and schemaname::regnamespace = {ns}
    """,
    "settings": "select key, value_type, value, default_value, description from llm.settings",
    "jobs": "select name, schedule_setting, command, description, enabled from llm.jobs",
    "schema": """
        select nspname, array(select a::text from unnest(nspacl) as a order by 1),
               obj_description(oid, 'pg_namespace')
        from pg_namespace where oid = {ns}
    """,
}


def snapshot(url: str) -> dict[str, list[tuple]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return {
            name: sorted(conn.execute(query.replace("{ns}", _NS)).fetchall(), key=repr)
            for name, query in QUERIES.items()
        }


def diff(before: dict, after: dict) -> list[str]:
    """Human-readable differences between two snapshots (empty when equal)."""
    out = []
    for name in QUERIES:
        gone = [r for r in before[name] if r not in after[name]]
        new = [r for r in after[name] if r not in before[name]]
        out += [f"{name}: - {r}" for r in gone] + [f"{name}: + {r}" for r in new]
    return out
