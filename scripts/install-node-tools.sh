#!/usr/bin/env bash
# Installs the Node.js tools pinned in package.json into node_modules/ (Deno, for the Edge
# Functions, and the Supabase CLI, for migrations and lints; both ship their binary in a registry
# package, so nothing else is downloaded), then caches the functions' npm imports into .deno/.
# Idempotent: does nothing when both are up to date. Uses sudo when not root.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if ! command -v npm >/dev/null 2>&1; then
  echo "installing Node.js and npm ..."
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

stamp=node_modules/.installed
if [ ! -x node_modules/.bin/deno ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  echo "installing Deno and the Supabase CLI from the npm registry (package.json) ..."
  # `npm ci` wants every platform's optional binary in the lock; the lock pins the versions
  npm install --no-save --no-audit --no-fund --loglevel=error >/dev/null
  touch "$stamp"
fi
if ! node_modules/.bin/supabase --version >/dev/null 2>&1; then
  echo "notice: the Supabase CLI does not run here; migrations fall back to the Python applier"
fi

deno_stamp=.deno/.cached
if [ ! -f "$deno_stamp" ] || [ supabase/functions/deno.lock -nt "$deno_stamp" ]; then
  (cd supabase/functions && DENO_DIR="$root/.deno" "$root/node_modules/.bin/deno" install --frozen --quiet)
  touch "$deno_stamp"
fi
