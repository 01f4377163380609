"""Sources, releases and upgrades: the source tree builds exactly what the migrations build,
every released version upgrades in place with its data, released migrations never change,
generated files are current, and uninstalling leaves nothing behind."""

from __future__ import annotations

import re
from collections import defaultdict

import psycopg
import pytest

from conftest import _janitor
from harness import catalog, migrate, sources
from harness.client import Api


@pytest.fixture
def empty_db(server, request):
    """An empty database with only the Supabase shim (what a new project has)."""
    name = re.sub(r"[^a-z0-9]+", "_", f"empty_{request.node.name}".lower())[-40:]
    janitor = _janitor(server, name)
    janitor.init()
    url = server.url(name)
    migrate.apply_shim(server.admin_url(name))
    yield url
    janitor.drop()


def run(url: str, text: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("set client_min_messages = warning")
        conn.execute(text)


# -- the source tree builds what the migrations build -------------------------------------

def test_bundle_on_an_empty_database_equals_all_migrations(empty_db, db_url):
    run(empty_db, sources.bundle_text())
    assert catalog.diff(catalog.snapshot(db_url), catalog.snapshot(empty_db)) == []


def test_version_says_what_is_installed(db_url, empty_db):
    run(empty_db, sources.bundle_text())
    for url in (db_url, empty_db):
        with psycopg.connect(url) as conn:
            assert conn.execute("select llm.version()").fetchone()[0] == sources.current_version()


# -- upgrades with data in place ----------------------------------------------------------

WRITE_ROWS = """
select llm.create_conversation(user_id => 'user-upgrade', conversation_id => 'conv-upgrade',
                               ttl_hours => 0, title => 'Before the upgrade');
select llm.add_message(conversation_id => 'conv-upgrade', role => 'user',
                       content => 'hello before the upgrade');
select llm.add_message(conversation_id => 'conv-upgrade', role => 'assistant', content => 'hi',
                       model => 'gpt-4o-mini', prompt_tokens => 3, completion_tokens => 2);
select llm.log_request(provider => 'openai', model => 'gpt-4o-mini', user_id => 'user-upgrade',
                       prompt_tokens => 100, completion_tokens => 20,
                       request_id => 'req-upgrade-1');
select llm.set_user_quota(user_id => 'user-upgrade', quota_period => 'monthly',
                          token_limit => 1000);
select llm.cache_llm_response(prompt => 'What is 2+2?', provider => 'openai',
                              model => 'gpt-4o-mini', response => '4',
                              user_id => 'user-upgrade');
select llm.get_cached_llm_response(prompt => 'What is 2+2?', provider => 'openai',
                                   model => 'gpt-4o-mini', user_id => 'user-upgrade');
"""


def assert_rows_readable(url: str) -> None:
    """The rows written before the upgrade, read through the current API as a backend."""
    with psycopg.connect(url, autocommit=True) as conn:
        api = Api(conn, "service_role")
        messages = api.rpc("get_messages", conversation_id="conv-upgrade", limit=10)
        assert [m["content"] for m in messages] == ["hello before the upgrade", "hi"]
        assert api.rpc("get_conversation", conversation_id="conv-upgrade")["title"] == \
            "Before the upgrade"
        usage = api.rpc("get_user_token_usage", user_id="user-upgrade", days=1)
        assert usage["total_tokens"] == 120
        quota = api.rpc("check_user_quota", user_id="user-upgrade", quota_period="monthly")
        assert quota["quota_limit"] == 1000 and quota["tokens_used"] == 120
        hit = api.rpc("get_cached_llm_response", prompt="What is 2+2?", provider="openai",
                      model="gpt-4o-mini", user_id="user-upgrade")
        assert hit["response"] == "4"
        assert hit["hit_count"] == 2  # the hit counted before the upgrade, and this one
        assert conn.execute(
            "select count(*) from llm.request_logs where request_id = 'req-upgrade-1'"
        ).fetchone()[0] == 1


def install_release_with_rows(url: str, version: str) -> None:
    migrate.apply_migrations(url, only=sources.migrations_through(version))
    run(url, WRITE_ROWS)


@pytest.mark.parametrize("version", sources.released_versions())
def test_upgrade_by_migrations_keeps_data(version, empty_db, db_url):
    install_release_with_rows(empty_db, version)
    migrate.apply_migrations(empty_db)  # `supabase db push` of the newer migrations
    assert catalog.diff(catalog.snapshot(db_url), catalog.snapshot(empty_db)) == []
    assert_rows_readable(empty_db)


@pytest.mark.parametrize("version", sources.released_versions())
def test_upgrade_by_bundle_keeps_data(version, empty_db, db_url):
    install_release_with_rows(empty_db, version)
    run(empty_db, sources.bundle_text())
    run(empty_db, sources.bundle_text())  # and again: nothing changes
    assert catalog.diff(catalog.snapshot(db_url), catalog.snapshot(empty_db)) == []
    assert_rows_readable(empty_db)
    with psycopg.connect(empty_db) as conn:
        assert conn.execute("select llm.version()").fetchone()[0] == sources.current_version()


# -- one definition per object ------------------------------------------------------------

DEFINES = [
    ("function", re.compile(r"^create (?:or replace )?(?:function|procedure) (llm\.\w+)", re.M)),
    ("relation", re.compile(r"^create (?:table|sequence) if not exists (llm\.\w+)", re.M)),
    ("relation", re.compile(r"^create (?:or replace )?view (llm\.\w+)", re.M)),
    ("type", re.compile(r"^\s*create type (llm\.\w+)", re.M)),
    ("policy", re.compile(r'^create policy ("[^"]+" on llm\.\w+)', re.M)),
    ("trigger", re.compile(r"^create (?:or replace )?trigger (\w+)", re.M)),
]
ATTACHED = [
    ("function", re.compile(r"^comment on (?:function|procedure) (llm\.\w+)", re.M)),
    ("function", re.compile(
        r"^(?:grant|revoke) [a-z, ]+ on (?:function|procedure) (llm\.\w+)", re.M)),
    ("relation", re.compile(r"^comment on (?:table|view|sequence) (llm\.\w+)", re.M)),
    ("relation", re.compile(r"^comment on column (llm\.\w+)\.", re.M)),
    ("relation", re.compile(r"^(?:grant|revoke) [a-z, ]+ on (?:sequence )?(llm\.\w+) ", re.M)),
    ("policy", re.compile(r'^comment on policy ("[^"]+" on llm\.\w+)', re.M)),
]


def test_every_object_is_created_in_exactly_one_source_file_with_its_comment_and_grants():
    defined: dict[tuple[str, str], set[str]] = defaultdict(set)
    texts = {f.rel: f.sql for f in sources.source_files()}
    for rel, text in texts.items():
        for kind, pattern in DEFINES:
            for name in pattern.findall(text):
                defined[(kind, name)].add(rel)
    assert len(defined) > 150
    assert {k: v for k, v in defined.items() if len(v) > 1} == {}
    misplaced = []
    for rel, text in texts.items():
        for kind, pattern in ATTACHED:
            for name in pattern.findall(text):
                home = defined.get((kind, name)) or defined.get(("type", name))
                if home != {rel}:
                    misplaced.append(f"{rel}: {kind} {name} is defined in {home}")
    assert misplaced == []


def test_source_files_are_small_and_say_what_they_add():
    for f in sources.source_files():
        lines = f.sql.splitlines()
        assert len(lines) <= 320, f"{f.rel} has {len(lines)} lines"
        assert lines[0].startswith("-- ") and len(lines[0]) > 10, f"{f.rel} has no header line"


def test_state_files_create_only_state():
    for f in sources.by_kind(sources.source_files(), "state"):
        assert not re.search(r"^create (or replace )?(function|procedure|view|policy|trigger)",
                             f.sql, re.M), f.rel


# -- releases are frozen; generated files are current -------------------------------------

def test_released_migrations_match_the_manifest():
    assert sources.check_released_migrations() == []
    first = sources.load_manifest()["releases"][0]
    assert first["version"] == "0.1.0" and len(first["migrations"]) == 5


def test_a_changed_release_is_detected(tmp_path, monkeypatch):
    copy = tmp_path / "migrations"
    copy.mkdir()
    for path in sources.MIGRATIONS_DIR.glob("*.sql"):
        (copy / path.name).write_text(path.read_text())
    first = sorted(copy.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited after release\n")
    monkeypatch.setattr(sources, "MIGRATIONS_DIR", copy)
    assert sources.check_released_migrations() == [
        f"{first.name} (0.1.0) changed after its release"]


def test_generated_files_are_current():
    manifest = sources.load_manifest()
    pending = manifest.get("pending")
    if pending:
        committed = (sources.MIGRATIONS_DIR / pending["migration"]).read_text()
        assert committed == sources.migration_text(pending["version"]), \
            "run `make migration` and commit the result"
    else:
        assert sources.current_version() == sources.released_versions()[-1], \
            "upgrades go past the last release: run `make migration NAME=...`"
        assert sources.source_hashes() == manifest["releases"][-1]["sources"], \
            "sql/ changed after the last release: write the next upgrades/ file, `make migration`"
    assert sources.BUNDLE_FILE.read_text() == sources.bundle_text(), "run `make bundle`"
    assert sources.UNINSTALL_FILE.read_text() == sources.uninstall_text(), "run `make bundle`"


def test_the_migration_holds_only_what_changed_since_the_last_release():
    pending = sources.load_manifest().get("pending")
    if not pending:
        pytest.skip("no release pending")
    text = sources.migration_text(pending["version"])
    last = sources.load_manifest()["releases"][-1]["sources"]
    included = set(re.findall(r"^-- ---- (sql/\S+) ----$", text, re.M))
    expected = {
        f.rel for f in sources.source_files()
        if (f.rel not in last if f.kind == "state" else last.get(f.rel) != sources.sha256(f.path))
    }
    assert included == expected


# -- uninstall ----------------------------------------------------------------------------

def leftovers(conn: psycopg.Connection) -> list:
    return conn.execute("""
        select 'schema ' || nspname from pg_namespace where nspname in ('llm', 'llm_private')
        union all
        select 'job ' || jobname from cron.job where jobname like 'llm\\_%'
        union all
        select 'migration ' || version from supabase_migrations.schema_migrations
        union all
        select 'trigger ' || tgname from pg_trigger where tgrelid = 'auth.users'::regclass
            and not tgisinternal
        union all
        select 'publication ' || tablename from pg_publication_tables
        where pubname = 'supabase_realtime' and schemaname = 'llm'
    """).fetchall()


def test_uninstall_removes_everything_and_installing_again_works(cron_db, server):
    with psycopg.connect(cron_db, autocommit=True) as conn:
        assert conn.execute("select count(*) from cron.job where jobname like 'llm\\_%'"
                            ).fetchone()[0] > 0
        assert len(leftovers(conn)) > 5
    run(cron_db, sources.uninstall_text())  # as postgres, as in the hosted SQL editor
    with psycopg.connect(cron_db, autocommit=True) as conn:
        assert leftovers(conn) == []
    applied = migrate.apply_migrations(cron_db)  # installing again: every migration applies
    assert applied == [m.path.name for m in migrate.migrations()]
    with psycopg.connect(cron_db, autocommit=True) as conn:
        assert conn.execute("select llm.version()").fetchone()[0] == sources.current_version()
        assert conn.execute(
            "select count(*) from cron.job as c join llm.jobs as j on j.name = c.jobname"
        ).fetchone()[0] == conn.execute("select count(*) from llm.jobs").fetchone()[0]


def test_uninstall_runs_as_postgres(fresh_db):
    """As hosted Supabase's postgres, which does not own auth.users: the trigger on it goes
    with the function it calls."""
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        assert conn.info.user == "postgres"
        conn.execute("set client_min_messages = warning")
        conn.execute(sources.uninstall_text())
        assert conn.execute(
            "select to_regnamespace('llm'), to_regnamespace('llm_private')").fetchone() == (None, None)
        assert conn.execute(
            "select count(*) from pg_trigger where tgrelid = 'auth.users'::regclass"
            " and tgname like 'llm%'").fetchone()[0] == 0


def test_uninstall_warns_of_data_loss_at_its_top():
    head = "\n".join(sources.uninstall_text().splitlines()[:5])
    assert "DELETES DATA" in head
