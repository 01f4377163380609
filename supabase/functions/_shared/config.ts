// Configuration of the Edge Functions, read once from environment variables (documented in
// README.md and supabase/functions/.env.example).

export interface Config {
  /** Postgres URL the functions connect with (Supabase sets SUPABASE_DB_URL). */
  dbUrl: string;
  /** Connections each function instance may open. */
  dbPoolSize: number;
  /** HS256 secret of the project's legacy JWTs; null when only asymmetric keys are used. */
  jwtSecret: string | null;
  /** JWKS of the project's asymmetric signing keys; null disables them. */
  jwksUrl: string | null;
  /** OpenAI-compatible base URL, e.g. https://api.openai.com/v1. */
  llmBaseUrl: string;
  llmApiKey: string;
  /** Provider recorded for requests whose body names none (prices are per provider). */
  llmProvider: string;
  /** Longest wait for the upstream's response headers, and between two chunks of a stream. */
  llmTimeoutMs: number;
  /** Completion tokens reserved when the body sets neither max_tokens nor max_completion_tokens. */
  defaultMaxTokens: number;
  /** How long a cached answer is served. */
  cacheTtlHours: number;
  /** Cache namespaces callers may name (shared across users); any other name is refused. */
  cacheNamespaces: Set<string>;
  /** Value of Access-Control-Allow-Origin. */
  corsOrigin: string;
}

type Env = { get(key: string): string | undefined };

function positiveNumber(env: Env, key: string, fallback: number): number {
  const raw = env.get(key);
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`${key} must be a positive number, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function optional(env: Env, key: string): string | null {
  const value = env.get(key)?.trim();
  return value ? value : null;
}

/** Reads the configuration; throws naming the variable when one is missing or malformed. */
export function loadConfig(env: Env = Deno.env): Config {
  const dbUrl = optional(env, "SUPABASE_DB_URL");
  if (!dbUrl) throw new Error("SUPABASE_DB_URL is required");
  const supabaseUrl = optional(env, "SUPABASE_URL");
  const jwksUrl = optional(env, "SUPABASE_JWKS_URL") ??
    (supabaseUrl ? new URL("/auth/v1/.well-known/jwks.json", supabaseUrl).href : null);
  return {
    dbUrl,
    dbPoolSize: positiveNumber(env, "LLM_DB_POOL_SIZE", 5),
    jwtSecret: optional(env, "SUPABASE_JWT_SECRET"),
    jwksUrl,
    llmBaseUrl: (optional(env, "LLM_BASE_URL") ?? "https://api.openai.com/v1").replace(/\/+$/, ""),
    llmApiKey: optional(env, "LLM_API_KEY") ?? "",
    llmProvider: optional(env, "LLM_PROVIDER") ?? "openai",
    llmTimeoutMs: positiveNumber(env, "LLM_TIMEOUT_MS", 60_000),
    defaultMaxTokens: positiveNumber(env, "LLM_DEFAULT_MAX_TOKENS", 1024),
    cacheTtlHours: positiveNumber(env, "LLM_CACHE_TTL_HOURS", 168),
    cacheNamespaces: new Set(
      (optional(env, "LLM_CACHE_NAMESPACES") ?? "").split(",").map((s) => s.trim()).filter(
        Boolean,
      ),
    ),
    corsOrigin: optional(env, "LLM_CORS_ORIGIN") ?? "*",
  };
}
