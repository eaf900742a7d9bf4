#!/usr/bin/env bash
# A painter farm on this one machine, to see it work: a nats-server with the project's
# config (config/farm/nats-server.conf), two painters, and one kiosk on the demo source
# that paints through them (under a virtual display when there is no screen). Ctrl-C or
# closing the kiosk stops them all.
# Usage: scripts/farm.sh [gallery-painter run options, e.g. --windowed]
#   FARM_PORT (default 4222) and FARM_PAINTERS (default 2) change the port and the count.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh --build app
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
BIN=target/debug/gallery-painter
PORT="${FARM_PORT:-4222}"
PAINTERS="${FARM_PAINTERS:-2}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gallery-farm.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "farm: port $PORT is taken (another nats-server?)" >&2
  echo "  fix: FARM_PORT=4223 scripts/farm.sh, or stop it: sudo systemctl stop nats-server" >&2
  exit 1
fi
sed -e "s|@HOST@|127.0.0.1|" -e "s|@PORT@|$PORT|" -e "s|@HTTP_PORT@|-1|" -e "s|@STORE_DIR@|$WORK/store|" -e "s|@SECURITY@||" \
  config/farm/nats-server.conf > "$WORK/nats-server.conf"
nats-server -c "$WORK/nats-server.conf" 2> "$WORK/nats-server.log" & PIDS+=($!)
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  sleep 0.2
done
(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || { cat "$WORK/nats-server.log" >&2; echo "farm: nats-server did not start" >&2; exit 1; }
echo "farm: nats-server on nats://127.0.0.1:$PORT (log: $WORK/nats-server.log)"

# The setup role makes the streams and buckets (kiosks and painters may not).
"$BIN" farm-setup --nats "nats://127.0.0.1:$PORT" --kiosk demo-kiosk

for i in $(seq "$PAINTERS"); do
  "$BIN" painter --nats "nats://127.0.0.1:$PORT" --name "painter-$i" 2> >(sed "s/^/[painter-$i] /" >&2) & PIDS+=($!)
done

source scripts/lib/virtual-display.sh
virtual_display 78 farm
echo "farm: $PAINTERS painters and one kiosk; F12 on the kiosk shows where each painting is made"
"$BIN" run --demo --farm "nats://127.0.0.1:$PORT" --kiosk demo-kiosk "$@"
