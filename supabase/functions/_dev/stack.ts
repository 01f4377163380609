// The three functions behind one local server, routed as Supabase routes them
// (/functions/v1/<name>/...), for tests, benchmarks and `make demo`.

import { createAuthenticator } from "../_shared/auth.ts";
import type { Config } from "../_shared/config.ts";
import { connect, type Sql } from "../_shared/db.ts";
import { createAdminUsageHandler } from "../llm-admin-usage/handler.ts";
import { createChatHandler } from "../llm-chat/handler.ts";
import { createConversationsHandler } from "../llm-conversations/handler.ts";

export interface LocalStack {
  /** Base URL of the functions: `${url}/llm-chat`. */
  url: string;
  sql: Sql;
  close(): Promise<void>;
}

export function startStack(config: Config, port = 0): LocalStack {
  const sql = connect(config);
  const deps = { config, sql, authenticate: createAuthenticator(config) };
  const handlers: Record<string, (req: Request) => Promise<Response>> = {
    "llm-chat": createChatHandler(deps),
    "llm-conversations": createConversationsHandler(deps),
    "llm-admin-usage": createAdminUsageHandler(deps),
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, (req) => {
    const name = new URL(req.url).pathname.split("/")[3];
    const handler = handlers[name];
    return handler
      ? handler(req)
      : Promise.resolve(new Response("no such function", { status: 404 }));
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/functions/v1`,
    sql,
    close: async () => {
      await server.shutdown();
      await sql.end();
    },
  };
}
