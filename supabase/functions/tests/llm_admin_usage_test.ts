// llm-admin-usage: usage per user and period, for package admins only, as JSON or CSV.

import { assert, assertEquals, assertMatch } from "./assert.ts";
import { get, makeUser, signToken, startGateway, test, type TestUser } from "./helpers.ts";

const gw = await startGateway();
globalThis.addEventListener("unload", () => gw.close());

/** Logs requests for a user on given days, as a backend would. */
async function logUsage(user: TestUser, rows: [string, string, string, number, number][]) {
  for (const [day, provider, model, prompt, completion] of rows) {
    await gw.db`select llm.log_request(provider => ${provider}, model => ${model},
      user_id => ${user.id}, prompt_tokens => ${prompt}::int, completion_tokens => ${completion}::int,
      created_at => ${`${day}T12:00:00Z`}::timestamptz)`;
  }
}

const range = "start_date=2026-03-01&end_date=2026-03-31";

test("a user who is not an admin gets 403", async () => {
  const user = await makeUser(gw.db);
  const res = await get(gw, user, `llm-admin-usage?${range}`);
  assertEquals(res.status, 403);
  const err = (await res.json()).error;
  assertEquals(err.type, "permission_error");
  assertMatch(err.message, /only package admins/);
});

test("an admin reads usage per user and day with the provider/model breakdown and cost", async () => {
  const admin = await makeUser(gw.db, { admin: true });
  const alice = await makeUser(gw.db);
  const bob = await makeUser(gw.db);
  await logUsage(alice, [
    ["2026-03-02", "openai", "gpt-4o-mini", 100, 50],
    ["2026-03-02", "openai", "gpt-4o", 10, 5],
    ["2026-03-03", "openai", "gpt-4o-mini", 1, 1],
  ]);
  await logUsage(bob, [["2026-03-02", "anthropic", "claude-3-5-haiku-20241022", 7, 3]]);
  const res = await get(gw, admin, `llm-admin-usage?${range}&user_id=${alice.id}`);
  assertEquals(res.status, 200);
  const report = await res.json();
  assertEquals(report.period, "day");
  assertEquals(report.user_count, 1);
  const [a] = report.users;
  assertEquals(a.user_id, alice.id);
  assertEquals(a.totals.requests, 3);
  assertEquals(a.totals.total_tokens, 167);
  assertEquals(a.periods.map((p: { period_start: string }) => p.period_start), [
    "2026-03-02",
    "2026-03-03",
  ]);
  const day = a.periods[0];
  assertEquals(day.period_end, "2026-03-02");
  assertEquals(day.totals.total_tokens, 165);
  assertEquals(
    day.breakdown.map((b: { model: string; total_tokens: number }) => [b.model, b.total_tokens]),
    [["gpt-4o", 15], ["gpt-4o-mini", 150]],
  );
  const [{ cost }] = await gw.db`select sum(cost_usd)::float8 as cost from llm.request_logs
    where user_id = ${alice.id}::uuid`;
  assert(cost > 0);
  assertEquals(a.totals.cost_usd, cost);

  // everyone, by month
  const all = await (await get(gw, admin, `llm-admin-usage?${range}&period=month`)).json();
  const ids = all.users.map((u: { user_id: string }) => u.user_id);
  assert(ids.includes(alice.id) && ids.includes(bob.id));
  const bobs = all.users.find((u: { user_id: string }) => u.user_id === bob.id);
  assertEquals(bobs.periods[0].period_start, "2026-03-01");
  assertEquals(bobs.periods[0].period_end, "2026-03-31");
  assertEquals(bobs.periods[0].breakdown[0].provider, "anthropic");
});

test("CSV with Accept: text/csv, one line per user, period, provider and model", async () => {
  const admin = await makeUser(gw.db, { admin: true });
  const carol = await makeUser(gw.db);
  await logUsage(carol, [
    ["2026-03-10", "openai", "gpt-4o-mini", 20, 10],
    ["2026-03-11", "openai", "gpt-4o-mini", 2, 1],
  ]);
  const res = await get(gw, admin, `llm-admin-usage?${range}&period=week&user_id=${carol.id}`, {
    headers: { accept: "text/csv" },
  });
  assertEquals(res.status, 200);
  assertMatch(res.headers.get("content-type")!, /^text\/csv/);
  const lines = (await res.text()).trim().split("\r\n");
  assertEquals(lines[0].split(",").slice(0, 8), [
    "user_id",
    "user_label",
    "period_start",
    "period_end",
    "provider",
    "model",
    "requests",
    "failed_requests",
  ]);
  assertEquals(lines.length, 2, "both days fall in the ISO week of Monday 2026-03-09");
  const fields = lines[1].split(",");
  assertEquals(fields[0], carol.id);
  assertEquals(fields.slice(2, 7), ["2026-03-09", "2026-03-15", "openai", "gpt-4o-mini", "2"]);
});

test("an admin by app_metadata claim is an admin too; POST bodies in camelCase work", async () => {
  const id = crypto.randomUUID();
  await gw.db`insert into auth.users (id, email) values (${id}, ${`${
    id.slice(0, 8)
  }@example.test`})`;
  const token = await signToken({
    sub: id,
    role: "authenticated",
    app_metadata: { llm_admin: true },
  });
  const res = await fetch(gw.fn("llm-admin-usage"), {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ startDate: "2026-03-01", endDate: "2026-03-02", periodType: "daily" }),
  });
  assertEquals(res.status, 200);
  assertEquals((await res.json()).period, "day");
});

test("bad parameters are 400", async () => {
  const admin = await makeUser(gw.db, { admin: true });
  for (
    const [query, message] of [
      ["period=fortnight", /period must be one of day, week, month, year/],
      ["start_date=2026-02-30", /start_date must be a date/],
      ["start_date=2026-03-05&end_date=2026-03-01", /start_date must not be after end_date/],
    ] as const
  ) {
    const res = await get(gw, admin, `llm-admin-usage?${query}`);
    assertEquals(res.status, 400, query);
    assertMatch((await res.json()).error.message, message);
  }
});
