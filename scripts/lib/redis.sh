# Sourced by scripts/test: a throw-away Redis on 127.0.0.1 (no persistence), for the Orleans
# cluster tests (silos meet through Redis). Exports ACTORS_TEST_REDIS; stopped by redis::stop.

redis::start() {
  deps::need_apt redis-server || return 1
  local port dir
  port="${ACTORS_REDIS_PORT:-56379}"
  while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  dir="$(mktemp -d /tmp/actors-redis.XXXXXX)"
  redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --daemonize yes \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir" || { cat "$dir/redis.log" >&2; return 1; }
  for _ in $(seq 1 50); do
    (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
  (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "redis: not answering on $port" >&2; cat "$dir/redis.log" >&2; return 1; }
  REDIS_DIR="$dir"
  export ACTORS_TEST_REDIS="127.0.0.1:$port"
  echo "redis: running on 127.0.0.1:$port"
}

redis::stop() {
  [[ -n "${REDIS_DIR:-}" ]] || return 0
  local pid
  pid="$(cat "$REDIS_DIR/redis.pid" 2>/dev/null || true)"
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
  rm -rf "$REDIS_DIR"
  REDIS_DIR=""
}
