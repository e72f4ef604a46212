#!/usr/bin/env bash
# /health is 503 as soon as every broker is gone, and stays 503 while the source still scores
# what librdkafka had prefetched: records fetched before the outage say nothing about the
# brokers (a build that took each consumed record for a successful fetch answered 200 until the
# prefetch ran out or the next statistics, 5 s later).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

start_mock sensors:2
MOCK_PID=${PIDS[-1]}
python3 -c '
import json
for i in range(200000):
    print("m%d\t%s" % (i % 2, json.dumps({"m": "m%d" % (i % 2), "v": (i * 7919) % 1000 / 10.0})))' \
    > backlog.kafka
produce sensors backlog.kafka

# A slow pipeline (explanations over a shingle of 8), so the prefetch takes seconds to score.
cat > c.json <<JSON
{"runtime": {"admin_listen": "127.0.0.1:0", "stats_interval_ms": 0, "shutdown_timeout_ms": 2000},
 "sources": [{"name": "sensors", "type": "kafka", "topics": ["sensors"], "close_timeout_ms": 1500,
              "rdkafka": {"bootstrap.servers": "$BOOT", "group.id": "drain",
                          "auto.offset.reset": "earliest"}}],
 "outputs": [{"name": "o", "type": "file", "path": "out.jsonl"}],
 "pipelines": [{"name": "p", "source": "sensors", "key": "m", "fields": ["v"], "outputs": ["o"],
                "models": [{"type": "rcf", "shingle_size": 8, "explain": true}]}]}
JSON
start_rcfd d -c c.json
wait_log d.log "admin listener on 127.0.0.1:" 10
ADMIN=$(sed -n 's/.*admin listener on 127.0.0.1:\([0-9]*\).*/\1/p' d.log | head -1)
wait_lines out.jsonl 5000 60
status() { curl -s -o /dev/null -w '%{http_code}' "127.0.0.1:$ADMIN/health"; }
[ "$(status)" = 200 ] || fail "/health $(status) with the brokers up"

kill -9 "$MOCK_PID"
wait "$MOCK_PID" 2>/dev/null || true
deadline=$(( $(date +%s) + 3 * TIME_MULT ))
until [ "$(status)" = 503 ]; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "/health still $(status) 3 s after every broker went"
    sleep 0.1
done
at_down=$(wc -l < out.jsonl)
for i in $(seq 20); do
    sleep 0.1
    s=$(status)
    [ "$s" = 503 ] || fail "/health went back to $s with every broker gone (look $i, $(wc -l < out.jsonl) lines)"
done
after=$(wc -l < out.jsonl)
# The looks above were taken while prefetched records were still being scored, else they
# proved nothing.
[ "$after" -gt "$at_down" ] || fail "no record was scored after the brokers went ($after lines)"
stop_rcfd TERM
[ "$RCFD_RC" -eq 0 ] || fail "exit $RCFD_RC after SIGTERM"
echo "it_health_draining: OK (503 throughout while $((after - at_down)) prefetched records were scored)"
