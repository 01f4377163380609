// Calls the OpenAI-compatible upstream with a bounded wait: LLM_TIMEOUT_MS for the response
// headers, and again between two chunks of the body (an idle timer the reader resets).

import type { Config } from "../_shared/config.ts";

/** Why an upstream call failed, as logged: HTTP status (when one came) and error type. */
export class UpstreamError extends Error {
  constructor(
    readonly status: number | null,
    readonly errorType: string,
    message: string,
  ) {
    super(message);
  }
}

/** Aborts a controller when nothing happened for `ms`; reset() on every sign of life. */
export class IdleTimer {
  #id: ReturnType<typeof setTimeout> | undefined;
  timedOut = false;
  constructor(private ms: number, private controller: AbortController) {
    this.reset();
  }
  reset(): void {
    clearTimeout(this.#id);
    this.#id = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort(new UpstreamError(null, "timeout", "upstream timed out"));
    }, this.ms);
  }
  clear(): void {
    clearTimeout(this.#id);
  }
}

export interface UpstreamCall {
  response: Response;
  controller: AbortController;
  timer: IdleTimer;
}

/** Reads an upstream error body: its message and type when it is OpenAI-shaped. */
async function describeError(res: Response): Promise<{ type: string; message: string }> {
  const text = (await res.text().catch(() => "")).slice(0, 2000);
  try {
    const err = JSON.parse(text)?.error;
    if (err && typeof err === "object") {
      return {
        type: typeof err.type === "string" ? err.type : `http_${res.status}`,
        message: typeof err.message === "string" ? err.message : text,
      };
    }
  } catch {
    // not JSON: keep the text
  }
  return { type: `http_${res.status}`, message: text || res.statusText };
}

export function timeoutError(ms: number): UpstreamError {
  return new UpstreamError(null, "timeout", `upstream did not answer within ${ms} ms`);
}

/**
 * POSTs the body to {LLM_BASE_URL}/chat/completions. Resolves with the 2xx response (its body
 * still to read, the idle timer running) or throws UpstreamError.
 */
export async function callUpstream(
  config: Config,
  body: Record<string, unknown>,
): Promise<UpstreamCall> {
  const controller = new AbortController();
  const timer = new IdleTimer(config.llmTimeoutMs, controller);
  let response: Response;
  try {
    response = await fetch(`${config.llmBaseUrl}/chat/completions`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(config.llmApiKey ? { authorization: `Bearer ${config.llmApiKey}` } : {}),
      },
      body: JSON.stringify(body),
      signal: controller.signal,
    });
  } catch (e) {
    timer.clear();
    if (timer.timedOut) throw timeoutError(config.llmTimeoutMs);
    throw new UpstreamError(
      null,
      "connection_error",
      `upstream unreachable: ${(e as Error).message}`,
    );
  }
  if (!response.ok) {
    try {
      const { type, message } = await describeError(response);
      throw new UpstreamError(response.status, type, message);
    } finally {
      timer.clear();
    }
  }
  timer.reset();
  return { response, controller, timer };
}

/** Reads a non-streamed completion under the idle timer. */
export async function readCompletion(
  call: UpstreamCall,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await call.response.text();
  } catch (e) {
    if (call.timer.timedOut) throw timeoutError(timeoutMs);
    throw new UpstreamError(call.response.status, "connection_error", (e as Error).message);
  } finally {
    call.timer.clear();
  }
  try {
    const body = JSON.parse(text);
    if (body && typeof body === "object" && Array.isArray(body.choices)) return body;
  } catch {
    // handled below
  }
  throw new UpstreamError(
    call.response.status,
    "invalid_response",
    "upstream answered no completion",
  );
}
