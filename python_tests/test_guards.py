"""Generic guards over schema llm. They cover every object, including future ones."""

import pytest

# Functions anon may execute. Empty: the anonymous key gets nothing from this package.
ANON_ALLOWED: set[str] = set()


@pytest.fixture
def q(superuser):
    return lambda sql: superuser.execute(sql).fetchall()


def test_every_table_has_rls_enabled_and_a_policy(q):
    rows = q("""
        select c.oid::regclass::text, c.relrowsecurity,
               (select count(*) from pg_policy as p where p.polrelid = c.oid)
        from pg_class as c
        where c.relnamespace = 'llm'::regnamespace and c.relkind in ('r', 'p')
          and not c.relispartition
    """)
    assert rows, "schema llm has no tables"
    assert [r[0] for r in rows if not r[1]] == [], "tables without RLS"
    assert [r[0] for r in rows if r[2] == 0] == [], "tables without any policy"


def test_partitions_have_rls_too(q):
    # partitions are reachable directly by name; they must not be an RLS hole
    assert q("""
        select c.oid::regclass::text from pg_class as c
        where c.relnamespace = 'llm'::regnamespace and c.relispartition
          and c.relkind in ('r', 'p') and not c.relrowsecurity
    """) == []


def test_security_definer_functions_pin_search_path(q):
    assert q("""
        select p.oid::regprocedure::text from pg_proc as p
        where p.pronamespace = 'llm'::regnamespace and p.prosecdef
          and not coalesce(p.proconfig @> array['search_path=""'], false)
    """) == []


def test_no_function_is_executable_by_public(q):
    # a NULL proacl means the default, which lets PUBLIC execute
    assert q("""
        select p.oid::regprocedure::text from pg_proc as p
        where p.pronamespace = 'llm'::regnamespace
          and exists (
              select from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) as a
              where a.grantee = 0 and a.privilege_type = 'EXECUTE'
          )
    """) == []


def test_anon_executes_only_allow_listed_functions(q):
    rows = q("""
        select p.oid::regprocedure::text from pg_proc as p
        where p.pronamespace = 'llm'::regnamespace
          and has_function_privilege('anon', p.oid, 'execute')
    """)
    assert {r[0] for r in rows} <= ANON_ALLOWED


def test_anon_has_no_table_privileges(q):
    assert q("""
        select c.oid::regclass::text from pg_class as c
        where c.relnamespace = 'llm'::regnamespace and c.relkind in ('r', 'p', 'v', 'm')
          and has_table_privilege('anon', c.oid, 'select, insert, update, delete')
    """) == []


def test_every_table_view_and_function_has_a_comment(q):
    missing = q("""
        select 'relation ' || c.oid::regclass::text from pg_class as c
        where c.relnamespace = 'llm'::regnamespace and c.relkind in ('r', 'p', 'v', 'm')
          and not c.relispartition and obj_description(c.oid, 'pg_class') is null
        union all
        select 'function ' || p.oid::regprocedure::text from pg_proc as p
        where p.pronamespace = 'llm'::regnamespace and obj_description(p.oid, 'pg_proc') is null
        union all
        select 'policy ' || p.polname || ' on ' || p.polrelid::regclass::text from pg_policy as p
        join pg_class as c on c.oid = p.polrelid
        where c.relnamespace = 'llm'::regnamespace and obj_description(p.oid, 'pg_policy') is null
        union all
        select 'schema llm' where obj_description('llm'::regnamespace, 'pg_namespace') is null
    """)
    assert missing == []


def test_policies_are_sentences_scoped_to_a_role(q):
    rows = q("""
        select tablename, policyname, roles::text from pg_policies where schemaname = 'llm'
    """)
    assert [r for r in rows if " " not in r[1]] == [], "policy names are sentences"
    assert [r for r in rows if r[2] == "{public}"] == [], "policies name their role"


def test_nothing_of_ours_in_public(q):
    assert q("""
        select 'relation ' || c.relname from pg_class as c
        where c.relnamespace = 'public'::regnamespace
          and not exists (select from pg_depend as d where d.objid = c.oid and d.deptype = 'e')
        union all
        select 'function ' || p.proname from pg_proc as p
        where p.pronamespace = 'public'::regnamespace
          and not exists (select from pg_depend as d where d.objid = p.oid and d.deptype = 'e')
        union all
        select 'type ' || t.typname from pg_type as t
        where t.typnamespace = 'public'::regnamespace
          and not exists (select from pg_depend as d where d.objid = t.oid and d.deptype = 'e')
          and t.typrelid = 0 and t.typelem = 0
    """) == []


def test_extensions_live_where_supabase_puts_them(q):
    rows = dict(q("""
        select extname, extnamespace::regnamespace::text from pg_extension
        where extname in ('vector', 'pgcrypto')
    """))
    assert rows == {"vector": "extensions", "pgcrypto": "extensions"}
