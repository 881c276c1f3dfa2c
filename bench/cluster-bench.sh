#!/usr/bin/env bash
# End-to-end cluster benchmark: a throw-away PostgreSQL on a loopback port, the embedded-roles
# silo on it (identity model), jobs through HTTP vs the raw queue on the same server.
#   bench/cluster-bench.sh [--seconds 10] [--clients 32] [--rate 100] [--tenants 1]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/lib/deps.sh
source scripts/lib/postgres.sh
deps::inference
deps::bridge "$root"
pg::start
trap pg::stop EXIT
dotnet build Actors.sln -c Release -nologo -v q >/dev/null
dotnet bench/Cluster.Bench/bin/Release/net10.0/Actors.Cluster.Bench.dll --pg "$ACTORS_TEST_PG" "$@"
