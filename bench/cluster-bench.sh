#!/usr/bin/env bash
# End-to-end cluster benchmark: a throw-away PostgreSQL (with pg_stat_statements, for the
# statement counts) and Redis on loopback ports, one silo with every role on them (identity
# model), jobs through HTTP beside the raw queue in the same shape on the same server.
#   bench/cluster-bench.sh [--seconds 10] [--clients 32] [--rate 100] [--tenants 1] [--store sqlite]
#   bench/cluster-bench.sh --soak 200000 [--max-growth-mb 50]     # the memory soak instead
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/lib/deps.sh
source scripts/lib/postgres.sh
source scripts/lib/redis.sh
deps::inference
deps::bridge "$root"
pg::start
redis::start
trap 'redis::stop; pg::stop' EXIT
dotnet build Actors.sln -c Release -nologo -v q >/dev/null
redis_arg=(--redis "$ACTORS_TEST_REDIS")
for a in "$@"; do [[ "$a" == "sqlite" ]] && redis_arg=(); done   # embedded: no Redis
dotnet bench/Cluster.Bench/bin/Release/net10.0/Actors.Cluster.Bench.dll --pg "$ACTORS_TEST_PG" "${redis_arg[@]}" "$@"
