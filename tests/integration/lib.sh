# Shared helpers for the integration tests. Every test sources this, gets a scratch directory,
# and has every process it started killed on exit, whatever the outcome.
set -euo pipefail
: "${RCFD:?}" "${MOCK_CLUSTER:?}" "${SRC_DIR:?}"
TIME_MULT=${TIME_MULT:-1}
# rcfd_score_check's forests: the rcf model's default recent_mean (src/models/rcf.c); a test
# whose config sets another passes it (RECENT_MEAN=0 for KDA's forest).
export RECENT_MEAN=25
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rcfd-it.XXXXXX")
PIDS=()
cleanup() {
    local rc=$?
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ $rc -ne 0 ] || [ -n "${KEEP:-}" ]; then
        echo "--- FAILED ($rc); logs in $WORK:" >&2
        for f in "$WORK"/*.log; do [ -f "$f" ] && { echo "== $f" >&2; tail -n 30 "$f" >&2; }; done
    else
        rm -rf "$WORK"
    fi
    # Keep the script's own status: under set -e the loop's last false test above would end the
    # trap with 1, and a skip (77) would read as a failure.
    exit "$rc"
}
trap cleanup EXIT
trap "exit 129" HUP
trap "exit 130" INT
trap "exit 143" TERM
cd "$WORK"

fail() { echo "FAIL: $*" >&2; exit 1; }

# start_mock TOPIC:PARTS... -> sets BOOT (3 brokers)
# Each cluster prints into files of its own (mock1.out, mock2.out, ...): a second cluster
# started into the first one's file could be read before its shell truncated it, giving the old
# cluster's address or none.
MOCK_N=0
start_mock() {
    MOCK_N=$((MOCK_N + 1))
    local out="mock$MOCK_N.out" log="mock$MOCK_N.log"
    "$MOCK_CLUSTER" --brokers 3 "$@" > "$out" 2> "$log" &
    local pid=$!
    PIDS+=($pid)
    # A loaded machine (ctest -j, sanitizers) can take seconds to start it: wait on a deadline,
    # and stop at once if it died.
    local deadline=$(( $(date +%s) + 30 * TIME_MULT ))
    until [ -s "$out" ]; do
        kill -0 "$pid" 2>/dev/null || fail "mock cluster exited: $(tail -3 "$log")"
        [ "$(date +%s)" -lt "$deadline" ] || fail "mock cluster did not start in $((30 * TIME_MULT)) s"
        sleep 0.05
    done
    BOOT=$(head -n1 "$out")
    [ -n "$BOOT" ] || fail "mock cluster printed no bootstrap address"
}

# produce TOPIC FILE: one message per line, "key<TAB>value" (key decides the partition)
produce() {
    kcat -P -b "$BOOT" -t "$1" -K $'\t' -z none -X log_level=3 < "$2"
}

# wait_lines FILE N SECONDS
wait_lines() {
    local deadline=$(( $(date +%s) + $3 * TIME_MULT ))
    while :; do
        local n=0
        [ -f "$1" ] && n=$(wc -l < "$1")
        [ "$n" -ge "$2" ] && return 0
        [ "$(date +%s)" -ge "$deadline" ] && fail "$1 has $n lines, expected $2"
        sleep 0.1
    done
}

# wait_log FILE REGEX SECONDS: until FILE has a line matching REGEX
wait_log() {
    local deadline=$(( $(date +%s) + $3 * TIME_MULT ))
    until grep -q "$2" "$1" 2>/dev/null; do
        [ "$(date +%s)" -lt "$deadline" ] || fail "$1 never logged /$2/"
        sleep 0.1
    done
}

# unique FILES...: distinct "seq" values written (records of tools.py gen)
unique() { cat "$@" 2>/dev/null | grep -o '"seq": *[0-9]*' | sort -u | wc -l; }

# wait_unique N SECONDS FILES...: until N distinct records were written
wait_unique() {
    local n=$1 secs=$2; shift 2
    local deadline=$(( $(date +%s) + secs * TIME_MULT ))
    until [ "$(unique "$@")" -ge "$n" ]; do
        [ "$(date +%s)" -lt "$deadline" ] || fail "only $(unique "$@") of $n records written"
        sleep 0.2
    done
}

# admin_metrics LOG: rcfd's /metrics, from the admin listener its LOG named (admin_listen :0)
admin_metrics() {
    wait_log "$1" "admin listener on 127.0.0.1:" 10
    local port
    port=$(sed -n 's/.*admin listener on 127.0.0.1:\([0-9]*\).*/\1/p' "$1" | head -1)
    python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' \
        "http://127.0.0.1:$port/metrics"
}

# committed LOG: the sum of the offsets the daemon's consumer group has committed (0: none yet)
committed() {
    admin_metrics "$1" | awk '/^rcfd_committed_offset\{/ { s += $2 } END { print s + 0 }'
}

# start_rcfd NAME ARGS... -> RCFD_PID; stderr to NAME.log
start_rcfd() {
    local name=$1; shift
    # setpriv execs rcfd (so $! is rcfd itself) and makes it die with this script, even when
    # ctest kills the script on a timeout.
    setpriv --pdeathsig KILL "$RCFD" "$@" 2> "$name.log" &
    RCFD_PID=$!
    PIDS+=($RCFD_PID)
}

# stop_rcfd SIGNAL -> RCFD_RC
stop_rcfd() {
    kill -"$1" "$RCFD_PID"
    set +e
    wait "$RCFD_PID"
    RCFD_RC=$?
    set -e
}

# kafka_config FILE GROUP OUTPUT [DEAD] [extra outputs json]
