"""Calls the database the way PostgREST does for one HTTP request.

Each call is one transaction that first runs
``set_config('role', <role>, true)`` and ``set_config('request.jwt.claims', <claims>, true)``
and then the statement. ``rpc`` binds named arguments through ``json_to_record`` with the
function's own parameter types, as PostgREST does, and shapes the result the same way:
a scalar for a scalar function, a dict for a composite, a list for a set-returning one.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row


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
    """No function of that name accepts those argument names (PostgREST's PGRST202)."""


@dataclass(frozen=True)
class _Signature:
    names: tuple[str, ...]
    types: tuple[str, ...]
    required: frozenset[str]
    returns_set: bool
    returns_composite: bool


class Api:
    """One API identity (role plus JWT claims) on one connection."""

    def __init__(self, conn: psycopg.Connection, role: str, claims: dict | None = None,
                 schema: str = "llm"):
        self.conn = conn
        self.role = role
        self.claims = claims if claims is not None else {"role": role}
        self.schema = schema
        self._signatures: dict[str, list[_Signature]] = {}

    # -- requests ------------------------------------------------------------------------
    def _begin(self, cur: psycopg.Cursor) -> None:
        cur.execute(
            "select set_config('role', %s, true), set_config('request.jwt.claims', %s, true)",
            (self.role, json.dumps(self.claims)),
        )

    def sql(self, query: str | sql.Composable, params: Any = None) -> list[dict]:
        """Runs one statement as this identity and returns its rows as dicts."""
        with self.conn.transaction(), self.conn.cursor(row_factory=dict_row) as cur:
            self._begin(cur)
            cur.execute(query, params)
            return cur.fetchall() if cur.description else []

    def one(self, query: str | sql.Composable, params: Any = None) -> Any:
        """Runs one statement and returns the first column of its only row."""
        rows = self.sql(query, params)
        assert len(rows) == 1, f"expected one row, got {len(rows)}"
        return next(iter(rows[0].values()))

    def rpc(self, function: str, **args: Any) -> Any:
        """Calls ``<schema>.<function>`` with named arguments, like ``supabase.rpc``."""
        sig = self._resolve(function, args)
        call_args = sql.SQL(", ").join(
            sql.SQL("{} => _.{}").format(sql.Identifier(n), sql.Identifier(n)) for n in args
        )
        target = sql.SQL("{}.{}({})").format(
            sql.Identifier(self.schema), sql.Identifier(function), call_args
        )
        record = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(sig.types[sig.names.index(n)]))
            for n in args
        )
        params = (json.dumps(args, default=str),) if args else None
        source = sql.SQL(" from json_to_record(%s::json) as _({})").format(record) \
            if args else sql.SQL("")
        if sig.returns_set or sig.returns_composite:
            query = sql.SQL("select f.*{}{} {} as f").format(
                source, sql.SQL(", lateral") if args else sql.SQL(" from"), target
            )
            rows = self.sql(query, params)
            if sig.returns_set:
                if rows and len(rows[0]) == 1 and not sig.returns_composite:
                    return [next(iter(r.values())) for r in rows]
                return rows
            row = rows[0] if rows else None
            if row is not None and all(v is None for v in row.values()):
                return None
            return row
        query = sql.SQL("select {} as result{}").format(target, source)
        return self.one(query, params)

    # -- function lookup -----------------------------------------------------------------
    def _load(self, function: str) -> list[_Signature]:
        if function not in self._signatures:
            rows = self.conn.execute(
                """
                select p.proargnames, p.proargmodes, p.pronargs, p.pronargdefaults,
                       p.proretset, t.typtype = 'c' or p.prorettype = 'record'::regtype,
                       array(select format_type(a, null) from unnest(p.proargtypes) as a)
                from pg_proc as p
                join pg_type as t on t.oid = p.prorettype
                where p.pronamespace = %s::regnamespace and p.proname = %s
                """,
                (self.schema, function),
            ).fetchall()
            sigs = []
            for names, modes, nargs, ndefaults, retset, composite, types in rows:
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
                ))
            self._signatures[function] = sigs
        return self._signatures[function]

    def _resolve(self, function: str, args: dict) -> _Signature:
        keys = set(args)
        for sig in self._load(function):
            if keys <= set(sig.names) and sig.required <= keys:
                return sig
        raise FunctionNotFound(f"{self.schema}.{function}({', '.join(sorted(keys))})")
