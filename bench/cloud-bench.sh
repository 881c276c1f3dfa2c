#!/usr/bin/env bash
# Renting through the cloud adapters, end to end against their strict fakes (nothing reaches a
# real cloud): for RunPod, Vast.ai and Lambda, time from the pool's start to the instance HOT
# (a real GPU-host silo process on this machine joined with its models), beside the machine
# silo's own start-to-ready in the same run (the ratio is what the adapter and the pool add);
# then a spot preemption's detection time and a control-silo restart's reconciliation time.
#   bench/cloud-bench.sh [--rounds N]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
rounds=1
while (($#)); do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    *) echo "cloud-bench: unknown option $1" >&2; exit 2 ;;
  esac
done

source scripts/lib/deps.sh
source scripts/lib/postgres.sh
source scripts/lib/redis.sh
source scripts/lib/s3.sh
echo "cloud-bench: building ..."
dotnet build Actors.sln -c Release -nologo -v q >/dev/null
echo "cloud-bench: starting PostgreSQL, Redis and the S3 server on loopback ..."
pg::start >/dev/null
redis::start >/dev/null
s3::start "$root" >/dev/null
trap 'pg::stop >/dev/null 2>&1 || true; redis::stop >/dev/null 2>&1 || true; s3::stop >/dev/null 2>&1 || true' EXIT
for round in $(seq 1 "$rounds"); do
  echo "cloud-bench: round $round of $rounds (about 3 minutes) ..."
  dotnet test tests/Silo.Tests -c Release --no-build --logger "console;verbosity=detailed" \
    --filter "FullyQualifiedName~CloudCycleTests|FullyQualifiedName~CloudRecoveryTests" 2>&1 \
    | grep -E "rent-to-hot|preemption noticed|control silo restart|Passed!|Failed!|^\s+Failed " || true
done
