#!/usr/bin/env bash
# Admission benchmark: a throw-away PostgreSQL on a loopback port, then TenantGrain admission and
# settlement beside a raw turn, on PostgreSQL and on SQLite.
#   bench/billing-bench.sh [--seconds 5] [--clients 32]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/lib/deps.sh
source scripts/lib/postgres.sh
pg::start
trap pg::stop EXIT
dotnet build bench/Billing.Bench -c Release -nologo -v q >/dev/null
dotnet bench/Billing.Bench/bin/Release/net10.0/Actors.Billing.Bench.dll --pg "$ACTORS_TEST_PG" "$@"
