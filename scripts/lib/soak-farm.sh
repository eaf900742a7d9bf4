#!/usr/bin/env bash
# The museum soak (a benchmark, not a CI test; run by `scripts/soak.sh --farm --hours H`):
# three nats-servers in one cluster, two painters, two kiosks under Xvfb, for H hours, with
# faults on a schedule, as systemd would restart what dies:
#   a painter killed (kill -9) every 5 min, in turn, started again after 3 s;
#   a server killed every 10 min, in turn, started again after 5 s;
#   a kiosk killed every 20 min, in turn, started again after 3 s;
#   kiosk A's camera (the V4L2 test camera) unplugged every 10 min for 10 s.
# Kiosk A mirrors its camera (Live); kiosk B runs the visitor's journey on a synthetic visitor
# with the curator console and take-home links on. Every minute every process's RSS, open
# files and threads go to processes.csv and each kiosk's counters to kiosks.csv; at the end
# it prints growth per hour per process, paintings, visitors, kills and restarts.
#   scripts/soak.sh --farm --hours H [OUT_DIR]        SOAK_FAST=1: faults ten times as often
set -euo pipefail
cd "$(dirname "$0")/../.."
hours=${1:?usage: scripts/soak.sh --farm --hours H [OUT_DIR]}
out=${2:-soak-farm-$(date +%Y%m%d-%H%M)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
[[ -x target/debug/gallery-painter && -f target/debug/libgp_testcam.so ]] || bash scripts/setup.sh --build app
command -v nats-server >/dev/null || bash scripts/setup.sh
# Run a copy, so a rebuild during the soak cannot change the binary under test.
mkdir -p "$out/bin" "$out/pids"
cp target/debug/gallery-painter target/debug/libgp_testcam.so "$out/bin/"
bin=$out/bin/gallery-painter
root=$PWD
total=$(python3 -c "print(int($hours * 3600))")
scale=1
[[ ${SOAK_FAST:-0} == 1 ]] && scale=10
painter_every=$((300 / scale)); server_every=$((600 / scale)); kiosk_every=$((1200 / scale))
unplug_frames=$((9000 / scale))
base=$((14000 + RANDOM % 2000))
urls=""; routes=""
for i in 1 2 3; do urls+="nats://127.0.0.1:$((base + i)),"; routes+="\"nats-route://127.0.0.1:$((base + 10 + i))\", "; done
urls=${urls%,}

pid_of() { cat "$out/pids/$1" 2>/dev/null || echo 0; }
alive() { kill -0 "$(pid_of "$1")" 2>/dev/null; }

start_server() {  # i
  local i=$1 dir=$out/server-$1
  mkdir -p "$dir"
  sed -e "s|@NAME@|farm-$i|" -e "s|@HOST@|127.0.0.1|" -e "s|@CLUSTER_PORT@|$((base + 10 + i))|" \
      -e "s|@ROUTES@|${routes%, }|" -e "s|@ROUTE_TLS@||" config/farm/nats-cluster.conf > "$dir/cluster.conf"
  sed -e "s|@HOST@|127.0.0.1|" -e "s|@PORT@|$((base + i))|" -e "s|@HTTP_PORT@|$((base + 20 + i))|" \
      -e "s|@STORE_DIR@|$dir/store|" -e "s|@SECURITY@||" -e "s|@CLUSTER@|include \"cluster.conf\"|" \
      config/farm/nats-server.conf > "$dir/nats-server.conf"
  nats-server -c "$dir/nats-server.conf" >>"$dir/server.log" 2>&1 &
  echo $! >"$out/pids/server-$i"
  disown $!
}
start_painter() {  # i
  RUST_LOG=info OMP_WAIT_POLICY=PASSIVE "$bin" painter --nats "$urls" --name "painter-$1" --max-size 128 \
    --config "$root/config/installation.ron" >>"$out/painter-$1.log" 2>&1 &
  echo $! >"$out/pids/painter-$1"
  disown $!
}
display_a=:$((60 + RANDOM % 15)); display_b=:$((75 + RANDOM % 15))
start_kiosk() {  # a|b
  local k=$1 display=$display_a
  [[ $k == b ]] && display=$display_b
  if [[ $k == a ]]; then
    # The mirror of the test camera: unplugged every $unplug_frames frames, back after 10 s.
    DISPLAY=$display WGPU_BACKEND=vulkan XDG_RUNTIME_DIR=$out/xdg-a OMP_WAIT_POLICY=PASSIVE \
      "$bin" test-camera --picture scene --sizes 320x240 --fps 15 --unplug-after $unplug_frames --replug-after 10 \
      --unplug-repeat -- "$bin" run --config "$out/kiosk-a.ron" --status-file "$out/status-a.ron" \
      --state-file "$out/state-a.ron" >>"$out/kiosk-a.log" 2>&1 &
  else
    DISPLAY=$display WGPU_BACKEND=vulkan XDG_RUNTIME_DIR=$out/xdg-b OMP_WAIT_POLICY=PASSIVE \
      "$bin" run --config "$out/kiosk-b.ron" --status-file "$out/status-b.ron" --state-file "$out/state-b.ron" \
      >>"$out/kiosk-b.log" 2>&1 &
  fi
  echo $! >"$out/pids/kiosk-$k"
  disown $!
}

mkdir -m 700 -p "$out/xdg-a" "$out/xdg-b" "$out/share" "$out/state-b-dir"
cat >"$out/kiosk-a.ron" <<RON
(
    display: (fullscreen: true, crossfade_ms: 300, attract_after_s: 1000.0),
    source: Camera(index: 0, width: 320, height: 240, fps: 15, mirror: true),
    engine: (threads: 1, policy: Live, snapshot_every: 2, style: (size: 96, iterations: 40, levels: 2),
             remote: (url: "$urls", kiosk: "soak-a", fallback_after_s: 3.0)),
    journey: (enabled: false),
    service: (health_address: Some("127.0.0.1:$((base + 30))")),
)
RON
cat >"$out/kiosk-b.ron" <<RON
(
    display: (fullscreen: true, crossfade_ms: 300, attract_after_s: 1000.0),
    source: Synthetic(seed: 3, fps: 10.0, width: 320, height: 240,
                      visitor: Scripted(away_s: 8.0, still_s: 6.0, stay_s: 40.0),
                      face: Some("assets/faces/hopper.png")),
    engine: (threads: 1, snapshot_every: 2, style: (size: 96, iterations: 40, levels: 1),
             remote: (url: "$urls", kiosk: "soak-b", fallback_after_s: 3.0)),
    journey: (countdown_s: 2.0, side_by_side_s: 2.0, reveal_s: 10.0),
    share: (enabled: true, listen: "127.0.0.1:$((base + 31))", public_url: "http://127.0.0.1:$((base + 31))",
            expire_min: 5.0, folder: Some("$out/share")),
    console: (enabled: true, listen: "127.0.0.1:$((base + 32))", state_dir: "$out/state-b-dir"),
    service: (health_address: Some("127.0.0.1:$((base + 33))")),
)
RON

Xvfb "$display_a" -screen 0 1280x720x24 -nolisten tcp >/dev/null 2>&1 & xvfb_a=$!
Xvfb "$display_b" -screen 0 1280x720x24 -nolisten tcp >/dev/null 2>&1 & xvfb_b=$!
cleanup() {
  for f in "$out"/pids/*; do kill "$(cat "$f")" 2>/dev/null || true; done
  pkill -P $$ 2>/dev/null || true
  kill "$xvfb_a" "$xvfb_b" 2>/dev/null || true
}
trap cleanup EXIT
for i in 1 2 3; do start_server "$i"; done
for attempt in $(seq 30); do
  "$bin" farm-setup --nats "$urls" --replicas 3 --kiosk soak-a --kiosk soak-b >>"$out/setup.log" 2>&1 && break
  [[ $attempt -lt 30 ]] || { cat "$out/setup.log" >&2; echo "soak: farm-setup failed" >&2; exit 1; }
  sleep 1
done
start_painter 1; start_painter 2
start_kiosk a; start_kiosk b
echo "soak: $hours h of the farm, results in $out (servers on $urls)"

echo "minute,process,pid,rss_mb,fds,threads" >"$out/processes.csv"
echo "minute,kiosk,run,paintings_finished,visitors,snapshots,painting_updates,farm" >"$out/kiosks.csv"
: >"$out/events.log"
note() { echo "$(( $(date +%s) - start )) s: $*" | tee -a "$out/events.log"; }
# The app of a kiosk: kiosk A's process is the test camera, which runs the app as its child.
app_pid() { local p; p=$(pid_of "$1"); [[ $1 == kiosk-a ]] && p=$(pgrep -P "$p" -f " run " | head -1 || echo "$p"); echo "${p:-0}"; }
field() { grep -E "^ *$2:" "$out/status-$1.ron" 2>/dev/null | head -1 | sed -E 's/^ *[a-z_]+: *//; s/,$//; s/"//g'; }
declare -A runs=([a]=1 [b]=1)
start=$(date +%s)
next_sample=$start
next_painter=$((start + painter_every)); next_server=$((start + server_every)); next_kiosk=$((start + kiosk_every))
n_painter=0; n_server=0; n_kiosk=0; restarts=0
while (( $(date +%s) - start < total )); do
  now=$(date +%s)
  if (( now >= next_painter )); then
    i=$((n_painter % 2 + 1)); n_painter=$((n_painter + 1)); next_painter=$((now + painter_every))
    kill -9 "$(pid_of painter-$i)" 2>/dev/null || true; note "killed painter-$i"; sleep 3; start_painter "$i"
  fi
  if (( now >= next_server )); then
    i=$((n_server % 3 + 1)); n_server=$((n_server + 1)); next_server=$((now + server_every))
    leader=$(curl -s -m 3 "http://127.0.0.1:$((base + 20 + i))/jsz?streams=true" | python3 -c '
import json, sys
try:
    j = json.load(sys.stdin)
    print(next((d["cluster"]["leader"] for a in j["account_details"] for d in a["stream_detail"] if d["name"] == "GP_JOBS"), "?"))
except Exception:
    print("?")' 2>/dev/null || echo "?")
    kill -9 "$(pid_of server-$i)" 2>/dev/null || true; note "killed farm-$i (GP_JOBS led by $leader)"; sleep 5; start_server "$i"
  fi
  if (( now >= next_kiosk )); then
    k=$([[ $((n_kiosk % 2)) == 0 ]] && echo a || echo b); n_kiosk=$((n_kiosk + 1)); next_kiosk=$((now + kiosk_every))
    kill -9 "$(app_pid kiosk-$k)" "$(pid_of kiosk-$k)" 2>/dev/null || true; note "killed kiosk $k"
    sleep 3; runs[$k]=$((runs[$k] + 1)); start_kiosk "$k"
  fi
  # Anything that died by itself is started again (as systemd would) and counted.
  for i in 1 2 3; do alive server-$i || { note "farm-$i exited by itself; started again"; restarts=$((restarts + 1)); start_server "$i"; }; done
  for i in 1 2; do alive painter-$i || { note "painter-$i exited by itself; started again"; restarts=$((restarts + 1)); start_painter "$i"; }; done
  for k in a b; do alive kiosk-$k || { note "kiosk $k exited by itself; started again"; restarts=$((restarts + 1)); runs[$k]=$((runs[$k] + 1)); start_kiosk "$k"; }; done
  if (( now >= next_sample )); then
    minute=$(( (now - start) / 60 ))
    for p in server-1 server-2 server-3 painter-1 painter-2 kiosk-a kiosk-b; do
      pid=$(app_pid "$p")
      [[ -r /proc/$pid/status ]] || continue
      rss=$(awk '/VmRSS/ {print $2 / 1024}' "/proc/$pid/status" 2>/dev/null || echo 0)
      threads=$(awk '/Threads/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
      fds=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
      echo "$minute,$p,$pid,$rss,$fds,$threads" >>"$out/processes.csv"
    done
    for k in a b; do
      echo "$minute,$k,${runs[$k]},$(field "$k" paintings_finished),$(field "$k" visitors),$(field "$k" snapshots),$(field "$k" painting_updates),\"$(field "$k" farm | cut -c1-60)\"" >>"$out/kiosks.csv"
    done
    next_sample=$((next_sample + 60))
  fi
  sleep 2
done
echo "kills: painters $n_painter, servers $n_server, kiosks $n_kiosk; exits by themselves: $restarts" >"$out/kills.txt"
python3 - "$out" "$hours" <<'PY'
import csv, sys, collections
out, hours = sys.argv[1], float(sys.argv[2])
rows = list(csv.DictReader(open(f"{out}/processes.csv")))
# One segment per process instance (a pid): a restarted process starts anew. Growth per
# hour is the least-squares slope within each segment after its first 5 minutes, averaged
# over the segments weighted by their length.
segments = collections.defaultdict(list)
for r in rows:
    segments[(r["process"], r["pid"])].append((int(r["minute"]), float(r["rss_mb"] or 0), int(r["fds"] or 0), int(r["threads"] or 0)))
def slope(points):
    n = len(points)
    if n < 3:
        return None
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    den = sum((p[0] - mx) ** 2 for p in points)
    return None if den == 0 else sum((p[0] - mx) * (p[1] - my) for p in points) / den
print(f"{'process':<10} {'instances':>9} {'minutes':>7} {'RSS MB (last)':>13} {'RSS MB/h':>9} {'fds/h':>7} {'threads/h':>9} {'fds (max)':>9} {'threads (max)':>13}")
by_process = collections.defaultdict(list)
for (proc, pid), pts in segments.items():
    by_process[proc].append(sorted(pts))
for proc in sorted(by_process):
    segs = by_process[proc]
    growth = []
    for pts in segs:
        start = pts[0][0]
        warm = [p for p in pts if p[0] - start >= 5]
        s = [slope([(p[0], p[k]) for p in warm]) for k in (1, 2, 3)]
        if s[0] is not None:
            growth.append((len(warm), s))
    weight = sum(w for w, _ in growth)
    per_hour = [sum(w * s[k] for w, s in growth) / weight * 60 if weight else float("nan") for k in range(3)]
    last = segs[-1][-1]
    minutes = sum(len(p) for p in segs)
    print(f"{proc:<10} {len(segs):>9} {minutes:>7} {last[1]:>13.0f} {per_hour[0]:>9.1f} {per_hour[1]:>7.2f} {per_hour[2]:>9.2f} "
          f"{max(p[2] for s in segs for p in s):>9} {max(p[3] for s in segs for p in s):>13}")
kiosks = list(csv.DictReader(open(f"{out}/kiosks.csv")))
for k in ("a", "b"):
    last_of_run = {}
    for r in kiosks:
        if r["kiosk"] == k:
            last_of_run[r["run"]] = r
    num = lambda r, f: int(r[f]) if r[f].strip().isdigit() else 0
    paintings = sum(num(r, "paintings_finished") for r in last_of_run.values())
    visitors = sum(num(r, "visitors") for r in last_of_run.values())
    updates = sum(num(r, "painting_updates") for r in last_of_run.values())
    print(f"kiosk {k}: {len(last_of_run)} runs, paintings finished {paintings}, visitors {visitors}, painting updates on screen {updates}")
print(open(f"{out}/kills.txt").read().strip())
events = open(f"{out}/events.log").read()
print(f"events: {events.count('killed')} kills logged (events.log)")
PY
