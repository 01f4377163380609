// Authentication of every function: HS256 with the project's secret, asymmetric keys through
// the project's JWKS, 401 for anything else.

import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { assertEquals, assertMatch } from "./assert.ts";
import { chat, makeUser, MODEL, signToken, startGateway, test } from "./helpers.ts";

// a JWKS endpoint of our own, as Supabase serves /auth/v1/.well-known/jwks.json
const { publicKey, privateKey } = await generateKeyPair("ES256");
const jwk = { ...(await exportJWK(publicKey)), kid: "test-key", alg: "ES256", use: "sig" };
const jwks = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen: () => {} },
  () => Response.json({ keys: [jwk] }),
);
const gw = await startGateway({
  SUPABASE_JWKS_URL: `http://127.0.0.1:${jwks.addr.port}/auth/v1/.well-known/jwks.json`,
});
globalThis.addEventListener("unload", async () => {
  await gw.close();
  await jwks.shutdown();
});

const body = { model: MODEL, messages: [{ role: "user", content: "hello" }] };
const FUNCTIONS = ["llm-chat", "llm-conversations", "llm-admin-usage"];

async function call(name: string, token: string | null): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  return await fetch(gw.fn(name), {
    method: name === "llm-chat" ? "POST" : "GET",
    headers,
    body: name === "llm-chat" ? JSON.stringify(body) : undefined,
  });
}

async function expect401(name: string, token: string | null, message: RegExp) {
  const res = await call(name, token);
  assertEquals(res.status, 401, `${name}: ${token?.slice(0, 20)}`);
  const err = (await res.json()).error;
  assertEquals(err.type, "authentication_error");
  assertMatch(err.message, message);
}

test("no token, a malformed one or a non-JWT is 401 on every function", async () => {
  for (const name of FUNCTIONS) {
    await expect401(name, null, /missing Authorization/);
    await expect401(name, "not-a-jwt", /not a JWT/);
  }
});

test("a token signed with another secret is 401", async () => {
  const user = await makeUser(gw.db);
  const forged = await signToken({ sub: user.id, role: "authenticated" }, {
    secret: "another-secret-another-secret-another-secret",
  });
  for (const name of FUNCTIONS) await expect401(name, forged, /invalid JWT/);
});

test("an expired token is 401", async () => {
  const user = await makeUser(gw.db);
  const expired = await signToken({ sub: user.id, role: "authenticated" }, {
    expiresIn: Math.floor(Date.now() / 1000) - 60,
  });
  for (const name of FUNCTIONS) await expect401(name, expired, /expired/);
});

test("the anon key is not a signed-in user: 401", async () => {
  const anon = await signToken({ role: "anon", iss: "supabase" });
  for (const name of FUNCTIONS) await expect401(name, anon, /signed-in user's JWT is required/);
});

test("a token without exp is 401", async () => {
  const user = await makeUser(gw.db);
  const token = await new SignJWT({ sub: user.id, role: "authenticated" })
    .setProtectedHeader({ alg: "HS256" })
    .sign(new TextEncoder().encode("test-jwt-secret-with-at-least-32-characters"));
  await expect401("llm-chat", token, /exp/);
});

test("an ES256 token from the project's JWKS is accepted; a foreign key is not", async () => {
  const user = await makeUser(gw.db);
  const sign = (key: CryptoKey, kid: string) =>
    new SignJWT({ sub: user.id, role: "authenticated", aud: "authenticated" })
      .setProtectedHeader({ alg: "ES256", kid })
      .setExpirationTime("1h")
      .sign(key);
  const res = await chat(gw, { ...user, token: await sign(privateKey, "test-key") }, body);
  assertEquals(res.status, 200);
  await res.body?.cancel();
  const stranger = await generateKeyPair("ES256");
  await expect401("llm-chat", await sign(stranger.privateKey, "test-key"), /invalid JWT/);
});
