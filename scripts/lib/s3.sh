# Sourced by scripts/test: a throw-away S3-compatible server (npm's s3rver) on 127.0.0.1, for the
# object-store tests and the clusters that keep their blobs in it. Exports ACTORS_TEST_S3 (its
# endpoint; credentials S3RVER/S3RVER, buckets created by the tests); stopped by s3::stop.

s3::start() {
  local root="$1" port dir
  deps::s3rver "$root" || return 1
  port="${ACTORS_S3_PORT:-54568}"
  while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  dir="$(mktemp -d /tmp/actors-s3.XXXXXX)"
  "$root/build/s3rver/node_modules/.bin/s3rver" -d "$dir/data" -a 127.0.0.1 -p "$port" --silent --no-vhost-buckets \
    >"$dir/s3rver.log" 2>&1 &
  echo $! >"$dir/s3rver.pid"
  for _ in $(seq 1 100); do
    (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
  (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "s3: not answering on $port" >&2; cat "$dir/s3rver.log" >&2; return 1; }
  S3_DIR="$dir"
  export ACTORS_TEST_S3="http://127.0.0.1:$port"
  echo "s3: s3rver running on 127.0.0.1:$port"
}

s3::stop() {
  [[ -n "${S3_DIR:-}" ]] || return 0
  local pid
  pid="$(cat "$S3_DIR/s3rver.pid" 2>/dev/null || true)"
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
  rm -rf "$S3_DIR"
  S3_DIR=""
}
