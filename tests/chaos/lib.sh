# Shared by the chaos scenarios: the integration helpers (scratch directory, mock cluster, every
# process killed on exit) plus the offset count.
. "$SRC_DIR/tests/integration/lib.sh"
C="python3 $SRC_DIR/tests/chaos/chaos.py"

# inputs TOPIC FILE: every offset of the topic, "topic partition offset" per line
inputs() {
    kcat -C -b "$BOOT" -t "$1" -e -q -f '%t %p %o\n' -X log_level=3 > "$2"
}

# consume TOPIC FILE: the topic's messages as "key<TAB>value" lines. librdkafka's mock cluster
# keeps at most 5 MB (or 100,000 message sets) per partition and deletes the oldest beyond that,
# as a broker's retention would: a partition whose first offset is not 0 fails the scenario as
# a test-setup error (give the topic more partitions), never as records rcfd lost.
consume() {
    kcat -C -b "$BOOT" -t "$1" -e -q -f '%p %o\t%k\t%s\n' -X log_level=3 > "$2.raw" 2>/dev/null ||
        true
    cut -f2- "$2.raw" > "$2"
    local trimmed
    trimmed=$(awk -F'\t' '{ split($1, a, " "); if (!(a[1] in first)) first[a[1]] = a[2] }
                          END { for (p in first) if (first[p] != 0) printf " %s@%s", p, first[p] }' \
              "$2.raw")
    [ -z "$trimmed" ] || fail "topic $1: the mock cluster's per-partition log limit (5 MB) deleted" \
        "the oldest records (partition@first offset:$trimmed); the scenario needs more partitions"
}

# covered SECONDS COUNT-ARGS...: until every input is in every output (or the deadline passes;
# the caller's count then says what is missing). Kafka outputs are re-read each round through
# the hook `refresh` (a function the scenario may define).
covered() {
    local secs=$1; shift
    local deadline=$(( $(date +%s) + secs * TIME_MULT ))
    while :; do
        if declare -F refresh >/dev/null; then refresh; fi
        $C count --quiet "$@" && return 0
        [ "$(date +%s)" -lt "$deadline" ] || return 0
        sleep 1
    done
}

# lines FILE: its line count, 0 when it does not exist yet
lines() { if [ -f "$1" ]; then wc -l < "$1"; else echo 0; fi; }

# grows FILE SECONDS: until FILE has more lines than now (the daemon is making progress)
grows() {
    local n0 deadline=$(( $(date +%s) + $2 * TIME_MULT ))
    n0=$(lines "$1")
    until [ "$(lines "$1")" -gt "$n0" ]; do
        [ "$(date +%s)" -lt "$deadline" ] || fail "$1 did not grow in $2 s"
        sleep 0.1
    done
}

# rss_kb PID: resident set size in kB
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# trickle TOPIC FILE CHUNK PAUSE: produce FILE's lines CHUNK at a time, PAUSE seconds apart, in
# the background (a live stream while faults happen); sets TRICKLE_PID; touches FILE.done at the end
trickle() {
    local topic=$1 file=$2 chunk=$3 pause=$4
    rm -f "$file.done"
    (
        split -l "$chunk" -d -a 4 "$file" "$file.part."
        for p in "$file".part.*; do
            produce "$topic" "$p"
            sleep "$pause"
        done
        touch "$file.done"
    ) &
    TRICKLE_PID=$!
    PIDS+=($TRICKLE_PID)
}

# trickled FILE SECONDS: until trickle finished producing FILE
trickled() {
    local deadline=$(( $(date +%s) + $2 * TIME_MULT ))
    until [ -f "$1.done" ]; do
        [ "$(date +%s)" -lt "$deadline" ] || fail "producing $1 took longer than $2 s"
        sleep 0.2
    done
}
