// Gateway overhead benchmark (run by `make bench`, python_tests/bench/bench_edge_functions.py): time to the
// first byte of a streamed answer through llm-chat, against the same request sent straight to
// the fake upstream, at 1 and at 32 concurrent clients. Each client is its own user with a
// hard daily quota (so every request takes the reservation path) and its own conversation;
// every prompt is new (a cache miss, so the upstream is called). Prints one JSON object:
// { "<clients>": { "direct_ms": [...], "gateway_ms": [...] } }.
//   SUPABASE_DB_URL=... SUPABASE_JWT_SECRET=... LLM_BENCH_GATEWAY=http://.../functions/v1 \
//   LLM_BENCH_UPSTREAM=http://.../v1 deno run -A _dev/bench.ts

import { SignJWT } from "jose";
import postgres from "postgres";

// the gateway (`_dev/serve.ts`) and the fake upstream run in processes of their own, as they
// would in production; this process is only the clients
const GATEWAY = Deno.env.get("LLM_BENCH_GATEWAY")!;
const UPSTREAM = Deno.env.get("LLM_BENCH_UPSTREAM")!;
const SECRET = Deno.env.get("SUPABASE_JWT_SECRET")!;
const REQUESTS = Number(Deno.env.get("LLM_BENCH_REQUESTS") ?? 400);
const db = postgres(Deno.env.get("SUPABASE_DB_URL")!, {
  prepare: false,
  max: 1,
  onnotice: () => {},
});

async function newClient(i: number) {
  const id = crypto.randomUUID();
  await db`insert into auth.users (id, email) values (${id}, ${`bench-${i}-${
    id.slice(0, 8)
  }@example.test`})`;
  await db`select llm.set_user_quota(user_id => ${id}, quota_period => 'daily',
    token_limit => 1000000000, cost_limit => null, request_limit => null, hard => true)`;
  const token = await new SignJWT({ sub: id, role: "authenticated", aud: "authenticated" })
    .setProtectedHeader({ alg: "HS256" }).setExpirationTime("1h")
    .sign(new TextEncoder().encode(SECRET));
  return { token, conversation: `bench-${id}` };
}

let counter = 0;

/** Milliseconds from sending the request to its first body byte. */
async function ttfb(url: string, headers: Record<string, string>, body: unknown): Promise<number> {
  const started = performance.now();
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const reader = res.body!.getReader();
  await reader.read();
  const elapsed = performance.now() - started;
  if (res.status !== 200) throw new Error(`status ${res.status}`);
  while (!(await reader.read()).done) { /* drain */ }
  return elapsed;
}

async function run(clients: number, perClient: number) {
  const users = await Promise.all(Array.from({ length: clients }, (_, i) => newClient(i)));
  const direct: number[] = [];
  const gateway: number[] = [];
  const request = () => ({
    model: "gpt-4o-mini",
    stream: true,
    messages: [{ role: "user", content: `question number ${counter++}` }],
  });
  // warm-up: connections, plans, JIT
  await Promise.all(users.map(async (u) => {
    for (let i = 0; i < 3; i++) {
      await ttfb(`${UPSTREAM}/chat/completions`, {}, request());
      await ttfb(`${GATEWAY}/llm-chat`, { authorization: `Bearer ${u.token}` }, {
        ...request(),
        conversation_id: u.conversation,
      });
    }
  }));
  // the two kinds alternate in every client, so both see the same machine load
  await Promise.all(users.map(async (u) => {
    for (let i = 0; i < perClient; i++) {
      direct.push(await ttfb(`${UPSTREAM}/chat/completions`, {}, request()));
      gateway.push(
        await ttfb(`${GATEWAY}/llm-chat`, { authorization: `Bearer ${u.token}` }, {
          ...request(),
          conversation_id: u.conversation,
        }),
      );
    }
  }));
  return { direct_ms: direct, gateway_ms: gateway };
}

const result: Record<string, unknown> = {};
result["1"] = await run(1, REQUESTS);
result["32"] = await run(32, Math.max(1, Math.round(REQUESTS / 32)) * 2);
console.log(JSON.stringify(result));
await db.end();
