#!/usr/bin/env bash
# Dead letters: the webhook server answers 400 for records carrying "bad": true; those are given
# up (no retry) and written to the webhook's dead_letter output with reason "HTTP 400", the output
# name and the record; malformed input lines go to the pipeline's dead_letter (the same file) with
# their parse error. Everything else reaches the server; the run ends with exit 0 (dead-lettered
# records count as done). Then the Kafka sink: records over message.max.bytes are a permanent
# error and go to its dead-letter file with librdkafka's error name.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sk_lib.sh"

python3 - <<'PY'
import json
with open("in.jsonl", "w") as f:
    for i in range(100):
        r = {"k": "k%d" % (i % 3), "seq": i, "v": i % 7}
        if i % 10 == 4:
            r["bad"] = True
        f.write(json.dumps(r) + "\n")
        if i in (20, 60, 90):
            f.write('{"k": "k0", "seq": -1, "v": "oops"}\n')
PY
start_http srv --reject-field bad
wait_listening srv 10
cat > d.json <<JSON
{"log": {"level": "info"}, "runtime": {"stats_interval_ms": 0},
 "sources": [{"name": "s", "type": "file", "path": "in.jsonl"}],
 "outputs": [{"name": "hook", "type": "webhook", "url": "http://127.0.0.1:$HTTP_PORT/",
              "batch_max_records": 1, "dead_letter": "dead", "retry_initial_ms": 10},
             {"name": "dead", "type": "file", "path": "dead.jsonl"}],
 "pipelines": [{"name": "p", "source": "s", "fields": ["v"], "key": "k", "outputs": ["hook"],
                "dead_letter": "dead",
                "models": [{"type": "rcf", "number_of_trees": 5, "sub_sample_size": 16}]}]}
JSON
"$RCFD" -c d.json 2> d.log || fail "exit $?"
python3 - <<'PY'
import json
dead = [json.loads(l) for l in open("dead.jsonl")]
acc = [json.loads(l) for l in open("srv/accepted.jsonl")]
st = json.load(open("srv/stats.json"))
http = [d for d in dead if d["reason"] == "HTTP 400"]
bad_seqs = sorted(json.loads(d["record"])["seq"] for d in http)
assert bad_seqs == [i for i in range(100) if i % 10 == 4], bad_seqs
assert all(d["output"] == "hook" for d in http)
malformed = [d for d in dead if d["reason"] != "HTTP 400"]
assert len(malformed) == 3 and all("non-numeric" in d["reason"] and d["pipeline"] == "p" for d in malformed), malformed
assert sorted(r["seq"] for r in acc) == [i for i in range(100) if i % 10 != 4]
assert st["e400"] == 10, st  # given up at once: no retries of a 400
print("dead: %d HTTP 400, %d malformed" % (len(http), len(malformed)))
PY
grep -q "output hook: 90 written, 0 filtered, 0 dropped, 10 dead-lettered, 0 retries" d.log || fail "hook counters"

# Kafka: a permanent produce error (record larger than message.max.bytes) goes to the
# dead-letter output with librdkafka's error name; the others reach the topic.
start_mock big:2
python3 - <<'PY'
import json
with open("k.jsonl", "w") as f:
    for i in range(40):
        r = {"k": "k%d" % (i % 2), "seq": i, "v": i % 5}
        if i % 8 == 3:
            r["pad"] = "x" * 1500
        f.write(json.dumps(r) + "\n")
PY
cat > dk.json <<JSON
{"log": {"level": "info"}, "runtime": {"stats_interval_ms": 0},
 "sources": [{"name": "s", "type": "file", "path": "k.jsonl"}],
 "outputs": [{"name": "kbig", "type": "kafka", "topic": "big", "dead_letter": "kdead",
              "rdkafka": {"bootstrap.servers": "$BOOT", "message.max.bytes": "1000"}},
             {"name": "kdead", "type": "file", "path": "kdead.jsonl"}],
 "pipelines": [{"name": "p", "source": "s", "fields": ["v"], "key": "k", "outputs": ["kbig"],
                "models": [{"type": "rcf", "number_of_trees": 5, "sub_sample_size": 16}]}]}
JSON
"$RCFD" -c dk.json 2> dk.log || fail "kafka dead letters: exit $?"
kcat -C -b "$BOOT" -t big -e -q -f '%s\n' -X log_level=3 > big.jsonl
python3 - <<'PY'
import json
dead = [json.loads(l) for l in open("kdead.jsonl")]
big = [json.loads(l) for l in open("big.jsonl")]
assert sorted(json.loads(d["record"])["seq"] for d in dead) == [i for i in range(40) if i % 8 == 3], dead
assert all(d["output"] == "kbig" and "MSG_SIZE_TOO_LARGE" in d["reason"] for d in dead), dead[0]
assert sorted(r["seq"] for r in big) == [i for i in range(40) if i % 8 != 3], len(big)
print("kafka dead letters: %d, delivered %d" % (len(dead), len(big)))
PY
echo "sk_dead: OK"
