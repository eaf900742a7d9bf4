#!/usr/bin/env bash
# Benchmarks (not part of the tests): the engine against the PyTorch reference doing the
# same math in the same run, then the live pipeline's latency and flicker.
# The reference needs full torch (~2.9 GB download, once, into .venv-bench).
# Usage: scripts/bench.sh [gallery-bench engine options, e.g. --sizes 512 --device cuda --mixed]
# The benchmarks are their own binary (target/release/gallery-bench, beside the product's
# gallery-painter; `gallery-bench --help` lists the others: faces, compare-faces, farm).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh --build release
if ! .venv-bench/bin/python -c "import torch, safetensors; assert torch.__version__.startswith('2.11.0')" 2>/dev/null; then
  echo "==> creating .venv-bench with full torch 2.11.0 for the PyTorch reference"
  rm -rf .venv-bench
  python3 -m venv .venv-bench
  .venv-bench/bin/python -m pip -q install "torch==2.11.0" safetensors numpy
fi
target/release/gallery-bench engine --python .venv-bench/bin/python "$@"
target/release/gallery-bench live
