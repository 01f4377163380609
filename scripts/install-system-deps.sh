#!/usr/bin/env bash
# Installs the PostgreSQL 15 toolchain the test harness needs on Debian bookworm:
# server, pg_cron, pgTAP, plpgsql_check, and pgvector built from Debian's source package.
# Idempotent: does nothing when everything is already present. Uses sudo when not root.
set -euo pipefail

PG_MAJOR=15
PGVECTOR_SUITE=trixie
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

pg_bin="/usr/lib/postgresql/${PG_MAJOR}/bin"
ext_dir="/usr/share/postgresql/${PG_MAJOR}/extension"

if [ "${1:-}" = "--python" ]; then
  # the interpreter lacks venv/ensurepip (Debian's system Python): add them
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq python3-venv >/dev/null
  exit 0
fi

have_all() {
  [ -x "${pg_bin}/postgres" ] && [ -x "${pg_bin}/pg_config" ] \
    && [ -f "${ext_dir}/pg_cron.control" ] && [ -f "${ext_dir}/pgtap.control" ] \
    && [ -f "${ext_dir}/plpgsql_check.control" ] && [ -f "${ext_dir}/vector.control" ] \
    && grep -q '^trusted = true' "${ext_dir}/vector.control"
}

# On hosted Supabase, postgres (not a superuser) creates and drops vector: supautils lists it
# among the privileged extensions. Marking it trusted gives postgres the same here.
trust_vector() {
  if [ -f "${ext_dir}/vector.control" ] && ! grep -q '^trusted = true' "${ext_dir}/vector.control"; then
    echo "trusted = true" | $SUDO tee -a "${ext_dir}/vector.control" >/dev/null
  fi
}

trust_vector
if have_all; then
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
echo "installing PostgreSQL ${PG_MAJOR} packages ..."
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  "postgresql-${PG_MAJOR}" "postgresql-server-dev-${PG_MAJOR}" "postgresql-${PG_MAJOR}-cron" \
  "postgresql-${PG_MAJOR}-pgtap" "postgresql-${PG_MAJOR}-plpgsql-check" \
  build-essential dpkg-dev ca-certificates >/dev/null

if [ ! -f "${ext_dir}/vector.control" ]; then
  # pgvector has no bookworm package; build it from the source package of the next release,
  # fetched from the same archive this machine's apt already uses.
  sources=/etc/apt/sources.list.d/debian.sources
  list=/etc/apt/sources.list.d/pgvector-src.sources
  uri=""
  if [ -f "$sources" ]; then
    uri=$(awk '/^URIs:/{u=$2} /^Suites:.*bookworm( |$)/{print u; exit}' "$sources")
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1=="deb" && $3=="bookworm"{print $2; exit}' /etc/apt/sources.list)
  fi
  if [ -z "$uri" ]; then
    echo "cannot find the Debian archive in apt's sources; install pgvector for PostgreSQL ${PG_MAJOR} by hand" >&2
    exit 1
  fi
  printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$uri" "$PGVECTOR_SUITE" | $SUDO tee "$list" >/dev/null
  $SUDO apt-get update -qq
  build=$(mktemp -d)
  chmod 755 "$build"
  (
    cd "$build"
    apt-get source -qq -o APT::Sandbox::User=root --download-only pgvector >/dev/null
    dpkg-source -x --no-check ./pgvector_*.dsc src >/dev/null
    cd src
    make -s PG_CONFIG="${pg_bin}/pg_config" >/dev/null
    $SUDO make -s PG_CONFIG="${pg_bin}/pg_config" install >/dev/null
  )
  rm -rf "$build"
fi

trust_vector
have_all || { echo "PostgreSQL toolchain is still incomplete after installing" >&2; exit 1; }
echo "PostgreSQL ${PG_MAJOR} toolchain ready"
