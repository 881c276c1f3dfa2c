#!/usr/bin/env bash
# Preprocessing cost per image (decode, resize, normalise into the segmentation model's input),
# this tree against an older commit — by default the last one with our own PNG decoder and
# resizer — on the same images (made here with ImageMagick), runs interleaved old/new/old/new.
# Each run prints µs per image and the ratio to raw float32 input measured in the same run.
#   bench/preprocess-bench.sh [BASE_COMMIT] [--seconds 8]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
base="${1:-a45548c^}"
shift || true
source scripts/lib/deps.sh
deps::inference
deps::imagemagick
deps::bridge "$root"
convert=/usr/bin/convert # Debian's, not a stand-in earlier on the PATH
images="$(mktemp -d)"
old="$(mktemp -d)/old"
trap 'git worktree remove --force "$old" >/dev/null 2>&1 || true; rm -rf "$images"' EXIT

echo "preprocess-bench: making the images in $images"
"$convert" -size 1024x1024 -seed 7 plasma:fractal -colorspace Gray -depth 8 "$images/xray-1024-grey8.png"
"$convert" "$images/xray-1024-grey8.png" -depth 16 -define png:bit-depth=16 -define png:color-type=0 "$images/xray-1024-grey16.png"
"$convert" "$images/xray-1024-grey8.png" -quality 92 "$images/xray-1024-grey.jpg"
"$convert" -size 512x512 -seed 8 plasma:fractal -colorspace Gray "PNG24:$images/xray-512-grey-as-rgb.png"

echo "preprocess-bench: building this tree and $base (with this tree's bench files)"
dotnet build bench/Inference.Bench -c Release -nologo -v q >/dev/null
git worktree add --detach "$old" "$base" >/dev/null
cp bench/Inference.Bench/Preprocessing.cs bench/Inference.Bench/BenchSettings.cs bench/Inference.Bench/Program.cs "$old/bench/Inference.Bench/"
dotnet build "$old/bench/Inference.Bench" -c Release -nologo -v q >/dev/null

for round in 1 2; do
  for tree in "$old" "$root"; do
    echo "== round $round: $( [ "$tree" = "$root" ] && echo "this tree ($(git rev-parse --short HEAD))" || echo "base ($(git -C "$old" rev-parse --short HEAD))" )"
    TORCHBRIDGE_PATH="$root/build/native/libtorchbridge.so" dotnet "$tree/bench/Inference.Bench/bin/Release/net10.0/Actors.Inference.Bench.dll" --models "$root/models" --device cpu --threads 1 \
      --preprocess "$images" "$@"
  done
done
