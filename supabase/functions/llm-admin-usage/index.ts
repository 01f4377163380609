// Edge Function llm-admin-usage: see handler.ts. Configuration: README.md, "Edge Functions".
import { createAuthenticator } from "../_shared/auth.ts";
import { loadConfig } from "../_shared/config.ts";
import { connect } from "../_shared/db.ts";
import { createAdminUsageHandler } from "./handler.ts";

const config = loadConfig();
Deno.serve(
  createAdminUsageHandler({
    config,
    sql: connect(config),
    authenticate: createAuthenticator(config),
  }),
);
