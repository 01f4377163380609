// Database access exactly as PostgREST does it: every call is one transaction that first sets
// the role and request.jwt.claims transaction-locally, so RLS and the SQL API's own checks
// decide what a caller may do, never the function.

import postgres from "postgres";
import type { Caller } from "./auth.ts";
import type { Config } from "./config.ts";
import { HttpError } from "./http.ts";

export type Sql = postgres.Sql;
export type Tx = postgres.TransactionSql;

/** Opens the connection pool of one function instance (prepare: false for the pooler). */
export function connect(config: Config): Sql {
  return postgres(config.dbUrl, {
    prepare: false,
    max: config.dbPoolSize,
    idle_timeout: 20,
    connect_timeout: 10,
    onnotice: () => {},
  });
}

/** The identity the gateway's own privileged writes run as (logging, quota, cache). */
export const SERVICE: Caller = {
  role: "service_role",
  userId: null,
  claims: { role: "service_role" },
};

/**
 * Makes the rest of the transaction run as `caller`, as PostgREST does at the start of each
 * request: the role and request.jwt.claims, both transaction-local.
 */
export async function become(tx: Tx, caller: Caller): Promise<void> {
  await tx`select set_config('role', ${caller.role}, true),
    set_config('request.jwt.claims', ${JSON.stringify(caller.claims)}, true)`;
}

/** Runs `fn` in one transaction as `caller`; a database error becomes its HTTP error. */
export async function asCaller<T>(
  sql: Sql,
  caller: Caller,
  fn: (tx: Tx) => Promise<T>,
): Promise<T> {
  try {
    return await sql.begin(async (tx) => {
      await become(tx, caller);
      return await fn(tx);
    }) as T;
  } catch (e) {
    throw toHttpError(e);
  }
}

/** Like asCaller, as the service role. */
export function asService<T>(sql: Sql, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return asCaller(sql, SERVICE, fn);
}

interface PgError {
  code: string;
  message: string;
  detail?: string;
  hint?: string;
}

function isPgError(e: unknown): e is PgError {
  return e instanceof Error && typeof (e as { code?: unknown }).code === "string" &&
    (e as { name?: string }).name === "PostgresError";
}

/** The SQLSTATE of a database error, or null. */
export function sqlstate(e: unknown): string | null {
  if (e instanceof HttpError) return e.code ?? null;
  return isPgError(e) ? e.code : null;
}

/**
 * Maps the SQL API's SQLSTATEs to HTTP, as PostgREST does: P0002 404, 22xxx 400, 42501 403,
 * 23505 409, PT429 429 (details parsed from the error's JSON DETAIL, Retry-After from its
 * reset_at). Anything else is a logged 500 that does not leak internals.
 */
export function toHttpError(e: unknown): HttpError | unknown {
  if (e instanceof HttpError || !isPgError(e)) return e;
  const { code, message } = e;
  if (code === "P0002") return new HttpError(404, message, "not_found", undefined, {}, code);
  if (code.startsWith("22")) {
    return new HttpError(400, message, "invalid_request_error", undefined, {}, code);
  }
  if (code === "42501") return new HttpError(403, message, "permission_error", undefined, {}, code);
  if (code === "23505") return new HttpError(409, message, "conflict", undefined, {}, code);
  if (code === "PT429") {
    let details: Record<string, unknown> | undefined;
    try {
      details = e.detail ? JSON.parse(e.detail) : undefined;
    } catch {
      details = undefined;
    }
    const headers: Record<string, string> = {};
    const resetAt = typeof details?.reset_at === "string" ? Date.parse(details.reset_at) : NaN;
    if (Number.isFinite(resetAt)) {
      headers["retry-after"] = String(Math.max(1, Math.ceil((resetAt - Date.now()) / 1000)));
    }
    return new HttpError(429, message, "quota_exceeded", details, headers, code);
  }
  console.error("database error", code, message);
  return new HttpError(500, `database error ${code}`, "database_error", undefined, {}, code);
}
