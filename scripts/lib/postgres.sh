# Sourced by scripts/test: a throw-away PostgreSQL cluster on 127.0.0.1 in a temp dir, run as
# the postgres user (initdb refuses root), stopped by pg::stop. Exports ACTORS_TEST_PG.

pg::bin() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [[ -n "$dir" ]] || { echo "postgres: no /usr/lib/postgresql/*/bin (apt-get install postgresql)" >&2; return 1; }
  echo "$dir"
}

pg::start() {
  deps::need_apt postgresql
  local bin port dir
  bin="$(pg::bin)" || return 1
  port="${ACTORS_PG_PORT:-55432}"
  while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  dir="$(mktemp -d /tmp/actors-pg.XXXXXX)"
  chmod 755 "$dir"
  mkdir -p "$dir/data" "$dir/run"
  chown -R postgres:postgres "$dir/data" "$dir/run"
  runuser -u postgres -- "$bin/initdb" -D "$dir/data" --locale=C -E UTF8 --auth=trust -U postgres >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; return 1; }
  runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/run/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir/run -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all" \
    start >/dev/null || { cat "$dir/run/server.log" >&2; return 1; }
  PG_DIR="$dir"; PG_BIN="$bin"
  export ACTORS_TEST_PG="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres;Pooling=true;Maximum Pool Size=50"
  echo "postgres: running on 127.0.0.1:$port (data in $dir)"
}

pg::stop() {
  [[ -n "${PG_DIR:-}" ]] || return 0
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
  PG_DIR=""
}
