#!/usr/bin/env bash
# At-least-once across failures. (1) A pipeline with two outputs, one of them /dev/full (every
# write fails with ENOSPC, so that output never accepts): the good output gets every record, but no
# offset may be stored (rcfd_committed_offset stays absent); SIGTERM gives up after
# shutdown_timeout_ms with exit 75, and a restart of the same group reads everything again.
# (2) SIGKILL in the middle of a larger stream once rcfd_committed_offset shows a commit, restart:
# nothing is lost (duplicates are allowed) and not everything is read again.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
T="python3 $SRC_DIR/tests/integration/tools.py"

start_mock sensors:4
$T gen 1500 16 11 0 0 a
produce sensors a.kafka

config() { # GROUP SECOND_OUTPUT_PATH
cat > "$1.json" <<JSON
{"runtime": {"stats_interval_ms": 0, "shutdown_timeout_ms": 1500, "admin_listen": "127.0.0.1:0"},
 "sources": [{"name": "sensors", "type": "kafka", "topics": ["sensors"],
              "rdkafka": {"bootstrap.servers": "$BOOT", "group.id": "$1",
                          "auto.offset.reset": "earliest", "auto.commit.interval.ms": 100,
                          "session.timeout.ms": 4000, "heartbeat.interval.ms": 500}}],
 "outputs": [{"name": "good", "type": "file", "path": "\${OUT}"},
             {"name": "second", "type": "file", "path": "$2", "retry_initial_ms": 50,
              "retry_max_ms": 200}],
 "pipelines": [{"name": "p", "source": "sensors", "fields": ["temp", "pressure"],
                "key": "device", "outputs": ["good", "second"],
                "models": [{"type": "rcf", "number_of_trees": 10, "sub_sample_size": 16,
                            "time_decay": 500}]}]}
JSON
}

# (1) second output refuses everything
config g1 /dev/full
OUT=a1.jsonl start_rcfd a1 -c g1.json
wait_lines a1.jsonl 1500 60
sleep 1   # several auto-commit intervals: nothing may be committed
[ "$(committed a1.log)" -eq 0 ] || fail "offsets committed while an output refused every record"
stop_rcfd TERM
[ "$RCFD_RC" -eq 75 ] || fail "expected exit 75 with undeliverable records, got $RCFD_RC"
grep -q "retrying" a1.log || fail "no retries logged"
grep -q "not accepted by every output" a1.log || fail "no give-up message"
config g1 a2.second.jsonl
OUT=a2.jsonl start_rcfd a2 -c g1.json
wait_lines a2.jsonl 1500 60
wait_lines a2.second.jsonl 1500 10
stop_rcfd TERM
[ "$RCFD_RC" -eq 0 ] || fail "exit code $RCFD_RC"
$T check a2.jsonl a.exp          # everything again, exactly once in this run
$T check a2.second.jsonl a.exp

# (2) SIGKILL mid-stream
$T gen 20000 16 12 50000 0 b
produce sensors b.kafka
config g2 b.second.jsonl
# A heavier forest for this part, so SIGKILL lands mid-stream.
sed -i 's/"number_of_trees": 10, "sub_sample_size": 16/"number_of_trees": 100, "sub_sample_size": 256, "explain": true/; s/"time_decay": 500/"time_decay": 5000/' g2.json
OUT=b1.jsonl start_rcfd b1 -c g2.json
wait_lines b1.jsonl 3000 60
# SIGKILL only once some offsets are committed, so the restart must resume from them (killed
# before the first commit, it would rightly read everything again).
deadline=$(( $(date +%s) + 20 * TIME_MULT ))
until [ "$(committed b1.log)" -gt 0 ]; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "no offset committed while records were written"
    sleep 0.1
done
stop_rcfd KILL
n1=$(wc -l < b1.jsonl)
[ "$n1" -lt 21500 ] || fail "rcfd finished before SIGKILL ($n1 records): the test proves nothing"
OUT=b2.jsonl start_rcfd b2 -c g2.json
# g2 is a new group: it reads a's records too (1500) plus b's 20000. Caught up when every one of
# them is written (distinct records: the lines of both runs include the replayed duplicates).
wait_unique 21500 120 b1.jsonl b2.jsonl
sleep 0.5
stop_rcfd TERM
[ "$RCFD_RC" -eq 0 ] || fail "exit code $RCFD_RC"
cat a.exp b.exp > ab.exp
cat b1.jsonl b2.jsonl | grep -v '^$' > b12.jsonl || true
# A SIGKILLed writer may leave a partial last line; drop it before checking.
python3 - b12.jsonl <<'PY'
import json, sys
good = []
for l in open(sys.argv[1]):
    try:
        json.loads(l); good.append(l)
    except ValueError:
        pass
open(sys.argv[1], "w").writelines(good)
PY
$T check b12.jsonl ab.exp --dups
echo "killed after $n1 records; restart wrote $(wc -l < b2.jsonl)"
[ "$(wc -l < b2.jsonl)" -lt 21500 ] || fail "restart re-read everything: offsets were never committed"
echo "it_kafka_restart: OK"
