#!/usr/bin/env bash
# Sets everything up (idempotent) and runs the whole test suite: unit, engine, pipeline,
# headless app logic, CLI, and the end-to-end run of the real binary under Xvfb.
# Usage: scripts/test.sh [extra cargo test args]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
T0=$SECONDS
bash scripts/setup.sh
echo "==> the face set's pictures from the registries (for the face detector's recall test)"
bash scripts/fetch-face-set.sh
T1=$SECONDS
echo "==> cargo fmt --check"
cargo fmt --check || { echo "formatting differs: run 'cargo fmt'" >&2; exit 1; }
# Clippy lints the project's own crates while they are compiled for the tests (clippy-driver
# as cargo's workspace wrapper, as `cargo clippy` itself runs it): one build instead of a
# build and a check of every dependency (139 s of a 33-minute CI). Dependencies are
# compiled by plain rustc either way, so `cargo build` (run.sh) shares them.
export RUSTC_WORKSPACE_WRAPPER
RUSTC_WORKSPACE_WRAPPER=$(command -v clippy-driver) || {
  echo "clippy-driver is missing: rustup component add clippy" >&2; exit 1; }
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
echo "==> cargo build --tests, linted by clippy -D warnings (dev profile, deps optimised; run.sh uses the same dependencies)"
cargo test --locked --no-run
T2=$SECONDS
echo "==> cargo test"
# --no-fail-fast: one failing group does not hide how the others did.
status=0
cargo test --locked --no-fail-fast "$@" || status=$?
T3=$SECONDS
# The Debian package of the tree just built, installed and run from its installed paths only.
# Skipped when only some tests were asked for (scripts/test.sh NAME).
if [ $# -eq 0 ]; then
  echo "==> the Debian package (scripts/package-test.sh)"
  bash scripts/package-test.sh || status=1
fi
T4=$SECONDS
printf '\ntimings: setup %ss, build and clippy %ss, tests %ss, package %ss, total %ss\n' \
  "$((T1 - T0))" "$((T2 - T1))" "$((T3 - T2))" "$((T4 - T3))" "$((T4 - T0))"
exit $status
