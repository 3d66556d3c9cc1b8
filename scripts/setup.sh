#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for Fovea and builds it. Safe to run again: packages that
# are installed are skipped, and the build is incremental.
#
#   ./scripts/setup.sh            # packages + configure + build (preset "dev", folder build/)
#   FOVEA_PRESET=core ./scripts/setup.sh   # without Qt (core, CLI and core tests only)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libtorch-dev libopenblas0-pthread
  libopencv-dev nlohmann-json3-dev zlib1g-dev libicu-dev libgtest-dev
  qt6-base-dev qt6-base-dev-tools qt6-svg-dev qt6-charts-dev qt6-tools-dev libqt6opengl6-dev
  libvtk9-dev xvfb xauth
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
  $sudo_cmd apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: all Debian packages present"
fi

# Debian's LibTorch calls whatever libblas.so.3 the alternatives system points at; the
# reference BLAS is ~15x slower than OpenBLAS. Make sure OpenBLAS is the one in use.
blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || true)
case "$blas" in
  *openblas*) echo "setup: BLAS is OpenBLAS ($blas)" ;;
  *) echo "setup: warning: libblas.so.3 resolves to '$blas', not OpenBLAS; LibTorch will be slow" >&2 ;;
esac

preset="${FOVEA_PRESET:-dev}"
werror=OFF
if [ "${CI:-}" = "true" ]; then werror=ON; fi
cmake --preset "$preset" -DFOVEA_WERROR="$werror"
cmake --build --preset "$preset"
echo "setup: built preset '$preset'"
