#!/usr/bin/env bash
# The Kinesis sink against a scripted PutRecords endpoint (kinesis_put_server.py): a call that
# fails whole is retried; of a partially failed call the accepted records are not sent again, the
# throttled ones are retried (alone) until accepted, and those failing for good reach the dead
# letter output with Kinesis' error code; calls carry curl's SigV4 signature and at most 500
# records; the pipeline key is the partition key.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
export AWS_ACCESS_KEY_ID=rcfd-test AWS_SECRET_ACCESS_KEY=rcfd-test-secret
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_SHARED_CREDENTIALS_FILE

python3 "$SRC_DIR/tests/integration/kinesis_put_server.py" port calls.jsonl 2> server.log &
PIDS+=($!)
for _ in $(seq 100); do [ -s port ] && break; sleep 0.05; done
PORT=$(cat port)
python3 -c '
import json
for i in range(1200):
    print(json.dumps({"seq": i, "host": "h%d" % (i % 4), "v": i % 13}))' > in.jsonl
cat > put.json <<JSON
{"sources": [{"name": "f", "type": "file", "path": "in.jsonl"}],
 "outputs": [{"name": "k", "type": "kinesis", "stream": "alerts", "endpoint": "http://127.0.0.1:$PORT",
              "region": "us-east-1", "retry_initial_ms": 20, "retry_max_ms": 200, "dead_letter": "dead"},
             {"name": "dead", "type": "file", "path": "dead.jsonl"}],
 "pipelines": [{"name": "p", "source": "f", "key": "host", "fields": ["v"], "outputs": ["k"],
                "models": [{"type": "rcf", "number_of_trees": 5, "sub_sample_size": 10, "time_decay": 100}]}]}
JSON
timeout $((60 * TIME_MULT)) "$RCFD" -c put.json 2> put.log || fail "rcfd exit $?"
python3 - <<'PY'
import json, collections
lines = [json.loads(l) for l in open("calls.jsonl")]
problems = [l["problem"] for l in lines if "problem" in l]
assert not problems, problems[:3]
assert lines[0] == {"call": 1, "whole": "InternalFailure"}, lines[0]
out = collections.defaultdict(list)
for l in lines[1:]:
    out[l["seq"]].append(l["outcome"])
    assert l["key"] == "h%d" % (l["seq"] % 4), l
assert len(out) == 1200, len(out)
for seq, o in out.items():
    if seq % 100 == 7:
        assert o == ["refused"], (seq, o)
    elif seq % 5 == 0:
        assert o == ["throttled", "accepted"], (seq, o)
    else:
        assert o == ["accepted"], (seq, o)  # never sent twice
dead = [json.loads(l) for l in open("dead.jsonl")]
assert len(dead) == 12 and all("KMSAccessDeniedException" in d["reason"] for d in dead), dead[:2]
calls = max(l["call"] for l in lines if "call" in l)
print("put: 1200 records in %d calls: 1 failed whole, 240 throttled once and resent alone, 12 dead-lettered" % calls)
PY
grep -q 'kinesis: [0-9]* PutRecords calls (1 failed whole), 1188 records accepted, 240 retried, 12 given up' put.log || fail "sink stats: $(grep 'PutRecords calls' put.log)"
echo "kda_kinesis_put: OK"
