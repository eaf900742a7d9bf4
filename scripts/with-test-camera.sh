#!/usr/bin/env bash
# Runs a command with a V4L2 test camera present, no camera needed:
#   scripts/with-test-camera.sh [options] -- COMMAND...
# e.g.
#   scripts/with-test-camera.sh --formats yuyv -- target/debug/gallery-painter list-cameras
#   scripts/with-test-camera.sh --picture scene --unplug-after 300 --replug-after 5 -- scripts/run.sh
# Options (see `gallery-painter test-camera --help`): --name, --index, --formats yuyv|mjpeg|both,
# --sizes 640x480,320x240, --fps 30,15, --picture chart|scene|FILE, --unplug-after N,
# --replug-after S, --corrupt-every K, --stall-after N --stall-s S, --busy-opens K, --trace.
# The camera is testcam/v4l2_testcam.c, built with the project and loaded with LD_PRELOAD.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/debug/gallery-painter
if [[ ! -x $bin || ! -f target/debug/libgp_testcam.so ]]; then
  bash scripts/setup.sh --build app >&2
fi
exec "$bin" test-camera "$@"
