#!/usr/bin/env bash
# Issue 12's GPU run, in one go on a lent GPU machine (torch 2.11.0 preinstalled, no
# registry, nothing built there). Stage gpu/ here first with scripts/gpu_prepare.sh, then
# run this with gpu/ carried. Every section has its own time limit and writes as it goes, so
# a slow part cannot take the others' results with it. Results: $OUT/*.txt.
#
# Dry run on a CPU (checks the script and every command line, not the numbers):
#   GPU_CHECK_DEVICE=cpu GPU_CHECK_SIZES=64 GPU_CHECK_ITERS=3 GPU_CHECK_GALLERY=96 GPU_CHECK_LIVE=64 \
#   TORCH_PY=.venv-bench/bin/python B=target/debug/gallery-painter bash scripts/gpu_check.sh
set -uo pipefail
export PYTHONUNBUFFERED=1
TORCH_PY=${TORCH_PY:-/opt/torch/.venv/bin/python}
TORCH_LIB=$($TORCH_PY -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
export LD_LIBRARY_PATH="$TORCH_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export GALLERY_ROOT="$PWD"
B=${B:-gpu/gallery-painter}
DEVICE=${GPU_CHECK_DEVICE:-cuda}
SIZES=${GPU_CHECK_SIZES:-512,256}
ITERS=${GPU_CHECK_ITERS:-100}
GALLERY=${GPU_CHECK_GALLERY:-1024 1536}
LIVE=${GPU_CHECK_LIVE:-256 512}
OUT=${OUT:-/tmp/gpu-check}
mkdir -p "$OUT"
W=.cache/bench/vgg19-random.safetensors
section() { echo; echo "== $* ($(date +%T))"; }

section "card"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | tee "$OUT/card.txt"
ldd "$B" | grep -E "torch_cuda|not found" | tee -a "$OUT/card.txt"

section "1. the --features cuda build: GPU, shim and one CUDA graph (also makes the VGG19 weights)"
timeout 120 "$B" bench --device "$DEVICE" --python "$TORCH_PY" --archs vgg19 --sizes 64 --iters 3 --repeats 1 \
  --optimizers adam --variants base,graphs 2>&1 | tee "$OUT/smoke.txt"

section "2. fair benchmark: engine vs PyTorch eager, same settings per variant, VGG19"
timeout 360 "$B" bench --device "$DEVICE" --python "$TORCH_PY" --archs vgg19 --sizes "$SIZES" --iters "$ITERS" \
  --repeats 1 --optimizers adam,lbfgs --variants base,no-benchmark,tf32,nhwc,bf16,nhwc+bf16,graphs,graphs+nhwc+bf16 \
  --profile /tmp/gpu-profiles 2>&1 | tee "$OUT/bench.txt"

section "3. profile: kernel time vs gaps per step"
$TORCH_PY scripts/profile_summary.py /tmp/gpu-profiles 2>&1 | tee "$OUT/profile.txt"

section "4. gallery resolution: time to a finished painting (3 levels, 100 L-BFGS iterations each)"
for size in $GALLERY; do
  for levers in "" "--cuda-graphs --channels-last --precision mixed"; do
    start=$(date +%s.%N)
    timeout 120 "$B" stylize --device "$DEVICE" --weights "$W" $levers --content assets/styles/primary_rhythm.png \
      --style assets/styles/swirling_night.png --size "$size" --levels 3 --iters 100 --out "/tmp/gallery-$size.png" 2>&1 \
      | grep -E "engine:|wrote" | sed "s/^/  /"
    echo "size $size [${levers:-base}]: $(python3 -c "print(f'{$(date +%s.%N) - $start:.1f}')") s from start to finished painting"
  done
done 2>&1 | tee "$OUT/gallery.txt"

section "5. Live mirror on the GPU (flicker, follow lag)"
for size in $LIVE; do
  timeout 90 "$B" bench-live --device "$DEVICE" --weights "$W" --mirror-only --mirror-size "$size" 2>&1
done | tee "$OUT/live.txt"
echo "done"
