#!/usr/bin/env bash
# Models survive restarts (state.store "dir"). max_keys 6 with 16 keys: evicted models are kept as
# snapshots and resume exactly when their key returns, also across restarts. (1) SIGTERM
# mid-stream: the final checkpoints hold exactly what was delivered, the restart resumes there: every record exactly once, and every
# score equals an uninterrupted run's (rcfd_score_check recomputes them offline per key). (2)
# SIGKILL mid-stream: the restart resumes from the last periodic checkpoint; records after it are
# read again and re-scored by the restored models, so replays carry identical scores. (3) The
# latest checkpoint files corrupted: refused with a log line, the previous ones are used, and the
# scores still continue exactly.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
: "${SCORE_CHECK:?}"
T="python3 $SRC_DIR/tests/integration/tools.py"
CHECK="$SCORE_CHECK merged.jsonl temp,pressure 30 64 2000 1 16 5"

start_mock sensors:4 live:4
$T gen 30000 16 21 0 0 a
# The stream arrives over a few seconds (2,000 records every 0.2 s), so a signal lands mid-stream
# however fast rcfd is.
produce_slowly() { # TOPIC FILE
    split -l 2000 -d -a 3 "$2" "$1.chunk."
    for c in "$1".chunk.*; do produce "$1" "$c"; sleep 0.2; done
}

config() { # GROUP STATE_DIR INTERVAL_MS TOPIC
cat > "$1.json" <<JSON
{"runtime": {"stats_interval_ms": 0},
 "state": {"store": "dir", "dir": "$2", "interval_ms": $3},
 "sources": [{"name": "sensors", "type": "kafka", "topics": ["$4"],
              "rdkafka": {"bootstrap.servers": "$BOOT", "group.id": "$1",
                          "auto.offset.reset": "earliest", "auto.commit.interval.ms": 200,
                          "session.timeout.ms": 6000, "heartbeat.interval.ms": 500}}],
 "outputs": [{"name": "out", "type": "file", "path": "\${OUT}"}],
 "pipelines": [{"name": "p", "source": "sensors", "fields": ["temp", "pressure"],
                "key": "device", "outputs": ["out"], "max_keys": 6,
                "models": [{"type": "rcf", "shingle_size": 1, "number_of_trees": 30, "sub_sample_size": 64,
                            "time_decay": 2000, "output_after": 16, "seed": 5}]}]}
JSON
}

# (1) SIGTERM
mkdir st1
config g1 st1 60000 sensors
OUT=t1.jsonl start_rcfd t1 -c g1.json
wait_log t1.log "assigned 4 partitions" 30
produce_slowly sensors a.kafka &
PIDS+=($!)
wait_lines t1.jsonl 5000 60
stop_rcfd TERM
[ "$RCFD_RC" -eq 0 ] || fail "SIGTERM exit $RCFD_RC"
n1=$(wc -l < t1.jsonl)
[ "$n1" -lt 30000 ] || fail "rcfd finished before SIGTERM: the test proves nothing"
grep -q "writing the final checkpoints" t1.log || fail "no final checkpoints at SIGTERM"
grep -Eq "[1-9][0-9]* evicted" t1.log || fail "no evictions: the kept snapshots were not exercised"
ls st1/sensors.sensors.*.ckpt > /dev/null || fail "no checkpoint files in st1"
OUT=t2.jsonl start_rcfd t2 -c g1.json
wait_unique 30000 90 t1.jsonl t2.jsonl
stop_rcfd TERM
grep -q "restored [0-9]* keys at offset" t2.log || fail "nothing restored"
cat t1.jsonl t2.jsonl > t12.jsonl
$T check t12.jsonl a.exp                     # exactly once across the restart
$T replays t1.jsonl t2.jsonl merged.jsonl
$CHECK || fail "scores after the SIGTERM restart differ from an uninterrupted run"
echo "SIGTERM after $n1 records: restart resumed exactly"

# (2) SIGKILL, periodic checkpoints every 200 ms
mkdir st2
config g2 st2 200 live
OUT=k1.jsonl start_rcfd k1 -c g2.json
wait_log k1.log "assigned 4 partitions" 30
produce_slowly live a.kafka &
PIDS+=($!)
wait_lines k1.jsonl 6000 60
sleep 0.5   # at least one periodic checkpoint past the first records
stop_rcfd KILL
n1=$(wc -l < k1.jsonl)
[ "$n1" -lt 30000 ] || fail "rcfd finished before SIGKILL: the test proves nothing"
OUT=k2.jsonl start_rcfd k2 -c g2.json
wait_unique 30000 90 k1.jsonl k2.jsonl
stop_rcfd TERM
[ "$RCFD_RC" -eq 0 ] || fail "exit $RCFD_RC after the SIGKILL restart"
grep -q "restored [0-9]* keys at offset" k2.log || fail "nothing restored after SIGKILL"
replayed=$($T replays k1.jsonl k2.jsonl merged.jsonl | tee /dev/stderr | sed -n 's/.*, \([0-9]*\) replayed.*/\1/p')
$T check merged.jsonl a.exp
$CHECK || fail "scores after the SIGKILL restart differ from an uninterrupted run"
echo "SIGKILL after $n1 records: $replayed records replayed from the last checkpoint"
[ "$replayed" -lt "$n1" ] || fail "the restart replayed everything: checkpoints were not used"

# (3) the latest checkpoints damaged: the previous ones are used. Every partition needs an older
# checkpoint to fall back to, and part (2)'s catch-up may have written a partition's only one at
# its stop (its periodic ones overtaken by the stream on a loaded machine): a short run over 400
# more records gives each partition a new one, and the dir store keeps the one before as .prev.
$T gen 3000 16 22 30000 0 b
head -n 400 b.kafka > b1.kafka
tail -n +401 b.kafka > b2.kafka
produce live b1.kafka
OUT=k2b.jsonl start_rcfd k2b -c g2.json
wait_unique 30400 90 k1.jsonl k2.jsonl k2b.jsonl
stop_rcfd TERM
[ "$RCFD_RC" -eq 0 ] || fail "exit $RCFD_RC after the 400 records"
for f in st2/*.ckpt; do
    [ -f "$f.prev" ] || fail "$f has no previous checkpoint"
    printf '\xff' | dd of="$f" bs=1 seek=100 conv=notrunc status=none
done
produce live b2.kafka
cat a.exp b.exp > ab.exp
OUT=k3.jsonl start_rcfd k3 -c g2.json
wait_unique 33000 90 k1.jsonl k2.jsonl k2b.jsonl k3.jsonl
stop_rcfd TERM
grep -q "refused.*using the previous\|using the previous" k3.log || fail "no fallback logged: $(grep -i ckpt k3.log | head -3)"
$T replays k1.jsonl k2.jsonl k2b.jsonl k3.jsonl merged.jsonl
$T check merged.jsonl ab.exp
$CHECK || fail "scores after falling back to the previous checkpoint differ"
echo "ops_state: OK"
