#!/usr/bin/env bash
# Soak test (a benchmark, not a CI test): the real app for HOURS under Xvfb, reading the
# test camera (the real camera code) at a small painting size in Live mode, with faults on a
# schedule: a worker panic every 10 min, the camera unplugged for 10 s every 15 min, a broken
# scene edit every 20 min (fixed a minute later). Samples RSS, open fds, display fps, engine
# iterations/s and health every minute, and the painting's update count every 2 s (to find
# the longest time the screen stood still). If the app dies it is started again, as systemd
# would, and that is counted.
#   scripts/soak.sh HOURS [OUT_DIR]      e.g. scripts/soak.sh 2 soak-results
#   scripts/soak.sh --farm --hours H [OUT_DIR]   the museum: three servers, two painters, two
#                                         kiosks, faults on a schedule (scripts/lib/soak-farm.sh)
# SOAK_FAST=1 makes every fault ten times as frequent (a dry run of the script itself).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ${1:-} == --farm ]]; then
  shift
  [[ ${1:-} == --hours ]] && shift
  exec bash scripts/lib/soak-farm.sh "$@"
fi
hours=${1:?usage: scripts/soak.sh HOURS [OUT_DIR]}
out=${2:-soak-$(date +%Y%m%d-%H%M)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
[[ -x target/debug/gallery-painter && -f target/debug/libgp_testcam.so ]] || bash scripts/setup.sh --build app
# Run a copy, so a rebuild during the soak cannot change the binary under test.
mkdir -p "$out/bin"
cp target/debug/gallery-painter target/debug/libgp_testcam.so "$out/bin/"
bin=$out/bin/gallery-painter
total=$(python3 -c "print(int($hours * 3600))")
scale=1
[[ ${SOAK_FAST:-0} == 1 ]] && scale=10
panic_every=$((600 / scale)); unplug_frames=$((13500 / scale)); edit_every=$((1200 / scale))
port=$((9200 + RANDOM % 500))

# The scene the soak edits: a copy of the default one.
cp scenes/default.ron "$out/scene.ron"
cp "$out/scene.ron" "$out/scene.good"
cat > "$out/installation.ron" <<RON
(
    scene: "$out/scene.ron",
    display: (fullscreen: true, crossfade_ms: 300, attract_after_s: 1000.0),
    source: Camera(index: 0, width: 320, height: 240, fps: 15, mirror: true),
    engine: (threads: 1, policy: Live, snapshot_every: 2, style: (size: 96, iterations: 40, levels: 2)),
    journey: (enabled: false),
    service: (health_address: Some("127.0.0.1:$port")),
)
RON
# Worker panics every 10 minutes, for the whole run.
faults=$(python3 -c "print(','.join(f'worker-panic@{t}' for t in range($panic_every, $total, $panic_every)))")

display=:$((60 + RANDOM % 30))
Xvfb $display -screen 0 1280x720x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
mkdir -m 700 -p "$out/xdg"
app=
cleanup() { [[ -n $app ]] && kill "$app" 2>/dev/null; kill $xvfb 2>/dev/null || true; }
trap cleanup EXIT
sleep 1

start_app() {
  # 15 fps: unplugged every 13500 frames (15 min), back after 10 s.
  DISPLAY=$display WGPU_BACKEND=vulkan XDG_RUNTIME_DIR=$out/xdg OMP_WAIT_POLICY=PASSIVE \
    GALLERY_PAINTER_FAULTS=$faults \
    $bin test-camera --picture scene --sizes 320x240 --fps 15 --unplug-after $unplug_frames --replug-after 10 --unplug-repeat -- \
    $bin run --config "$out/installation.ron" --status-file "$out/status.ron" --state-file "$out/state.ron" \
    >>"$out/app.log" 2>&1 &
  app=$!
}
start_app
echo "soak: $hours h, results in $out (app pid $app, health on 127.0.0.1:$port)"

field() { grep -E "^ *$1:" "$out/status.ron" 2>/dev/null | head -1 | sed -E 's/^ *[a-z_]+: *//; s/,$//; s/"//g'; }
echo "minute,rss_mb,fds,display_fps,iterations_per_s,painting_updates,worker_restarts,camera_state,health" >"$out/samples.csv"
echo "t_s,painting_updates" >"$out/updates.csv"
app_restarts=0
start=$(date +%s)
next_sample=$start
next_edit=$((start + edit_every))
fix_edit=0
while (( $(date +%s) - start < total )); do
  now=$(date +%s)
  if ! kill -0 "$app" 2>/dev/null; then
    app_restarts=$((app_restarts + 1))
    echo "soak: the app exited at $((now - start)) s; starting it again ($app_restarts)" | tee -a "$out/app.log"
    sleep 5
    start_app
  fi
  if (( now >= next_edit )); then
    echo "soak: broken scene edit at $((now - start)) s" >>"$out/app.log"
    sed 's/entries:/entries: [oops/' "$out/scene.good" >"$out/scene.ron"
    fix_edit=$((now + 60))
    next_edit=$((now + edit_every))
  fi
  if (( fix_edit > 0 && now >= fix_edit )); then
    cp "$out/scene.good" "$out/scene.ron"
    touch "$out/scene.ron"
    fix_edit=0
  fi
  echo "$((now - start)),$(field painting_updates)" >>"$out/updates.csv"
  if (( now >= next_sample )); then
    rss=$(awk '/VmRSS/ {print $2 / 1024}' /proc/$app/status 2>/dev/null || echo 0)
    fds=$(ls /proc/$app/fd 2>/dev/null | wc -l)
    health=$(curl -s -m 3 "http://127.0.0.1:$port/health" | tr ',' ';' || true)
    echo "$(( (now - start) / 60 )),$rss,$fds,$(field display_fps),$(field iterations_per_second),$(field painting_updates),$(field worker_restarts),$(field capture_state | cut -c1-20),${health:-no answer}" >>"$out/samples.csv"
    next_sample=$((next_sample + 60))
  fi
  sleep 2
done
echo "app_restarts=$app_restarts" >"$out/restarts.txt"
python3 - "$out" <<'PY'
import csv, sys, statistics
out = sys.argv[1]
rows = list(csv.DictReader(open(f"{out}/samples.csv")))
rss = [float(r["rss_mb"]) for r in rows if float(r["rss_mb"] or 0) > 0]
warm = max(1, min(10, len(rss) // 4))
first = statistics.median(rss[warm:warm + 10]) if len(rss) > warm else float("nan")
last = statistics.median(rss[-10:])
fds = [int(r["fds"]) for r in rows if r["fds"]]
ups = [(int(t), int(u or 0)) for t, u in (l.strip().split(",") for l in open(f"{out}/updates.csv").readlines()[1:]) if u.strip().isdigit()]
gap, since = 0, ups[0][0] if ups else 0
for (t0, u0), (t1, u1) in zip(ups, ups[1:]):
    if u1 != u0 or u1 < u0:
        gap = max(gap, t1 - since)
        since = t1
unhealthy = [r for r in rows if not r["health"].startswith("ok")]
log = open(f"{out}/app.log", errors="replace").read()
print(f"samples: {len(rows)} minutes")
print(f"rss: {first:.0f} MB after warm-up -> {last:.0f} MB at the end ({(last / first - 1) * 100:+.1f} %)")
print(f"fds: min {min(fds)} max {max(fds)}")
print(f"display fps median {statistics.median(float(r['display_fps'] or 0) for r in rows):.1f}, "
      f"engine it/s median {statistics.median(float(r['iterations_per_s'] or 0) for r in rows):.2f}")
print(f"faults: worker panics injected {log.count('injected fault: WorkerPanic')}, worker restarts {log.count('worker crashed')}, "
      f"camera failures {log.count('reopening in')}, camera back {log.count('is back')}, "
      f"scene edits rejected {log.count('scene edit rejected')}, reloaded {log.count('reloaded:')}")
print(f"unhealthy minutes: {len(unhealthy)} ({', '.join(r['health'][:60] for r in unhealthy[:5])})")
print(f"longest time without a new snapshot on screen: {gap} s (sampled every 2 s; includes a painting finished and held)")
print(open(f"{out}/restarts.txt").read().strip())
PY
