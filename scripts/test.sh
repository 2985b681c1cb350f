#!/usr/bin/env bash
# Runs setup, then every test: the Release build's tests (ctest), then the torch-free modules
# again under AddressSanitizer + UndefinedBehaviorSanitizer with the libFuzzer targets (clang,
# build-sanitize/). Exits non-zero on any failure.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
"$root/scripts/setup.sh"

jobs="$(nproc)"
echo "test: Release build"
ctest --test-dir "$root/build" --output-on-failure -j "$jobs"

echo "test: sanitizer + fuzz build (clang, torch-free modules)"
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
CC=clang CXX=clang++ cmake -S "$root" -B "$root/build-sanitize" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBACHGEN_SANITIZE=ON -DBACHGEN_FUZZ=ON >/dev/null
cmake --build "$root/build-sanitize" -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir "$root/build-sanitize" --output-on-failure -j "$jobs"
