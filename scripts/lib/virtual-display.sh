# Sourced by run.sh and farm.sh: without a screen attached (a headless server), start a
# virtual X display (Xvfb, Mesa's software Vulkan) with a window manager, so the kiosk's
# borderless fullscreen window gets the whole screen.
# Usage: virtual_display NUMBER WHO; appends the processes it started to the array PIDS.
virtual_display() {
  local d=":$1" who=$2
  if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
    return 0
  fi
  export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"; chmod 700 "$XDG_RUNTIME_DIR"
  Xvfb "$d" -screen 0 1280x720x24 -nolisten tcp 2>/dev/null & PIDS+=($!)
  sleep 1
  DISPLAY=$d matchbox-window-manager -use_titlebar no 2>/dev/null & PIDS+=($!)
  export DISPLAY=$d WGPU_BACKEND="${WGPU_BACKEND:-vulkan}"
  echo "$who: no display attached: running on virtual display $d (screenshot: DISPLAY=$d import -window root shot.png)"
}
