"""The short report `make demo` prints: what is installed, then what the demo data shows.

Each capability appends its sections to ``SECTIONS``.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg


@dataclass(frozen=True)
class Section:
    title: str
    query: str
    note: str = ""


SECTIONS: list[Section] = [
    Section(
        "Schema llm",
        """
        select 'tables' as kind, count(*) as count from pg_tables where schemaname = 'llm'
        union all
        select 'views', count(*) from pg_views where schemaname = 'llm'
        union all
        select 'functions', count(*) from pg_proc where pronamespace = 'llm'::regnamespace
        union all
        select 'policies', count(*) from pg_policies where schemaname = 'llm'
        union all
        select 'migrations applied', count(*) from supabase_migrations.schema_migrations
        """,
    ),
    Section(
        "Extensions",
        """
        select extname as extension, extversion as version, extnamespace::regnamespace as schema
        from pg_extension where extname in ('vector', 'pgcrypto', 'pg_cron') order by 1
        """,
    ),
    Section(
        "Jobs",
        "select job_name, schedule, scheduled as in_pg_cron, command from llm.sync_jobs()",
    ),
    Section(
        "Job health",
        "select job_name, enabled, scheduled, points_here, last_run_at, last_status,"
        " failing_since, failed_runs, left(last_error, 80) as last_error from llm.job_health()",
    ),
    Section(
        "Settings",
        "select key, value, value_type from llm.settings order by key",
    ),
    Section(
        "Package admins",
        "select a.user_id, coalesce(u.email, llm.user_label(a.user_id)) as admin, a.note"
        " from llm.admins as a"
        " left join auth.users as u on u.id = a.user_id order by a.granted_at",
    ),
    Section(
        "Conversations",
        """
        select coalesce(c.external_id, c.id::text) as conversation,
               c.user_id, coalesce(u.email, llm.user_label(c.user_id)) as owner, c.title,
               c.message_count as messages,
               (select count(*) from llm.messages as m
                where m.conversation_id = c.id and m.active) as active_branch,
               c.total_tokens as tokens, c.expires_at
        from llm.conversations as c left join auth.users as u on u.id = c.user_id
        where c.deleted_at is null order by c.created_at, 1 limit 20
        """,
    ),
    Section(
        "Conversation stats",
        "select key as stat, value from jsonb_each(llm.conversation_stats()) order by key",
    ),
    Section(
        "Request log: cost by user",
        "select c.user_id, coalesce(u.email, c.user_label) as user, c.total_requests as requests,"
        " round(c.total_cost_usd, 4) as cost_usd, c.total_tokens as tokens"
        " from llm.cost_by_user() as c left join auth.users as u on u.id = c.user_id",
    ),
    Section(
        "Request log: error rate by model",
        "select model, request_type, total_requests as requests, failed_requests as failed,"
        " error_rate_pct from llm.error_rate_by_model()",
    ),
    Section(
        "Request log: latency by model (successful requests)",
        "select request_type, model, request_count as requests, avg_latency_ms, p50_latency_ms,"
        " p95_latency_ms from llm.latency_by_model()",
    ),
    Section(
        "Request log: daily usage",
        "select date, total_requests as requests, failed_requests as failed,"
        " round(total_cost_usd, 4) as cost_usd, total_tokens as tokens"
        " from llm.daily_usage() limit 8",
    ),
    Section(
        "Request log: cache hits and models without a price",
        "select 'cache hits' as what, count(*)::text as requests,"
        " round(coalesce(sum(saved_cost_usd), 0), 4)::text as saved_usd"
        " from llm.request_logs where cache_hit"
        " union all"
        " select 'unpriced: ' || provider || '/' || model, requests::text, null"
        " from llm.unpriced_models()",
        note="cache hits here are the hits an application logged with llm.log_cache_hit (they"
        " reach usage and savings); the response cache's own hit counter below counts every"
        " lookup that found an entry, logged or not",
    ),
    Section(
        "Usage by user (last 7 days, ranked by cost)",
        """
        select r.rank, r.user_id, coalesce(u.email, r.user_label) as "user", r.requests,
               r.failed_requests,
               r.total_tokens, r.cost_usd, r.cache_hits, r.saved_cost_usd
        from jsonb_to_recordset(
            llm.usage_report(since => current_date - 6, rank_by => 'cost') -> 'users'
        ) as r (rank integer, user_id uuid, user_label text, requests bigint,
                failed_requests bigint, total_tokens bigint, cost_usd numeric,
                cache_hits bigint, saved_cost_usd numeric)
        left join auth.users as u on u.id = r.user_id
        order by r.rank
        """,
    ),
    Section(
        "Daily usage summary (today, from the rollups)",
        """
        select date, provider, model, request_type, count, total_tokens, total_cost
        from llm.daily_usage_summary where date = current_date
        order by total_cost desc, model
        """,
    ),
    Section(
        "Quotas (check_user_quota)",
        """
        select v.id as user_id, coalesce(u.email, llm.user_label(v.id)) as "user",
               q ->> 'quota_period' as period,
               q ->> 'hard' as hard, q ->> 'is_over_quota' as over_quota,
               q ->> 'tokens_used' as tokens_used, q ->> 'quota_limit' as token_limit,
               q ->> 'remaining' as remaining, q ->> 'cost_used_usd' as cost_used_usd,
               q ->> 'cost_limit_usd' as cost_limit_usd, q ->> 'reset_at' as reset_at
        from (values ('00000000-0000-4000-8000-00000000a11c'::uuid, 1),
                     ('00000000-0000-4000-8000-000000000b0b', 2),
                     (llm.user_uuid('user-123'), 3)) as v (id, ord)
        cross join (values ('daily', 1), ('monthly', 2)) as p (period, ord)
        cross join lateral llm.check_user_quota(v.id::text, p.period) as q
        left join auth.users as u on u.id = v.id
        where p.period = 'daily' or q ->> 'quota_source' = 'user'
        order by v.ord, p.ord
        """,
    ),
    Section(
        "Response cache: hits, misses and savings",
        """
        select s.provider, s.model,
               case when s.scope like 'user:%' then 'user:' || llm.user_label(substr(s.scope, 6)::uuid)
                    else s.scope end as scope,
               s.entries, s.hits, s.misses, s.hit_rate, s.total_tokens_saved as tokens_saved,
               s.cost_saved_usd
        from llm.get_llm_cache_stats() as s
        """,
        note="hits: lookups that found the entry (get_cached_llm_response, claim_llm_cache_key,"
        " similar-prompt lookups); the request log counts only the hits logged as requests",
    ),
    Section(
        "Response cache: entries",
        """
        select left(c.prompt, 40) as prompt, c.provider, c.model,
               coalesce((select sum(h.hits) from llm.response_cache_hits as h
                         where h.entry_id = c.id), 0)
               + (select count(*) from llm.response_cache_hit_journal as j
                  where j.entry_id = c.id) as hits,
               c.embedding_dims, c.expires_at > now() as live,
               date_trunc('second', c.expires_at - now()) as expires_in
        from llm.response_cache as c order by c.created_at, c.prompt
        """,
    ),
]


def _table(rows: list[tuple], headers: list[str]) -> str:
    cells = [headers] + [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def render(url: str) -> str:
    out = []
    with psycopg.connect(url, autocommit=True) as conn:
        for section in SECTIONS:
            cur = conn.execute(section.query)
            headers = [d.name for d in cur.description]
            rows = cur.fetchall()
            body = _table(rows, headers) if rows else "(none)"
            note = f"({section.note})\n" if section.note else ""
            out.append(f"== {section.title}\n{note}{body}\n")
    return "\n".join(out)
