#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for tests (Debian's postgresql 15) and prints its admin URL.
# Idempotent: reuses a running server in the same directory. Env: RIL_PG_DIR (default /tmp/ril-pg),
# RIL_PG_PORT (default 55432). initdb refuses to run as root, so as root the server runs as `postgres`.
set -euo pipefail
PGDIR="${RIL_PG_DIR:-/tmp/ril-pg}"
PORT="${RIL_PG_PORT:-55432}"
BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
if [ -z "$BIN" ]; then
  echo "pg-start: PostgreSQL server binaries not found (apt-get install postgresql)" >&2
  exit 1
fi
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ ! -f "$PGDIR/PG_VERSION" ]; then
  mkdir -p "$PGDIR"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$PGDIR"
  as_pg "$BIN/initdb" -D "$PGDIR" -U postgres --auth=trust -E UTF8 >/dev/null
fi
if ! as_pg "$BIN/pg_ctl" -D "$PGDIR" status >/dev/null 2>&1; then
  as_pg "$BIN/pg_ctl" -D "$PGDIR" -l "$PGDIR/server.log" -w \
    -o "-p $PORT -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
fi
echo "postgresql://postgres@127.0.0.1:$PORT/postgres"
