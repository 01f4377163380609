// llm-chat when things go wrong: quotas, upstream errors and timeouts, clients leaving
// mid-stream, bad requests.

import { assert, assertEquals, assertMatch } from "./assert.ts";
import {
  chat,
  eventually,
  makeUser,
  MODEL,
  openReservations,
  requestLogs,
  startGateway,
  test,
} from "./helpers.ts";

const gw = await startGateway({ LLM_TIMEOUT_MS: "300" });
globalThis.addEventListener("unload", () => gw.close());

const ask = (content: string, extra: Record<string, unknown> = {}) => ({
  model: MODEL,
  messages: [{ role: "user", content }],
  ...extra,
});

test("an exhausted quota is refused with 429, its detail and Retry-After, and nothing goes upstream", async () => {
  const user = await makeUser(gw.db);
  await gw.db`select llm.set_user_quota(user_id => ${user.id}, quota_period => 'daily',
    token_limit => 10, cost_limit => null, request_limit => null, hard => true)`;
  const calls = gw.fake.calls.length;
  const res = await chat(gw, user, ask("this needs more than ten tokens"));
  assertEquals(res.status, 429);
  const body = await res.json();
  assertEquals(body.error.type, "quota_exceeded");
  assertMatch(body.error.message, /daily token quota exceeded: limit 10/);
  assertEquals(body.error.details.quota_period, "daily");
  assertEquals(body.error.details.limit_type, "token");
  assertEquals(body.error.details.limit, 10);
  const retryAfter = Number(res.headers.get("retry-after"));
  assert(retryAfter > 0 && retryAfter <= 86_400, `Retry-After ${retryAfter}`);
  assertEquals(gw.fake.calls.length, calls, "nothing sent upstream");
  assertEquals((await requestLogs(gw.db, user.id)).length, 0);
  const [{ n }] = await gw.db`select count(*)::int as n from llm.conversations
    where user_id = ${user.id}::uuid`;
  assertEquals(n, 0, "nothing stored for a refused turn");
});

test("concurrent requests of one user never get more than a hard limit grants", async () => {
  const user = await makeUser(gw.db);
  await gw.db`select llm.set_user_quota(user_id => ${user.id}, quota_period => 'daily',
    token_limit => null, cost_limit => null, request_limit => 3, hard => true)`;
  const calls = gw.fake.calls.length;
  const results = await Promise.all(
    Array.from(
      { length: 12 },
      (_, i) =>
        chat(gw, user, ask(`[delay 100] concurrent ${i}`)).then(async (r) => {
          await r.body?.cancel();
          return r.status;
        }),
    ),
  );
  assertEquals(results.filter((s) => s === 200).length, 3, `statuses ${results}`);
  assertEquals(results.filter((s) => s === 429).length, 9);
  assertEquals(gw.fake.calls.length - calls, 3, "three upstream calls");
  assertEquals((await requestLogs(gw.db, user.id)).length, 3);
});

test("an upstream 500 is logged as a failed request, the reservation released, the client gets 502", async () => {
  const user = await makeUser(gw.db);
  const res = await chat(gw, user, ask("[status 500] break"));
  assertEquals(res.status, 502);
  const body = await res.json();
  assertEquals(body.error.type, "upstream_error");
  assertEquals(body.error.details.upstream_status, 500);
  assertMatch(body.error.message, /fake upstream error 500/);
  const [log] = await requestLogs(gw.db, user.id);
  assertEquals(log.success, false);
  assertEquals(log.status_code, 500);
  assertEquals(log.error_type, "server_error");
  assertEquals(log.request_id, res.headers.get("x-request-id"));
  assertEquals(log.tokens_total, 0);
  assertEquals((await openReservations(gw.db, user.id)).length, 0);
  const [q] = await gw
    .db`select (llm.check_user_quota(${user.id}, 'daily') ->> 'tokens_reserved')::int as r`;
  assertEquals(q.r, 0);
});

test("an upstream that does not answer in LLM_TIMEOUT_MS is a logged timeout and a 502", async () => {
  const user = await makeUser(gw.db);
  for (const stream of [false, true]) {
    const started = performance.now();
    const res = await chat(gw, user, ask("[delay 1500] slow", { stream }));
    assertEquals(res.status, 502);
    const body = await res.json();
    assertEquals(body.error.details.error_type, "timeout");
    assert(performance.now() - started < 1400, "bounded by the timeout");
  }
  const logs = await requestLogs(gw.db, user.id);
  assertEquals(logs.map((l) => [l.success, l.error_type, l.status_code]), [
    [false, "timeout", null],
    [false, "timeout", null],
  ]);
  assertEquals((await openReservations(gw.db, user.id)).length, 0);
});

test("a stream that stalls mid-way ends with an error event, its partial tokens logged", async () => {
  const user = await makeUser(gw.db);
  const res = await chat(gw, user, ask("[words 5] [chunk_delay 1000] stall", { stream: true }));
  assertEquals(res.status, 200);
  const text = await res.text();
  assertMatch(text, /"type":"timeout"/);
  const log = await eventually(async () => (await requestLogs(gw.db, user.id))[0]);
  assertEquals(log.success, false);
  assertEquals(log.error_type, "timeout");
  assertEquals((await openReservations(gw.db, user.id)).length, 0);
});

test("a client that leaves mid-stream still has its partial completion logged and charged", async () => {
  const user = await makeUser(gw.db);
  const controller = new AbortController();
  const res = await chat(
    gw,
    user,
    ask("[words 40] [chunk_delay 20] long answer", { stream: true }),
    {
      signal: controller.signal,
    },
  );
  assertEquals(res.status, 200);
  const reader = res.body!.getReader();
  let received = "";
  while (!received.includes("w3")) {
    received += new TextDecoder().decode((await reader.read()).value);
  }
  controller.abort();
  await reader.cancel().catch(() => {});

  const log = await eventually(async () => (await requestLogs(gw.db, user.id))[0]);
  assertEquals(log.success, true);
  assertEquals(log.metadata.partial, true);
  assertEquals(log.metadata.usage_estimated, true);
  assert(
    log.completion_tokens >= 3 && log.completion_tokens < 40,
    `${log.completion_tokens} tokens`,
  );
  assert(log.prompt_tokens > 0);
  assert(Number(log.cost_usd) > 0, "charged");
  const [msg] = await gw.db`select content, metadata from llm.messages
    where conversation_id = ${res.headers.get("x-conversation-id")}::uuid and role = 'assistant'`;
  assertMatch(msg.content, /^w1 w2 w3/);
  assertEquals(msg.metadata.partial, true);
  assertEquals((await openReservations(gw.db, user.id)).length, 0);
  const [{ n }] = await gw.db`select count(*)::int as n from llm.response_cache
    where user_id = ${user.id}::uuid`;
  assertEquals(n, 0, "a partial answer is never cached");
});

test("bad JSON, missing fields and an unknown model are 400 with a clear message", async () => {
  const user = await makeUser(gw.db);
  const cases: [unknown, RegExp][] = [
    ["{not json", /request body is not valid JSON/],
    [[1, 2], /must be a JSON object/],
    [{ messages: [{ role: "user", content: "hi" }] }, /model is required/],
    [{ model: MODEL }, /messages is required/],
    [{ model: MODEL, messages: [] }, /messages is required/],
    [
      { model: MODEL, messages: [{ role: "wizard", content: "hi" }] },
      /messages\[0\]\.role must be one of/,
    ],
    [{ model: MODEL, messages: [{ role: "user" }] }, /messages\[0\]\.content must be/],
    [{ ...ask("hi"), stream: "yes" }, /stream must be true or false/],
    [{ ...ask("hi"), max_tokens: -5 }, /max_tokens must be a positive integer/],
    [
      { ...ask("hi"), model: "no-such-model" },
      /unknown model "no-such-model" of provider "openai"/,
    ],
    [{ ...ask("hi"), conversation_id: "" }, /conversation_id must be a non-empty string/],
  ];
  const calls = gw.fake.calls.length;
  for (const [body, message] of cases) {
    const res = await chat(gw, user, body);
    assertEquals(res.status, 400, JSON.stringify(body));
    const err = (await res.json()).error;
    assertEquals(err.type, "invalid_request_error");
    assertMatch(err.message, message);
  }
  assertEquals(gw.fake.calls.length, calls);
  assertEquals((await openReservations(gw.db, user.id)).length, 0);
});

test("another user's conversation is 404, and nothing is written to it", async () => {
  const owner = await makeUser(gw.db);
  const intruder = await makeUser(gw.db);
  const clientId = `owner-private-${crypto.randomUUID().slice(0, 8)}`;
  const first = await chat(gw, owner, ask("mine", { conversation_id: clientId }));
  assertEquals(first.status, 200);
  await first.body?.cancel();
  const uuid =
    (await gw.db`select id::text from llm.conversations where external_id = ${clientId}`)[0].id;
  for (const id of [clientId, uuid]) {
    const res = await chat(gw, intruder, ask("let me in", { conversation_id: id }));
    assertEquals(res.status, 404, id);
    assertEquals((await res.json()).error.type, "not_found");
  }
  const [{ n }] = await gw
    .db`select message_count as n from llm.conversations where id = ${uuid}::uuid`;
  assertEquals(n, 2);
  assertEquals((await openReservations(gw.db, intruder.id)).length, 0);
});

test("a namespace is only usable when the operator shares it", async () => {
  const user = await makeUser(gw.db);
  const res = await chat(gw, user, ask("hi", { namespace: "team-secrets" }));
  assertEquals(res.status, 403);
  assertMatch((await res.json()).error.message, /LLM_CACHE_NAMESPACES/);
});
