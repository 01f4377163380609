// Relays an upstream SSE stream to the client as it arrives while accumulating the answer and
// its usage, and reports how the stream ended exactly once: completed, client gone, or
// upstream failed. The end of a complete stream ([DONE]) is held until the turn is recorded.

import { sseEvent, SseParser } from "./sse.ts";
import { timeoutError, type UpstreamCall, UpstreamError } from "./upstream.ts";

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number };
}

export interface StreamOutcome {
  kind: "complete" | "client_aborted" | "upstream_error";
  content: string;
  finishReason: string | null;
  usage: Usage | null;
  /** Chunks that carried content: a floor for the completion tokens of a cut stream. */
  contentChunks: number;
  upstreamId: string | null;
  /** From the upstream request to its first content chunk. */
  ttftMs: number | null;
  error?: UpstreamError;
}

export interface RelayOptions {
  call: UpstreamCall;
  timeoutMs: number;
  /** When the upstream request was sent (performance.now()). */
  startedAt: number;
  /** Pass the usage-only chunk on (the client asked for stream_options.include_usage). */
  forwardUsageChunk: boolean;
  /** Records the turn; a thrown error is sent to the client as an SSE error event. */
  onEnd: (outcome: StreamOutcome) => Promise<void>;
}

export function relayStream(opts: RelayOptions): ReadableStream<Uint8Array> {
  const { call } = opts;
  const reader = call.response.body!.getReader();
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  const parser = new SseParser();
  const state: StreamOutcome = {
    kind: "complete",
    content: "",
    finishReason: null,
    usage: null,
    contentChunks: 0,
    upstreamId: null,
    ttftMs: null,
  };
  let ended = false;
  let clientGone = false;

  /** Reports the outcome once; returns the error to tell the client, if any. */
  const end = async (kind: StreamOutcome["kind"], error?: UpstreamError) => {
    if (ended) return null;
    ended = true;
    call.timer.clear();
    try {
      await opts.onEnd({ ...state, kind, error });
      return null;
    } catch (e) {
      console.error("recording the streamed turn failed", e);
      return e as Error;
    }
  };

  const clientLeft = () => {
    if (clientGone) return;
    clientGone = true;
    call.controller.abort();
    void end("client_aborted");
  };

  /** Accumulates one event; returns the text to forward ("" to drop it). */
  const take = (data: string, raw: string): string => {
    let chunk: {
      id?: string;
      choices?: { delta?: { content?: string | null }; finish_reason?: string | null }[];
      usage?: Usage | null;
    };
    try {
      chunk = JSON.parse(data);
    } catch {
      return raw + "\n\n";
    }
    state.upstreamId ??= typeof chunk.id === "string" ? chunk.id : null;
    if (chunk.usage) state.usage = chunk.usage;
    const choice = chunk.choices?.[0];
    const delta = choice?.delta?.content;
    if (typeof delta === "string" && delta !== "") {
      state.ttftMs ??= Math.round(performance.now() - opts.startedAt);
      state.content += delta;
      state.contentChunks++;
    }
    if (choice?.finish_reason) state.finishReason = choice.finish_reason;
    const usageOnly = Array.isArray(chunk.choices) && chunk.choices.length === 0 && chunk.usage;
    return usageOnly && !opts.forwardUsageChunk ? "" : raw + "\n\n";
  };

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      while (true) {
        let result: ReadableStreamReadResult<Uint8Array>;
        try {
          result = await reader.read();
        } catch (e) {
          if (clientGone) return;
          const error = call.timer.timedOut
            ? timeoutError(opts.timeoutMs)
            : new UpstreamError(null, "stream_interrupted", `upstream stream broke: ${e}`);
          await end("upstream_error", error);
          controller.enqueue(
            encoder.encode(sseEvent({ error: { message: error.message, type: error.errorType } })),
          );
          controller.close();
          return;
        }
        if (clientGone) return;
        const events = result.done
          ? parser.flush()
          : parser.push(decoder.decode(result.value, { stream: true }));
        call.timer.reset();
        let out = "";
        let done = result.done;
        for (const event of events) {
          if (event.data === "[DONE]") {
            done = true;
            break;
          }
          out += take(event.data, event.raw);
        }
        if (done) {
          reader.cancel().catch(() => {});
          const failure = await end("complete");
          if (failure) {
            out += sseEvent({
              error: { message: "the completion could not be recorded", type: "database_error" },
            });
          }
          controller.enqueue(encoder.encode(out + sseEvent("[DONE]")));
          controller.close();
          return;
        }
        if (out) {
          controller.enqueue(encoder.encode(out));
          return;
        }
      }
    },
    // the runtime cancels the body when the client disconnects
    cancel() {
      clientLeft();
    },
  });
}
