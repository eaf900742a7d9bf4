#!/usr/bin/env bash
# The Debian package, installed and run from its installed paths only: the source tree (and
# its .venv) hidden under an empty tmpfs in a mount namespace of its own, the working folder
# /, an empty HOME, no environment. Then an upgrade over it keeps the changed config and the
# state; remove keeps the config, purge removes it. Needs root (dpkg); scripts/test.sh runs it
# after the test suite, on the tree it built.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
fail() { printf '\npackage-test FAILED: %s\n' "$*" >&2; exit 1; }
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO true || fail "needs root (or sudo) to install the package"
$SUDO unshare --mount -- true 2>/dev/null || fail "cannot make a mount namespace (unshare --mount) to hide the source tree; run as root on a machine, not in an unprivileged container"
V1=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
V2="$V1+upgrade1"
DEB1=target/package/gallery-painter_${V1}_amd64.deb
DEB2=target/package/gallery-painter_${V2}_amd64.deb
APT=(env DEBIAN_FRONTEND=noninteractive apt-get -y -qq --no-install-recommends
     -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

T0=$SECONDS
bash scripts/package.sh --version "$V1"
bash scripts/package.sh --version "$V2"
T1=$SECONDS
$SUDO "${APT[@]}" purge gallery-painter >/dev/null 2>&1 || true
$SUDO "${APT[@]}" install "./$DEB1" >/dev/null || fail "apt-get install ./$DEB1"
T2=$SECONDS
echo "==> installed $V1 in $((T2 - T1)) s"

# Run the installed binary with nothing of this tree within reach.
HOME_DIR=$(mktemp -d)
OUT_DIR=$(mktemp -d)
trap 'rm -rf "$HOME_DIR" "$OUT_DIR"; kill $(jobs -p) 2>/dev/null || true' EXIT
installed() {
  $SUDO unshare --mount -- bash -c 'mount -t tmpfs tmpfs "$1" && shift && cd / && exec env -i HOME="$0" PATH=/usr/bin:/bin "$@"' \
    "$HOME_DIR" "$ROOT" "$@"
}
if ldd /usr/bin/gallery-painter | grep -q "$ROOT"; then fail "the installed binary loads libraries from $ROOT"; fi
ldd /usr/bin/gallery-painter | grep -q 'lib/gallery-painter/libtorch_cpu.so' || fail "libtorch is not the package's"
installed /usr/bin/gallery-painter --version | grep -q "gallery-painter" || fail "--version"
installed /usr/bin/gallery-painter check-config > "$OUT_DIR/check.txt" 2>&1 || { cat "$OUT_DIR/check.txt"; fail "check-config"; }
echo "==> check-config: $(tail -1 "$OUT_DIR/check.txt")"
installed /usr/bin/gallery-painter stylize --content /usr/share/gallery-painter/assets/faces/hopper.png \
  --style /usr/share/gallery-painter/assets/styles/ink_waves.png --size 64 --iters 8 --levels 1 \
  --out "$OUT_DIR/painted.png" > "$OUT_DIR/stylize.txt" 2>&1 || { cat "$OUT_DIR/stylize.txt"; fail "stylize"; }
[ -s "$OUT_DIR/painted.png" ] || fail "stylize wrote no painting"
installed /usr/bin/gallery-painter painter --help | grep -q -- "--identity" || fail "painter --help"
for unit in /usr/lib/systemd/user/gallery-painter.service /usr/lib/systemd/system/gallery-painter-painter.service; do
  systemd-analyze verify "$unit" || fail "systemd-analyze verify $unit"
done

# The kiosk on the demo under a virtual display, until the journey reaches Painting.
DISPLAY_NUM=:$((50 + RANDOM % 40))
Xvfb "$DISPLAY_NUM" -screen 0 1280x720x24 -nolisten tcp >/dev/null 2>&1 &
sleep 1
$SUDO unshare --mount -- bash -c 'mount -t tmpfs tmpfs "$1" && cd / && exec env -i HOME="$0" PATH=/usr/bin:/bin \
    DISPLAY="$2" WGPU_BACKEND=vulkan XDG_RUNTIME_DIR="$3" /usr/bin/gallery-painter run --demo --windowed \
    --status-file "$3/status.ron"' "$HOME_DIR" "$ROOT" "$DISPLAY_NUM" "$OUT_DIR" > "$OUT_DIR/run.log" 2>&1 &
KIOSK=$!
END=$((SECONDS + 180))
until grep -q 'journey: "Painting"' "$OUT_DIR/status.ron" 2>/dev/null; do
  kill -0 $KIOSK 2>/dev/null || { tail -30 "$OUT_DIR/run.log"; fail "the installed kiosk exited"; }
  [ $SECONDS -lt $END ] || { tail -30 "$OUT_DIR/run.log"; fail "the installed kiosk's journey did not reach Painting"; }
  sleep 1
done
echo "==> run --demo from the installed paths reached Painting ($(grep -o 'style_key: "[^"]*"' "$OUT_DIR/status.ron" | head -1))"
$SUDO pkill -TERM -f "^/usr/bin/gallery-painter run --demo" || true
wait $KIOSK 2>/dev/null || true
[ -L "$HOME_DIR/.local/state/gallery-painter/assets" ] || fail "no state folder in the kiosk user's home"

# An upgrade keeps the changed config and the state; remove keeps the config; purge removes it.
echo "// changed by the museum (package-test)" | $SUDO tee -a /etc/gallery-painter/installation.ron >/dev/null
$SUDO touch /var/lib/gallery-painter/kept-by-the-upgrade
T3=$SECONDS
$SUDO "${APT[@]}" install "./$DEB2" >/dev/null || fail "apt-get install ./$DEB2 over $V1"
echo "==> upgraded to $V2 in $((SECONDS - T3)) s"
[ "$(dpkg-query -W -f '${Version}' gallery-painter)" = "$V2" ] || fail "not upgraded to $V2"
grep -q "changed by the museum" /etc/gallery-painter/installation.ron || fail "the upgrade lost the changed config"
[ -f /var/lib/gallery-painter/kept-by-the-upgrade ] || fail "the upgrade lost the state"
installed /usr/bin/gallery-painter --version >/dev/null || fail "--version after the upgrade"
$SUDO "${APT[@]}" remove gallery-painter >/dev/null || fail "apt-get remove"
[ ! -e /usr/bin/gallery-painter ] || fail "remove left the binary"
grep -q "changed by the museum" /etc/gallery-painter/installation.ron || fail "remove deleted the config"
$SUDO "${APT[@]}" purge gallery-painter >/dev/null || fail "apt-get purge"
[ ! -e /etc/gallery-painter ] || fail "purge left /etc/gallery-painter"
[ ! -e /var/lib/gallery-painter ] || fail "purge left /var/lib/gallery-painter"
printf '==> package-test passed: %s, %s installed; build %ss, install %ss, all %ss\n' \
  "$(du -h "$DEB1" | cut -f1)" "$(dpkg-deb -f "$DEB1" Installed-Size | awk '{printf "%d MiB", $1/1024}')" \
  "$((T1 - T0))" "$((T2 - T1))" "$((SECONDS - T0))"
