#!/usr/bin/env bash
# A painter farm on this one machine, to see it work: a nats-server with the project's
# config (config/farm/nats-server.conf), or a cluster of three (--servers 3, with
# config/farm/nats-cluster.conf), two painters, and one kiosk on the demo source that paints
# through them (under a virtual display when there is no screen). Ctrl-C or closing the
# kiosk stops them all.
# Usage: scripts/farm.sh [--servers 1|3] [gallery-painter run options, e.g. --windowed]
#   FARM_PORT (default 4222; a cluster uses the next ones too) and FARM_PAINTERS (default 2)
#   change the port and the count.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SERVERS=1
if [ "${1:-}" = --servers ]; then
  SERVERS=${2:?--servers needs a count}; shift 2
fi
case $SERVERS in 1|3|5) ;; *) echo "farm: --servers $SERVERS: a JetStream cluster has 1, 3 or 5 servers" >&2; exit 2 ;; esac
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

taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
URLS=""
ROUTES=""
for i in $(seq "$SERVERS"); do
  ROUTES+="\"nats-route://127.0.0.1:$((PORT + 1000 + i))\", "
done
for i in $(seq "$SERVERS"); do
  port=$((PORT + i - 1))
  if taken "$port"; then
    echo "farm: port $port is taken (another nats-server?)" >&2
    echo "  fix: FARM_PORT=4300 scripts/farm.sh, or stop it: sudo systemctl stop nats-server" >&2
    exit 1
  fi
  dir="$WORK/server-$i"; mkdir -p "$dir"
  cluster=""
  if [ "$SERVERS" -gt 1 ]; then
    sed -e "s|@NAME@|farm-$i|" -e "s|@HOST@|127.0.0.1|" -e "s|@CLUSTER_PORT@|$((PORT + 1000 + i))|" \
        -e "s|@ROUTES@|${ROUTES%, }|" -e "s|@ROUTE_TLS@||" config/farm/nats-cluster.conf > "$dir/cluster.conf"
    cluster='include "cluster.conf"'
  fi
  sed -e "s|@HOST@|127.0.0.1|" -e "s|@PORT@|$port|" -e "s|@HTTP_PORT@|-1|" -e "s|@STORE_DIR@|$dir/store|" \
      -e "s|@SECURITY@||" -e "s|@CLUSTER@|$cluster|" config/farm/nats-server.conf > "$dir/nats-server.conf"
  nats-server -c "$dir/nats-server.conf" 2> "$dir/nats-server.log" & PIDS+=($!)
  URLS+="nats://127.0.0.1:$port,"
done
URLS=${URLS%,}
for i in $(seq "$SERVERS"); do
  port=$((PORT + i - 1))
  for _ in $(seq 50); do taken "$port" && break; sleep 0.2; done
  taken "$port" || { cat "$WORK/server-$i/nats-server.log" >&2; echo "farm: nats-server $i did not start" >&2; exit 1; }
done
echo "farm: $SERVERS nats-server(s) on $URLS (logs: $WORK/server-*/nats-server.log)"

# The setup role makes the streams and buckets (kiosks and painters may not); a cluster
# needs a moment to elect its leader first.
for attempt in $(seq 20); do
  "$BIN" farm-setup --nats "$URLS" --replicas "$SERVERS" --kiosk demo-kiosk && break
  [ "$attempt" -lt 20 ] || { echo "farm: farm-setup failed" >&2; exit 1; }
  sleep 1
done

for i in $(seq "$PAINTERS"); do
  "$BIN" painter --nats "$URLS" --name "painter-$i" 2> >(sed "s/^/[painter-$i] /" >&2) & PIDS+=($!)
done

source scripts/lib/virtual-display.sh
virtual_display 78 farm
echo "farm: $PAINTERS painters and one kiosk; F12 on the kiosk shows where each painting is made"
"$BIN" run --demo --farm "$URLS" --kiosk demo-kiosk "$@"
