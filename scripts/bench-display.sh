#!/usr/bin/env bash
# Does the display leave the engine its CPU? Engine iterations/s painting headless (stylize)
# against the same painting with the display running under Xvfb + lavapipe (software
# rendering: every frame drawn costs CPU here), and the display's frame rate meanwhile.
#   scripts/bench-display.sh [SECONDS] [SIZE]     (default 90 s, 256 px)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-90}
size=${2:-256}
bin=target/debug/gallery-painter
[[ -x $bin ]] || bash scripts/setup.sh --build app
export OMP_WAIT_POLICY=PASSIVE
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

iters=$(python3 -c "print(max(20, int($secs * 1.2)))")
echo "headless: stylize at $size px, 1 thread, $iters iterations"
$bin stylize --content assets/styles/ember_field.png --style assets/styles/swirling_night.png \
  --size "$size" --iters "$iters" --levels 1 --threads 1 --out "$work/h.png" 2>&1 | tee "$work/h.log" | grep -E "it/s" | tail -1
headless=$(grep -oE "[0-9.]+ it/s" "$work/h.log" | tail -1 | cut -d' ' -f1)

cat > "$work/cfg.ron" <<RON
(
    display: (fullscreen: true, attract_after_s: 1000.0),
    source: Synthetic(seed: 3, fps: 15.0, width: 640, height: 480),
    engine: (threads: 1, hold_finished_s: 0.5, style: (size: $size, iterations: 100000, levels: 1)),
    journey: (enabled: false),
)
RON
d=:$((70 + RANDOM % 20))
Xvfb $d -screen 0 1280x720x24 -nolisten tcp >/dev/null 2>&1 &
sleep 1
mkdir -m 700 -p "$work/xdg"
DISPLAY=$d WGPU_BACKEND=vulkan XDG_RUNTIME_DIR=$work/xdg $bin run --config "$work/cfg.ron" \
  --status-file "$work/status.ron" >"$work/app.log" 2>&1 &
sleep "$secs"
field() { grep -E "^ *$1:" "$work/status.ron" | head -1 | sed -E 's/.*: *([0-9.e+-]+).*/\1/'; }
shown=$(field iterations_per_second)
fps=$(field display_fps)
echo "with the display: $shown it/s, display $fps fps"
python3 -c "print(f'ratio (display / headless): {float($shown)/float($headless):.3f}')"
