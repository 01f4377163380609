// Test fixtures: a database URL from the harness (SUPABASE_DB_URL), the three functions served
// locally against a fake upstream, users with signed JWTs, and a superuser connection to look
// at what the functions wrote.

import { SignJWT } from "jose";
import postgres from "postgres";
import { type Config, loadConfig } from "../_shared/config.ts";
import { type FakeUpstream, startFakeUpstream } from "../_dev/fake_upstream.ts";
import { type LocalStack, startStack } from "../_dev/stack.ts";

export const JWT_SECRET = "test-jwt-secret-with-at-least-32-characters";
export const MODEL = "gpt-4o-mini";

export function dbUrl(): string {
  const url = Deno.env.get("SUPABASE_DB_URL");
  if (!url) {
    throw new Error("SUPABASE_DB_URL must point at a migrated database (make test sets it)");
  }
  return url;
}

export interface Gateway {
  stack: LocalStack;
  fake: FakeUpstream;
  /** A superuser connection, for arranging and asserting. */
  db: postgres.Sql;
  config: Config;
  fn(name: string): string;
  close(): Promise<void>;
}

export async function startGateway(env: Record<string, string> = {}): Promise<Gateway> {
  const fake = startFakeUpstream();
  const vars = new Map(Object.entries({
    SUPABASE_DB_URL: dbUrl(),
    SUPABASE_JWT_SECRET: JWT_SECRET,
    LLM_BASE_URL: fake.url,
    LLM_API_KEY: "sk-test",
    LLM_TIMEOUT_MS: "2000",
    LLM_DB_POOL_SIZE: "20",
    ...env,
  }));
  const config = loadConfig({ get: (k) => vars.get(k) });
  const stack = startStack(config);
  const db = postgres(dbUrl(), { prepare: false, max: 2, onnotice: () => {} });
  await db`select 1`;
  return {
    stack,
    fake,
    db,
    config,
    fn: (name) => `${stack.url}/${name}`,
    close: async () => {
      await stack.close();
      await fake.close();
      await db.end();
    },
  };
}

export interface TestUser {
  id: string;
  token: string;
  email: string;
}

export async function signToken(
  claims: Record<string, unknown>,
  opts: { secret?: string; expiresIn?: string | number } = {},
): Promise<string> {
  return await new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt()
    .setExpirationTime(opts.expiresIn ?? "1h")
    .sign(new TextEncoder().encode(opts.secret ?? JWT_SECRET));
}

/** Creates an auth.users row and a signed access token for it. */
export async function makeUser(
  db: postgres.Sql,
  opts: { admin?: boolean } = {},
): Promise<TestUser> {
  const id = crypto.randomUUID();
  const email = `${id.slice(0, 12)}@example.test`;
  await db`insert into auth.users (id, email, raw_app_meta_data)
    values (${id}, ${email}, ${JSON.stringify({ provider: "email" })}::text::jsonb)`;
  if (opts.admin) {
    await db`insert into llm.admins (user_id, note) values (${id}, 'edge test admin')`;
  }
  const token = await signToken({
    sub: id,
    role: "authenticated",
    aud: "authenticated",
    email,
    app_metadata: { provider: "email" },
    user_metadata: {},
  });
  return { id, token, email };
}

export function chat(
  gw: Gateway,
  user: TestUser | null,
  body: unknown,
  init: RequestInit = {},
): Promise<Response> {
  return fetch(gw.fn("llm-chat"), {
    method: "POST",
    ...init,
    headers: {
      "content-type": "application/json",
      ...(user ? { authorization: `Bearer ${user.token}` } : {}),
      ...(init.headers as Record<string, string> | undefined),
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

export function get(gw: Gateway, user: TestUser, path: string, init: RequestInit = {}) {
  return fetch(`${gw.stack.url}/${path}`, {
    ...init,
    headers: { authorization: `Bearer ${user.token}`, ...(init.headers as Record<string, string>) },
  });
}

/** Reads an SSE body to the end; returns the data of each event. */
export async function readEvents(res: Response): Promise<string[]> {
  const text = await res.text();
  return text.split("\n\n").filter((e) => e.startsWith("data: ")).map((e) => e.slice(6));
}

/** Polls until `check` returns a truthy value (work that ends after the response). */
export async function eventually<T>(check: () => Promise<T>, ms = 5000): Promise<T> {
  const until = Date.now() + ms;
  while (true) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The request log rows of one user, oldest first. */
export function requestLogs(db: postgres.Sql, userId: string) {
  return db`select l.*, l.metadata from llm.request_logs as l
    where l.user_id = ${userId}::uuid order by l.created_at, l.id`;
}

export function openReservations(db: postgres.Sql, userId: string) {
  return db`select * from llm.quota_reservations where user_id = ${userId}::uuid`;
}

/** Deno.test without the op/resource sanitizers (the pool and servers outlive a test). */
export function test(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });
}
