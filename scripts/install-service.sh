#!/usr/bin/env bash
# Installs Gallery Painter as a systemd user service of the current (kiosk) user, started
# with the graphical session, restarted on failure and by the watchdog. Idempotent.
#   scripts/install-service.sh              build, install, enable (starts with the next session)
#   scripts/install-service.sh --now        ... and start it now
#   scripts/install-service.sh --uninstall  stop, disable and remove it
#   scripts/install-service.sh --print      print the unit it would install, change nothing
#   --no-build                              install without building (the binary exists)
# UNIT_DIR overrides where the unit goes (default ~/.config/systemd/user).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
unit_dir=${UNIT_DIR:-${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user}
unit=gallery-painter.service
bin=$root/target/debug/gallery-painter
action=install
now=false
build=true
for arg in "$@"; do
  case $arg in
    --no-build) build=false ;;
    --uninstall) action=uninstall ;;
    --print) action=print ;;
    --now) now=true ;;
    *) echo "install-service: unknown option $arg (use --now, --uninstall, --print or --no-build)" >&2; exit 2 ;;
  esac
done

# Quoting for unit files (exec_path, exec_arg, file_url) and the path check.
source scripts/lib/systemd-quote.sh
check_root_path "$root" install-service
render() {
  local text bin_arg config_arg root_path doc_url
  text=$(<"config/systemd/$unit")
  bin_arg=$(exec_path "$bin")
  config_arg=$(exec_arg "$root/config/installation.ron")
  root_path=${root//%/%%}
  doc_url=$(file_url "$root/docs/kiosk.md")
  # Quoted replacements: & and \ in a path stay literal (bash 5.2 patsub_replacement).
  text=${text//@BIN_ARG@/"$bin_arg"}
  text=${text//@CONFIG_ARG@/"$config_arg"}
  text=${text//@ROOT_PATH@/"$root_path"}
  text=${text//@DOC_URL@/"$doc_url"}
  printf '%s\n' "$text"
}

# systemctl --user needs the user's manager (a logged-in session, or lingering).
have_user_manager() {
  command -v systemctl >/dev/null && systemctl --user show-environment >/dev/null 2>&1
}

case $action in
  print)
    render
    ;;
  uninstall)
    if have_user_manager; then
      systemctl --user disable --now $unit 2>/dev/null || true
    fi
    rm -f "$unit_dir/$unit" "$unit_dir/graphical-session.target.wants/$unit"
    if have_user_manager; then systemctl --user daemon-reload; fi
    echo "install-service: removed $unit_dir/$unit"
    ;;
  install)
    if $build; then bash scripts/setup.sh --build app; fi
    [[ -x $bin ]] || { echo "install-service: $bin is missing; run without --no-build" >&2; exit 1; }
    mkdir -p "$unit_dir"
    new=$(render)
    if [[ -f $unit_dir/$unit && "$(cat "$unit_dir/$unit")" == "$new" ]]; then
      echo "install-service: $unit_dir/$unit is up to date"
    else
      # Checked before it is put in place: a unit that would not start is never installed.
      staging=$(mktemp -d)
      trap 'rm -rf "$staging"' EXIT
      printf '%s\n' "$new" > "$staging/$unit"
      if command -v systemd-analyze >/dev/null && ! systemd-analyze verify "$staging/$unit"; then
        echo "install-service: the unit for $root does not pass systemd-analyze verify (above); nothing was installed" >&2
        exit 1
      fi
      mv "$staging/$unit" "$unit_dir/$unit.tmp"
      mv "$unit_dir/$unit.tmp" "$unit_dir/$unit"
      echo "install-service: wrote $unit_dir/$unit"
    fi
    if have_user_manager; then
      systemctl --user daemon-reload
      systemctl --user enable $unit
      if $now; then systemctl --user restart $unit; fi
      echo "install-service: enabled; status: systemctl --user status gallery-painter; logs: journalctl --user -u gallery-painter -f"
    else
      # No user manager running (installing over ssh before the first autologin): enable it
      # the way systemctl would, with the symlink; it starts with the next graphical session.
      mkdir -p "$unit_dir/graphical-session.target.wants"
      ln -sfn "../$unit" "$unit_dir/graphical-session.target.wants/$unit"
      echo "install-service: enabled for the next graphical session (no user manager is running now)"
    fi
    ;;
esac
