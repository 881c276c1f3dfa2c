#!/usr/bin/env bash
# The GPU check, one prepared run on a machine that has PyTorch (CUDA) but no .NET
# (docs/benchmarks.md): about 9 minutes ($GPU_RUN_SECONDS, 540), everything to $OUT (or /tmp/gpu-out).
#   1. build the bridge and the raw baseline against that PyTorch's libtorch (CUDA);
#   2. run the engine's test suite on cuda (a self-contained publish in .device/app.tar.xz);
#   3. the side-by-side table at fp32: PyTorch eager, torch.compile, ours (CUDA graphs where the
#      bridge has them) direct and batcher;
#   4. retrain the diffusion demo on the GPU (weights to $OUT/diffusion.npz, judge.npz);
#   5. the same table at bf16 autocast, channels-last, frozen, if time is left.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${OUT:-/tmp/gpu-out}"; mkdir -p "$out"
cd "$root"
started=$SECONDS
left() { echo $(( ${GPU_RUN_SECONDS:-540} - (SECONDS - started) )); }
tar -xJf .device/app.tar.xz -C /tmp
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"
torch_dir="${TORCH_DIR:-$(python3 -c 'import os, torch; print(os.path.dirname(torch.__file__))')}"
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())' | tee -a "$out/gpu.txt"

tb=/tmp/tb
# The bridge with CUDA graphs needs the CUDA runtime's headers: a toolkit, or the nvidia-*
# wheels next to torch. If that build fails, the bridge is built without them (build.log says why).
cuda_inc=()
for d in "$torch_dir"/../nvidia/*/include "${CUDA_HOME:-/usr/local/cuda}/include"; do [[ -d "$d" ]] && cuda_inc+=(-I"$d"); done
abi="$(python3 -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')"
flags=(-O2 -std=c++17 -fPIC -D_GLIBCXX_USE_CXX11_ABI="$abi" -I"$torch_dir/include" -I"$torch_dir/include/torch/csrc/api/include")
libs=(-L"$torch_dir/lib" -Wl,--no-as-needed -ltorch -ltorch_cpu -lc10 -Wl,-rpath,"$torch_dir/lib")
[[ -e "$torch_dir/lib/libtorch_cuda.so" ]] && libs+=(-ltorch_cuda -lc10_cuda)
features() { python3 -c "import ctypes; f = ctypes.CDLL('$tb/libtorchbridge.so').tb_bridge_features; f.restype = ctypes.c_char_p; print(f().decode() or 'none')" 2>/dev/null; }
if ! TORCH_DIR="$torch_dir" TORCHBRIDGE_BUILD_DIR="$tb" scripts/build-bridge >"$out/build.log" 2>&1 || [[ "$(features)" != *cuda-graphs* ]]; then
  echo "cmake build failed or has no CUDA graphs (see build.log); building with g++ directly"
  mkdir -p "$tb"
  if ! g++ "${flags[@]}" -DTB_WITH_CUDA "${cuda_inc[@]}" -shared native/torchbridge/torchbridge.cpp "${libs[@]}" \
      -o "$tb/libtorchbridge.so" >>"$out/build.log" 2>&1; then
    echo "the bridge with CUDA graphs did not build (build.log); building it without them"
    g++ "${flags[@]}" -shared native/torchbridge/torchbridge.cpp "${libs[@]}" -o "$tb/libtorchbridge.so" >>"$out/build.log" 2>&1
  fi
  [[ -x "$tb/torchbridge_rawbench" ]] || g++ "${flags[@]}" native/torchbridge/rawbench.cpp "${libs[@]}" -o "$tb/torchbridge_rawbench" >>"$out/build.log" 2>&1
  [[ -x "$tb/tf32_gate_test" ]] || g++ -O2 -std=c++17 -pthread native/torchbridge/tf32_gate_test.cpp -o "$tb/tf32_gate_test" >>"$out/build.log" 2>&1
fi
ls -la "$tb"/libtorchbridge.so "$tb"/torchbridge_rawbench || { tail -40 "$out/build.log"; exit 1; }
echo "bridge features: $(features)" | tee -a "$out/gpu.txt"
graphs=; [[ "$(features)" == *cuda-graphs* ]] && graphs=--cuda-graphs
echo "built in $((SECONDS - started)) s"

export TORCHBRIDGE_PATH="$tb" ACTORS_MODELS_PATH="$root/models" INFERENCE_DEVICE="${INFERENCE_DEVICE:-cuda}"
echo "== engine tests on $INFERENCE_DEVICE"
timeout 100 /tmp/app/Actors.Inference.Tests >"$out/tests-$INFERENCE_DEVICE.log" 2>&1; echo "tests exit code $?"
grep -E "FAIL|Total|Failed|Passed" "$out/tests-$INFERENCE_DEVICE.log" | tail -20

echo "== side by side at fp32 ($(left) s left)"
OUT="$out" PYTHON=python3 BENCH=/tmp/app/Actors.Inference.Bench bench/compare-bench.sh --device "$INFERENCE_DEVICE" \
  --seconds 2 --batches 1,8,64 --diffusion-batches 1,32 --precision fp32 $graphs --python-limit 100 --ours-limit 90 \
  >"$out/compare-fp32.log" 2>&1
tail -12 "$out/compare-fp32.log"
# Ours with graphs gave no rows (a crash in code that has never run on a GPU before): the
# bf16 table goes without them, so that it still has our side.
if [[ -n "$graphs" ]] && ! python3 -c "import json, sys; sys.exit(0 if json.load(open('$out/compare-$INFERENCE_DEVICE-fp32-graphs-ours.json'))['rows'] else 1)" 2>/dev/null; then
  echo "ours with CUDA graphs gave no rows at fp32 (compare-fp32.log): the bf16 run goes without graphs"
  graphs=
fi

echo "== diffusion training on $INFERENCE_DEVICE ($(left) s left)"
# On from the committed weights (108 CPU minutes so far) when this torch reads them, else from scratch.
train=(--only diffusion --device "$INFERENCE_DEVICE" --seconds "${TRAIN_SECONDS:-150}" --batch 256 --pool "${TRAIN_POOL:-24000}"
  --lr 1e-3 --no-export --save-weights "$out")
if python3 -c 'import torch; torch.jit.load("models/diffusion/model.pt"); torch.jit.load("models/diffusion/judge.pt")' \
    >"$out/train.log" 2>&1; then
  train+=(--continue)
else
  echo "this torch does not read the committed diffusion files (train.log): training from scratch"
fi
timeout $(( ${TRAIN_SECONDS:-150} + 90 )) python3 models/export.py "${train[@]}" >>"$out/train.log" 2>&1; echo "training exit code $?"
tail -4 "$out/train.log"

if (( $(left) > 100 )); then
  echo "== side by side at bf16 autocast, channels-last, frozen ($(left) s left)"
  half=$(( ($(left) - 10) / 2 ))
  OUT="$out" PYTHON=python3 BENCH=/tmp/app/Actors.Inference.Bench bench/compare-bench.sh \
    --device "$INFERENCE_DEVICE" --seconds 2 --batches 8,64 --diffusion-batches 32 --precision bf16-autocast --channels-last --freeze $graphs \
    --python-limit "$half" --ours-limit "$half" >"$out/compare-bf16.log" 2>&1
  tail -8 "$out/compare-bf16.log"
fi
echo "done in $((SECONDS - started)) s"
