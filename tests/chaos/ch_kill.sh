#!/usr/bin/env bash
# At-least-once across every output through kill -9 and SIGTERM at random moments. A live stream
# of numbered records (some malformed) arrives in a 4-partition topic while the daemon, writing to
# a file, a Kafka topic and a dead-letter file, is killed (SIGKILL and SIGTERM alternately, at a
# random moment once it is making progress) and restarted, again and again; a last run catches up.
# Every input offset must then be in the file output and in the Kafka output (or in the dead
# letters): lost 0; duplicates are reported. A SIGTERM must exit 0, or 75 when outputs did not
# accept everything in time (their offsets are then not committed).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
N=$((40000 / TIME_MULT))
start_mock in:4 scored:12
$C gen "$N" 50 7 in.tsv
python3 - <<'PY'
import random
r = random.Random(5)
lines = open("in.tsv").read().splitlines()
for i in range(0, len(lines), 997):
    lines.insert(i, "bad\t{\"key\":\"k1\",\"v\":")
open("in.tsv", "w").write("\n".join(lines) + "\n")
PY
cat > k.json <<JSON
{"runtime": {"stats_interval_ms": 0, "shutdown_timeout_ms": 5000},
 "sources": [{"name": "in", "type": "kafka", "topics": ["in"],
              "rdkafka": {"bootstrap.servers": "$BOOT", "group.id": "chaos-kill",
                          "auto.offset.reset": "earliest", "auto.commit.interval.ms": 100,
                          "session.timeout.ms": 3000, "heartbeat.interval.ms": 300}}],
 "outputs": [{"name": "file", "type": "file", "path": "out.jsonl"},
             {"name": "kafka", "type": "kafka", "topic": "scored",
              "rdkafka": {"bootstrap.servers": "$BOOT", "linger.ms": "5"}},
             {"name": "dlq", "type": "file", "path": "dead.jsonl"}],
 "pipelines": [{"name": "p", "source": "in", "fields": ["v", "w"], "key": "key",
                "outputs": ["file", "kafka"], "dead_letter": "dlq",
                "models": [{"type": "rcf", "number_of_trees": 100, "sub_sample_size": 256}]}]}
JSON
trickle in in.tsv 500 0.2
kills=0
for i in $(seq 12); do
    [ -f in.tsv.done ] && [ "$kills" -ge 4 ] && break
    start_rcfd r$i -c k.json
    if [ -f in.tsv.done ]; then
        # the whole stream is in the topic and may all be scored already: kill once the restarted
        # daemon has its partitions (it then replays whatever was not committed)
        wait_log r$i.log "assigned 4 partitions" 60
    else
        grows out.jsonl 60
    fi
    sleep "$(python3 -c "import random; print(random.uniform(0, 2))")"
    if [ $((i % 2)) -eq 0 ]; then
        stop_rcfd TERM
        [ "$RCFD_RC" -eq 0 ] || [ "$RCFD_RC" -eq 75 ] || fail "SIGTERM: exit code $RCFD_RC"
    else
        stop_rcfd KILL
    fi
    kills=$((kills + 1))
    echo "stop $i: $(lines out.jsonl) lines so far"
done
start_rcfd final -c k.json
trickled in.tsv 240
inputs in in.txt
refresh() { consume scored scored.tsv; }
ARGS=(--inputs in.txt --out file=out.jsonl --out kafka=scored.tsv --dead dead.jsonl)
covered 180 "${ARGS[@]}"
stop_rcfd TERM
[ "$RCFD_RC" -eq 0 ] || fail "final SIGTERM: exit code $RCFD_RC"
consume scored scored.tsv
$C count "${ARGS[@]}"
echo "ch_kill: $kills stops, nothing lost"
