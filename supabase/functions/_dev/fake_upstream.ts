// A local stand-in for an OpenAI-compatible provider, for tests, benchmarks and `make demo`:
// POST /chat/completions answers like OpenAI, streamed or not, with usage. Directives in the
// last message steer it:
//   [status 500]      answer with that HTTP status and an OpenAI error body
//   [delay 300]       wait that many ms before answering (response headers included)
//   [chunk_delay 20]  wait between two streamed chunks
//   [words 50]        answer with that many words ("w1 w2 ..."); default: echo the message
//   [no_usage]        leave the usage out (a provider that reports none)
// Run alone: `deno run --allow-net _dev/fake_upstream.ts [port]`.

export interface FakeCall {
  body: Record<string, unknown>;
  at: number;
}

export interface FakeUpstream {
  url: string;
  calls: FakeCall[];
  close(): Promise<void>;
}

function directive(text: string, name: string): number | null {
  const m = new RegExp(`\\[${name}(?:\\s+(\\d+))?\\]`).exec(text);
  if (!m) return null;
  return m[1] === undefined ? 1 : Number(m[1]);
}

function lastText(body: Record<string, unknown>): string {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  const last = messages[messages.length - 1] as { content?: unknown } | undefined;
  return typeof last?.content === "string" ? last.content : JSON.stringify(last?.content ?? "");
}

/** The answer's chunks (one word each, with its leading space) for a request body. */
export function answerChunks(body: Record<string, unknown>): string[] {
  const text = lastText(body);
  const words = directive(text, "words");
  const answer = words !== null
    ? Array.from({ length: words }, (_, i) => `w${i + 1}`).join(" ")
    : `Echo: ${text.replace(/\[[a-z_]+(\s+\d+)?\]/g, "").trim()}`;
  return answer.split(/(?= )/);
}

/** The usage the fake reports: a token per 4 characters of the prompt, one per chunk. */
export function fakeUsage(body: Record<string, unknown>) {
  const prompt = JSON.stringify(body.messages ?? []).length;
  const prompt_tokens = Math.ceil(prompt / 4);
  const completion_tokens = answerChunks(body).length;
  return { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function answer(req: Request, calls: FakeCall[]): Promise<Response> {
  const url = new URL(req.url);
  if (req.method !== "POST" || !url.pathname.endsWith("/chat/completions")) {
    return new Response("not found", { status: 404 });
  }
  const body = await req.json();
  calls.push({ body, at: performance.now() });
  const text = lastText(body);
  const delay = directive(text, "delay");
  if (delay) await sleep(delay);
  const status = directive(text, "status");
  if (status) {
    return Response.json(
      { error: { message: `fake upstream error ${status}`, type: "server_error", code: null } },
      { status },
    );
  }
  const id = `chatcmpl-fake-${crypto.randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const model = body.model;
  const chunks = answerChunks(body);
  const usage = directive(text, "no_usage") ? null : fakeUsage(body);
  if (!body.stream) {
    return Response.json({
      id,
      object: "chat.completion",
      created,
      model,
      choices: [{
        index: 0,
        message: { role: "assistant", content: chunks.join("") },
        finish_reason: "stop",
      }],
      ...(usage ? { usage } : {}),
    });
  }
  const chunkDelay = directive(text, "chunk_delay") ?? 0;
  const withUsage = body.stream_options?.include_usage === true && usage;
  const encoder = new TextEncoder();
  const event = (data: unknown) => encoder.encode(`data: ${JSON.stringify(data)}\n\n`);
  const base = { id, object: "chat.completion.chunk", created, model };
  let i = -1;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (i === -1) {
        controller.enqueue(event({
          ...base,
          choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }],
        }));
      } else if (i < chunks.length) {
        if (chunkDelay) await sleep(chunkDelay);
        controller.enqueue(event({
          ...base,
          choices: [{ index: 0, delta: { content: chunks[i] }, finish_reason: null }],
        }));
      } else {
        controller.enqueue(
          event({ ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }),
        );
        if (withUsage) controller.enqueue(event({ ...base, choices: [], usage }));
        controller.enqueue(encoder.encode("data: [DONE]\n\n"));
        controller.close();
      }
      i++;
    },
  });
  return new Response(stream, { headers: { "content-type": "text/event-stream" } });
}

/** Starts the fake on a free loopback port (or `port`). */
export function startFakeUpstream(port = 0): FakeUpstream {
  const calls: FakeCall[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port, onListen: () => {} },
    (req) => answer(req, calls),
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/v1`,
    calls,
    close: () => server.shutdown(),
  };
}

if (import.meta.main) {
  const fake = startFakeUpstream(Number(Deno.args[0] ?? 0));
  console.log(`fake upstream listening: ${fake.url}`);
}
