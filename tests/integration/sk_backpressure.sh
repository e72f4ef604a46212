#!/usr/bin/env bash
# Backpressure: 30000 records wait in Kafka while the webhook is down (connections refused for
# 30 s), then it comes back. While it is down the source pauses its partitions once the outputs
# hold runtime.max_inflight_bytes (1 MiB) of queued records (logged with the byte count;
# max_inflight is set out of reach), the records-read counter stays flat,
# and rcfd's RSS (/proc) stays bounded; afterwards consumption resumes and every record reaches the
# server, per key in order. SIGTERM then exits 0.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sk_lib.sh"
T="python3 $SRC_DIR/tests/integration/tools.py"
N=30000
DOWN=30 # the outage issue 5 specifies

start_mock in:4
$T gen $N 16 21 0 0 run
produce in run.kafka
start_http srv --down-s $DOWN
cat > b.json <<JSON
{"log": {"level": "info"}, "runtime": {"stats_interval_ms": 1000, "max_inflight": 1000000,
                                        "max_inflight_bytes": 1048576},
 "sources": [{"name": "in", "type": "kafka", "topics": ["in"],
              "rdkafka": {"bootstrap.servers": "$BOOT", "group.id": "sk-bp",
                          "auto.offset.reset": "earliest", "queued.max.messages.kbytes": "1024",
                          "max.partition.fetch.bytes": "65536"}}],
 "outputs": [{"name": "hook", "type": "webhook", "url": "http://127.0.0.1:$HTTP_PORT/",
              "batch_max_records": 100, "batch_max_delay_ms": 10, "connect_timeout_ms": 500,
              "timeout_ms": 5000, "retry_initial_ms": 100, "retry_max_ms": 1000}],
 "pipelines": [{"name": "p", "source": "in", "fields": ["temp", "pressure"], "key": "device",
                "outputs": ["hook"],
                "models": [{"type": "rcf", "number_of_trees": 10, "sub_sample_size": 32}]}]}
JSON
start_rcfd b -c b.json
t0=$(date +%s)
rss() { awk '/VmRSS/ {print $2}' /proc/"$RCFD_PID"/status; }
read_count() { grep -o 'source in: [0-9]* records read' b.log | tail -n1 | awk '{print $3}'; }
# Let it fill up and pause.
for _ in $(seq 100); do grep -q "pausing sources" b.log && break; sleep 0.1; done
grep -q "pausing sources" b.log || fail "never paused"
pb=$(grep -o '([0-9]* bytes) in flight: pausing' b.log | head -n1 | tr -dc 0-9)
[ "$pb" -ge 1048576 ] && [ "$pb" -lt 1200000 ] || fail "paused at $pb bytes, expected just over 1 MiB"
sleep 2
rss1=$(rss); n1=$(read_count)
peak=$rss1
while [ $(( $(date +%s) - t0 )) -lt $(( DOWN - 3 )) ]; do
    r=$(rss); [ "$r" -gt "$peak" ] && peak=$r
    sleep 0.5
done
n2=$(read_count)
echo "paused: read $n1 -> $n2 records; RSS ${rss1} kB -> peak ${peak} kB"
[ "$n1" = "$n2" ] || fail "consumption went on while paused ($n1 -> $n2)"
[ "$n2" -lt $N ] || fail "everything was read before the pause"
[ $(( peak - rss1 )) -lt 16384 ] || fail "RSS grew by $(( peak - rss1 )) kB while paused"
wait_listening srv 15
# Back up: everything arrives.
deadline=$(( $(date +%s) + 30 * TIME_MULT ))
while [ "$(python3 -c 'import json;print(json.load(open("srv/stats.json"))["records"])')" -lt $N ]; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "not everything delivered after the webhook came back"
    sleep 0.5
done
grep -q "resuming sources" b.log || fail "never resumed"
stop_rcfd TERM
[ "$RCFD_RC" -eq 0 ] || fail "SIGTERM exit code $RCFD_RC"
python3 - srv/accepted.jsonl $N <<'PY'
import json, sys
seen, last = set(), {}
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["seq"] in seen:
        continue
    seen.add(r["seq"])
    assert r["seq"] > last.get(r["device"], -1), ("order", r["device"], r["seq"])
    last[r["device"]] = r["seq"]
assert len(seen) == int(sys.argv[2]), len(seen)
PY
echo "sk_backpressure: OK ($(( $(date +%s) - t0 )) s)"
