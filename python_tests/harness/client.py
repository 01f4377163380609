"""Calls the database the way PostgREST does for one HTTP request.

The connection logs in as ``authenticator`` (its own ``statement_timeout`` and
``lock_timeout`` apply). Each call is one transaction that first runs the statement
PostgREST runs (its ``txVarQuery``): ``set_config`` of ``search_path`` (the exposed schema,
then ``public`` and ``extensions``, config.toml's ``extra_search_path``), the impersonated
role's own settings (``anon``: ``statement_timeout`` 3 s, ``authenticated``: 8 s), ``role``,
``request.jwt.claims``, ``request.method``, ``request.path``, ``request.headers``,
``request.cookies`` and, for ``rpc``, the called function's own settings; then the statement.

``rpc`` (``POST /rpc/<fn>``) runs the SQL PostgREST generates (``callPlanToQuery``): the
body's keys bound through ``json_to_record`` with the function's parameter types, the function
called with named arguments, and the result shaped as PostgREST's ``asJsonF`` shapes it:

- a function returning one composite (a row type, or ``record`` with OUT parameters): an
  object, even when the function returned NULL (every field is then null: PostgREST issue
  #3694), or ``None`` when no row came back;
- ``setof`` a composite: a list of objects; ``setof`` a scalar: a list of values (``[]`` when
  empty);
- a scalar: its value (``None`` for NULL).

``rpc`` returns that shape with Python values (UUIDs, Decimals, datetimes, as psycopg reads
them); ``rpc_json`` returns exactly the JSON body supabase-js would receive, decoded;
``rpc_get`` is ``GET /rpc/<fn>``: the same call in a read-only transaction, as PostgREST runs
every GET.
A database error is re-raised as is, with ``http_status``: the HTTP status PostgREST answers
for its SQLSTATE (``PostgREST.Error.PgError.ResultError.pgErrorStatus``).
"""

from __future__ import annotations

import json
import uuid
import weakref
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

# config.toml [api]: the exposed schema comes first, then extra_search_path
EXTRA_SEARCH_PATH = ("public", "extensions")


def role_url(url: str, role: str) -> str:
    """``url`` with its user replaced by ``role`` (password kept)."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    creds, host = (netloc[0], netloc[1]) if len(netloc) == 2 else ("", netloc[0])
    password = creds.split(":", 1)[1] if ":" in creds else None
    auth = role if password is None else f"{role}:{password}"
    return urlunsplit(parts._replace(netloc=f"{auth}@{host}"))


@dataclass(frozen=True)
class User:
    id: uuid.UUID
    email: str
    app_metadata: dict = field(default_factory=dict)

    def claims(self) -> dict:
        return {
            "sub": str(self.id),
            "role": "authenticated",
            "aud": "authenticated",
            "email": self.email,
            "app_metadata": {"provider": "email", **self.app_metadata},
            "user_metadata": {},
        }


class FunctionNotFound(LookupError):
    """No function of that name accepts those argument names (PostgREST's PGRST202, 404)."""

    http_status = 404


def http_status(sqlstate: str | None, message: str = "", authenticated: bool = True) -> int:
    """The HTTP status PostgREST gives a database error (``pgErrorStatus``)."""
    c = sqlstate or ""
    if c.startswith("08"):
        return 503
    if c.startswith("09"):
        return 500
    if c.startswith(("0L", "0P")):
        return 403
    if c in ("23503", "23505"):
        return 409
    if c == "25006":
        return 405
    if c == "21000":
        return 400 if message.endswith("requires a WHERE clause") else 500
    if c == "22023":
        return 401 if message.startswith("role") and message.endswith("does not exist") else 400
    if c.startswith(("25", "2D", "38", "39", "3B", "40")):
        return 500
    if c.startswith("28"):
        return 403
    if c == "53400":
        return 500
    if c.startswith("53"):
        return 503
    if c == "57P01":
        return 503
    if c.startswith(("54", "55", "57", "58", "F0", "HV", "XX")):
        return 500
    if c == "P0001":
        return 400
    if c.startswith("P0"):
        return 500
    if c == "42883":
        return 406 if message.startswith("function xmlagg(") else 404
    if c == "42P01":
        return 404
    if c == "42P17":
        return 500
    if c == "42501":
        return 403 if authenticated else 401
    if c.startswith("PT") and c[2:].isdigit():
        return int(c[2:])
    return 400


@dataclass(frozen=True)
class _Signature:
    names: tuple[str, ...]
    types: tuple[str, ...]
    required: frozenset[str]
    returns_set: bool
    returns_composite: bool
    settings: tuple[tuple[str, str], ...]


LOGIN_ROLE = "authenticator"


def login_as_authenticator(conn: psycopg.Connection) -> psycopg.Connection:
    """A connection as ``authenticator`` to ``conn``'s database: ``conn`` itself when it is one
    (or is inside a transaction the caller wants the API to share), else a new one that is
    closed with ``conn``'s owner, when the ``Api`` is collected."""
    if conn.info.user == LOGIN_ROLE or not conn.autocommit or \
            conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        return conn
    params = {k: v for k, v in conn.info.get_parameters().items() if k != "user"}
    if conn.info.password:
        params["password"] = conn.info.password
    return psycopg.connect(**params, user=LOGIN_ROLE, autocommit=True)


class Api:
    """One API identity (role plus JWT claims) on one connection, logged in as
    ``authenticator`` as PostgREST is: given a connection as another role (an autocommit
    connection as ``postgres``, say), the Api opens its own to the same database."""

    def __init__(self, conn: psycopg.Connection, role: str, claims: dict | None = None,
                 schema: str = "llm"):
        self.conn = login_as_authenticator(conn)
        if self.conn is not conn:
            weakref.finalize(self, self.conn.close)
        self.role = role
        self.claims = dict(claims) if claims is not None else {"role": role}
        self.claims.setdefault("role", role)  # PostgREST always puts the role in the claims
        self.schema = schema
        self._signatures: dict[str, list[_Signature]] = {}
        self._role_settings: tuple[tuple[str, str], ...] | None = None

    # -- requests ------------------------------------------------------------------------
    def role_settings(self) -> tuple[tuple[str, str], ...]:
        """The impersonated role's settings (``alter role ... set``), which PostgREST reads
        at start-up and sets per request, since switching role does not apply them."""
        if self._role_settings is None:
            rows = self.conn.execute(
                """
                select split_part(s, '=', 1), substr(s, strpos(s, '=') + 1)
                from pg_catalog.pg_db_role_setting as d
                cross join lateral unnest(d.setconfig) as s
                where d.setrole = (select oid from pg_catalog.pg_roles where rolname = %s)
                  and d.setdatabase in (0, (select oid from pg_catalog.pg_database
                                            where datname = current_database()))
                order by d.setdatabase
                """,
                (self.role,),
            ).fetchall()
            self._role_settings = tuple(dict(rows).items())
        return self._role_settings

    def _begin(self, cur: psycopg.Cursor, method: str, path: str,
               settings: tuple[tuple[str, str], ...] = ()) -> None:
        search_path = ", ".join(
            sql.Identifier(s).as_string(self.conn) for s in (self.schema, *EXTRA_SEARCH_PATH))
        pairs = [("search_path", search_path), *self.role_settings(),
                 ("role", self.role), ("request.jwt.claims", json.dumps(self.claims)),
                 ("request.method", method), ("request.path", path),
                 ("request.headers", json.dumps({"accept": "application/json",
                                                 "content-type": "application/json"})),
                 ("request.cookies", "{}"), *settings]
        cur.execute(
            sql.SQL("select {}").format(sql.SQL(", ").join(
                sql.SQL("set_config(%s, %s, true)") for _ in pairs)),
            [v for pair in pairs for v in pair],
        )

    def _run(self, query: sql.Composable | str, params: Any, method: str, path: str,
             settings: tuple[tuple[str, str], ...] = ()) -> list[dict]:
        try:
            with self.conn.transaction(), self.conn.cursor(row_factory=dict_row) as cur:
                if method in ("GET", "HEAD"):
                    # PostgREST runs GET and HEAD requests in a read-only transaction
                    cur.execute("set transaction read only")
                self._begin(cur, method, path, settings)
                cur.execute(query, params)
                return cur.fetchall() if cur.description else []
        except psycopg.Error as exc:
            diag = exc.diag
            exc.http_status = http_status(exc.sqlstate, diag.message_primary or "",
                                          authenticated=self.role != "anon")
            raise

    def sql(self, query: str | sql.Composable, params: Any = None) -> list[dict]:
        """Runs one statement as this identity and returns its rows as dicts."""
        return self._run(query, params, "POST", "/sql")

    def one(self, query: str | sql.Composable, params: Any = None) -> Any:
        """Runs one statement and returns the first column of its only row."""
        rows = self.sql(query, params)
        assert len(rows) == 1, f"expected one row, got {len(rows)}"
        return next(iter(rows[0].values()))

    def _call(self, function: str, args: dict) -> tuple[_Signature, sql.Composable, tuple]:
        """PostgREST's ``callPlanToQuery`` for ``POST /rpc/<function>`` with body ``args``."""
        sig = self._resolve(function, args)
        target = sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(function))
        scalar = not sig.returns_composite
        if args:
            names = [n for n in sig.names if n in args]  # the function's parameters in the body
            body = sql.SQL(
                "from (select %s::json as json_data) pgrst_payload, "
                "lateral (select {cols} from json_to_record(pgrst_payload.json_data) "
                "as _({typed})) pgrst_body, lateral "
            ).format(
                cols=sql.SQL(", ").join(sql.Identifier(n) for n in names),
                typed=sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(sig.types[sig.names.index(n)]))
                    for n in names),
            )
            call = sql.SQL("{}({})").format(target, sql.SQL(", ").join(
                sql.SQL("{} := pgrst_body.{}").format(sql.Identifier(n), sql.Identifier(n))
                for n in names))
            params: tuple = (json.dumps(args, default=str),)
        else:
            body = sql.SQL("from ")
            call = sql.SQL("{}()").format(target)
            params = ()
        if scalar:
            query = sql.SQL("select pgrst_call.pgrst_scalar {}(select {} pgrst_scalar) pgrst_call"
                            ).format(body, call)
        else:
            query = sql.SQL("select pgrst_call.* {}{} pgrst_call").format(body, call)
        return sig, query, params

    def rpc(self, function: str, **args: Any) -> Any:
        """Calls ``<schema>.<function>`` like ``supabase.rpc(function, args)``; returns the
        response's shape with Python values (see the module docstring)."""
        return self._rpc("POST", function, args)

    def rpc_get(self, function: str, **args: Any) -> Any:
        """Calls ``<schema>.<function>`` as ``GET /rpc/<function>`` (supabase-js
        ``rpc(function, args, { get: true })``): the same call as ``rpc``, in the read-only
        transaction PostgREST runs every GET in, so nothing it writes can last (``25006``,
        HTTP 405). The arguments are bound as ``rpc`` binds a body."""
        return self._rpc("GET", function, args)

    def _rpc(self, method: str, function: str, args: dict) -> Any:
        sig, query, params = self._call(function, args)
        rows = self._run(query, params, method, f"/rpc/{function}", sig.settings)
        if sig.returns_composite:
            if sig.returns_set:
                return rows
            return rows[0] if rows else None  # an object of nulls when the function gave NULL
        values = [r["pgrst_scalar"] for r in rows]
        if sig.returns_set:
            return values
        return values[0] if values else None

    def rpc_json(self, function: str, **args: Any) -> Any:
        """The JSON body PostgREST answers ``POST /rpc/<function>`` with, decoded: exactly
        what supabase-js puts in ``data``."""
        sig, query, params = self._call(function, args)
        agg = ("json_agg(_postgrest_t)" if sig.returns_composite
               else "json_agg(_postgrest_t.pgrst_scalar)")
        if sig.returns_set:
            body = sql.SQL("coalesce({}, '[]')").format(sql.SQL(agg))
        else:
            body = sql.SQL("coalesce({}->0, 'null')").format(sql.SQL(agg))
        wrapped = sql.SQL(
            "with pgrst_source as ({}) select {}::text as body "
            "from (select * from pgrst_source) _postgrest_t").format(query, body)
        rows = self._run(wrapped, params, "POST", f"/rpc/{function}", sig.settings)
        return json.loads(rows[0]["body"])

    # -- function lookup -----------------------------------------------------------------
    def _load(self, function: str) -> list[_Signature]:
        if function not in self._signatures:
            with self.conn.transaction():
                # types qualified as PostgREST's schema cache names them
                self.conn.execute("set local search_path = ''")
                rows = self.conn.execute(
                    """
                    select p.proargnames, p.proargmodes, p.pronargs, p.pronargdefaults,
                           p.proretset,
                           t.typtype = 'c' or (p.prorettype = 'pg_catalog.record'::pg_catalog.regtype
                               and p.proallargtypes is not null),
                           array(select pg_catalog.format_type(a, null)
                                 from unnest(p.proargtypes) as a),
                           coalesce(p.proconfig, '{}')
                    from pg_catalog.pg_proc as p
                    join pg_catalog.pg_type as t on t.oid = p.prorettype
                    where p.pronamespace = %s::pg_catalog.regnamespace and p.proname = %s
                    """,
                    (self.schema, function),
                ).fetchall()
            sigs = []
            for names, modes, nargs, ndefaults, retset, composite, types, config in rows:
                in_names = [
                    n for i, n in enumerate(names or [])
                    if modes is None or modes[i] in ("i", "b", "v")
                ][:nargs]
                sigs.append(_Signature(
                    names=tuple(in_names),
                    types=tuple(types),
                    required=frozenset(in_names[: nargs - ndefaults]),
                    returns_set=retset,
                    returns_composite=composite,
                    settings=tuple(tuple(c.split("=", 1)) for c in config),
                ))
            self._signatures[function] = sigs
        return self._signatures[function]

    def _resolve(self, function: str, args: dict) -> _Signature:
        keys = set(args)
        for sig in self._load(function):
            if keys <= set(sig.names) and sig.required <= keys:
                return sig
        raise FunctionNotFound(f"{self.schema}.{function}({', '.join(sorted(keys))})")

