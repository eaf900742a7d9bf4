#!/usr/bin/env bash
# Installs a farm painter as a systemd system service on this (GPU) machine: it starts at
# boot, paints for every kiosk, and is restarted if it fails. Idempotent. Needs root.
#   scripts/install-painter.sh --nats tls://farm.local:4222 --user gpu-1 \
#       --password-file /etc/gallery-painter/farm/passwords/gpu-1 --ca /etc/gallery-painter/farm/ca.pem \
#       --identity /etc/gallery-painter/farm/identities/gpu-1
#   --name NAME      the painter's name on the farm (default: its --user, else the host name)
#   --run-as USER    the account it runs as (default: the owner of this folder)
#   --print          print the unit, change nothing      --uninstall   stop and remove it
#   --no-build       the binary exists already
# UNIT_DIR overrides where the unit goes (default /etc/systemd/system).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
unit=gallery-painter-painter.service
unit_dir=${UNIT_DIR:-/etc/systemd/system}
bin=$root/target/debug/gallery-painter
action=install; build=true; run_as=$(stat -c %U "$root")
painter_args=()
source scripts/lib/systemd-quote.sh
check_root_path "$root" install-painter
while [ $# -gt 0 ]; do
  case $1 in
    --nats|--user|--password-file|--ca|--name|--identity)
      [ $# -ge 2 ] || { echo "install-painter: $1 needs a value" >&2; exit 2; }
      painter_args+=("$1" "$2"); shift 2 ;;
    --run-as) run_as=$2; shift 2 ;;
    --print) action=print; shift ;;
    --uninstall) action=uninstall; shift ;;
    --no-build) build=false; shift ;;
    *) echo "install-painter: unknown option $1 (see the top of this script)" >&2; exit 2 ;;
  esac
done
[[ " ${painter_args[*]-} " == *" --nats "* ]] || [ $action = uninstall ] || {
  echo "install-painter: --nats URL is required" >&2
  echo "  fix: scripts/install-painter.sh --nats tls://farm.local:4222 --user gpu-1 --password-file ... --ca ... --identity ..." >&2
  exit 2
}
if [[ " ${painter_args[*]-} " == *" --user "* && " ${painter_args[*]-} " != *" --identity "* ]] && [ $action != uninstall ]; then
  echo "install-painter: --user needs --identity (the painter paints only jobs its kiosks signed)" >&2
  echo "  fix: add --identity /etc/gallery-painter/farm/identities/NAME (made by scripts/farm-certs.sh --painter NAME)" >&2
  exit 2
fi

render() {
  local text args='' a
  text=$(<"config/systemd/$unit")
  for a in "${painter_args[@]}"; do args+="$(exec_arg "$a") "; done
  text=${text//@BIN_ARG@/"$(exec_path "$bin")"}
  text=${text//@CONFIG_ARG@/"$(exec_arg "$root/config/installation.ron")"}
  text=${text//@PAINTER_ARGS@/"${args% }"}
  text=${text//@ROOT_PATH@/"${root//%/%%}"}
  text=${text//@DOC_URL@/"$(file_url "$root/docs/farm.md")"}
  text=${text//@USER@/"$run_as"}
  printf '%s\n' "$text"
}

running_systemd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null; }

case $action in
  print) render ;;
  uninstall)
    if running_systemd; then systemctl disable --now $unit 2>/dev/null || true; fi
    rm -f "$unit_dir/$unit"
    if running_systemd; then systemctl daemon-reload; fi
    echo "install-painter: removed $unit_dir/$unit" ;;
  install)
    if $build; then bash scripts/setup.sh --build app; fi
    [[ -x $bin ]] || { echo "install-painter: $bin is missing; run without --no-build" >&2; exit 1; }
    staging=$(mktemp -d); trap 'rm -rf "$staging"' EXIT
    render > "$staging/$unit"
    if command -v systemd-analyze >/dev/null && ! systemd-analyze verify "$staging/$unit"; then
      echo "install-painter: the unit does not pass systemd-analyze verify (above); nothing was installed" >&2
      exit 1
    fi
    mkdir -p "$unit_dir"
    install -m 0644 "$staging/$unit" "$unit_dir/$unit"
    echo "install-painter: wrote $unit_dir/$unit"
    if running_systemd; then
      systemctl daemon-reload
      systemctl enable --now $unit
      echo "install-painter: started; logs: journalctl -u gallery-painter-painter -f"
    else
      echo "install-painter: systemd is not running here: enable it later with systemctl enable --now $unit"
    fi ;;
esac
