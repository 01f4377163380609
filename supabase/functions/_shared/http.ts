// HTTP plumbing shared by the functions: JSON responses, errors with a status, CORS.

/** An error that becomes a JSON response `{ error: { message, type, code, details } }`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly details?: unknown,
    readonly headers: Record<string, string> = {},
    readonly code?: string,
  ) {
    super(message);
  }
}

export function corsHeaders(origin: string): Record<string, string> {
  return {
    "access-control-allow-origin": origin,
    "access-control-allow-headers": "authorization, x-client-info, apikey, content-type, accept",
    "access-control-allow-methods": "GET, POST, DELETE, OPTIONS",
    "access-control-expose-headers":
      "x-request-id, x-conversation-id, x-cache, x-quota-remaining-tokens, " +
      "x-quota-remaining-requests, x-quota-remaining-cost-usd, retry-after",
  };
}

export function json(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  const h = new Headers(headers);
  h.set("content-type", "application/json");
  return new Response(JSON.stringify(body), { status, headers: h });
}

export function errorResponse(error: HttpError, headers: HeadersInit = {}): Response {
  const body: Record<string, unknown> = { message: error.message, type: error.type };
  if (error.code !== undefined) body.code = error.code;
  if (error.details !== undefined) body.details = error.details;
  const h = new Headers(headers);
  for (const [k, v] of Object.entries(error.headers)) h.set(k, v);
  return json({ error: body }, error.status, h);
}

/**
 * Wraps a handler: answers CORS preflights, turns HttpError into its JSON response and any
 * other error into a logged 500, and adds the CORS headers to every response.
 */
export function serveJson(
  origin: string,
  handler: (req: Request) => Promise<Response>,
): (req: Request) => Promise<Response> {
  const cors = corsHeaders(origin);
  return async (req) => {
    if (req.method === "OPTIONS") return new Response(null, { status: 204, headers: cors });
    let res: Response;
    try {
      res = await handler(req);
    } catch (e) {
      if (e instanceof HttpError) {
        res = errorResponse(e);
      } else {
        console.error(e);
        res = errorResponse(new HttpError(500, "internal error", "internal_error"));
      }
    }
    for (const [k, v] of Object.entries(cors)) res.headers.set(k, v);
    return res;
  };
}

/** Reads a JSON object body, or throws 400 saying what is wrong with it. */
export async function readJsonObject(req: Request): Promise<Record<string, unknown>> {
  const text = await req.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HttpError(400, "request body is not valid JSON", "invalid_request_error");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new HttpError(400, "request body must be a JSON object", "invalid_request_error");
  }
  return body as Record<string, unknown>;
}
