#!/usr/bin/env bash
# Sets everything up (idempotent), builds the installation and starts it. The build is the
# dev profile (dependencies at opt-level 2): the same compiled tree as scripts/test.sh, so a
# fresh clone builds once for both. `scripts/setup.sh --build release` makes a release binary.
# Camera if one is found, else the bundled synthetic demo scene. Without a display (a
# headless server) it starts its own virtual X display and says how to look at it.
# Usage: scripts/run.sh [gallery-painter run options, e.g. --windowed, --demo]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh --build app
# libgomp reads this at load time: idle worker threads sleep instead of spinning, so the
# render thread keeps its core.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
BIN=target/debug/gallery-painter
"$BIN" check-config
PIDS=()
source scripts/lib/virtual-display.sh
virtual_display 77 run
trap '[ ${#PIDS[@]} -eq 0 ] || kill "${PIDS[@]}" 2>/dev/null' EXIT INT TERM
# Not exec: the trap above must stop the virtual display when the app exits.
"$BIN" run "$@"
