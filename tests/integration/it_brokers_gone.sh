#!/usr/bin/env bash
# A stop must not hang on unreachable brokers. With the brokers up, SIGTERM commits and leaves the
# group well within close_timeout_ms. With every broker killed, the group leave and the final
# commit cannot happen: SIGTERM still ends rcfd (exit 0, every record it read already written)
# once close_timeout_ms has passed, not after librdkafka's session timeout.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
T="python3 $SRC_DIR/tests/integration/tools.py"

start_mock sensors:4
MOCK_PID=${PIDS[-1]}
$T gen 800 8 5 0 0 a
produce sensors a.kafka

cat > c.json <<JSON
{"runtime": {"stats_interval_ms": 0, "shutdown_timeout_ms": 2000},
 "sources": [{"name": "sensors", "type": "kafka", "topics": ["sensors"], "close_timeout_ms": 1500,
              "rdkafka": {"bootstrap.servers": "$BOOT", "group.id": "\${GROUP}",
                          "auto.offset.reset": "earliest", "session.timeout.ms": 30000}}],
 "outputs": [{"name": "o", "type": "file", "path": "\${OUT}"}],
 "pipelines": [{"name": "p", "source": "sensors", "fields": ["temp", "pressure"], "key": "device",
                "outputs": ["o"],
                "models": [{"type": "rcf", "number_of_trees": 10, "sub_sample_size": 16,
                            "time_decay": 500}]}]}
JSON

# stop_timed SECONDS: SIGTERM, then the time rcfd took to exit, in whole seconds, in ELAPSED
stop_timed() {
    local t0; t0=$(date +%s.%N)
    stop_rcfd TERM
    ELAPSED=$(python3 -c "print(round($(date +%s.%N) - $t0, 1))")
}

# Brokers up: a clean close, no deadline.
GROUP=g1 OUT=up.jsonl start_rcfd up -c c.json
wait_lines up.jsonl 800 60
stop_timed
[ "$RCFD_RC" -eq 0 ] || fail "exit $RCFD_RC with the brokers up"
grep -q "consumer closed" up.log || fail "consumer not closed"
! grep -q "did not commit and leave" up.log || fail "close deadline hit with the brokers up"
$T check up.jsonl a.exp

# Brokers gone: the close gives up after 1.5 s (the session timeout is 30 s).
GROUP=g2 OUT=gone.jsonl start_rcfd gone -c c.json
wait_lines gone.jsonl 800 60
kill -9 "$MOCK_PID"
wait "$MOCK_PID" 2>/dev/null || true
sleep 0.5
stop_timed
[ "$RCFD_RC" -eq 0 ] || fail "exit $RCFD_RC with the brokers gone"
grep -q "did not commit and leave its group within close_timeout_ms (1500 ms" gone.log ||
    fail "no close-deadline warning"
python3 -c "import sys; sys.exit(0 if $ELAPSED < 12 * $TIME_MULT else 1)" ||
    fail "SIGTERM took $ELAPSED s with the brokers gone"
$T check gone.jsonl a.exp
echo "it_brokers_gone: stop took ${ELAPSED} s with every broker gone (close_timeout_ms 1500)"
