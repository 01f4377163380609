// Authenticates a caller from `Authorization: Bearer <jwt>`: HS256 tokens with the project's
// JWT secret, asymmetric ones (ES256, RS256, EdDSA) with the project's JWKS.

import { createRemoteJWKSet, decodeProtectedHeader, type JWTPayload, jwtVerify } from "jose";
import type { Config } from "./config.ts";
import { HttpError } from "./http.ts";

/** A verified caller: its claims go to `request.jwt.claims` exactly as PostgREST sets them. */
export interface Caller {
  role: "authenticated" | "service_role";
  /** auth.uid(): set for signed-in users, null for the service role. */
  userId: string | null;
  claims: JWTPayload & { role: string };
}

const ASYMMETRIC = new Set(["ES256", "ES384", "RS256", "RS384", "RS512", "PS256", "EdDSA"]);

function unauthorized(message: string): HttpError {
  return new HttpError(401, message, "authentication_error", undefined, {
    "www-authenticate": 'Bearer error="invalid_token"',
  });
}

export type Authenticator = (req: Request) => Promise<Caller>;

/** Builds the authenticator of one function instance (the JWKS is fetched once and cached). */
export function createAuthenticator(config: Config): Authenticator {
  const secret = config.jwtSecret ? new TextEncoder().encode(config.jwtSecret) : null;
  const jwks = config.jwksUrl ? createRemoteJWKSet(new URL(config.jwksUrl)) : null;

  return async (req) => {
    const header = req.headers.get("authorization") ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw unauthorized("missing Authorization: Bearer <jwt> header");
    const token = match[1];
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw unauthorized("the bearer token is not a JWT");
    }
    let payload: JWTPayload;
    try {
      const options = { requiredClaims: ["exp", "role"] };
      if (alg === "HS256" && secret) {
        payload = (await jwtVerify(token, secret, { ...options, algorithms: ["HS256"] })).payload;
      } else if (alg && ASYMMETRIC.has(alg) && jwks) {
        payload = (await jwtVerify(token, jwks, { ...options, algorithms: [alg] })).payload;
      } else {
        throw unauthorized(`tokens signed with ${alg ?? "no algorithm"} are not accepted here`);
      }
    } catch (e) {
      if (e instanceof HttpError) throw e;
      const code = (e as { code?: string }).code;
      if (code === "ERR_JWT_EXPIRED") throw unauthorized("the JWT has expired");
      throw unauthorized(`invalid JWT: ${(e as Error).message}`);
    }
    const role = payload.role;
    if (role === "authenticated") {
      if (typeof payload.sub !== "string" || !payload.sub) {
        throw unauthorized("a signed-in user's JWT must carry sub");
      }
      return { role, userId: payload.sub, claims: payload as Caller["claims"] };
    }
    if (role === "service_role") {
      return { role, userId: null, claims: payload as Caller["claims"] };
    }
    throw unauthorized(`a signed-in user's JWT is required (this one has role ${String(role)})`);
  };
}

/** Refuses the service role where only a signed-in user makes sense (401). */
export function requireUser(caller: Caller): Caller & { userId: string } {
  if (caller.role !== "authenticated" || !caller.userId) {
    throw unauthorized("a signed-in user's JWT is required (the service role has no user)");
  }
  return caller as Caller & { userId: string };
}
