#!/usr/bin/env bash
# The daemon against `rcfd dev-broker` (the mock cluster behind its bootstrap relay, producing the
# sensor sample), as docs/daemon.md runs it, and what an operator sees: the wait for the partition
# assignment is logged, so are a backlog and its catching up, /health and /ready report the source's state (503 "down" once every broker
# is gone), HEAD /metrics has GET's Content-Length, a busy admin port exits 71 naming the key, and a
# connection failure is one log line, not two.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# http METHOD PATH -> "STATUS<TAB>Content-Length<TAB>body" from the admin listener
http() {
    python3 - "$ADMIN" "$1" "$2" <<'PY'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
c.request(sys.argv[2], sys.argv[3])
r = c.getresponse()
body = r.read().decode()
print("%d\t%s\t%s" % (r.status, r.getheader("Content-Length"), body))
PY
}

PORT=$(free_port)
setpriv --pdeathsig KILL "$RCFD" dev-broker --listen "127.0.0.1:$PORT" --sample 400 \
    --fault-every 300 --bootstrap-file boot.txt > broker.out 2> broker.log &
BROKER_PID=$!
PIDS+=($BROKER_PID)
wait_log broker.out "Ctrl-C or SIGTERM" 20
grep -q "bootstrap:  127.0.0.1:$PORT (relayed to the brokers at 127.0.0.1:" broker.out ||
    fail "dev-broker did not print its relayed bootstrap address"
[ "$(cat boot.txt)" = "127.0.0.1:$PORT" ] || fail "--bootstrap-file holds $(cat boot.txt)"
# kcat reaches the cluster through the relay too (metadata, then the broker's own address).
echo '{"machine":"machine-9","temperature":21.5,"pressure":101.2,"vibration":0.52}' |
    kcat -P -b "127.0.0.1:$PORT" -t sensors -k machine-9 -X log_level=3 ||
    fail "kcat could not produce through the relay"

cat > c.json <<'JSON'
{"runtime": {"admin_listen": "${ADMIN_LISTEN:-127.0.0.1:0}", "stats_interval_ms": 0,
             "shutdown_timeout_ms": 2000},
 "sources": [{"name": "sensors", "type": "kafka", "topics": ["sensors"], "close_timeout_ms": 1500,
              "rdkafka": {"bootstrap.servers": "${KAFKA_BOOTSTRAP:-127.0.0.1:9092}",
                          "group.id": "it-health", "auto.offset.reset": "earliest"}}],
 "outputs": [{"name": "out", "type": "file", "path": "${STATE_DIRECTORY:-.}/out.jsonl"}],
 "pipelines": [{"name": "p", "source": "sensors", "key": "machine",
                "fields": ["temperature", "pressure", "vibration"], "outputs": ["out"],
                "models": [{"type": "rcf", "number_of_trees": 20, "sub_sample_size": 64}]}]}
JSON
# A backlog before the daemon starts: it logs how far behind it is, then that it caught up. The
# 4 keys fill only some of the 4 partitions: the first look at the lag must not take an empty
# partition's watermark, known first, for "no backlog" (CI once read it all unreported).
python3 -c '
import json
for i in range(100000):
    print("machine-%d\t%s" % (i % 4, json.dumps({"machine": "machine-%d" % (i % 4),
          "temperature": 20 + i % 7, "pressure": 101, "vibration": 0.5})))' > backlog.kafka
kcat -P -b "127.0.0.1:$PORT" -t sensors -K $'\t' -z none -X log_level=3 < backlog.kafka ||
    fail "kcat could not produce the backlog"
KAFKA_BOOTSTRAP=127.0.0.1:$PORT start_rcfd d -c c.json --state-dir st/nested
wait_log d.log 'as group "it-health"; waiting for the group coordinator to assign partitions' 10
wait_log d.log "admin listener on 127.0.0.1:" 10
ADMIN=$(sed -n 's/.*admin listener on 127.0.0.1:\([0-9]*\).*/\1/p' d.log | head -1)
wait_log d.log "assigned 4 partitions (eager), [0-9.]* s after subscribing" 30
wait_log d.log "records behind over [0-9]* partitions; catching up" 30
wait_lines st/nested/out.jsonl 100400 90
wait_log d.log "caught up" 30
grep -q '"machine":"machine-9"' st/nested/out.jsonl || fail "the kcat record was not scored"

IFS=$'\t' read -r status _ body < <(http GET /health)
[ "$status" = 200 ] || fail "/health $status: $body"
python3 - "$body" <<'PY' || fail "/health body: $body"
import json, sys
h = json.loads(sys.argv[1])
assert h["status"] == "ok" and h["ready"] is True, h
assert h["sources"][0]["name"] == "sensors" and h["sources"][0]["state"] == "up", h
assert "4 partitions assigned" in h["sources"][0]["detail"], h
assert h["outputs"] == [{"name": "out", "state": "ok"}], h
PY
IFS=$'\t' read -r status _ body < <(http GET /ready)
[ "$status" = 200 ] || fail "/ready $status: $body"
http GET /metrics > metrics.txt
version=$("$RCFD" --version | sed 's/^rcfd \([^ ]*\) (commit \(.*\))$/\1 \2/')
grep -q "^rcfd_build_info{version=\"${version% *}\",commit=\"${version#* }\"} 1$" metrics.txt ||
    fail "no rcfd_build_info for $version: $(grep build_info metrics.txt)"
python3 - <<'PY' || fail "bytes counters"
import re
t = open("metrics.txt").read()
src = float(re.search(r'^rcfd_source_bytes_total\{source="sensors"\} (\S+)$', t, re.M).group(1))
out = float(re.search(r'^rcfd_output_bytes_total\{output="out"\} (\S+)$', t, re.M).group(1))
# every record read was written, larger by its scores: the output has more bytes than the input
assert 100400 * 80 < src < out, (src, out)
PY
IFS=$'\t' read -r status len body < <(http HEAD /metrics)
[ "$status" = 200 ] && [ "$len" -gt 1000 ] && [ -z "$body" ] ||
    fail "HEAD /metrics: status $status, Content-Length $len, body '$body'"

# The admin port is taken: exit 71 with a message naming the key.
set +e
KAFKA_BOOTSTRAP=127.0.0.1:$PORT ADMIN_LISTEN=127.0.0.1:$ADMIN "$RCFD" -c c.json 2> busy.log
rc=$?
set -e
[ "$rc" -eq 71 ] || fail "a busy admin port exited $rc, expected 71"
grep -q "runtime.admin_listen: 127.0.0.1:$ADMIN is in use" busy.log || fail "busy port message"

# Every broker gone: /health is 503 "down", /ready 503, and each failure is logged once.
kill -TERM "$BROKER_PID"
wait "$BROKER_PID" 2>/dev/null || true
grep -q "stopping" broker.log || fail "dev-broker did not stop on SIGTERM"
deadline=$(( $(date +%s) + 20 * TIME_MULT ))
while :; do
    IFS=$'\t' read -r status _ body < <(http GET /health)
    [ "$status" = 503 ] && break
    [ "$(date +%s)" -lt "$deadline" ] || fail "/health still $status with every broker gone: $body"
    sleep 0.5
done
python3 - "$body" <<'PY' || fail "/health body: $body"
import json, sys
h = json.loads(sys.argv[1])
assert h["status"] == "down" and h["ready"] is False, h
assert h["sources"][0]["state"] == "down" and h["sources"][0]["detail"] == "no broker reachable", h
PY
IFS=$'\t' read -r status _ body < <(http GET /ready)
[ "$status" = 503 ] || fail "/ready $status with the brokers gone"
sleep 2
refused=$(grep -c "Connection refused" d.log || true)
[ "$refused" -ge 1 ] || fail "no connection failure logged"
! grep -q "_TRANSPORT:" d.log || fail "connection failures are logged twice (the error callback too)"
stop_rcfd TERM
[ "$RCFD_RC" -eq 0 ] || fail "exit $RCFD_RC after SIGTERM"
echo "it_health: OK ($refused connection failures logged once each)"
