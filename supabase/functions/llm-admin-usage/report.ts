// Shapes usage rows as the JSON report (users, their periods, each with its provider/model
// breakdown, and totals at every level, all summed in SQL) or as CSV (one line per provider
// and model of a user's period).

import type { UsageQuery, UsageRow } from "./query.ts";

const MEASURES = [
  "requests",
  "failed_requests",
  "prompt_tokens",
  "completion_tokens",
  "cached_tokens",
  "total_tokens",
  "cost_usd",
  "cache_hits",
  "saved_tokens",
  "saved_cost_usd",
] as const;

type Measures = Pick<UsageRow, (typeof MEASURES)[number]>;

function measures(row: UsageRow | undefined): Measures {
  return Object.fromEntries(MEASURES.map((m) => [m, row ? row[m] : 0])) as Measures;
}

interface PeriodReport {
  period_start: string;
  period_end: string;
  totals: Measures;
  breakdown: (Measures & { provider: string; model: string })[];
}

interface UserReport {
  user_id: string;
  user_label: string | null;
  totals: Measures;
  periods: PeriodReport[];
}

export function toReport(q: UsageQuery, rows: UsageRow[]) {
  const users = new Map<string, UserReport>();
  const periodOf = new Map<string, PeriodReport>();
  let all: UsageRow | undefined;
  for (const row of rows) {
    if (row.level === "all") {
      all = row;
      continue;
    }
    const uid = row.user_id!;
    let user = users.get(uid);
    if (!user) {
      user = { user_id: uid, user_label: row.user_label, totals: measures(undefined), periods: [] };
      users.set(uid, user);
    }
    if (row.level === "user") {
      user.totals = measures(row);
      continue;
    }
    const key = `${uid}/${row.period_start}`;
    let period = periodOf.get(key);
    if (!period) {
      period = {
        period_start: row.period_start!,
        period_end: row.period_end!,
        totals: measures(undefined),
        breakdown: [],
      };
      periodOf.set(key, period);
      user.periods.push(period);
    }
    if (row.level === "period") period.totals = measures(row);
    else period.breakdown.push({ provider: row.provider!, model: row.model!, ...measures(row) });
  }
  return {
    period: q.period.unit,
    start_date: q.startDate,
    end_date: q.endDate,
    user_id: q.userId,
    user_count: users.size,
    totals: measures(all),
    users: [...users.values()],
  };
}

const COLUMNS = [
  "user_id",
  "user_label",
  "period_start",
  "period_end",
  "provider",
  "model",
  ...MEASURES,
] as const;

function csvField(value: unknown): string {
  // numbers never in exponent notation (a tiny cost prints as 0.0000001, not 1e-7)
  const s = value === null || value === undefined
    ? ""
    : typeof value === "number" && /e/i.test(String(value))
    ? value.toFixed(20).replace(/\.?0+$/, "")
    : String(value);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function toCsv(rows: UsageRow[]): string {
  const lines = [COLUMNS.join(",")];
  for (const row of rows) {
    if (row.level === "detail") lines.push(COLUMNS.map((c) => csvField(row[c])).join(","));
  }
  return lines.join("\r\n") + "\r\n";
}
