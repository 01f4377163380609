"""Property-based fuzzing of the whole SQL API.

Every function of schema llm that a signed-in user or a backend may execute is called through
the PostgREST-style client with generated values of each parameter's own type, as the service
role and as a signed-in user. Whatever the values, a call returns or raises one of the
documented SQLSTATEs (README, "Errors"), never a raw database error, and leaves the counters
it keeps consistent: nothing is half-written.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.types.string import TextLoader

from conftest import create_user
from harness.client import Api, role_url

# The SQLSTATEs the package documents (README, "Errors").
DOCUMENTED = {
    "22001", "22004", "22023", "23505", "23P01", "42501", "42704", "P0002", "PT429",
}

# Maintenance entry points whose work is the whole database by design (they take no user
# input worth fuzzing, and pg_cron or an admin runs them): called once each elsewhere.
SKIP = {
    "sync_jobs", "repair_installation", "fold_usage", "rebuild_usage_rollups",
    "run_usage_backfill", "apply_request_log_retention", "apply_usage_rollup_retention",
    "cleanup_expired_conversations", "purge_deleted_conversations", "cleanup_expired_llm_cache",
    "sweep_quota_reservations", "evict_llm_cache", "create_request_log_partitions",
}

# what a JSON body can carry into text: no NUL, no lone surrogates (PostgREST answers 400 first)
CHARS = st.characters(exclude_characters="\x00", exclude_categories=("Cs",))

WORDS = ["", " ", "conv-abc", "user-1", "daily", "weekly", "monthly", "yearly", "openai",
         "gpt-4o-mini", "chat", "embedding", "user", "assistant", "system", "tool", "x" * 300,
         str(uuid.UUID(int=0)), "revenue -forecast", "{}", "*/5 * * * *", "UTC", "1 day"]


def texts() -> st.SearchStrategy:
    return st.one_of(st.sampled_from(WORDS), st.text(CHARS,
                                                     max_size=40),
                     st.builds(lambda: str(uuid.uuid4())))


def jsons(depth: int = 3) -> st.SearchStrategy:
    scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12),
                        st.floats(allow_nan=False, allow_infinity=False),
                        st.text(CHARS, max_size=20))
    return st.recursive(
        scalars,
        lambda inner: st.one_of(st.lists(inner, max_size=4),
                                st.dictionaries(st.sampled_from(
                                    ["role", "content", "tokens", "model", "temperature",
                                     "messages", "summary", "id", "a", "b"])
                                    | st.text(CHARS, max_size=8),
                                    inner, max_size=4)),
        max_leaves=12,
    )


def timestamps() -> st.SearchStrategy:
    return st.one_of(
        st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30),
                     timezones=st.just(dt.timezone.utc)).map(lambda d: d.isoformat()),
        st.sampled_from(["infinity", "-infinity", dt.datetime.now(dt.timezone.utc).isoformat()]),
    )


def values(type_name: str) -> st.SearchStrategy:
    base = type_name.removesuffix("[]")
    strategies = {
        "text": texts(),
        "integer": st.one_of(st.integers(-2**31, 2**31 - 1), st.sampled_from([0, 1, -1, 10])),
        "bigint": st.one_of(st.integers(-2**63, 2**63 - 1), st.sampled_from([0, 1, -1, 1000])),
        "smallint": st.integers(-2**15, 2**15 - 1),
        "numeric": st.one_of(
            st.decimals(allow_nan=False, allow_infinity=False, places=6,
                        min_value=Decimal("-1e12"), max_value=Decimal("1e12")).map(str),
            st.sampled_from(["NaN", "Infinity", "-Infinity", "1e30", "0", "-1", "0.5"])),
        "real": st.floats(allow_nan=False, allow_infinity=False, width=32),
        "double precision": st.floats(allow_nan=False, allow_infinity=False),
        "boolean": st.booleans(),
        "jsonb": jsons(),
        "json": jsons(),
        "uuid": st.builds(lambda: str(uuid.uuid4())),
        "timestamp with time zone": timestamps(),
        "date": st.dates(min_value=dt.date(1, 1, 2), max_value=dt.date(9999, 12, 30)).map(str)
        | st.sampled_from(["infinity", "-infinity"]),
        "interval": st.sampled_from(["1 day", "-1 day", "0", "1000 years", "1 second"]),
        "extensions.vector": st.lists(st.floats(-1, 1, allow_nan=False), min_size=1, max_size=4)
        .map(lambda v: "[" + ",".join(f"{x:.3f}" for x in v) + "]"),
    }
    if base not in strategies:
        return st.none()
    strategy = strategies[base]
    if type_name.endswith("[]"):
        strategy = st.lists(strategy, max_size=3)
    return st.one_of(st.none(), strategy)


def api_functions(url: str) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("""
            select p.proname,
                   coalesce(p.proargnames[1:p.pronargs], '{}'),
                   array(select format_type(a, null) from unnest(p.proargtypes) as a)
            from pg_proc as p
            where p.pronamespace = 'llm'::regnamespace and p.prokind = 'f'
              and (has_function_privilege('authenticated', p.oid, 'execute')
                   or has_function_privilege('service_role', p.oid, 'execute'))
              and p.proname <> all(%s)
            order by 1, 2
        """, (list(SKIP),)).fetchall()
    return [(name, tuple(names), tuple(types)) for name, names, types in rows]


@pytest.fixture(scope="module")
def callers(server, db_url):
    admin = psycopg.connect(server.admin_url(db_url.rsplit("/", 1)[1]), autocommit=True)
    user = create_user(admin)
    admin.close()
    conn = psycopg.connect(role_url(db_url, "authenticator"), autocommit=True)
    # results as the JSON PostgREST sends: 'infinity' and year-10000 values stay text
    for type_name in ("date", "timestamp", "timestamptz", "interval"):
        conn.adapters.register_loader(type_name, TextLoader)
    # something to find: a conversation, a cache entry, a logged request
    service = Api(conn, "service_role")
    service.rpc("create_conversation", user_id=str(user.id), conversation_id="conv-abc")
    service.rpc("add_message", conversation_id="conv-abc", role="user", content="revenue")
    yield {"service": service, "user": Api(conn, "authenticated", user.claims())}
    conn.close()


def _check_call(api: Api, name: str, names: tuple[str, ...], args: dict) -> None:
    try:
        api.rpc(name, **args)
    except psycopg.Error as exc:
        assert exc.sqlstate in DOCUMENTED, (
            f"llm.{name}({', '.join(f'{k} => {v!r}' for k, v in args.items())}) as {api.role}: "
            f"undocumented {exc.sqlstate}: {exc}")


def test_every_api_function_raises_only_documented_sqlstates(db_url, callers):
    functions = api_functions(db_url)
    assert len(functions) > 80
    problems = []
    for name, names, types in functions:
        arguments = st.fixed_dictionaries({n: values(t) for n, t in zip(names, types)})

        @settings(max_examples=40, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(args=arguments, role=st.sampled_from(["service", "user"]))
        def fuzz(args, role):
            _check_call(callers[role], name, names, args)

        try:
            fuzz()
        except (AssertionError, ExceptionGroup) as exc:
            errors = exc.exceptions if isinstance(exc, ExceptionGroup) else [exc]
            problems += [str(e).splitlines()[0] for e in errors]
    assert not problems, "\n".join(problems)


def test_counters_stay_consistent_after_fuzzing(db_url, callers):
    with psycopg.connect(db_url) as conn:
        assert conn.execute("""
            select count(*) from llm.conversations as c
            where c.message_count <> (select count(*) from llm.messages as m
                                      where m.conversation_id = c.id)
        """).fetchone()[0] == 0
        assert conn.execute("""
            select count(*) from llm.request_ids as i
            where not exists (select from llm.request_logs as r where r.id = i.request_log_id)
        """).fetchone()[0] == 0
