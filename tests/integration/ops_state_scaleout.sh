#!/usr/bin/env bash
# Scale-out: two daemons in one consumer group share the Kafka state store (a topic on librdkafka's
# mock cluster; the mock does not compact, which the store does not rely on). When the second
# daemon joins, the first checkpoints the partitions it gives up and the second restores them.
# Then the second is SIGKILLed: its partitions move back to the survivor, which restores their
# last checkpoints from the topic and carries on. Every record appears at least once, and every
# score — replays included — equals a single daemon's uninterrupted run (rcfd_score_check
# recomputes them offline per key). Replays are bounded by what was read after the checkpoint a
# restore used: state.interval_ms of input, plus what was in flight.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
: "${SCORE_CHECK:?}"
T="python3 $SRC_DIR/tests/integration/tools.py"

# A state partition per source partition: the mock broker keeps only the last 5 MiB of a partition
# instead of compacting, so a source partition sharing its state partition with a busy one (3
# state partitions: sensors[0] and [3] in one) could lose its last checkpoint to the other's
# writes before its new owner read it (seen: a killed daemon's partition restored "fresh").
start_mock sensors:4 rcfd-state:4
$T gen 40000 16 31 0 0 a

cat > g.json <<JSON
{"runtime": {"stats_interval_ms": 0, "admin_listen": "127.0.0.1:0"},
 "state": {"store": "kafka", "topic": "rcfd-state", "interval_ms": 300},
 "sources": [{"name": "sensors", "type": "kafka", "topics": ["sensors"],
              "rdkafka": {"bootstrap.servers": "$BOOT", "group.id": "scale",
                          "auto.offset.reset": "earliest", "auto.commit.interval.ms": 200,
                          "session.timeout.ms": 3000, "heartbeat.interval.ms": 300}}],
 "outputs": [{"name": "out", "type": "file", "path": "\${OUT}"}],
 "pipelines": [{"name": "p", "source": "sensors", "fields": ["temp", "pressure"],
                "key": "device", "outputs": ["out"],
                "models": [{"type": "rcf", "shingle_size": 1, "number_of_trees": 30, "sub_sample_size": 64,
                            "time_decay": 2000, "output_after": 16, "seed": 5}]}]}
JSON

# The first third of the stream before the second daemon joins, the rest over a few seconds.
head -n 10000 a.kafka > first.kafka
tail -n +10001 a.kafka | split -l 2000 -d -a 3 - rest.
produce sensors first.kafka

OUT=a.jsonl start_rcfd a -c g.json
A_PID=$RCFD_PID
wait_unique 10000 60 a.jsonl
OUT=b.jsonl start_rcfd b -c g.json
B_PID=$RCFD_PID
wait_log b.log "assigned 2 partitions" 60
wait_log b.log "restored [0-9]* keys at offset" 30
( for c in rest.*; do produce sensors "$c"; sleep 0.25; done ) &
PIDS+=($!)
wait_unique 20000 60 a.jsonl b.jsonl
kill -KILL "$B_PID"
wait "$B_PID" 2>/dev/null || true
nb=$(wc -l < b.jsonl)
[ "$(unique a.jsonl b.jsonl)" -lt 40000 ] || fail "the stream ended before SIGKILL: the test proves nothing"
wait_log a.log "assigned 4 partitions" 60
wait_unique 40000 90 a.jsonl b.jsonl
# The survivor's /metrics: lag and checkpoint age for every partition it now holds.
port=$(sed -n 's/.*admin listener on 127.0.0.1:\([0-9]*\).*/\1/p' a.log | head -1)
sleep 0.7   # a periodic checkpoint after the last records
python3 -c "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())" "http://127.0.0.1:$port/metrics" > metrics.txt || fail "no /metrics"
for p in 0 1 2 3; do
    grep -q "^rcfd_consumer_lag{source=\"sensors\",topic=\"sensors\",partition=\"$p\"} 0$" metrics.txt ||
        fail "no zero consumer lag for partition $p: $(grep consumer_lag metrics.txt)"
    age=$(sed -n "s/^rcfd_checkpoint_age_seconds{source=\"sensors\",topic=\"sensors\",partition=\"$p\"} //p" metrics.txt)
    # A partition's last records may have come seconds before the others' (its checkpoint ages,
    # from then on, as it should): the bound scales with the sanitizer/valgrind time multiplier.
    [ -n "$age" ] && awk -v a="$age" -v m="$TIME_MULT" 'BEGIN { exit !(a < 15 * m) }' ||
        fail "checkpoint age of partition $p: '$age' (limit $((15 * TIME_MULT)) s)"
done
grep -Eq '^rcfd_restores_total\{.*\} [1-9]' metrics.txt || fail "no restores counted"
RCFD_PID=$A_PID
stop_rcfd TERM
[ "$RCFD_RC" -eq 0 ] || fail "survivor exit $RCFD_RC"

grep -q "restored [0-9]* keys at offset" a.log || fail "the survivor restored nothing"
out=$($T replays --by-seq a.jsonl b.jsonl merged.jsonl)
echo "$out"
replayed=$(echo "$out" | sed -n 's/.*, \([0-9]*\) replayed.*/\1/p')
$T check merged.jsonl a.exp
"$SCORE_CHECK" merged.jsonl temp,pressure 30 64 2000 1 16 5 ||
    fail "scores differ from a single daemon's run"
echo "second daemon wrote $nb records before SIGKILL; $replayed records were scored twice in all"
# Replays come from the SIGKILL (what the killed daemon read after its last checkpoint) and, when
# the second daemon joins, from restoring a partition before the first daemon's revoke checkpoint
# is written (the previous periodic one is used). Both are bounded by the checkpoint interval; a
# restore that fell back to the committed offsets with fresh models would fail score_check above.
[ "$replayed" -lt 10000 ] || fail "$replayed replays: checkpoints were not used"
echo "ops_state_scaleout: OK"
