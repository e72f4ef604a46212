#!/usr/bin/env bash
# Two daemons in one consumer group, one killed with SIGKILL at a random moment again and again
# while a live stream arrives, so partitions move back and forth during rebalances (the killed
# member's partitions move when its session expires; a restarted one takes some back). Models
# follow their partitions through the Kafka state store. Each daemon writes its own file; both
# produce to one Kafka output topic. At the end every input offset must be in the union of the
# files and in the Kafka topic: lost 0; duplicates are reported.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
N=$((30000 / TIME_MULT))
start_mock in:6 scored:12 state:6
$C gen "$N" 60 11 in.tsv
cat > g.json <<JSON
{"runtime": {"stats_interval_ms": 0, "shutdown_timeout_ms": 5000},
 "state": {"store": "kafka", "topic": "state", "interval_ms": 500},
 "sources": [{"name": "in", "type": "kafka", "topics": ["in"],
              "rdkafka": {"bootstrap.servers": "$BOOT", "group.id": "chaos-group",
                          "auto.offset.reset": "earliest", "auto.commit.interval.ms": 100,
                          "session.timeout.ms": 3000, "heartbeat.interval.ms": 300}}],
 "outputs": [{"name": "file", "type": "file", "path": "\${OUT}"},
             {"name": "kafka", "type": "kafka", "topic": "scored",
              "rdkafka": {"bootstrap.servers": "$BOOT", "linger.ms": "5"}}],
 "pipelines": [{"name": "p", "source": "in", "fields": ["v", "w"], "key": "key",
                "outputs": ["file", "kafka"],
                "models": [{"type": "rcf", "number_of_trees": 50, "sub_sample_size": 128}]}]}
JSON
run=0
start() { # SLOT: starts daemon a or b into a new output file; sets PID_a / PID_b
    run=$((run + 1))
    OUT="$1.$run.jsonl" start_rcfd "$1.$run" -c g.json
    eval "PID_$1=$RCFD_PID"
}
start a
start b
trickle in in.tsv 400 0.3
grows a.1.jsonl 60
kills=0
while [ ! -f in.tsv.done ] || [ "$kills" -lt 6 ]; do
    [ "$kills" -ge 12 ] && break
    sleep "$(python3 -c "import random; print(random.uniform(0.3, 2.5))")"
    victim=$(python3 -c "import random; print(random.choice('ab'))")
    eval "pid=\$PID_$victim"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    kills=$((kills + 1))
    # Back at once, or after its session expired: rebalances both ways.
    sleep "$(python3 -c "import random; print(random.choice([0, 0.5, 4]))")"
    start "$victim"
    echo "kill $kills: $victim; $(cat ./*.jsonl | wc -l) lines so far"
done
trickled in.tsv 240
inputs in in.txt
refresh() { consume scored scored.tsv; cat a.*.jsonl b.*.jsonl > files.jsonl; }
ARGS=(--inputs in.txt --out file=files.jsonl --out kafka=scored.tsv)
covered 240 "${ARGS[@]}"
for v in a b; do
    eval "RCFD_PID=\$PID_$v"
    stop_rcfd TERM
    [ "$RCFD_RC" -eq 0 ] || fail "daemon $v: exit code $RCFD_RC"
done
refresh
$C count "${ARGS[@]}"
echo "ch_group: $kills kills during rebalances, nothing lost"
