// The conversation REST API of the systems we replace, over the SQL API, as the signed-in
// caller (RLS and the functions' own checks decide; someone else's conversation is 404):
//   GET    /llm-conversations                 the caller's conversations (?limit, ?offset, ?include_archived)
//   GET    /llm-conversations/stats           conversation statistics
//   GET    /llm-conversations/{id}            a conversation and its messages (?limit, ?before, ?after)
//   POST   /llm-conversations/{id}/clear      deletes its messages
//   GET    /llm-conversations/{id}/export     the whole conversation as one JSON document
//   DELETE /llm-conversations/{id}            soft-deletes it
// {id} is the conversation's UUID or the client's own id.

import { type Authenticator, requireUser } from "../_shared/auth.ts";
import type { Config } from "../_shared/config.ts";
import { asCaller, type Sql } from "../_shared/db.ts";
import { HttpError, json, serveJson } from "../_shared/http.ts";

export interface ConversationsDeps {
  config: Config;
  sql: Sql;
  authenticate: Authenticator;
}

const FUNCTION_NAME = "llm-conversations";

/** The path segments after the function's name (Supabase routes /<name>/... to it). */
export function routeSegments(url: URL): string[] {
  const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  const at = parts.indexOf(FUNCTION_NAME);
  return at === -1 ? parts : parts.slice(at + 1);
}

function intParam(url: URL, name: string, fallback: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === "") return fallback;
  if (!/^-?\d+$/.test(raw)) {
    throw new HttpError(
      400,
      `${name} must be an integer, got ${JSON.stringify(raw)}`,
      "invalid_request_error",
      {
        param: name,
      },
    );
  }
  return Number(raw);
}

function uuidParam(url: URL, name: string): string | null {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === "") return null;
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(raw)) {
    throw new HttpError(
      400,
      `${name} must be a message id (UUID), got ${JSON.stringify(raw)}`,
      "invalid_request_error",
      {
        param: name,
      },
    );
  }
  return raw;
}

function boolParam(url: URL, name: string): boolean {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === "" || raw === "false") return false;
  if (raw === "true") return true;
  throw new HttpError(
    400,
    `${name} must be true or false, got ${JSON.stringify(raw)}`,
    "invalid_request_error",
    {
      param: name,
    },
  );
}

export function createConversationsHandler(
  deps: ConversationsDeps,
): (req: Request) => Promise<Response> {
  const { config, sql } = deps;

  return serveJson(config.corsOrigin, async (req) => {
    const caller = requireUser(await deps.authenticate(req));
    const url = new URL(req.url);
    const [id, action, ...rest] = routeSegments(url);
    const as = <T>(fn: Parameters<typeof asCaller<T>>[2]) => asCaller<T>(sql, caller, fn);
    const method = req.method;
    const notAllowed = () =>
      new HttpError(405, `${method} is not supported on ${url.pathname}`, "invalid_request_error");
    if (rest.length) throw new HttpError(404, `no route ${url.pathname}`, "not_found");

    if (id === undefined) {
      if (method !== "GET") throw notAllowed();
      const limit = intParam(url, "limit", 20);
      const offset = intParam(url, "offset", 0);
      const rows = await as((tx) =>
        tx`select coalesce(jsonb_agg(to_jsonb(s)), '[]') as list
          from llm.get_user_chat_sessions("limit" => ${limit}::integer, "offset" => ${offset}::integer,
            include_archived => ${boolParam(url, "include_archived")}::boolean) as s`
      );
      const list = rows[0].list as unknown[];
      return json({
        conversations: list,
        limit,
        offset,
        next_offset: list.length === limit ? offset + limit : null,
      });
    }

    if (id === "stats" && action === undefined) {
      if (method !== "GET") throw notAllowed();
      const [row] = await as((tx) => tx`select llm.conversation_stats() as stats`);
      return json(row.stats);
    }

    if (action === undefined) {
      if (method === "GET") {
        const limit = intParam(url, "limit", 100);
        const before = uuidParam(url, "before");
        const after = uuidParam(url, "after");
        const [row] = await as((tx) =>
          tx`select to_jsonb(llm.get_conversation(${id}::text)) as conversation,
            (select coalesce(jsonb_agg(to_jsonb(m) order by m.seq), '[]')
             from llm.get_messages(${id}::text, ${limit}::integer, ${before}::uuid, ${after}::uuid) as m)
              as messages`
        );
        return json(row);
      }
      if (method === "DELETE") {
        await as((tx) => tx`select llm.delete_conversation(${id}::text)`);
        return json({ conversation_id: id, deleted: true });
      }
      throw notAllowed();
    }

    if (action === "clear") {
      if (method !== "POST") throw notAllowed();
      const [row] = await as((tx) => tx`select llm.clear_conversation(${id}::text) as deleted`);
      return json({ conversation_id: id, cleared: true, deleted_messages: row.deleted });
    }

    if (action === "export") {
      if (method !== "GET") throw notAllowed();
      const [row] = await as((tx) => tx`select llm.export_conversation(${id}::text) as doc`);
      return json(row.doc);
    }

    throw new HttpError(404, `no route ${url.pathname}`, "not_found");
  });
}
