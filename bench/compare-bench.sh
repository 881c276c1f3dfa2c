#!/usr/bin/env bash
# Side by side on one device, one run: PyTorch eager and torch.compile (bench/torch_baseline.py,
# the demo models' nn.Modules with the weights of their .pt files) against our engine, direct
# and through the batcher (Actors.Inference.Bench --compare), for segmentation, classification
# and diffusion at the same batch sizes and the manifest's precision for the device.
#   bench/compare-bench.sh [--device cpu|cuda] [--seconds S] [--batches 1,8,32] [--diffusion-batches 1,16]
#                          [--steps 25] [--threads N] [--precision P] [--channels-last] [--cuda-graphs] [--freeze]
#                          [--python-limit S] [--ours-limit S]
#   (P: docs/inference.md; --cuda-graphs: our runs replay CUDA graphs, PyTorch's stay eager/compiled;
#   the limits cut a phase off after S seconds (no torch.compile row starts past 2/3 of the Python
#   one); the table is written from what was measured either way, and says what is missing)
# Writes docs/bench-results/compare-<device>.md (or $OUT/compare-<device>.md) and the two JSON files.
# Python: $PYTHON, else /usr/bin/python3 (Debian's torch 1.13 here, which has no torch.compile).
# Ours: $BENCH (a published Actors.Inference.Bench), else built here with dotnet.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
device=cpu seconds=3 batches=1,8,32 dbatches=1,16 steps=25 threads=0 precision= cl= graphs= freeze= tag=
pylimit=0 ourslimit=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --device) device="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --batches) batches="$2"; shift 2 ;;
    --diffusion-batches) dbatches="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --precision) precision="$2"; tag="-$2"; shift 2 ;;
    --channels-last) cl=--channels-last; tag="$tag-cl"; shift ;;
    --cuda-graphs) graphs=--cuda-graphs; tag="$tag-graphs"; shift ;;
    --freeze) freeze=--freeze; tag="$tag-frozen"; shift ;;
    --python-limit) pylimit="$2"; shift 2 ;;
    --ours-limit) ourslimit="$2"; shift 2 ;;
    *) echo "compare-bench: unknown option $1" >&2; exit 2 ;;
  esac
done
out="${OUT:-$root/docs/bench-results}"; mkdir -p "$out"
python="${PYTHON:-/usr/bin/python3}"
if [[ -z "${BENCH:-}" ]]; then
  [[ -f "$root/build/native/libtorchbridge.so" ]] || "$root/scripts/build-bridge"
  dotnet build -c Release "$root/bench/Inference.Bench" -nologo -v q >/dev/null
  BENCH="$root/bench/Inference.Bench/bin/Release/net10.0/Actors.Inference.Bench"
fi
rm -f "$out/compare-$device$tag-python.json" "$out/compare-$device$tag-ours.json"
limited() { local s="$1"; shift; if (( s > 0 )); then timeout "$s" "$@"; else "$@"; fi; }
echo "== [1/3] PyTorch eager and torch.compile on $device"
limited "$pylimit" "$python" "$root/bench/torch_baseline.py" measure --device "$device" --batches "$batches" --diffusion-batches "$dbatches" \
  --steps "$steps" --seconds "$seconds" --threads "$threads" ${precision:+--precision "$precision"} $cl \
  --budget $(( pylimit * 2 / 3 )) --json "$out/compare-$device$tag-python.json" || echo "(Python baselines: exit code $?)"
echo "== [2/3] ours, direct and through the batcher, on $device"
limited "$ourslimit" "$BENCH" --compare --device "$device" --batches "$batches" --diffusion-batches "$dbatches" --steps "$steps" \
  --seconds "$seconds" --threads "$threads" ${precision:+--precision "$precision"} $cl $graphs $freeze --models "$root/models" \
  --json "$out/compare-$device$tag-ours.json" || echo "(ours: exit code $?)"
echo "== [3/3] table"
"$python" "$root/bench/torch_baseline.py" table "$out/compare-$device$tag-python.json" "$out/compare-$device$tag-ours.json" \
  | tee "$out/compare-$device$tag.md"
