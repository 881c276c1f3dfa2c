#!/usr/bin/env bash
# CT volume end to end: a 256×256×128 phantom (int16, gzipped) through the engine called directly
# (the baseline, in the bench process) and through the API of an embedded silo started here,
# interleaved; prints slices/s each, the ratio API / direct, and peak memory of both processes.
#   bench/volume-bench.sh [--device cpu|cuda] [--threads N] [--rounds N]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/lib/deps.sh
deps::inference
deps::bridge "$root"
device=cpu; threads=0; rounds=2
while (($#)); do
  case "$1" in
    --device) device="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    *) echo "volume-bench: unknown option $1" >&2; exit 2 ;;
  esac
done

echo "volume-bench: building the silo and the bench ..."
dotnet build Silo -c Release -nologo -v q >/dev/null
dotnet build bench/Inference.Bench -c Release -nologo -v q >/dev/null
work="$(mktemp -d)"
silo_pid=""
trap '[[ -n "$silo_pid" ]] && kill "$silo_pid" 2>/dev/null; rm -rf "$work"' EXIT
bench=(dotnet bench/Inference.Bench/bin/Release/net10.0/Actors.Inference.Bench.dll --models "$root/models" --device "$device" --threads "$threads")
export TORCHBRIDGE_PATH="$root/build/native/libtorchbridge.so"
"${bench[@]}" --write-volume "$work/phantom.nii.gz"

port=5391
while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
echo "volume-bench: starting an embedded silo on 127.0.0.1:$port ..."
dotnet Silo/bin/Release/net10.0/Actors.Silo.dll --urls "http://127.0.0.1:$port" --Cluster:DataPath="$work/data" \
  --Api:ModelsPath="$root/models" --Inference:Device="$device" --Inference:Threads="$threads" \
  --Logging:LogLevel:Default=Warning >"$work/silo.log" 2>&1 &
silo_pid=$!
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 1; done
curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null || { echo "volume-bench: the silo did not get ready"; tail -20 "$work/silo.log"; exit 1; }

"${bench[@]}" --volume "$work/phantom.nii.gz" --api "http://127.0.0.1:$port" --key "$(cat "$work/data/demo-api-key")" --rounds "$rounds"
echo "  peak memory of the silo (API path): $(awk '/VmHWM/ { printf "%.0f MiB", $2 / 1024 }' "/proc/$silo_pid/status")"
