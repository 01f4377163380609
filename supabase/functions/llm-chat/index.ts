// Edge Function llm-chat: see handler.ts. Configuration: README.md, "Edge Functions".
import { createAuthenticator } from "../_shared/auth.ts";
import { loadConfig } from "../_shared/config.ts";
import { connect } from "../_shared/db.ts";
import { createChatHandler } from "./handler.ts";

const config = loadConfig();
Deno.serve(
  createChatHandler({ config, sql: connect(config), authenticate: createAuthenticator(config) }),
);
