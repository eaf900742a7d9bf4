#!/usr/bin/env bash
# Stages, here, what scripts/gpu_check.sh runs on a lent GPU machine (no registry there, so
# nothing is built there): the engine-only release binary built with `--features cuda` as
# scripts/setup.sh builds it on a GPU machine (linked against .venv-bench's full torch wheel,
# which has the CUDA libraries), and the CUDA shim, both stripped, into gpu/ (git-ignored),
# with Debian's nats-server (installed by setup.sh) in gpu/bin for the farm sections.
# Then: device run with carry ["gpu"] and command `bash scripts/gpu_check.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --build none
if ! .venv-bench/bin/python -c "import torch; assert torch.__version__.startswith('2.11.0')" 2>/dev/null; then
  echo "==> creating .venv-bench with full torch 2.11.0 (the CUDA libraries the link needs)"
  rm -rf .venv-bench && python3 -m venv .venv-bench
  .venv-bench/bin/python -m pip -q install "torch==2.11.0" safetensors numpy
fi
TORCH_FULL=$(ls -d "$PWD"/.venv-bench/lib/python3*/site-packages/torch | head -1)
# Its own target dir: another LIBTORCH recompiles torch-sys, which would undo target/release.
CARGO_TARGET_DIR=target/gpu LIBTORCH="$TORCH_FULL" \
  cargo build --release --locked --no-default-features --features cuda
cargo build --locked  # the shim, from the project venv's headers (same torch 2.11.0)
mkdir -p gpu
strip -o gpu/gallery-painter target/gpu/release/gallery-painter
strip -o gpu/gallery-bench target/gpu/release/gallery-bench
strip -o gpu/libgp_cuda.so target/debug/libgp_cuda.so
mkdir -p gpu/bin
cp "$(command -v nats-server)" gpu/bin/nats-server
du -sh gpu/*
