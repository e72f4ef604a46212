#!/usr/bin/env bash
# Runs every test: the normal build, the AddressSanitizer + UBSan build, and a short libFuzzer run of
# every fuzz target. Installs missing Debian packages first (scripts/setup.sh), so it works on a
# fresh machine. Exit code 0 only if everything passed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs=$(nproc)

echo "== release build and tests"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build and tests"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DRCFD_SANITIZE=address,undefined \
      -DRCFD_BUILD_BENCH=OFF -DRCFD_TEST_TIMEOUT_MULTIPLIER=4 >/dev/null
cmake --build build-asan -j"$jobs"
# The slow tests (the Debian package build, the backpressure soak) ran in the release build; under
# the sanitizers they would only repeat the same code four times slower.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j"$jobs" -LE slow

echo "== libFuzzer targets (clang), a bounded run each"
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DRCFD_FUZZ=ON -DRCFD_BUILD_BENCH=OFF \
      >/dev/null
cmake --build build-fuzz -j"$jobs"
scripts/fuzz.sh build-fuzz 20
echo "all tests passed"
