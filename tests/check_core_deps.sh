#!/usr/bin/env bash
# The core library (rcf, hotspots) must do no I/O and depend only on libc and libm. Fails if the
# archive references an I/O, logging or loop function, or any symbol of the daemon's libraries.
#   usage: check_core_deps.sh path/to/librcfd_core.a
set -euo pipefail
lib=${1:?archive}
undefined=$(nm -u "$lib" | awk '{print $NF}' | sed 's/@.*//' | sort -u)
forbidden='^(uv_|rd_kafka|curl_|cJSON|cblas_|openblas|sd_|syslog|fopen|fdopen|fclose|fwrite|fread|fputs|fputc|puts|printf|fprintf|vfprintf|dprintf|perror|write|read|open|open64|openat|creat|socket|connect|send|recv|getenv|exit|abort|system|popen)$'
bad=$(printf '%s\n' "$undefined" | grep -E "$forbidden" || true)
if [ -n "$bad" ]; then
    echo "librcfd_core references functions it must not use (I/O, logging, loop or daemon libraries):"
    printf '  %s\n' $bad
    echo "1 checks, 0 passed, 1 failed"
    exit 1
fi
echo "librcfd_core: $(printf '%s\n' "$undefined" | wc -l) undefined symbols, none forbidden"
