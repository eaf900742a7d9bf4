#!/usr/bin/env bash
# GPU check, run on a CUDA machine that has torch 2.11.0 preinstalled (no registry needed):
# the engine-only binary built here (cargo build --release --no-default-features) is carried
# to gpu/gallery-painter. Prints the CUDA benchmark against PyTorch, the live latency, and
# writes a 512 px painting to $OUT.
set -uo pipefail
TORCH_PY=${TORCH_PY:-/opt/torch/.venv/bin/python}
TORCH_LIB=$($TORCH_PY -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
export LD_LIBRARY_PATH="$TORCH_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export GALLERY_ROOT="$PWD"
B=gpu/gallery-painter
OUT=${OUT:-/tmp}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
$B stylize --device cuda --content gpu/content.jpg --style assets/styles/swirling_night.png \
  --size 512 --iters 100 --levels 2 --out "$OUT/gpu_painting.png" 2>&1 | tail -2
$B bench --python "$TORCH_PY" --device cuda --sizes 512 --archs vgg19,vgg16 --iters 100 --mixed
$B bench-live --device cuda --sizes 256,512 --frames 5
