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


# -- Supabase's Security Advisor (splinter) lints, as catalog guards -----------------------
# The CLI's `supabase db advisors` may bundle an older advisor than the hosted dashboard, so
# these implement the lints the dashboard runs.


def exposed_schemas() -> list[str]:
    """The schemas PostgREST exposes: config.toml's [api] schemas (pgrst.db_schemas)."""
    import tomllib

    from harness.migrate import CONFIG_FILE

    return tomllib.loads(CONFIG_FILE.read_text())["api"]["schemas"]


SECURITY_DEFINER_EXECUTABLE = """
    select p.oid::regprocedure::text from pg_catalog.pg_proc as p
    join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
    where n.nspname = any(%s) and p.prosecdef
      and pg_catalog.has_function_privilege(%s, p.oid, 'execute')
    order by 1
"""


def test_exposed_schemas_include_llm():
    assert "llm" in exposed_schemas()


@pytest.mark.parametrize("role, lint", [
    pytest.param("anon", "0028_anon_security_definer_function_executable"),
    pytest.param("authenticated", "0029_authenticated_security_definer_function_executable"),
])
def test_no_security_definer_function_in_an_exposed_schema_is_executable_by(superuser, role,
                                                                           lint):
    """Lints 0028/0029: a SECURITY DEFINER function that an API role may execute through
    /rest/v1/rpc runs as its owner and bypasses RLS."""
    found = [r[0] for r in superuser.execute(
        SECURITY_DEFINER_EXECUTABLE, (exposed_schemas(), role)).fetchall()]
    assert found == [], f"{lint}: {len(found)} function(s): {', '.join(found)}"


def test_every_function_has_a_fixed_search_path(q):
    """Lint 0011 (function_search_path_mutable): every function and procedure of the
    package's schemas sets search_path to '' (the lint accepts nothing else)."""
    found = [r[0] for r in q("""
        select p.oid::regprocedure::text from pg_catalog.pg_proc as p
        where p.pronamespace in ('llm'::regnamespace, 'llm_private'::regnamespace)
          and not exists (
              select from pg_catalog.pg_depend as d where d.objid = p.oid and d.deptype = 'e')
          and not coalesce(p.proconfig, '{}') && array['search_path=""']
        order by 1
    """)]
    assert found == [], f"0011_function_search_path_mutable: {', '.join(found)}"


def test_one_permissive_policy_per_table_role_and_command(q):
    """Lint 0006 (multiple_permissive_policies): one permissive policy per table, role and
    command (a FOR ALL policy counts for each command)."""
    found = q("""
        select c.oid::regclass::text, r.rolname, a.cmd,
               array_agg(p.polname::text order by p.polname)
        from pg_catalog.pg_policy as p
        join pg_catalog.pg_class as c on c.oid = p.polrelid
        join pg_catalog.pg_roles as r
            on p.polroles @> array[r.oid] or p.polroles = array[0::oid]
        cross join lateral unnest(case p.polcmd
            when 'r' then array['SELECT'] when 'a' then array['INSERT']
            when 'w' then array['UPDATE'] when 'd' then array['DELETE']
            else array['SELECT', 'INSERT', 'UPDATE', 'DELETE'] end) as a(cmd)
        where c.relnamespace = 'llm'::regnamespace and c.relkind = 'r' and p.polpermissive
          and r.rolname not like 'pg\\_%' and r.rolname not like 'supabase%admin'
          and not r.rolbypassrls
        group by 1, 2, 3
        having count(*) > 1
        order by 1, 2, 3
    """)
    assert found == [], "0006_multiple_permissive_policies: " + "; ".join(
        f"{t} {role} {cmd}: {', '.join(names)}" for t, role, cmd, names in found)
