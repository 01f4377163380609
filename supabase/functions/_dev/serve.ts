// Serves the three functions locally for `make demo`, as /functions/v1/<name>, against a
// built-in fake upstream (or LLM_BASE_URL when set), so a real chat request works without an
// API key. Signs a token for a demo user and prints the curl lines to try. Ctrl-C stops it.
//   SUPABASE_DB_URL=... deno run -A _dev/serve.ts [port]

import { SignJWT } from "jose";
import postgres from "postgres";
import { loadConfig } from "../_shared/config.ts";
import { startFakeUpstream } from "./fake_upstream.ts";
import { startStack } from "./stack.ts";

const DEMO_USER = "00000000-0000-4000-8000-00000000d3e0";
const DEMO_SECRET = "local-demo-jwt-secret-not-for-production-use";

const env = new Map(Object.entries(Deno.env.toObject()));
if (!env.get("SUPABASE_JWT_SECRET")) env.set("SUPABASE_JWT_SECRET", DEMO_SECRET);
const fake = env.get("LLM_BASE_URL") ? null : startFakeUpstream();
if (fake) env.set("LLM_BASE_URL", fake.url);
const config = loadConfig({ get: (k) => env.get(k) });

// the demo user, where auth.users is the test shim's (a real Supabase has its own users)
const db = postgres(config.dbUrl, { prepare: false, max: 1, onnotice: () => {} });
await db`insert into auth.users (id, email) values (${DEMO_USER}, 'demo@example.test')
  on conflict (id) do nothing`;
await db.end();
const token = await new SignJWT({
  sub: DEMO_USER,
  role: "authenticated",
  aud: "authenticated",
  email: "demo@example.test",
}).setProtectedHeader({ alg: "HS256", typ: "JWT" }).setIssuedAt().setExpirationTime("1d")
  .sign(new TextEncoder().encode(config.jwtSecret!));

const stack = startStack(config, Number(Deno.args[0] ?? 54421));
const body = JSON.stringify({
  model: "gpt-4o-mini",
  stream: true,
  conversation_id: "demo-chat",
  messages: [{ role: "user", content: "[chunk_delay 80] Hello, gateway!" }],
});
console.log(`
Edge Functions served at ${stack.url} (upstream: ${fake ? "built-in fake" : config.llmBaseUrl})

Stream a chat turn (run it twice: the second answer comes from the cache):

  curl -N ${stack.url}/llm-chat \\
    -H 'Authorization: Bearer ${token}' \\
    -H 'Content-Type: application/json' \\
    -d '${body}'

Then read the conversation and your usage:

  curl ${stack.url}/llm-conversations/demo-chat -H 'Authorization: Bearer ${token}'
  curl ${stack.url}/llm-conversations -H 'Authorization: Bearer ${token}'

Ctrl-C stops the server.`);
