#!/usr/bin/env bash
# Sets everything up (idempotent) and runs the whole test suite: unit, engine, pipeline,
# headless app logic, CLI, and the end-to-end run of the real binary under Xvfb.
# Usage: scripts/test.sh [extra cargo test args]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
T0=$SECONDS
bash scripts/setup.sh
T1=$SECONDS
echo "==> cargo fmt --check"
cargo fmt --check || { echo "formatting differs: run 'cargo fmt'" >&2; exit 1; }
echo "==> cargo build --tests (dev profile, deps optimised; run.sh uses the same build)"
cargo test --locked --no-run
T2=$SECONDS
echo "==> cargo clippy --all-targets -- -D warnings"
cargo clippy --locked --all-targets -- -D warnings
T3=$SECONDS
echo "==> cargo test"
cargo test --locked "$@"
T4=$SECONDS
printf '\ntimings: setup %ss, build %ss, clippy %ss, tests %ss, total %ss\n' \
  "$((T1 - T0))" "$((T2 - T1))" "$((T3 - T2))" "$((T4 - T3))" "$((T4 - T0))"
