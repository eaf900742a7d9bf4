#!/usr/bin/env bash
# One Debian package of a kiosk or painter, libtorch inside, from the tree the tests built
# (target/debug: the dev profile with dependencies at opt-level 2, the build scripts/test.sh
# and scripts/run.sh share; no second compile). Nothing of the source tree, the .venv or
# Python is needed where it is installed.
#
#   scripts/package.sh [--version VERSION] [--out DIR]
#     VERSION   the package's version (default: Cargo.toml's)
#     DIR       where gallery-painter_<VERSION>_amd64.deb goes (default: target/package)
#
# Inside (docs/kiosk.md, "Install from the package"):
#   /usr/bin/gallery-painter                 the binary, its RUNPATH $ORIGIN/../lib/gallery-painter
#   /usr/lib/gallery-painter/                libtorch's shared libraries (from the .venv's wheel)
#   /usr/share/gallery-painter/              assets (VGG, MTCNN and SeetaFace models, fonts,
#                                            artworks, Fluent files), scenes, config templates
#   /etc/gallery-painter/installation.ron    the installation's config (a conffile: kept on upgrade)
#   /etc/gallery-painter/painter.env         the farm painter's arguments (a conffile)
#   /usr/lib/systemd/user/gallery-painter.service             the kiosk (a user service)
#   /usr/lib/systemd/system/gallery-painter-painter.service   a farm painter
#   /usr/lib/systemd/system/gallery-painter-farm-server.service  a farm's nats-server
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
die() { printf 'package: %s\n  fix: %s\n' "$1" "$2" >&2; exit 1; }
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
OUT=target/package
while [ $# -gt 0 ]; do
  case $1 in
    --version) VERSION=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) die "unknown option $1" "use --version VERSION and --out DIR" ;;
  esac
done
BIN=target/debug/gallery-painter
[ -x "$BIN" ] || die "$BIN is missing" "build it first: scripts/setup.sh --build app (or scripts/test.sh)"
for tool in patchelf dpkg-deb objcopy zstd; do
  command -v $tool >/dev/null || die "$tool is missing" "scripts/setup.sh installs it (patchelf, dpkg, binutils, zstd)"
done
[ -f assets/models/vgg16-caffe.safetensors ] || die "the VGG weights are missing" "run scripts/setup.sh"

T0=$SECONDS
STAGE=$(mktemp -d "$ROOT/target/package-stage.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
P=$STAGE/root
install -d "$P/DEBIAN" "$P/usr/bin" "$P/usr/lib/gallery-painter" "$P/usr/share/gallery-painter" \
  "$P/etc/gallery-painter" "$P/usr/lib/systemd/user" "$P/usr/lib/systemd/system" "$P/usr/share/doc/gallery-painter"

# The binary without its line tables (backtraces keep the function names), found libraries
# next to it.
objcopy --strip-debug "$BIN" "$P/usr/bin/gallery-painter"
patchelf --set-rpath '$ORIGIN/../lib/gallery-painter' "$P/usr/bin/gallery-painter"
# Every library it loads from the .venv (libtorch and what libtorch loads); CUDA's libtorch is
# left out (a CPU build; the binary looks for it at run time and paints on the CPU without it).
ldd "$BIN" | awk '/=> \// {print $3}' | while read -r lib; do
  case $lib in
    "$ROOT"/*|*/.venv/*|*/.libtorch/*)
      install -m 0644 "$(readlink -f "$lib")" "$P/usr/lib/gallery-painter/$(basename "$lib")"
      patchelf --set-rpath '$ORIGIN' "$P/usr/lib/gallery-painter/$(basename "$lib")" ;;
  esac
done
TORCH_VERSION=$(sed -n "s/^__version__ = '\(.*\)'/\1/p" .libtorch/version.py 2>/dev/null | head -1)
echo "${TORCH_VERSION:-unknown}" > "$P/usr/lib/gallery-painter/torch-version"
[ -f "$P/usr/lib/gallery-painter/libtorch_cpu.so" ] || die "libtorch_cpu.so was not found beside the binary" "run scripts/setup.sh"

D=$P/usr/share/gallery-painter
cp -r assets scenes "$D/"
rm -f "$D"/assets/models/*.tmp
install -d "$D/config"
cp -r config/installation.ron config/farm "$D/config/"
install -m 0644 config/installation.ron "$P/etc/gallery-painter/installation.ron"
cat > "$P/etc/gallery-painter/painter.env" <<'ENV'
# The farm painter's arguments (gallery-painter-painter.service): the farm's servers, this
# painter's user, password, identity and the farm's CA (made by scripts/farm-certs.sh).
PAINTER_ARGS=--nats tls://farm.local:4222 --user gpu-1 --password-file /etc/gallery-painter/farm/passwords/gpu-1 --ca /etc/gallery-painter/farm/ca.pem --identity /etc/gallery-painter/farm/identities/gpu-1
ENV
cp README.md "$P/usr/share/doc/gallery-painter/"
cp -r docs "$P/usr/share/doc/gallery-painter/"

# The kiosk: a user service of the kiosk user's graphical session (its display), as
# scripts/install-service.sh installs it from a source tree, with the package's paths.
sed -e 's|@BIN_ARG@|/usr/bin/gallery-painter|' \
    -e 's|@CONFIG_ARG@|/etc/gallery-painter/installation.ron|' \
    -e 's|@ROOT_PATH@|%h|' \
    -e 's|@DOC_URL@|file:///usr/share/doc/gallery-painter/docs/kiosk.md|' \
    config/systemd/gallery-painter.service > "$P/usr/lib/systemd/user/gallery-painter.service"
# A farm painter: its arguments from painter.env, its state in /var/lib/gallery-painter.
sed -e 's|@BIN_ARG@|/usr/bin/gallery-painter|' \
    -e 's|@CONFIG_ARG@|/etc/gallery-painter/installation.ron|' \
    -e 's|@PAINTER_ARGS@|$PAINTER_ARGS|' \
    -e 's|@ROOT_PATH@|/var/lib/gallery-painter|' \
    -e 's|@DOC_URL@|file:///usr/share/doc/gallery-painter/docs/farm.md|' \
    -e 's|@USER@|gallery-painter|' \
    -e 's|^ExecStart=|EnvironmentFile=/etc/gallery-painter/painter.env\nStateDirectory=gallery-painter\nExecStart=|' \
    -e 's|^ProtectHome=read-only|ProtectHome=yes|' \
    config/systemd/gallery-painter-painter.service > "$P/usr/lib/systemd/system/gallery-painter-painter.service"
install -m 0644 config/systemd/gallery-painter-farm-server.service "$P/usr/lib/systemd/system/"

SIZE_KB=$(du -sk --exclude=DEBIAN "$P" | cut -f1)
cat > "$P/DEBIAN/control" <<CONTROL
Package: gallery-painter
Version: $VERSION
Architecture: amd64
Maintainer: Gallery Painter <gallery-painter@localhost>
Installed-Size: $SIZE_KB
Depends: libc6, libgcc-s1, libstdc++6, libasound2, libvulkan1, libx11-6, libxcursor1, libxrandr2, libxi6, libxkbcommon0, adduser
Recommends: mesa-vulkan-drivers, espeak-ng
Suggests: nats-server, xvfb
Section: graphics
Priority: optional
Homepage: file:///usr/share/doc/gallery-painter/README.md
Description: interactive art installation: a visitor repainted as an artwork
 A camera looks at the visitor; the engine repaints the frame in the style of an
 artwork by optimising the image itself (Gatys et al.), shown evolving on the
 gallery display. Kiosk (a systemd user service) and farm painter in one binary,
 libtorch (CPU) inside.
CONTROL
printf '/etc/gallery-painter/installation.ron\n/etc/gallery-painter/painter.env\n' > "$P/DEBIAN/conffiles"
cat > "$P/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
  # The farm painter's account (a system service); kiosks run as their desktop user.
  getent passwd gallery-painter >/dev/null || \
    adduser --system --group --home /var/lib/gallery-painter --no-create-home gallery-painter >/dev/null
  install -d -o gallery-painter -g gallery-painter -m 0750 /var/lib/gallery-painter
  if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
fi
POSTINST
cat > "$P/DEBIAN/postrm" <<'POSTRM'
#!/bin/sh
set -e
if [ "$1" = purge ]; then
  # The config folder (its conffiles are dpkg's; the farm's certificates are the museum's,
  # copied there by hand) and the painter's state.
  rm -rf /etc/gallery-painter /var/lib/gallery-painter
  getent passwd gallery-painter >/dev/null && deluser --system gallery-painter >/dev/null 2>&1 || true
fi
if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
POSTRM
chmod 0755 "$P/DEBIAN/postinst" "$P/DEBIAN/postrm"

mkdir -p "$OUT"
DEB=$OUT/gallery-painter_${VERSION}_amd64.deb
# zstd at a low level: seconds on two cores, half the size of the files.
dpkg-deb --root-owner-group -Zzstd -z3 --build "$P" "$DEB" >/dev/null
echo "package: $DEB ($(du -h "$DEB" | cut -f1), $((SIZE_KB / 1024)) MiB installed) in $((SECONDS - T0)) s"
