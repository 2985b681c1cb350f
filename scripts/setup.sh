#!/usr/bin/env bash
# One-command setup on Debian 12: installs what bachgen needs with apt (only what is missing),
# fetches and verifies the data (scripts/get-data.sh), and builds Release into build/.
# Safe to run again: each step is skipped or incremental when already done.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# Build tools, LibTorch (CPU) with a fast BLAS, test and CLI libraries, the Python peers used
# by the tests and benchmarks (mido; PyTorch for the model reference), clang with its sanitizer
# and libFuzzer runtimes.
packages=(
  build-essential cmake ninja-build ccache git curl ca-certificates
  libtorch-dev libopenblas0-openmp
  libgtest-dev libcli11-dev nlohmann-json3-dev libpng-dev
  python3 python3-mido python3-torch
  clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q "${missing[@]}"
else
  echo "setup: all ${#packages[@]} packages present"
fi

"$root/scripts/get-data.sh"

# ccache keeps rebuilds cheap (one torch translation unit costs 30-50 s on 2 cores).
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}"
ccache --max-size=5G >/dev/null 2>&1 || true

jobs="$(nproc)"
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$root/build" -j "$jobs"
echo "setup: built $root/build/bin/bachgen"
