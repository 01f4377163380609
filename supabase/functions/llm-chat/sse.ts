// Splits a Server-Sent Events byte stream into whole events, keeping each event's raw text so
// it can be passed on unchanged.

export interface SseEvent {
  /** The event as received, without its terminating blank line. */
  raw: string;
  /** Its data lines joined with "\n" ("" when it has none). */
  data: string;
}

export class SseParser {
  #buffer = "";

  /** Adds text; returns the events it completed. */
  push(text: string): SseEvent[] {
    this.#buffer += text.replace(/\r\n?/g, "\n");
    const events: SseEvent[] = [];
    let end: number;
    while ((end = this.#buffer.indexOf("\n\n")) !== -1) {
      const raw = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      if (raw.trim() !== "") events.push(parseEvent(raw));
    }
    return events;
  }

  /** The last event when the stream ended without its blank line. */
  flush(): SseEvent[] {
    const raw = this.#buffer;
    this.#buffer = "";
    return raw.trim() === "" ? [] : [parseEvent(raw)];
  }
}

function parseEvent(raw: string): SseEvent {
  const data = raw
    .split("\n")
    .filter((line) => line.startsWith("data:"))
    .map((line) => line.slice(5).replace(/^ /, ""))
    .join("\n");
  return { raw, data };
}

/** One SSE event carrying `data` (an object is sent as JSON). */
export function sseEvent(data: unknown): string {
  return `data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;
}
