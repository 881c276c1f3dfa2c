#!/usr/bin/env bash
# The CUDA check, run on a GPU machine that has PyTorch but no .NET (see docs/benchmarks.md):
#   1. build the bridge and the raw baseline against that PyTorch's libtorch (CUDA);
#   2. run the engine's test suite on cuda (a self-contained publish in .device/app.tar.xz);
#   3. run the inference benchmark for each demo model on cuda.
# Results go to $OUT (or /tmp/gpu-out).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${OUT:-/tmp/gpu-out}"; mkdir -p "$out"
cd "$root"
tar -xJf .device/app.tar.xz -C /tmp
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"
torch_dir="$(python3 -c 'import os, torch; print(os.path.dirname(torch.__file__))')"
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())' | tee -a "$out/gpu.txt"

tb=/tmp/tb
if ! TORCH_DIR="$torch_dir" TORCHBRIDGE_BUILD_DIR="$tb" scripts/build-bridge >"$out/build.log" 2>&1; then
  echo "cmake build failed (see build.log); building with g++ directly"
  mkdir -p "$tb"
  flags=(-O2 -std=c++17 -fPIC -D_GLIBCXX_USE_CXX11_ABI=1 -I"$torch_dir/include" -I"$torch_dir/include/torch/csrc/api/include")
  libs=(-L"$torch_dir/lib" -Wl,--no-as-needed -ltorch -ltorch_cpu -ltorch_cuda -lc10 -lc10_cuda -Wl,-rpath,"$torch_dir/lib")
  g++ "${flags[@]}" -shared native/torchbridge/torchbridge.cpp "${libs[@]}" -o "$tb/libtorchbridge.so" >>"$out/build.log" 2>&1
  g++ "${flags[@]}" native/torchbridge/rawbench.cpp "${libs[@]}" -o "$tb/torchbridge_rawbench" >>"$out/build.log" 2>&1
fi
ls -la "$tb"/libtorchbridge.so "$tb"/torchbridge_rawbench || { tail -40 "$out/build.log"; exit 1; }

export TORCHBRIDGE_PATH="$tb" ACTORS_MODELS_PATH="$root/models" INFERENCE_DEVICE="${INFERENCE_DEVICE:-cuda}"
echo "== engine tests on $INFERENCE_DEVICE"
/tmp/app/Actors.Inference.Tests >"$out/tests-$INFERENCE_DEVICE.log" 2>&1; echo "tests exit code $?"
grep -E "FAIL|Total|Failed|Passed" "$out/tests-$INFERENCE_DEVICE.log" | tail -20

# MODEL:BATCH:BATCHES-IN-FLIGHT
for spec in ${BENCH_MODELS:-segmentation:8:2 classification:16:2 classification:16:4 diffusion:16:2}; do
  IFS=: read -r m b c <<<"$spec"
  name="$m-$INFERENCE_DEVICE-c$c"
  echo "== bench $m batch $b on $INFERENCE_DEVICE, $c batches in flight"
  /tmp/app/Actors.Inference.Bench --model "$m" --batch "$b" --device "$INFERENCE_DEVICE" --iterations "${BENCH_ITERATIONS:-300}" \
    --seconds 8 --concurrency 64 --concurrent-batches "$c" --json "$out/bench-$name.json" >"$out/bench-$name.log" 2>&1
  sed -n '/^phase/,/low-load/p' "$out/bench-$name.log"
done
