#!/usr/bin/env bash
# Installs the Deno runtime the Edge Functions are checked, linted and tested with: the `deno`
# package pinned in package.json (its binary ships in a registry package, so nothing else is
# downloaded), into node_modules/, then caches the functions' npm imports into .deno/.
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
if [ ! -x node_modules/.bin/deno ] || [ package-lock.json -nt "$stamp" ]; then
  echo "installing Deno from the npm registry (package.json) ..."
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi

deno_stamp=.deno/.cached
if [ ! -f "$deno_stamp" ] || [ supabase/functions/deno.lock -nt "$deno_stamp" ]; then
  (cd supabase/functions && DENO_DIR="$root/.deno" "$root/node_modules/.bin/deno" install --frozen --quiet)
  touch "$deno_stamp"
fi
