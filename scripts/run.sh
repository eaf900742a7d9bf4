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
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  # No screen attached: run on a virtual one (Xvfb + Mesa's software Vulkan).
  D=:77
  export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"; chmod 700 "$XDG_RUNTIME_DIR"
  Xvfb $D -screen 0 1280x720x24 -nolisten tcp 2>/dev/null & XVFB=$!
  sleep 1
  DISPLAY=$D matchbox-window-manager -use_titlebar no 2>/dev/null & WM=$!
  trap 'kill $WM $XVFB 2>/dev/null' EXIT INT TERM
  export DISPLAY=$D WGPU_BACKEND="${WGPU_BACKEND:-vulkan}"
  echo "no display attached: running on virtual display $D (screenshot: DISPLAY=$D import -window root shot.png)"
fi
# Not exec: the trap above must stop the virtual display when the app exits.
"$BIN" run "$@"
