#!/usr/bin/env bash
# Webhook sink against a misbehaving HTTP server on 127.0.0.1 (sk_http.py): every 5th request is
# answered 500, every 7th is held past the client's timeout, every 11th has its connection dropped.
# Every record is delivered at least once (here exactly once: one request in flight, failed
# batches are resent whole), order within a key is kept, and rcfd's counters (requests, 2xx,
# retried statuses, timeouts, transport errors, host retries) match what the server saw. A second
# run posts single JSON objects with an Authorization header taken from the environment.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sk_lib.sh"

gen_file in.jsonl 400 7
start_http srv --fail500 5 --delay 7 --delay-s 1.5 --drop 11
wait_listening srv 10
cat > w.json <<JSON
{"log": {"level": "info"}, "runtime": {"stats_interval_ms": 0},
 "sources": [{"name": "s", "type": "file", "path": "in.jsonl"}],
 "outputs": [{"name": "hook", "type": "webhook", "url": "http://127.0.0.1:$HTTP_PORT/alerts",
              "batch_max_records": 20, "batch_max_delay_ms": 20, "timeout_ms": 500,
              "retry_initial_ms": 20, "retry_max_ms": 100}],
 "pipelines": [{"name": "p", "source": "s", "fields": ["v"], "key": "k", "outputs": ["hook"],
                "models": [{"type": "rcf", "number_of_trees": 5, "sub_sample_size": 16,
                            "output_after": 1}]}]}
JSON
"$RCFD" -c w.json 2> w.log || fail "exit $?"
check_delivered srv/accepted.jsonl 400
python3 - srv/stats.json w.log <<'PY'
import json, re, sys
st = json.load(open(sys.argv[1]))
log = open(sys.argv[2]).read()
m = re.search(r"webhook: (\d+) requests, (\d+) 2xx, (\d+) retried statuses, (\d+) timeouts, (\d+) transport errors, (\d+) given up", log)
req, ok, rs, to, te, gu = map(int, m.groups())
h = re.search(r"output hook: (\d+) written, \d+ filtered, \d+ dropped, \d+ dead-lettered, (\d+) retries", log)
written, retries = map(int, h.groups())
print("server", st, "rcfd", dict(req=req, ok=ok, retried=rs, timeouts=to, transport=te, retries=retries))
assert st["e500"] > 0 and st["delayed"] > 0 and st["dropped"] > 0, "the server did not misbehave"
assert req == st["requests"], (req, st["requests"])
assert ok == st["ok"] and rs == st["e500"] and to == st["delayed"] and te == st["dropped"]
assert retries == st["e500"] + st["delayed"] + st["dropped"], retries
assert written == 400 and st["records"] == 400 and gu == 0
PY

# Single objects, auth header from the environment.
PORT1=$HTTP_PORT
start_http srv2
wait_listening srv2 10
sed -e "s/$PORT1/$HTTP_PORT/" -e 's/"batch_max_records": 20/"batch_max_records": 1, "headers": {"Authorization": "Bearer ${HOOK_TOKEN}"}/' w.json > w2.json
head -n 30 in.jsonl > in30.jsonl
sed -i 's/"in.jsonl"/"in30.jsonl"/' w2.json
HOOK_TOKEN=s3cret "$RCFD" -c w2.json 2> w2.log || fail "single: exit $?"
python3 - srv2/stats.json <<'PY'
import json, sys
st = json.load(open(sys.argv[1]))
assert st["requests"] == 30 and st["records"] == 30, st
assert st["auth"] == "Bearer s3cret", st
PY
echo "sk_webhook: OK"
