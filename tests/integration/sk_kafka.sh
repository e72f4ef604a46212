#!/usr/bin/env bash
# Kafka sink into librdkafka's mock cluster: records consumed from "in" are scored and produced to
# "scored" with the pipeline key as the message key; malformed input goes to the Kafka topic "dlq"
# (a Kafka output as the pipeline's dead_letter). Read back with kcat: every record present (at
# least once; per key in order), every message key equals the record's device, the dead letters
# carry their reasons; SIGTERM exits 0 after the delivery reports acknowledged everything. The
# scored producer's queue is capped at 50 messages, so __QUEUE_FULL backpressure is exercised.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
T="python3 $SRC_DIR/tests/integration/tools.py"

start_mock in:4 scored:3 dlq:1
$T gen 2000 16 11 0 6 run
produce in run.kafka

cat > k.json <<JSON
{"log": {"level": "info"}, "runtime": {"stats_interval_ms": 0},
 "sources": [{"name": "in", "type": "kafka", "topics": ["in"],
              "rdkafka": {"bootstrap.servers": "$BOOT", "group.id": "sk-kafka",
                          "auto.offset.reset": "earliest", "auto.commit.interval.ms": 200}}],
 "outputs": [{"name": "scored", "type": "kafka", "topic": "scored",
              "rdkafka": {"bootstrap.servers": "$BOOT", "linger.ms": "5",
                          "queue.buffering.max.messages": "50"}},
             {"name": "dlq", "type": "kafka", "topic": "dlq",
              "rdkafka": {"bootstrap.servers": "$BOOT"}}],
 "pipelines": [{"name": "p", "source": "in", "fields": ["temp", "pressure"], "key": "device",
                "outputs": ["scored"], "dead_letter": "dlq",
                "models": [{"type": "rcf", "number_of_trees": 10, "sub_sample_size": 32,
                            "output_after": 4}]}]}
JSON
start_rcfd k -c k.json
consume() { # TOPIC FILE N
    local deadline=$(( $(date +%s) + 60 * TIME_MULT ))
    while :; do
        kcat -C -b "$BOOT" -t "$1" -e -q -f '%k\t%s\n' -X log_level=3 > "$2" 2>/dev/null || true
        [ "$(wc -l < "$2")" -ge "$3" ] && return 0
        [ "$(date +%s)" -ge "$deadline" ] && fail "$1: $(wc -l < "$2") messages, expected $3"
        sleep 0.5
    done
}
consume scored scored.tsv 2000
consume dlq dlq.tsv 6
stop_rcfd TERM
[ "$RCFD_RC" -eq 0 ] || fail "SIGTERM exit code $RCFD_RC"
# The scored output's producer queue holds 50 messages: __QUEUE_FULL backpressure must have
# happened, and every record still arrived.
grep -Eq "\[scored\] kafka: [0-9]+ produced, [0-9]+ delivered, 0 retriable failures, 0 permanent, [1-9][0-9]* queue full" k.log ||
    fail "no queue-full backpressure in the producer summary: $(grep 'kafka: ' k.log)"
python3 - scored.tsv <<'PY'
import json, sys
with open("scored.jsonl", "w") as out:
    for line in open(sys.argv[1]):
        key, val = line.rstrip("\n").split("\t", 1)
        r = json.loads(val)
        assert key == r["device"], (key, r["device"])
        out.write(val + "\n")
PY
$T check scored.jsonl run.exp --dups
cut -f2- dlq.tsv > dlq.jsonl
$T dead dlq.jsonl run.bad

# Retriable failures: a producer whose broker is unreachable has every message time out
# (__MSG_TIMED_OUT after message.timeout.ms). That is RETRY, not a dead letter: the batch is
# resent after a backoff, nothing is dead-lettered, and SIGTERM exits 75 (offsets not stored).
head -n 20 run.kafka | cut -f2- | grep '"seq"' > few.jsonl
cat > down.json <<JSON
{"log": {"level": "info"}, "runtime": {"stats_interval_ms": 0, "shutdown_timeout_ms": 300},
 "sources": [{"name": "s", "type": "file", "path": "few.jsonl"}],
 "outputs": [{"name": "scored", "type": "kafka", "topic": "scored", "dead_letter": "dl",
              "retry_initial_ms": 50, "retry_max_ms": 100,
              "rdkafka": {"bootstrap.servers": "127.0.0.1:1", "message.timeout.ms": "300"}},
             {"name": "dl", "type": "file", "path": "down-dead.jsonl"}],
 "pipelines": [{"name": "p", "source": "s", "fields": ["temp", "pressure"], "key": "device",
                "outputs": ["scored"],
                "models": [{"type": "rcf", "number_of_trees": 5, "sub_sample_size": 16}]}]}
JSON
start_rcfd down -c down.json
# The batch in flight is resent again and again (with workers, the records can reach the output in
# more than one batch: the first keeps failing, the others wait behind it); all 20 stay in flight.
for _ in $(seq 100); do [ "$(grep -c 'send failed; retrying' down.log)" -ge 3 ] && break; sleep 0.1; done
stop_rcfd TERM
[ "$RCFD_RC" -eq 75 ] || fail "unreachable broker: exit $RCFD_RC, expected 75"
[ "$(grep -c 'send failed; retrying' down.log)" -ge 3 ] || fail "timed-out messages were not retried"
grep -q 'delivery failed, will retry' down.log || fail "no message timed out"
grep -q 'stopping: 20 records in flight' down.log || fail "records left the output while the broker was down"
[ ! -s down-dead.jsonl ] || fail "a retriable failure was dead-lettered"
echo "sk_kafka: OK"
