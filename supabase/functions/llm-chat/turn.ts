// The database steps of one chat turn through the SQL API: as the signed-in user for the
// conversation, as the service role for quota, cache and logging (each step switching the
// role and claims exactly as PostgREST sets them).

import type { Caller } from "../_shared/auth.ts";
import { asService, become, SERVICE, type Sql, sqlstate, type Tx } from "../_shared/db.ts";
import { HttpError } from "../_shared/http.ts";
import type { ChatRequest } from "./request.ts";

export interface QuotaRemaining {
  tokens: string | null;
  requests: string | null;
  costUsd: string | null;
}

/**
 * Prices the request's worst case (prompt estimate + max tokens) and reserves it against the
 * user's hard quotas (429 from reserve_quota's PT429); returns the reservation id. An unpriced
 * model is refused: its cost could not be limited.
 */
async function reserve(tx: Tx, userId: string, req: ChatRequest): Promise<string> {
  const [{ cost }] = await tx`select llm.estimate_cost(
    provider => ${req.provider}::text, model => ${req.model}::text,
    prompt_tokens => ${req.estimatedPromptTokens}::integer,
    completion_tokens => ${req.maxTokens}::integer) as cost`;
  if (cost === null) {
    throw new HttpError(
      400,
      `unknown model ${JSON.stringify(req.model)} of provider ${JSON.stringify(req.provider)}: ` +
        "it has no price in llm.model_prices (an admin adds one with llm.set_model_price)",
      "invalid_request_error",
      { param: "model" },
      {},
      "model_not_found",
    );
  }
  const [{ id }] = await tx`select llm.reserve_quota(
    user_id => ${userId}::text,
    tokens => ${req.estimatedPromptTokens + req.maxTokens}::bigint,
    cost_usd => ${cost}::numeric) as id`;
  return id;
}

/**
 * What remains of the user's quotas, the smallest over the periods that have one (NULL:
 * unlimited).
 * Read-only and after the reservation committed, so it runs while the upstream is called.
 */
export async function remainingQuota(sql: Sql, userId: string): Promise<QuotaRemaining> {
  const [r] = await asService(
    sql,
    (tx) =>
      tx`select min((q ->> 'remaining')::numeric)::text as tokens,
        min((q ->> 'requests_remaining')::numeric)::text as requests,
        min((q ->> 'cost_remaining_usd')::numeric)::text as cost_usd
      from (
        -- only the periods with a quota (the user's own or the default) limit anything
        select distinct u.quota_period from llm.usage_quotas as u
        where u.user_id = ${userId}::uuid or u.user_id is null
      ) as p
      cross join lateral llm.check_user_quota(${userId}::text, p.quota_period) as q`,
  );
  return { tokens: r.tokens, requests: r.requests, costUsd: r.cost_usd };
}

export interface ConversationRef {
  /** The id clients use: their own client id, or the UUID. */
  id: string;
  uuid: string;
}

/**
 * As the signed-in user: creates the conversation (or resolves the one named) and appends the
 * user's message. A name that is unknown becomes a new conversation of the caller's; one that
 * is someone else's is 404, exactly as an unknown one would be for reading.
 */
async function storeUserTurn(tx: Tx, req: ChatRequest): Promise<ConversationRef> {
  const title = (req.userMessage ?? "").slice(0, 80) || null;
  const append = async (t: Tx, id: string) => {
    const [row] = req.userMessage === null
      ? await t`select (llm.get_conversation(${id}::text)).id::text as uuid`
      : await t`select (llm.add_message(conversation_id => ${id}::text, role => 'user',
          content => ${req.userMessage}::text)).conversation_id::text as uuid`;
    return { id, uuid: row.uuid as string };
  };
  const create = async (t: Tx, id: string | null) => {
    const [{ created }] = await t`select llm.create_conversation(
      conversation_id => ${id}::text, title => ${title}::text) as created`;
    return await append(t, created);
  };

  if (req.conversationId === null) return await create(tx, null);
  const name = req.conversationId;
  try {
    return await tx.savepoint((sp) => append(sp, name));
  } catch (e) {
    if (sqlstate(e) !== "P0002") throw e;
  }
  try {
    return await tx.savepoint((sp) => create(sp, name));
  } catch (e) {
    if (sqlstate(e) !== "23505") throw e;
    throw new HttpError(
      404,
      `conversation ${JSON.stringify(name)} not found`,
      "not_found",
      { param: "conversation_id" },
      {},
      "P0002",
    );
  }
}

/** The cache scope of a request: a shared namespace when one is named, else the user's own. */
function scope(
  req: ChatRequest,
  userId: string,
): { user: string | null; namespace: string | null } {
  return req.namespace
    ? { user: null, namespace: req.namespace }
    : { user: userId, namespace: null };
}

export interface CacheHit {
  id: string;
  response: string;
  prompt_tokens: string | null;
  completion_tokens: string | null;
  total_tokens: string | null;
  metadata: Record<string, unknown> | null;
}

/** Exact lookup (counts the hit or the miss). */
async function lookupCache(tx: Tx, userId: string, req: ChatRequest): Promise<CacheHit | null> {
  const s = scope(req, userId);
  const rows = await tx`select h->>'id' as id, h->>'response' as response,
      h->>'prompt_tokens' as prompt_tokens, h->>'completion_tokens' as completion_tokens,
      h->>'total_tokens' as total_tokens, h->'metadata' as metadata
    from llm.get_cached_llm_response(prompt => ${req.cachePrompt}::text,
      provider => ${req.provider}::text, model => ${req.model}::text,
      parameters => ${JSON.stringify(req.cacheParameters)}::text::jsonb,
      user_id => ${s.user}::text, namespace => ${s.namespace}::text) as h
    where h is not null`;
  return rows.length ? (rows[0] as unknown as CacheHit) : null;
}

export interface TurnStart {
  reservationId: string;
  conversation: ConversationRef;
  hit: CacheHit | null;
}

/**
 * Everything before the upstream call, in ONE transaction (one commit on the request's
 * critical path): as the service role, the reservation; as the signed-in user, the
 * conversation and the user's message; as the service role again, the cache lookup. Any
 * refusal (429, 404, 400) rolls all of it back: nothing is reserved or stored.
 *
 * The commit does not wait for the WAL flush (synchronous_commit off): if the server crashed
 * in the next few hundred milliseconds, this transaction could be lost, which is harmless (the
 * turn then fails to record and its reservation vanishes with it); the transaction recording
 * the completion commits synchronously and makes everything before it durable.
 */
export async function beginTurn(
  sql: Sql,
  caller: Caller & { userId: string },
  req: ChatRequest,
): Promise<TurnStart> {
  return await asService(sql, async (tx) => {
    await tx`set local synchronous_commit = off`;
    const reservationId = await reserve(tx, caller.userId, req);
    await become(tx, caller);
    const conversation = await storeUserTurn(tx, req);
    await become(tx, SERVICE);
    const hit = req.cache ? await lookupCache(tx, caller.userId, req) : null;
    return { reservationId, conversation, hit };
  });
}

/**
 * A cache hit's turn in one transaction: the assistant message, the hit logged as a
 * zero-cost request with what it saved, the reservation released.
 */
export async function recordCacheHit(
  sql: Sql,
  args: {
    userId: string;
    requestId: string;
    conversation: ConversationRef;
    req: ChatRequest;
    hit: CacheHit;
    reservationId: string;
    latencyMs: number;
  },
): Promise<void> {
  const { hit, req } = args;
  await asService(sql, async (tx) => {
    await tx`select llm.add_message(conversation_id => ${args.conversation.uuid}::text,
      role => 'assistant', content => ${hit.response}::text, model => ${req.model}::text,
      metadata => ${
      JSON.stringify({ request_id: args.requestId, cached: true, cache_entry_id: hit.id })
    }::text::jsonb)`;
    await tx`select llm.log_cache_hit(entry_id => ${hit.id}::uuid, user_id => ${args.userId}::text,
      request_id => ${args.requestId}::text, conversation_id => ${args.conversation.uuid}::text,
      latency_ms => ${args.latencyMs}::integer)`;
    await tx`select llm.release_reservation(${args.reservationId}::uuid)`;
  });
}

export interface Completion {
  content: string;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  totalTokens: number;
  latencyMs: number;
  ttftMs: number | null;
  finishReason: string | null;
  upstreamId: string | null;
  /** Tokens estimated by the gateway (the stream was cut before the upstream's usage came). */
  estimated: boolean;
  partial: boolean;
}

/**
 * The turn in ONE transaction (llm.record_completion): assistant message, logged request with
 * tokens, cost and latency, settled reservation; then, when the answer is complete, it is
 * cached in a savepoint (a cache failure never loses the turn).
 */
export async function recordCompletion(
  sql: Sql,
  args: {
    userId: string;
    requestId: string;
    conversation: ConversationRef;
    req: ChatRequest;
    reservationId: string;
    completion: Completion;
    cacheTtlHours: number;
  },
): Promise<void> {
  const { req, completion: c } = args;
  const messageMetadata = {
    request_id: args.requestId,
    finish_reason: c.finishReason,
    ...(c.partial ? { partial: true } : {}),
  };
  const requestMetadata = {
    gateway: "llm-chat",
    stream: req.stream,
    time_to_first_token_ms: c.ttftMs,
    finish_reason: c.finishReason,
    upstream_id: c.upstreamId,
    ...(c.partial ? { partial: true } : {}),
    ...(c.estimated ? { usage_estimated: true } : {}),
  };
  await asService(sql, async (tx) => {
    await tx`select * from llm.record_completion(
      conversation_id => ${args.conversation.uuid}::text, content => ${c.content}::text,
      provider => ${req.provider}::text, model => ${req.model}::text,
      prompt_tokens => ${c.promptTokens}::integer, completion_tokens => ${c.completionTokens}::integer,
      reservation_id => ${args.reservationId}::uuid, request_id => ${args.requestId}::text,
      user_id => ${args.userId}::text, cached_tokens => ${c.cachedTokens}::integer,
      total_tokens => ${c.totalTokens}::integer, latency_ms => ${c.latencyMs}::integer,
      metadata => ${JSON.stringify(messageMetadata)}::text::jsonb,
      request_metadata => ${JSON.stringify(requestMetadata)}::text::jsonb)`;
    if (!req.cache || c.partial || c.finishReason !== "stop" || c.content === "") return;
    const s = scope(req, args.userId);
    await tx.savepoint((sp) =>
      sp`select llm.cache_llm_response(prompt => ${req.cachePrompt}::text,
        provider => ${req.provider}::text, model => ${req.model}::text,
        response => ${c.content}::text,
        metadata => ${JSON.stringify({ finish_reason: c.finishReason })}::text::jsonb,
        parameters => ${JSON.stringify(req.cacheParameters)}::text::jsonb,
        ttl_hours => ${args.cacheTtlHours}::numeric,
        user_id => ${s.user}::text, namespace => ${s.namespace}::text,
        prompt_tokens => ${c.promptTokens}::bigint, completion_tokens => ${c.completionTokens}::bigint,
        cost_usd => llm.estimate_cost(${req.provider}::text, ${req.model}::text,
          ${c.promptTokens}::integer, ${c.completionTokens}::integer, ${c.cachedTokens}::integer))`
    ).catch((e) => console.error("caching the answer failed", e));
  });
}

/**
 * A failed request in one transaction: logged with its status and error type (and, for a
 * stream cut mid-way, the partial tokens, which settle the reservation); otherwise the
 * reservation is released.
 */
export async function recordFailure(
  sql: Sql,
  args: {
    userId: string;
    requestId: string;
    conversation: ConversationRef;
    req: ChatRequest;
    reservationId: string;
    statusCode: number | null;
    errorType: string;
    errorMessage: string;
    latencyMs: number;
    promptTokens?: number;
    completionTokens?: number;
  },
): Promise<void> {
  const charged = (args.completionTokens ?? 0) > 0 || (args.promptTokens ?? 0) > 0;
  await asService(sql, async (tx) => {
    await tx`select llm.log_request(provider => ${args.req.provider}::text,
      model => ${args.req.model}::text, user_id => ${args.userId}::text, success => false,
      status_code => ${args.statusCode}::integer, error_type => ${args.errorType}::text,
      error_message => ${args.errorMessage.slice(0, 1000)}::text,
      latency_ms => ${args.latencyMs}::integer, request_id => ${args.requestId}::text,
      conversation_id => ${args.conversation.uuid}::text,
      prompt_tokens => ${args.promptTokens ?? 0}::integer,
      completion_tokens => ${args.completionTokens ?? 0}::integer,
      reservation_id => ${charged ? args.reservationId : null}::uuid,
      metadata => ${
      JSON.stringify({ gateway: "llm-chat", stream: args.req.stream })
    }::text::jsonb)`;
    if (!charged) await tx`select llm.release_reservation(${args.reservationId}::uuid)`;
  });
}
