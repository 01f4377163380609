// POST /llm-chat: an OpenAI-compatible chat completions endpoint that authenticates the
// caller, stores the turn in a conversation, reserves quota, serves the exact cache, calls the
// upstream (streaming or not) and records the completion with its usage in one transaction.

import { type Authenticator, requireUser } from "../_shared/auth.ts";
import type { Config } from "../_shared/config.ts";
import type { Sql } from "../_shared/db.ts";
import { errorResponse, HttpError, json, readJsonObject, serveJson } from "../_shared/http.ts";
import { type ChatRequest, estimateTokens, parseChatRequest } from "./request.ts";
import { sseEvent } from "./sse.ts";
import { relayStream, type StreamOutcome } from "./stream.ts";
import {
  beginTurn,
  type CacheHit,
  type Completion,
  type ConversationRef,
  type QuotaRemaining,
  recordCacheHit,
  recordCompletion,
  recordFailure,
  remainingQuota,
} from "./turn.ts";
import { callUpstream, readCompletion, UpstreamError } from "./upstream.ts";

export interface ChatDeps {
  config: Config;
  sql: Sql;
  authenticate: Authenticator;
}

function turnHeaders(
  requestId: string,
  conversation: ConversationRef,
  r: QuotaRemaining,
  cache: "hit" | "miss" | "bypass",
): Headers {
  const h = new Headers({
    "x-request-id": requestId,
    "x-conversation-id": conversation.id,
    "x-cache": cache,
  });
  if (r.tokens !== null) h.set("x-quota-remaining-tokens", r.tokens);
  if (r.requests !== null) h.set("x-quota-remaining-requests", r.requests);
  if (r.costUsd !== null) h.set("x-quota-remaining-cost-usd", r.costUsd);
  return h;
}

/** A cached answer in OpenAI's shape: one completion object, or the SSE chunks of one. */
function cachedAnswer(
  req: ChatRequest,
  requestId: string,
  hit: CacheHit,
  conversationId: string,
  headers: Headers,
): Response {
  const created = Math.floor(Date.now() / 1000);
  const usage = {
    prompt_tokens: Number(hit.prompt_tokens ?? 0),
    completion_tokens: Number(hit.completion_tokens ?? 0),
    total_tokens: Number(hit.total_tokens ?? 0),
  };
  const id = `chatcmpl-${requestId}`;
  if (!req.stream) {
    return json(
      {
        id,
        object: "chat.completion",
        created,
        model: req.model,
        choices: [{
          index: 0,
          message: { role: "assistant", content: hit.response },
          finish_reason: "stop",
        }],
        usage,
        conversation_id: conversationId,
        cached: true,
      },
      200,
      headers,
    );
  }
  const base = { id, object: "chat.completion.chunk", created, model: req.model };
  let body = sseEvent({
    ...base,
    choices: [{
      index: 0,
      delta: { role: "assistant", content: hit.response },
      finish_reason: null,
    }],
  }) + sseEvent({ ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] });
  if (req.clientWantsUsage) body += sseEvent({ ...base, choices: [], usage });
  body += sseEvent("[DONE]");
  headers.set("content-type", "text/event-stream");
  headers.set("cache-control", "no-cache");
  return new Response(body, { status: 200, headers });
}

function upstreamFailure(error: UpstreamError, requestId: string, headers: Headers): Response {
  const detail = error.status === null ? "" : ` (upstream status ${error.status})`;
  const e = new HttpError(
    502,
    `upstream request failed${detail}: ${error.message}`,
    "upstream_error",
    { upstream_status: error.status, error_type: error.errorType, request_id: requestId },
  );
  return errorResponse(e, headers);
}

export function createChatHandler(deps: ChatDeps): (req: Request) => Promise<Response> {
  const { config, sql } = deps;

  return serveJson(config.corsOrigin, async (request) => {
    if (request.method !== "POST") {
      throw new HttpError(
        405,
        "use POST with an OpenAI chat completions body",
        "invalid_request_error",
      );
    }
    const caller = requireUser(await deps.authenticate(request));
    const req = parseChatRequest(await readJsonObject(request), {
      provider: config.llmProvider,
      maxTokens: config.defaultMaxTokens,
    });
    if (req.namespace !== null && !config.cacheNamespaces.has(req.namespace)) {
      throw new HttpError(
        403,
        `cache namespace ${
          JSON.stringify(req.namespace)
        } is not shared here (LLM_CACHE_NAMESPACES)`,
        "permission_error",
        { param: "namespace" },
      );
    }
    const started = performance.now();
    const requestId = crypto.randomUUID();
    const userId = caller.userId;

    const { reservationId, conversation, hit } = await beginTurn(sql, caller, req);
    const elapsed = () => Math.round(performance.now() - started);
    // read while the rest goes on; the response headers carry it
    const remaining = remainingQuota(sql, userId);
    remaining.catch(() => {});

    // 1. the exact cache
    if (hit) {
      await recordCacheHit(sql, {
        userId,
        requestId,
        conversation,
        req,
        hit,
        reservationId,
        latencyMs: elapsed(),
      });
      return cachedAnswer(
        req,
        requestId,
        hit,
        conversation.id,
        turnHeaders(requestId, conversation, await remaining, "hit"),
      );
    }
    const base = { userId, requestId, conversation, req, reservationId };
    const headersNow = async () =>
      turnHeaders(requestId, conversation, await remaining, req.cache ? "miss" : "bypass");

    // 2. the upstream
    const upstreamStarted = performance.now();
    const fail = async (error: UpstreamError) => {
      await recordFailure(sql, {
        ...base,
        statusCode: error.status,
        errorType: error.errorType,
        errorMessage: error.message,
        latencyMs: elapsed(),
      });
      return upstreamFailure(error, requestId, await headersNow());
    };
    let call;
    try {
      call = await callUpstream(config, req.upstreamBody);
    } catch (e) {
      if (e instanceof UpstreamError) return await fail(e);
      throw e;
    }

    if (!req.stream) {
      let body: Record<string, unknown>;
      try {
        body = await readCompletion(call, config.llmTimeoutMs);
      } catch (e) {
        if (e instanceof UpstreamError) return await fail(e);
        throw e;
      }
      const latencyMs = elapsed();
      const choice =
        (body.choices as { message?: { content?: unknown }; finish_reason?: string }[])[0];
      const content = typeof choice?.message?.content === "string" ? choice.message.content : "";
      const usage = body.usage as StreamOutcome["usage"];
      await recordCompletion(sql, {
        ...base,
        cacheTtlHours: config.cacheTtlHours,
        completion: {
          content,
          promptTokens: usage?.prompt_tokens ?? req.estimatedPromptTokens,
          completionTokens: usage?.completion_tokens ?? estimateTokens(content),
          cachedTokens: usage?.prompt_tokens_details?.cached_tokens ?? 0,
          totalTokens: usage?.total_tokens ??
            (usage?.prompt_tokens ?? req.estimatedPromptTokens) +
              (usage?.completion_tokens ?? estimateTokens(content)),
          latencyMs,
          ttftMs: latencyMs,
          finishReason: choice?.finish_reason ?? null,
          upstreamId: typeof body.id === "string" ? body.id : null,
          estimated: !usage,
          partial: false,
        },
      });
      return json({ ...body, conversation_id: conversation.id }, 200, await headersNow());
    }

    // 3. a stream: passed through as it arrives; the turn is recorded when it ends
    const stream = relayStream({
      call,
      timeoutMs: config.llmTimeoutMs,
      startedAt: upstreamStarted,
      forwardUsageChunk: req.clientWantsUsage,
      onEnd: async (outcome) => {
        const latencyMs = elapsed();
        const usage = outcome.usage;
        const completionEstimate = Math.max(outcome.contentChunks, estimateTokens(outcome.content));
        const promptTokens = usage?.prompt_tokens ?? req.estimatedPromptTokens;
        const completionTokens = usage?.completion_tokens ?? completionEstimate;
        const nothingCame = outcome.kind === "client_aborted" && outcome.content === "";
        if (outcome.kind === "upstream_error" || nothingCame) {
          const error = outcome.error ??
            new UpstreamError(null, "client_disconnected", "the client left before any content");
          await recordFailure(sql, {
            ...base,
            statusCode: error.status,
            errorType: error.errorType,
            errorMessage: error.message,
            latencyMs,
            promptTokens,
            completionTokens: nothingCame ? 0 : completionTokens,
          });
          return;
        }
        const completion: Completion = {
          content: outcome.content,
          promptTokens,
          completionTokens,
          cachedTokens: usage?.prompt_tokens_details?.cached_tokens ?? 0,
          totalTokens: usage?.total_tokens ?? promptTokens + completionTokens,
          latencyMs,
          ttftMs: outcome.ttftMs,
          finishReason: outcome.kind === "client_aborted"
            ? "client_disconnected"
            : outcome.finishReason,
          upstreamId: outcome.upstreamId,
          estimated: !usage,
          partial: outcome.kind === "client_aborted",
        };
        await recordCompletion(sql, { ...base, cacheTtlHours: config.cacheTtlHours, completion });
      },
    });
    const headers = await headersNow();
    headers.set("content-type", "text/event-stream");
    headers.set("cache-control", "no-cache");
    return new Response(stream, { status: 200, headers });
  });
}
