// GET or POST /llm-admin-usage: token usage per user and period (day, week, month, year) over
// a date range, with the provider/model breakdown and cost: the admin-get-user-token-usage
// function of the system we replace. Package admins only (403 otherwise), read as the calling
// admin so RLS decides. JSON, or CSV with `Accept: text/csv` (or ?format=csv).

import type { Authenticator } from "../_shared/auth.ts";
import type { Config } from "../_shared/config.ts";
import { asCaller, type Sql } from "../_shared/db.ts";
import { HttpError, json, readJsonObject, serveJson } from "../_shared/http.ts";
import { parseUsageQuery, readUsage } from "./query.ts";
import { toCsv, toReport } from "./report.ts";

export interface AdminUsageDeps {
  config: Config;
  sql: Sql;
  authenticate: Authenticator;
}

export function createAdminUsageHandler(deps: AdminUsageDeps): (req: Request) => Promise<Response> {
  const { config, sql } = deps;

  return serveJson(config.corsOrigin, async (req) => {
    const caller = await deps.authenticate(req);
    const url = new URL(req.url);
    let params: Record<string, unknown> = Object.fromEntries(url.searchParams);
    if (req.method === "POST") {
      const body = (req.headers.get("content-length") ?? "1") === "0"
        ? {}
        : await readJsonObject(req);
      params = { ...params, ...body };
    } else if (req.method !== "GET") {
      throw new HttpError(405, "use GET or POST", "invalid_request_error");
    }
    const query = parseUsageQuery(params);
    const csv = params.format === "csv" || (req.headers.get("accept") ?? "").includes("text/csv");

    const rows = await asCaller(sql, caller, async (tx) => {
      // the service role is a backend: it reads everything, as through PostgREST
      if (caller.role !== "service_role") {
        const [{ admin }] = await tx`select llm.is_admin() as admin`;
        if (!admin) {
          throw new HttpError(
            403,
            "only package admins may read everyone's usage",
            "permission_error",
          );
        }
      }
      return await readUsage(tx, query);
    });
    if (csv) {
      return new Response(toCsv(rows), {
        headers: {
          "content-type": "text/csv; charset=utf-8",
          "content-disposition":
            `attachment; filename="llm-usage-${query.period.unit}-${query.startDate}-${query.endDate}.csv"`,
        },
      });
    }
    return json(toReport(query, rows));
  });
}
