#!/usr/bin/env bash
# Quality benchmark of rcfd's alerts on NAB and the UCR anomaly archive (issue 14); bench/quality.py
# does the work and documents the metrics (bench/quality.sh --help).
#   bench/quality.sh --nab ../shared/nab --ucr ../shared/ucr-dev [--rcfd build/bin/rcfd]
#                    [-p NAME=VALUE ...] [--cv NAME=V1,V2,...] [--jobs 2] [--ucr-limit N]
#                    [--results bench/RESULTS.md] [--keep DIR]
#   bench/quality.sh --selftest        # generated corpora, no ../shared needed
set -euo pipefail
exec python3 "$(cd "$(dirname "$0")" && pwd)/quality.py" "$@"
