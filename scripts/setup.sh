#!/usr/bin/env bash
# One-command setup on Debian 12: installs what bachgen needs with apt (only what is missing),
# fetches and verifies the data (scripts/get-data.sh), and builds Release into build/.
#   scripts/setup.sh            everything: the program, its tests, benchmarks and their tools
#                               (what scripts/test.sh and scripts/bench.sh run)
#   scripts/setup.sh --program  only what composing and harmonizing need, and only the program
#                               (what scripts/demo.sh runs: the musician's front door)
# Safe to run again: each step is skipped or incremental when already done.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

program_only=0
[ "${1:-}" = "--program" ] && program_only=1

# The program: build tools, LibTorch (CPU) with a fast BLAS, CLI11, JSON, PNG, zlib (compressed
# MusicXML), pugixml (MusicXML), libmicrohttpd (the studio, bachgen serve), gloo's headers
# (data-parallel training on c10d), and libfluidsynth (audio in process; it brings libsndfile,
# which writes FLAC) with a small General MIDI soundfont.
packages=(
  build-essential cmake ninja-build ccache git curl ca-certificates
  libtorch-dev libopenblas0-openmp
  libcli11-dev nlohmann-json3-dev libpng-dev zlib1g-dev libpugixml-dev libmicrohttpd-dev pkg-config
  libgloo-dev
)
# Installed without their Recommends.
lean_packages=(libfluidsynth-dev timgm6mb-soundfont)
if [ "$program_only" = 0 ]; then
  # The tests and benchmarks: GoogleTest, Info-ZIP's zip (makes an archive in a test),
  # cpp-httplib (the HTTP client of the studio's tests and bench_serve), the
  # Python peers (mido; PyTorch for the model reference), clang with its sanitizer and
  # libFuzzer runtimes; MuseScore 3 turns our MusicXML into PDF (it opens what musicians will
  # open); Chromium runs the studio's browser tests (tests/browser, driven by npm's playwright-core).
  packages+=(libgtest-dev zip libcpp-httplib-dev python3 python3-mido python3-torch clang libclang-rt-14-dev)
  lean_packages+=(musescore3 chromium)
fi
# npm installs the studio page's score library (web/package-lock.json), and the browser tests'.
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

# OpenSheetMusicDisplay, which draws the studio's scores, exactly as web/package-lock.json pins
# it (bachgen serve serves its browser bundle; without it the page shows the piano roll only).
web="$root/web"
if [ ! -f "$web/node_modules/opensheetmusicdisplay/package.json" ] ||
   [ "$web/package-lock.json" -nt "$web/node_modules/opensheetmusicdisplay/package.json" ]; then
  echo "setup: npm ci in web"
  (cd "$web" && npm ci --no-audit --no-fund --ignore-scripts --omit=optional --loglevel=error)
fi

# playwright-core for the browser tests, exactly as package-lock.json pins it (it drives
# Debian's Chromium; it downloads no browser).
browser_tests="$root/tests/browser"
if [ "$program_only" = 0 ] && { [ ! -f "$browser_tests/node_modules/playwright-core/package.json" ] ||
   [ "$browser_tests/package-lock.json" -nt "$browser_tests/node_modules/playwright-core/package.json" ]; }; then
  echo "setup: npm ci in tests/browser"
  (cd "$browser_tests" && npm ci --no-audit --no-fund --loglevel=error)
fi

# ccache keeps rebuilds cheap (one torch translation unit costs 30-50 s on 2 cores).
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}"
ccache --max-size=5G >/dev/null 2>&1 || true

jobs="$(nproc)"
if [ "$program_only" = 1 ]; then
  # Without the tests and benchmarks (they need GoogleTest and more); a later full setup turns
  # them on again in the same build folder.
  cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBACHGEN_BUILD_TESTS=OFF -DBACHGEN_BUILD_BENCH=OFF >/dev/null
  cmake --build "$root/build" -j "$jobs" --target bachgen_cli
else
  cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBACHGEN_BUILD_TESTS=ON -DBACHGEN_BUILD_BENCH=ON >/dev/null
  cmake --build "$root/build" -j "$jobs"
fi
echo "setup: built $root/build/bin/bachgen"
