// llm-chat: a whole turn, streamed and not, and the exact cache.

import { assert, assertEquals, assertExists, assertMatch } from "./assert.ts";
import { fakeUsage } from "../_dev/fake_upstream.ts";
import {
  chat,
  makeUser,
  MODEL,
  openReservations,
  readEvents,
  requestLogs,
  startGateway,
  test,
} from "./helpers.ts";

const gw = await startGateway();
globalThis.addEventListener("unload", () => gw.close());

test("a non-streamed turn answers like OpenAI and records messages, tokens, cost and latency", async () => {
  const user = await makeUser(gw.db);
  const messages = [{ role: "system", content: "Be brief." }, {
    role: "user",
    content: "Hello there",
  }];
  const res = await chat(gw, user, { model: MODEL, messages, temperature: 0 });
  assertEquals(res.status, 200);
  const body = await res.json();
  assertEquals(body.object, "chat.completion");
  assertEquals(body.choices[0].message.content, "Echo: Hello there");
  const expected = fakeUsage({ messages });
  assertEquals(body.usage, expected);
  const requestId = res.headers.get("x-request-id")!;
  const conversationId = res.headers.get("x-conversation-id")!;
  assertExists(requestId);
  assertEquals(body.conversation_id, conversationId);
  assertEquals(res.headers.get("x-cache"), "miss");

  const msgs = await gw.db`select role, content, prompt_tokens, completion_tokens, model
    from llm.messages where conversation_id = ${conversationId}::uuid order by seq`;
  assertEquals(msgs.map((m) => [m.role, m.content]), [
    ["user", "Hello there"],
    ["assistant", "Echo: Hello there"],
  ]);
  assertEquals(msgs[1].prompt_tokens, expected.prompt_tokens);
  assertEquals(msgs[1].completion_tokens, expected.completion_tokens);

  const [log] = await requestLogs(gw.db, user.id);
  assertEquals(log.request_id, requestId);
  assertEquals(log.success, true);
  assertEquals(log.provider, "openai");
  assertEquals(log.model, MODEL);
  assertEquals(log.prompt_tokens, expected.prompt_tokens);
  assertEquals(log.completion_tokens, expected.completion_tokens);
  assertEquals(log.tokens_total, expected.total_tokens);
  assertEquals(log.conversation_id, conversationId);
  assert(Number(log.cost_usd) > 0, "priced from llm.model_prices");
  const [{ cost }] = await gw.db`select llm.estimate_cost('openai', ${MODEL},
    ${expected.prompt_tokens}::int, ${expected.completion_tokens}::int)::text as cost`;
  assertEquals(Number(log.cost_usd), Number(cost));
  assert(log.latency_ms >= 0);
  assertEquals((await openReservations(gw.db, user.id)).length, 0, "reservation settled");
  // the user's message went upstream as sent, without the gateway's fields
  const sent = gw.fake.calls.at(-1)!.body;
  assertEquals(sent.messages, messages);
  assertEquals(sent.conversation_id, undefined);
});

test("a streamed turn passes the chunks through and records usage and time to first token", async () => {
  const user = await makeUser(gw.db);
  const messages = [{ role: "user", content: "[words 12] [chunk_delay 15] stream please" }];
  const started = performance.now();
  const res = await chat(gw, user, { model: MODEL, messages, stream: true });
  assertEquals(res.status, 200);
  assertEquals(res.headers.get("content-type"), "text/event-stream");
  const events = await readEvents(res);
  const elapsed = performance.now() - started;
  assertEquals(events.at(-1), "[DONE]");
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
  const text = chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");
  assertEquals(text, Array.from({ length: 12 }, (_, i) => `w${i + 1}`).join(" "));
  // the client did not ask for include_usage: the gateway did, and kept the usage chunk back
  assert(chunks.every((c) => c.choices.length > 0));
  assertEquals(gw.fake.calls.at(-1)!.body.stream_options, { include_usage: true });

  const expected = fakeUsage({ messages });
  const [log] = await requestLogs(gw.db, user.id);
  assertEquals(log.prompt_tokens, expected.prompt_tokens);
  assertEquals(log.completion_tokens, 12);
  const ttft = log.metadata.time_to_first_token_ms;
  assert(typeof ttft === "number" && ttft >= 0, `ttft ${ttft}`);
  // twelve chunks 15 ms apart: the first token came well before the last
  assert(log.latency_ms >= ttft + 11 * 15 - 5, `latency ${log.latency_ms}, ttft ${ttft}`);
  assert(log.latency_ms <= elapsed + 5);
  const [msg] = await gw.db`select content from llm.messages
    where conversation_id = ${res.headers.get("x-conversation-id")}::uuid and role = 'assistant'`;
  assertEquals(msg.content, text);
  assertEquals((await openReservations(gw.db, user.id)).length, 0);
});

test("a stream that asked for include_usage gets the usage chunk", async () => {
  const user = await makeUser(gw.db);
  const messages = [{ role: "user", content: "[words 3] count" }];
  const res = await chat(gw, user, {
    model: MODEL,
    messages,
    stream: true,
    stream_options: { include_usage: true },
  });
  const events = (await readEvents(res)).slice(0, -1).map((e) => JSON.parse(e));
  assertEquals(events.at(-1).usage, fakeUsage({ messages }));
});

test("a repeated question is answered from the cache without calling upstream, savings logged", async () => {
  const user = await makeUser(gw.db);
  const body = {
    model: MODEL,
    messages: [{ role: "user", content: "What is 2 + 2?" }],
    temperature: 0,
  };
  const first = await chat(gw, user, body);
  assertEquals(first.status, 200);
  const answer = (await first.json()).choices[0].message.content;
  const calls = gw.fake.calls.length;

  const second = await chat(gw, user, {
    ...body,
    conversation_id: first.headers.get("x-conversation-id"),
  });
  assertEquals(second.status, 200);
  assertEquals(second.headers.get("x-cache"), "hit");
  const hit = await second.json();
  assertEquals(hit.choices[0].message.content, answer);
  assertEquals(hit.object, "chat.completion");
  assertEquals(gw.fake.calls.length, calls, "no upstream call");

  const logs = await requestLogs(gw.db, user.id);
  assertEquals(logs.length, 2);
  assertEquals(logs[1].cache_hit, true);
  assertEquals(Number(logs[1].cost_usd), 0);
  assertEquals(logs[1].request_id, second.headers.get("x-request-id"));
  const [usage] = await gw
    .db`select sum(saved_tokens)::int as saved, sum(saved_cost_usd) as saved_cost
    from llm.usage_journal where user_id = ${user.id}::uuid`;
  assertEquals(usage.saved, logs[0].tokens_total);
  assert(Number(usage.saved_cost) > 0);
  const msgs = await gw.db`select role, content, metadata from llm.messages
    where conversation_id = ${first.headers.get("x-conversation-id")}::uuid order by seq`;
  assertEquals(msgs.map((m) => m.role), ["user", "assistant", "user", "assistant"]);
  assertEquals(msgs[3].content, answer);
  assertEquals(msgs[3].metadata.cached, true);
  assertEquals((await openReservations(gw.db, user.id)).length, 0, "reservation released");

  // a streamed request for the same question is served from the cache as SSE
  const streamed = await chat(gw, user, { ...body, stream: true });
  assertEquals(streamed.headers.get("x-cache"), "hit");
  const events = await readEvents(streamed);
  assertEquals(JSON.parse(events[0]).choices[0].delta.content, answer);
  assertEquals(gw.fake.calls.length, calls);
});

test("cache: false bypasses the cache; the cache is per user", async () => {
  const user = await makeUser(gw.db);
  const other = await makeUser(gw.db);
  const body = { model: MODEL, messages: [{ role: "user", content: "private question" }] };
  await (await chat(gw, user, body)).body?.cancel();
  const calls = gw.fake.calls.length;
  const bypass = await chat(gw, user, { ...body, cache: false });
  assertEquals(bypass.headers.get("x-cache"), "bypass");
  await bypass.body?.cancel();
  assertEquals(gw.fake.calls.length, calls + 1);
  const theirs = await chat(gw, other, body);
  assertEquals(theirs.headers.get("x-cache"), "miss");
  await theirs.body?.cancel();
});

test("a client id names the conversation: created on first use, continued after", async () => {
  const user = await makeUser(gw.db);
  const id = `conv-${crypto.randomUUID().slice(0, 8)}`;
  for (const content of ["first", "second"]) {
    const res = await chat(gw, user, {
      model: MODEL,
      messages: [{ role: "user", content }],
      conversation_id: id,
    });
    assertEquals(res.status, 200);
    assertEquals(res.headers.get("x-conversation-id"), id);
    await res.body?.cancel();
  }
  const [conv] = await gw.db`select message_count, user_id::text from llm.conversations
    where external_id = ${id}`;
  assertEquals(conv.message_count, 4);
  assertEquals(conv.user_id, user.id);
});

test("the quota headers say what remains", async () => {
  const user = await makeUser(gw.db);
  await gw.db`select llm.set_user_quota(user_id => ${user.id}, quota_period => 'daily',
    token_limit => 100000, cost_limit => null, request_limit => 10, hard => true)`;
  const res = await chat(gw, user, { model: MODEL, messages: [{ role: "user", content: "hi" }] });
  await res.body?.cancel();
  assertEquals(res.headers.get("x-quota-remaining-requests"), "9");
  assertMatch(res.headers.get("x-quota-remaining-tokens")!, /^\d+$/);
});
