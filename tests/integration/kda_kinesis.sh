#!/usr/bin/env bash
# Kinesis Data Streams in and out, against kinesalite: records produced into a 2-shard stream
# are all scored and written to a file and to a second stream (PutRecords); rcfd is killed with
# SIGKILL while records keep arriving and, restarted, resumes from its checkpoint's sequence
# numbers with nothing lost; a shard is split while rcfd runs, and the children are read after
# their parent is read to its end (each key's records stay in order); two daemons with
# instance/instances read disjoint shards whose union is every record; an output to a stream
# that does not exist dead-letters with Kinesis' error.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/integration/kinesis_lib.sh"
start_kinesalite
kin create in 2
kin create out 2

gen() { # gen FROM TO FILE
    python3 -c '
import json, sys, math
a, b = int(sys.argv[1]), int(sys.argv[2])
for i in range(a, b):
    k = i % 10
    print(json.dumps({"seq": i, "key": "k%d" % k, "v": round(10 * math.sin(i / 7.0) + k, 4)}))' "$1" "$2" > "$3"
}

APORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
config() { # config FILE INSTANCE INSTANCES OUT STATE STREAM [ADMIN]
    cat > "$1" <<JSON
{"state": {"dir": "$PWD/$5", "interval_ms": 300}, "runtime": {"admin_listen": "${7:-}"},
 "sources": [{"name": "kin", "type": "kinesis", "stream": "$6", "endpoint": "http://127.0.0.1:$KPORT",
              "region": "us-east-1", "starting_position": "TRIM_HORIZON", "poll_interval_ms": 200,
              "list_shards_interval_ms": 500, "instance": $2, "instances": $3}],
 "outputs": [{"name": "file", "type": "file", "path": "$4"},
             {"name": "stream", "type": "kinesis", "stream": "out", "endpoint": "http://127.0.0.1:$KPORT",
              "region": "us-east-1", "dead_letter": "dead"},
             {"name": "dead", "type": "file", "path": "dead-$4"}],
 "pipelines": [{"name": "p", "source": "kin", "key": "key", "fields": ["v"], "outputs": ["file", "stream"],
                "models": [{"type": "rcf", "number_of_trees": 10, "sub_sample_size": 16, "time_decay": 200,
                            "shingle_size": 2}]}]}
JSON
}
mkdir state
config run.json 0 1 out.jsonl state in "127.0.0.1:$APORT"
"$RCFD" --check-config -c run.json > /dev/null

# 1. produce, consume across both shards
gen 0 2000 a.jsonl
kin put in a.jsonl key
start_rcfd run1 -c run.json
wait_unique 2000 60 out.jsonl
grep -q '"partition":0' out.jsonl && grep -q '"partition":1' out.jsonl || fail "not both shards read"
curl -sf "http://127.0.0.1:$APORT/metrics" > metrics.txt || fail "no /metrics"
grep -q 'rcfd_kinesis_millis_behind_latest{source="kin",stream="in",shard="shardId-000000000001"} 0' metrics.txt ||
    fail "metrics: $(grep kinesis metrics.txt)"

# 2. SIGKILL while records arrive, then resume from the checkpoint
gen 2000 4000 b.jsonl
kin put in b.jsonl key &
PUT=$!
wait_unique 2300 60 out.jsonl
stop_rcfd KILL
wait $PUT
before=$(wc -l < out.jsonl)
start_rcfd run2 -c run.json
wait_log run2.log "restored 10 keys at offset" 30
wait_unique 4000 60 out.jsonl
echo "kill -9: $before lines before, $(wc -l < out.jsonl) after; $(unique out.jsonl) distinct of 4000"

# 3. split a shard while running: children after their parent
mark=$(wc -l < out.jsonl)
kin split in shardId-000000000000
kin shards in > shards.txt
grep -q 'shardId-000000000000 - closed' shards.txt || fail "split: $(cat shards.txt)"
gen 4000 6000 c.jsonl
kin put in c.jsonl key
wait_unique 6000 60 out.jsonl
wait_log run2.log "shard shardId-000000000000 is closed and read to its end" 20
grep -q "shard shardId-000000000002 (child of shardId-000000000000)" run2.log || fail "no child shard: $(grep shard run2.log)"
tail -n +"$((mark + 1))" out.jsonl > after-split.jsonl
python3 - <<'PY'
import json
last = {}
parts = set()
for line in open("after-split.jsonl"):
    r = json.loads(line)
    k, s = r["key"], r["seq"]
    if s < 4000:
        continue
    parts.add(r["_rcfd"]["partition"])
    assert last.get(k, -1) < s, "key %s: seq %d after %d" % (k, s, last[k])
    last[k] = s
assert {1, 2, 3} <= parts, parts  # the open shard and both children
print("split: every key in order across the reshard; shards", sorted(parts))
PY
stop_rcfd TERM
[ "$RCFD_RC" -eq 0 ] || fail "SIGTERM exit $RCFD_RC"

# The sink: every record in the output stream (at least once).
kin read out > out-stream.jsonl
n=$(grep -o '"seq": *[0-9]*' out-stream.jsonl | sort -u | wc -l)
[ "$n" -eq 6000 ] || fail "output stream has $n of 6000 records"
grep -q '"anomaly_score"' out-stream.jsonl || fail "output stream records are not scored"

# 4. a static split over two daemons
kin create four 4
gen 0 1000 d.jsonl
kin put four d.jsonl key
mkdir s0 s1
config i0.json 0 2 i0.jsonl s0 four
config i1.json 1 2 i1.jsonl s1 four
start_rcfd i0 -c i0.json
P0=$RCFD_PID
start_rcfd i1 -c i1.json
wait_unique 1000 60 i0.jsonl i1.jsonl
kill -TERM "$P0" "$RCFD_PID"
wait "$P0" "$RCFD_PID" || true
python3 - <<'PY'
import json
a = {json.loads(l)["seq"] for l in open("i0.jsonl")}
b = {json.loads(l)["seq"] for l in open("i1.jsonl")}
pa = {json.loads(l)["_rcfd"]["partition"] for l in open("i0.jsonl")}
pb = {json.loads(l)["_rcfd"]["partition"] for l in open("i1.jsonl")}
assert not (a & b) and len(a | b) == 1000, (len(a), len(b), len(a & b))
assert pa == {0, 2} and pb == {1, 3}, (pa, pb)
print("instances: %d + %d records, shards %s and %s" % (len(a), len(b), sorted(pa), sorted(pb)))
PY

# 5. an output stream that does not exist: dead letters with the error
sed 's/"stream": "out"/"stream": "missing"/' i0.json > miss.json
sed -i 's#"dir": "[^"]*"#"dir": "'"$PWD"'/s2"#; s#i0.jsonl#m.jsonl#' miss.json
mkdir s2
start_rcfd miss -c miss.json
wait_lines dead-m.jsonl 10 30
stop_rcfd TERM
grep -q 'ResourceNotFoundException' dead-m.jsonl || fail "dead letter: $(head -1 dead-m.jsonl)"
# 6. the Kafka state store (librdkafka's mock cluster) keeps the position too: a graceful stop
# checkpoints, and the restart reads on from there, nothing twice
start_mock rcfd-state:1
kin create one 1
gen 0 500 e.jsonl
kin put one e.jsonl key
config ks.json 0 1 ks.jsonl unused one
python3 - "$BOOT" <<'PY'
import json, sys
c = json.load(open("ks.json"))
c["state"] = {"store": "kafka", "topic": "rcfd-state", "interval_ms": 300,
              "rdkafka": {"bootstrap.servers": sys.argv[1]}}
json.dump(c, open("ks.json", "w"))
PY
start_rcfd ks1 -c ks.json
wait_unique 500 60 ks.jsonl
stop_rcfd TERM
gen 500 1000 f.jsonl
kin put one f.jsonl key
start_rcfd ks2 -c ks.json
wait_unique 1000 60 ks.jsonl
wait_log ks2.log "restored 10 keys at offset 500" 10
stop_rcfd TERM
[ "$(wc -l < ks.jsonl)" -eq 1000 ] || fail "kafka store: $(wc -l < ks.jsonl) lines for 1000 records"

echo "kda_kinesis: OK"
