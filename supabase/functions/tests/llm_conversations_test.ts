// llm-conversations: the conversation REST API, as the signed-in caller.

import { assert, assertEquals, assertMatch } from "./assert.ts";
import { chat, get, makeUser, MODEL, startGateway, test, type TestUser } from "./helpers.ts";

const gw = await startGateway();
globalThis.addEventListener("unload", () => gw.close());

async function converse(user: TestUser, conversationId: string, ...contents: string[]) {
  for (const content of contents) {
    const res = await chat(gw, user, {
      model: MODEL,
      messages: [{ role: "user", content }],
      conversation_id: conversationId,
    });
    assertEquals(res.status, 200);
    await res.body?.cancel();
  }
}

const newId = () => `conv-${crypto.randomUUID().slice(0, 8)}`;

test("GET /{id} returns the conversation and its messages, by client id or UUID", async () => {
  const user = await makeUser(gw.db);
  const id = newId();
  await converse(user, id, "one", "two");
  const res = await get(gw, user, `llm-conversations/${id}`);
  assertEquals(res.status, 200);
  const body = await res.json();
  assertEquals(body.conversation.conversation_id, id);
  assertEquals(body.conversation.message_count, 4);
  assertEquals(body.messages.map((m: { role: string; content: string }) => [m.role, m.content]), [
    ["user", "one"],
    ["assistant", "Echo: one"],
    ["user", "two"],
    ["assistant", "Echo: two"],
  ]);
  const byUuid = await get(gw, user, `llm-conversations/${body.conversation.id}?limit=1`);
  const page = await byUuid.json();
  assertEquals(page.messages.length, 1);
  assertEquals(page.messages[0].content, "Echo: two");
  const before = await get(
    gw,
    user,
    `llm-conversations/${id}?limit=2&before=${page.messages[0].id}`,
  );
  assertEquals((await before.json()).messages.map((m: { content: string }) => m.content), [
    "Echo: one",
    "two",
  ]);
});

test("GET / lists the caller's conversations, paginated", async () => {
  const user = await makeUser(gw.db);
  const ids = [newId(), newId(), newId()];
  for (const id of ids) await converse(user, id, "hi");
  await converse(await makeUser(gw.db), newId(), "someone else");
  const first = await (await get(gw, user, "llm-conversations?limit=2")).json();
  assertEquals(first.conversations.length, 2);
  assertEquals(first.next_offset, 2);
  const second = await (await get(gw, user, "llm-conversations?limit=2&offset=2")).json();
  assertEquals(second.conversations.length, 1);
  assertEquals(second.next_offset, null);
  const listed = [...first.conversations, ...second.conversations].map((c) => c.conversation_id);
  assertEquals(listed.sort(), [...ids].sort());
  const bad = await get(gw, user, "llm-conversations?limit=ten");
  assertEquals(bad.status, 400);
  assertMatch((await bad.json()).error.message, /limit must be an integer/);
  const negative = await get(gw, user, "llm-conversations?limit=-1");
  assertEquals(negative.status, 400);
});

test("POST /{id}/clear deletes the messages, GET /{id}/export returns the whole document", async () => {
  const user = await makeUser(gw.db);
  const id = newId();
  await converse(user, id, "keep me");
  const exported = await (await get(gw, user, `llm-conversations/${id}/export`)).json();
  assertEquals(exported.conversation_id, id);
  assertEquals(exported.messages.length, 2);
  const cleared = await get(gw, user, `llm-conversations/${id}/clear`, { method: "POST" });
  assertEquals(cleared.status, 200);
  assertEquals(await cleared.json(), { conversation_id: id, cleared: true, deleted_messages: 2 });
  const after = await (await get(gw, user, `llm-conversations/${id}`)).json();
  assertEquals(after.messages, []);
  assertEquals(after.conversation.message_count, 0);
  const wrongMethod = await get(gw, user, `llm-conversations/${id}/clear`);
  assertEquals(wrongMethod.status, 405);
});

test("GET /stats gives the caller's own statistics", async () => {
  const user = await makeUser(gw.db);
  await converse(user, newId(), "a", "b");
  const stats = await (await get(gw, user, "llm-conversations/stats")).json();
  assertEquals(stats.total_conversations, 1);
  assertEquals(stats.total_messages, 4);
  assert("ttl_hours" in stats);
});

test("DELETE /{id} removes it; afterwards and for other users it is 404", async () => {
  const owner = await makeUser(gw.db);
  const other = await makeUser(gw.db);
  const id = newId();
  await converse(owner, id, "secret");
  for (const path of [`llm-conversations/${id}`, `llm-conversations/${id}/export`]) {
    const res = await get(gw, other, path);
    assertEquals(res.status, 404, path);
    assertEquals((await res.json()).error.type, "not_found");
  }
  for (const method of ["DELETE", "POST"]) {
    const path = method === "POST" ? `llm-conversations/${id}/clear` : `llm-conversations/${id}`;
    assertEquals((await get(gw, other, path, { method })).status, 404);
  }
  const [{ n }] = await gw
    .db`select message_count as n from llm.conversations where external_id = ${id}`;
  assertEquals(n, 2, "untouched by the other user");
  const deleted = await get(gw, owner, `llm-conversations/${id}`, { method: "DELETE" });
  assertEquals(deleted.status, 200);
  assertEquals((await deleted.json()).deleted, true);
  assertEquals((await get(gw, owner, `llm-conversations/${id}`)).status, 404);
});

test("unknown routes are 404", async () => {
  const user = await makeUser(gw.db);
  assertEquals((await get(gw, user, "llm-conversations/x/y/z")).status, 404);
  assertEquals((await get(gw, user, "llm-conversations/x/rename")).status, 404);
});
