#!/usr/bin/env bash
# The commands a new user types: every ```sh block of one document (README.md, docs/daemon.md,
# docs/backtest.md, docs/operations.md), in order, run as one bash script with -euo pipefail in a
# scratch copy of the source root (conf/ copied, build/ the build directory), then the files the
# document says they write are checked. ```shell blocks are not run here (building, installing
# system-wide, the whole suite: scripts/demo.sh, scripts/test.sh and install_check run those).
#
# So that parallel runs do not meet, three things in the commands are rewritten, nothing else:
# "/tmp/" becomes the scratch directory's tmp/, and the two fixed ports (Kafka's 127.0.0.1:9092,
# the admin listener's 127.0.0.1:9464) become free ones; KAFKA_BOOTSTRAP is exported to the first
# (where rcfd dev-broker listens and the example configs look). Background jobs are killed at the
# end (commands.sh's own EXIT trap).
#   usage: check_docs.sh BUILD_DIR SRC_DIR DOC
set -euo pipefail
build=$(cd "${1:?build dir}" && pwd)
src=$(cd "${2:?source dir}" && pwd)
doc=${3:?document, e.g. README.md}
work=$(mktemp -d "${TMPDIR:-/tmp}/rcfd-docs.XXXXXX")
cleanup() {
    local rc=$?
    if [ $rc -ne 0 ]; then
        echo "--- $doc: FAILED ($rc); the commands and their output:" >&2
        cat -n "$work/commands.sh" >&2 || true
        tail -n 60 "$work/output.log" >&2 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $doc: $*" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
kafka=127.0.0.1:$(free_port)
admin=127.0.0.1:$(free_port)
root=$work/root
mkdir -p "$root" "$work/tmp"
cp -r "$src/conf" "$root/conf"
ln -s "$build" "$root/build"

awk '/^```sh$/{on=1; next} /^```/{on=0} on' "$src/$doc" > "$work/blocks.sh"
[ -s "$work/blocks.sh" ] || fail "no \`\`\`sh block"
{
    echo 'set -euo pipefail'
    echo 'trap "jobs -p | xargs -r kill -9 2>/dev/null || true" EXIT'
    sed -e "s#/tmp/#$work/tmp/#g" -e "s#127\.0\.0\.1:9092#$kafka#g" \
        -e "s#127\.0\.0\.1:9464#$admin#g" "$work/blocks.sh"
} > "$work/commands.sh"
t0=$(date +%s)
(cd "$root" && KAFKA_BOOTSTRAP=$kafka bash "$work/commands.sh") > "$work/output.log" 2>&1 ||
    fail "a command failed (exit $?)"
echo "$doc: $(grep -c . "$work/blocks.sh") lines of commands ran in $(( $(date +%s) - t0 )) s"

t=$work/tmp
nonempty() { for f in "$@"; do [ -s "$f" ] || fail "$f was not written (or is empty)"; done; }
case $doc in
README.md)
    nonempty "$t/rcfd/sensors-scored.jsonl" "$t/report.html" "$t/report.json" "$t/scores.html" \
        "$t/scores.json" "$t/models/machine-1.rcf.snap"
    grep -q '"ANOMALY_SCORE"' "$t/rcfd/sensors-scored.jsonl" || fail "scored records lack ANOMALY_SCORE"
    grep -q '"labelled":	true' "$t/report.json" && grep -q '"labelled":	false' "$t/scores.json" ||
        fail "the labelled and unlabelled summaries"
    ;;
docs/daemon.md)
    nonempty "$t/reference.md" "$t/rcfd/sensors-scored.jsonl"
    cmp -s "$t/reference.md" "$src/conf/README.md" || fail "--config-reference differs from conf/README.md"
    ls "$t"/rcfd/sensors.sensors.*.ckpt > /dev/null 2>&1 || fail "the graceful stop wrote no checkpoint"
    grep -q "assigned 4 partitions" "$work/output.log" || fail "no assignment logged"
    ;;
docs/backtest.md)
    nonempty "$t/labelled.html" "$t/labelled.json" "$t/unlabelled.html" "$t/corpus.html" \
        "$t/corpus.csv" "$t/one.html" "$t/labelled.png" "$t/models/machine-4.rcf.snap"
    grep -q "NAB standard" "$work/output.log" || fail "no NAB score printed"
    grep -q "suggested" "$work/output.log" || fail "train --suggest printed no suggestion"
    ;;
docs/operations.md)
    nonempty "$t/rcfd-prefix/lib/pkgconfig/rcfd.pc" "$t/rcfd-prefix/bin/rcfd"
    grep -q '"status":"ok"' "$work/output.log" || fail "/health never said ok"
    grep -qx 503 "$work/output.log" || fail "/health was not 503 with the broker gone"
    grep -q '^rcfd_build_info{' "$work/output.log" || fail "no rcfd_build_info"
    grep -qi '^content-length: [1-9]' "$work/output.log" || fail "HEAD /metrics had no Content-Length"
    grep -q 'Overall exposure level for rcfd.service' "$work/output.log" || fail "systemd-analyze security"
    ;;
*) fail "no expectations for $doc" ;;
esac
echo "$doc: every command ran as written"
