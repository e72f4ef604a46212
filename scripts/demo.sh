#!/usr/bin/env bash
# Quick start: installs missing Debian packages, builds rcfd, and runs the embedded demo job
# (`rcfd demo`), which needs no external service.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --run
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
exec ./build/bin/rcfd demo "$@"
