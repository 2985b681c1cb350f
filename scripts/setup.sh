#!/usr/bin/env bash
# One-command setup on Debian 12: installs what bachgen needs with apt (only what is missing),
# fetches and verifies the data (scripts/get-data.sh), and builds Release into build/.
# Safe to run again: each step is skipped or incremental when already done.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# Build tools, LibTorch (CPU) with a fast BLAS, test and CLI libraries, the Python peers used
# by the tests and benchmarks (mido; PyTorch for the model reference), FluidSynth with a small
# General MIDI soundfont for audio out, clang with its sanitizer and libFuzzer runtimes,
# cpp-httplib for the studio (bachgen serve), gloo's headers for data-parallel training (c10d),
# zlib for compressed MusicXML (.mxl) and Info-ZIP's zip, which makes an archive in its test.
packages=(
  build-essential cmake ninja-build ccache git curl ca-certificates
  libtorch-dev libopenblas0-openmp
  libgtest-dev libcli11-dev nlohmann-json3-dev libpng-dev zlib1g-dev libpugixml-dev libcpp-httplib-dev pkg-config
  libgloo-dev zip
  python3 python3-mido python3-torch
  clang libclang-rt-14-dev
)
# Installed without their Recommends (fluidsynth's would bring qsynth and Qt). MuseScore 3
# turns our MusicXML into PDF in a test (it opens what musicians will open).
# Chromium runs the studio's browser tests (tests/browser, driven by npm's playwright-core).
lean_packages=(fluidsynth timgm6mb-soundfont musescore3 chromium)
command -v npm >/dev/null 2>&1 || lean_packages+=(npm)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
missing=()
for p in "${packages[@]}"; do installed "$p" || missing+=("$p"); done
missing_lean=()
for p in "${lean_packages[@]}"; do installed "$p" || missing_lean+=("$p"); done
if [ "${#missing[@]}" -gt 0 ] || [ "${#missing_lean[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]} ${missing_lean[*]}"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  [ "${#missing[@]}" -eq 0 ] || $sudo apt-get install -y -q "${missing[@]}"
  [ "${#missing_lean[@]}" -eq 0 ] || $sudo apt-get install -y -q --no-install-recommends "${missing_lean[@]}"
else
  echo "setup: all $(( ${#packages[@]} + ${#lean_packages[@]} )) packages present"
fi

"$root/scripts/get-data.sh"

# playwright-core for the browser tests, exactly as package-lock.json pins it (it drives
# Debian's Chromium; it downloads no browser).
browser_tests="$root/tests/browser"
if [ ! -f "$browser_tests/node_modules/playwright-core/package.json" ] ||
   [ "$browser_tests/package-lock.json" -nt "$browser_tests/node_modules/playwright-core/package.json" ]; then
  echo "setup: npm ci in tests/browser"
  (cd "$browser_tests" && npm ci --no-audit --no-fund --loglevel=error)
fi

# ccache keeps rebuilds cheap (one torch translation unit costs 30-50 s on 2 cores).
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}"
ccache --max-size=5G >/dev/null 2>&1 || true

jobs="$(nproc)"
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$root/build" -j "$jobs"
echo "setup: built $root/build/bin/bachgen"
