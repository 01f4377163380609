// Validates an OpenAI chat completions body plus the gateway's own fields, and derives what
// the turn needs: the upstream body, the cache key parameters, the message to store.

import { HttpError } from "../_shared/http.ts";

/** Fields the gateway reads and never forwards upstream. */
const GATEWAY_FIELDS = ["conversation_id", "cache", "namespace", "provider"];
const ROLES = new Set(["system", "developer", "user", "assistant", "tool", "function"]);

export interface ChatRequest {
  provider: string;
  model: string;
  messages: Record<string, unknown>[];
  stream: boolean;
  /** The client asked for the final usage chunk itself (otherwise the gateway drops it). */
  clientWantsUsage: boolean;
  conversationId: string | null;
  cache: boolean;
  namespace: string | null;
  /** Completion tokens reserved: max_completion_tokens, max_tokens or the default. */
  maxTokens: number;
  /** Rough count of the prompt's tokens, for the reservation and for partial billing. */
  estimatedPromptTokens: number;
  /** The body sent upstream. */
  upstreamBody: Record<string, unknown>;
  /** Cache key parameters: everything but model, messages and the gateway's fields. */
  cacheParameters: Record<string, unknown>;
  /** The cache key prompt: the messages as JSON text. */
  cachePrompt: string;
  /** Text of the trailing user message, stored in the conversation; null if the last is not. */
  userMessage: string | null;
}

function invalid(message: string, param: string): HttpError {
  return new HttpError(400, message, "invalid_request_error", { param });
}

function optionalString(body: Record<string, unknown>, key: string): string | null {
  const value = body[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== "string" || value.trim() === "") {
    throw invalid(`${key} must be a non-empty string`, key);
  }
  return value;
}

function optionalPositiveInt(body: Record<string, unknown>, key: string): number | null {
  const value = body[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw invalid(`${key} must be a positive integer, got ${JSON.stringify(value)}`, key);
  }
  return value;
}

/** The text of a message content: a string, or the text parts of a content array. */
export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((part) =>
        part && typeof part === "object" && typeof (part as { text?: unknown }).text === "string"
          ? (part as { text: string }).text
          : ""
      )
      .join("");
  }
  return "";
}

/** About four characters a token, plus a few per message: an estimate for reservations. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export function parseChatRequest(
  body: Record<string, unknown>,
  defaults: { provider: string; maxTokens: number },
): ChatRequest {
  const model = body.model;
  if (typeof model !== "string" || model.trim() === "") {
    throw invalid('model is required: a non-empty string such as "gpt-4o-mini"', "model");
  }
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    throw invalid("messages is required: a non-empty array of {role, content}", "messages");
  }
  messages.forEach((m, i) => {
    if (typeof m !== "object" || m === null || Array.isArray(m)) {
      throw invalid(`messages[${i}] must be an object with role and content`, `messages[${i}]`);
    }
    const role = (m as Record<string, unknown>).role;
    if (typeof role !== "string" || !ROLES.has(role)) {
      throw invalid(
        `messages[${i}].role must be one of ${[...ROLES].join(", ")}, got ${JSON.stringify(role)}`,
        `messages[${i}].role`,
      );
    }
    const content = (m as Record<string, unknown>).content;
    const okContent = typeof content === "string" || Array.isArray(content) ||
      (content === null && role === "assistant");
    if (!okContent) {
      throw invalid(
        `messages[${i}].content must be a string or an array of content parts`,
        `messages[${i}].content`,
      );
    }
  });
  if (body.stream !== undefined && typeof body.stream !== "boolean") {
    throw invalid("stream must be true or false", "stream");
  }
  if (body.cache !== undefined && typeof body.cache !== "boolean") {
    throw invalid("cache must be true or false", "cache");
  }
  if (body.n !== undefined && body.n !== 1) {
    throw invalid("n must be 1: the gateway stores one answer per turn", "n");
  }
  const streamOptions = body.stream_options;
  if (
    streamOptions !== undefined && streamOptions !== null &&
    (typeof streamOptions !== "object" || Array.isArray(streamOptions))
  ) {
    throw invalid("stream_options must be an object", "stream_options");
  }
  const maxTokens = optionalPositiveInt(body, "max_completion_tokens") ??
    optionalPositiveInt(body, "max_tokens") ?? defaults.maxTokens;
  const provider = optionalString(body, "provider") ?? defaults.provider;
  const conversationId = optionalString(body, "conversation_id");
  const namespace = optionalString(body, "namespace");
  const stream = body.stream === true;
  const typed = messages as Record<string, unknown>[];

  const upstreamBody: Record<string, unknown> = {};
  const cacheParameters: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (GATEWAY_FIELDS.includes(key)) continue;
    upstreamBody[key] = value;
    if (key !== "model" && key !== "messages") cacheParameters[key] = value;
  }
  const clientWantsUsage =
    (streamOptions as { include_usage?: unknown } | undefined)?.include_usage === true;
  if (stream) {
    upstreamBody.stream_options = {
      ...(streamOptions as Record<string, unknown> | undefined),
      include_usage: true,
    };
  }
  const last = typed[typed.length - 1];
  const promptText = typed.map((m) => contentText(m.content)).join("\n");
  return {
    provider: provider.trim().toLowerCase(),
    model,
    messages: typed,
    stream,
    clientWantsUsage,
    conversationId,
    cache: body.cache !== false,
    namespace,
    maxTokens,
    estimatedPromptTokens: estimateTokens(promptText) + 4 * typed.length,
    upstreamBody,
    cacheParameters,
    cachePrompt: JSON.stringify(typed),
    userMessage: last.role === "user" ? contentText(last.content) : null,
  };
}
