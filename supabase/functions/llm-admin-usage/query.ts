// The parameters of a usage query and the query itself: usage per user, period, provider and
// model from llm.usage_live (real time, rollups plus what is not folded yet), read as the
// calling admin so RLS decides what is visible.

import type { Tx } from "../_shared/db.ts";
import { HttpError } from "../_shared/http.ts";

const PERIODS: Record<string, { type: string; unit: string }> = {
  day: { type: "daily", unit: "day" },
  week: { type: "weekly", unit: "week" },
  month: { type: "monthly", unit: "month" },
  year: { type: "yearly", unit: "year" },
};
for (const p of Object.values(PERIODS)) PERIODS[p.type] = p;

export interface UsageQuery {
  userId: string | null;
  period: { type: string; unit: string };
  startDate: string;
  endDate: string;
}

function bad(message: string, param: string): HttpError {
  return new HttpError(400, message, "invalid_request_error", { param });
}

function isoDate(value: string, param: string): string {
  const ok = /^\d{4}-\d{2}-\d{2}$/.test(value) &&
    new Date(`${value}T00:00:00Z`).toISOString().startsWith(value);
  if (!ok) throw bad(`${param} must be a date YYYY-MM-DD, got ${JSON.stringify(value)}`, param);
  return value;
}

/**
 * Reads the parameters from the query string or a JSON body, in snake_case or the camelCase
 * of the original function: user_id, period (day, week, month, year), start_date, end_date
 * (inclusive; default: the last 30 days).
 */
export function parseUsageQuery(params: Record<string, unknown>): UsageQuery {
  const pick = (...names: string[]) => {
    for (const n of names) {
      const v = params[n];
      if (v !== undefined && v !== null && v !== "") return v;
    }
    return null;
  };
  const text = (v: unknown, param: string) => {
    if (v === null) return null;
    if (typeof v !== "string") throw bad(`${param} must be a string`, param);
    return v.trim();
  };
  const periodName = text(pick("period", "period_type", "periodType"), "period") ?? "day";
  const period = PERIODS[periodName];
  if (!period) {
    throw bad(
      `period must be one of day, week, month, year, got ${JSON.stringify(periodName)}`,
      "period",
    );
  }
  const today = new Date().toISOString().slice(0, 10);
  const endDate = isoDate(text(pick("end_date", "endDate"), "end_date") ?? today, "end_date");
  const defaultStart = new Date(Date.parse(`${endDate}T00:00:00Z`) - 29 * 86_400_000)
    .toISOString().slice(0, 10);
  const startDate = isoDate(
    text(pick("start_date", "startDate"), "start_date") ?? defaultStart,
    "start_date",
  );
  if (startDate > endDate) throw bad("start_date must not be after end_date", "start_date");
  const userId = text(pick("user_id", "userId"), "user_id");
  return { userId: userId || null, period, startDate, endDate };
}

export interface UsageRow {
  /** detail: one provider and model; period, user, all: the totals of that level. */
  level: "detail" | "period" | "user" | "all";
  user_id: string | null;
  user_label: string | null;
  period_start: string | null;
  period_end: string | null;
  provider: string | null;
  model: string | null;
  requests: number;
  failed_requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  total_tokens: number;
  cost_usd: number;
  cache_hits: number;
  saved_tokens: number;
  saved_cost_usd: number;
}

/**
 * One row per user, period, provider and model over the periods touching the date range, and
 * the totals per user and period, per user and overall (summed in SQL: money stays numeric).
 */
export async function readUsage(tx: Tx, q: UsageQuery): Promise<UsageRow[]> {
  const rows = await tx`
    select to_jsonb(r) as row from (
      select
        case grouping(l.user_id, l.period_start, l.provider, l.model)
          when 0 then 'detail' when 3 then 'period' when 7 then 'user' else 'all' end as level,
        l.user_id::text as user_id, llm.user_label(l.user_id) as user_label,
        l.period_start::text as period_start,
        ((l.period_start + ('1 ' || ${q.period.unit}::text)::interval)::date - 1)::text as period_end,
        l.provider, l.model,
        sum(l.requests) as requests, sum(l.failed_requests) as failed_requests,
        sum(l.prompt_tokens) as prompt_tokens, sum(l.completion_tokens) as completion_tokens,
        sum(l.cached_tokens) as cached_tokens, sum(l.total_tokens) as total_tokens,
        sum(l.cost_usd) as cost_usd, sum(l.cache_hits) as cache_hits,
        sum(l.saved_tokens) as saved_tokens, sum(l.saved_cost_usd) as saved_cost_usd
      from llm.usage_live as l
      where l.period_type = ${q.period.type}::text
        and l.user_id is not null
        and l.period_start >= date_trunc(${q.period.unit}::text, ${q.startDate}::date)::date
        and l.period_start <= ${q.endDate}::date
        and (${q.userId}::text is null or l.user_id = llm.user_uuid(${q.userId}::text))
      group by grouping sets (
        (l.user_id, l.period_start, l.provider, l.model), (l.user_id, l.period_start), (l.user_id), ()
      )
      order by l.user_id nulls last, l.period_start nulls last, l.provider nulls last, l.model nulls last
    ) as r`;
  return rows.map((r) => r.row as UsageRow);
}
