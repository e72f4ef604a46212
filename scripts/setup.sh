#!/usr/bin/env bash
# Installs the Debian 12 packages rcfd needs to build, test and run. Idempotent: it asks apt only for what
# is missing, never prompts, and works as root or through sudo.
#   usage: scripts/setup.sh            (build, test and run dependencies)
#          scripts/setup.sh --run      (build and run only: what scripts/demo.sh needs)
set -euo pipefail

# Building and running (scripts/demo.sh needs only these).
build=(
    build-essential cmake pkg-config git ca-certificates
    librdkafka-dev libuv1-dev libcjson-dev libopenblas-dev libcurl4-openssl-dev
    libcmocka-dev              # the default build configures the tests too
    libjs-dygraphs             # the backtest report's charts, inlined into the binary
    kcat python3 procps systemd curl
)
# The tests (scripts/test.sh) as well.
tests=(
    python3-dev python3-numpy python3-setuptools python3-pip python3-pytest   # python/ (rcfd for Python)
    clang libclang-rt-14-dev   # libFuzzer and the sanitizer runtimes for the fuzz targets
    chromium                   # the report, drawn in a headless browser (bt_report_browser)
    dpkg-dev debhelper fakeroot  # the Debian package (cli_debian_package)
    groff-base man-db          # the man page's lint
    nodejs                     # kinesalite, the Kinesis peer of the tests (from npm)
)
packages=("${build[@]}")
[ "${1:-}" = "--run" ] || packages+=("${tests[@]}")
# Debian's npm for the tests; a nodejs that brings its own npm (NodeSource's) conflicts with it.
[ "${1:-}" = "--run" ] || command -v npm > /dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo -n)
else
    echo "setup: missing packages (${missing[*]}) and neither root nor sudo is available" >&2
    exit 1
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
