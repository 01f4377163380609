"""Shared checks of the usage-metering tests: exact comparisons of usage with the raw log."""

from __future__ import annotations

import psycopg

MEASURES = (
    "requests", "failed_requests", "prompt_tokens", "completion_tokens", "cached_tokens",
    "total_tokens", "cost_usd", "cache_hits", "saved_tokens", "saved_cost_usd",
)
KEY = ("user_id", "period_type", "period_start", "provider", "model", "request_type")

# The raw log summed per rollup key, the way llm.log_request journals each request.
RAW_SUMS = """
    select r.user_id, p.period_type, p.period_start, r.provider, r.model, r.request_type,
           count(*) as requests,
           count(*) filter (where not r.success) as failed_requests,
           sum(case when r.cache_hit then 0 else r.prompt_tokens end) as prompt_tokens,
           sum(case when r.cache_hit then 0 else r.completion_tokens end) as completion_tokens,
           sum(case when r.cache_hit then 0 else r.cached_tokens end) as cached_tokens,
           sum(case when r.cache_hit then 0 else r.tokens_total end) as total_tokens,
           coalesce(sum(r.cost_usd), 0) as cost_usd,
           count(*) filter (where r.cache_hit) as cache_hits,
           sum(case when r.cache_hit then r.tokens_total else 0 end) as saved_tokens,
           coalesce(sum(r.saved_cost_usd), 0) as saved_cost_usd
    from llm.request_logs as r
    cross join lateral llm.usage_periods(r.created_at, llm.setting_text('period_timezone')) as p
    group by 1, 2, 3, 4, 5, 6
"""


def _summed(source: str) -> str:
    sums = ", ".join(f"sum({m}) as {m}" for m in MEASURES)
    return f"select {', '.join(KEY)}, {sums} from {source} group by {', '.join(KEY)}"


def mismatches(conn: psycopg.Connection, source: str = "llm.usage_live") -> list[tuple]:
    """Keys whose usage in ``source`` differs from the raw log in any measure (exact)."""
    nil = "'00000000-0000-0000-0000-000000000000'::uuid"
    on = " and ".join(
        f"coalesce(a.{k}, {nil}) = coalesce(b.{k}, {nil})" if k == "user_id" else f"a.{k} = b.{k}"
        for k in KEY)
    differs = " or ".join(f"a.{m} is distinct from b.{m}" for m in MEASURES)
    query = f"""
        select coalesce(a.period_type, b.period_type), coalesce(a.period_start, b.period_start),
               coalesce(a.model, b.model), a.requests, b.requests, a.total_tokens,
               b.total_tokens, a.cost_usd, b.cost_usd
        from ({RAW_SUMS}) as a
        full join ({_summed(source)}) as b on {on}
        where a.requests is null or b.requests is null or {differs}
    """
    return conn.execute(query).fetchall()


def fold_all(conn: psycopg.Connection) -> int:
    """Folds the whole journal; returns the rows folded."""
    total = 0
    while True:
        n = conn.execute("select llm.fold_usage(100000)").fetchone()[0]
        total += n
        if n == 0 and conn.execute("select count(*) from llm.usage_journal").fetchone()[0] == 0:
            return total


def rollup_snapshot(conn: psycopg.Connection) -> list[tuple]:
    cols = ", ".join(KEY + MEASURES + ("last_activity",))
    return conn.execute(f"select {cols} from llm.usage_rollups order by {', '.join(KEY)}").fetchall()
