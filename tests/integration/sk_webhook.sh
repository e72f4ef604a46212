#!/usr/bin/env bash
# Webhook sink against a misbehaving HTTP server on 127.0.0.1 (sk_http.py): every 5th request is
# answered 500, every 7th is held past the client's timeout, every 11th has its connection dropped.
# Every record is delivered at least once (here exactly once: one request in flight, failed
# batches are resent whole), order within a key is kept, and rcfd's counters (requests, 2xx,
# retried statuses, timeouts, transport errors, host retries) match what the server saw. A second
# run posts single JSON objects with an Authorization header taken from the environment; a third
# checks 408, 429 and Retry-After.
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
m = re.search(r"webhook: (\d+) requests, (\d+) 2xx, (\d+) retried statuses \(0 with Retry-After\), (\d+) timeouts, (\d+) transport errors, (\d+) given up", log)
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
check_delivered srv2/accepted.jsonl 30
# This server answers every request, but a loaded machine can make one outlast timeout_ms: rcfd
# then sends that record again (at least once), and both sides must count the extra request.
python3 - srv2/stats.json w2.log <<'PY'
import json, re, sys
st = json.load(open(sys.argv[1]))
m = re.search(r"webhook: (\d+) requests, (\d+) 2xx, \d+ retried statuses \(0 with Retry-After\), (\d+) timeouts, (\d+) transport errors", open(sys.argv[2]).read())
req, ok, to, te = map(int, m.groups())
assert st["requests"] == req and st["records"] == st["requests"], (st, req)
assert req == 30 + to + te and ok == 30, (req, ok, to, te)
assert st["auth"] == "Bearer s3cret", st
PY
# 408 and 429 RETRY like 500; a 429 or 503 with Retry-After (seconds, or an HTTP-date) waits at
# least that long, a huge one is capped at retry_max_ms, and other statuses ignore the header. The
# server answers the first requests from a script and logs when each arrived and was answered.
start_http srv3 --script "408,429,429:1,503:date+2,429:3600,500:5"
wait_listening srv3 10
head -n 12 in.jsonl > in12.jsonl
sed -e "s/$PORT1/$HTTP_PORT/" -e 's/"in.jsonl"/"in12.jsonl"/' -e 's/"batch_max_records": 20/"batch_max_records": 4/' \
    -e 's/"retry_initial_ms": 20, "retry_max_ms": 100/"retry_initial_ms": 10, "retry_max_ms": 1500/' w.json > w3.json
"$RCFD" -c w3.json 2> w3.log || fail "408/429: exit $?"
check_delivered srv3/accepted.jsonl 12
python3 - srv3/requests.jsonl w3.log "$TIME_MULT" <<'PY'
import json, re, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
log = open(sys.argv[2]).read()
slow = float(sys.argv[3])
statuses = [r["status"] for r in reqs]
assert statuses[:7] == [408, 429, 429, 503, 429, 500, 200], statuses
gaps = [b["t0"] - a["t1"] for a, b in zip(reqs, reqs[1:])]
print("gaps after each answer:", ["%d %.3f" % (r["status"], g) for r, g in zip(reqs, gaps)])
assert gaps[0] < 0.5 * slow, "408: %.3f s" % gaps[0]
assert gaps[1] < 0.5 * slow, "429 without Retry-After: %.3f s" % gaps[1]
assert gaps[2] >= 0.95, "429 Retry-After: 1 was not honoured: %.3f s" % gaps[2]
assert gaps[3] >= 0.95, "503 Retry-After: <date 2 s ahead> was not honoured: %.3f s" % gaps[3]
assert 1.4 <= gaps[4] < 3.0 * slow, "Retry-After: 3600 not capped at retry_max_ms: %.3f s" % gaps[4]
assert gaps[5] < 0.9 * slow, "500 must ignore Retry-After: %.3f s" % gaps[5]
m = re.search(r"webhook: (\d+) requests, (\d+) 2xx, (\d+) retried statuses \((\d+) with Retry-After\), 0 timeouts, 0 transport errors, 0 given up", log)
assert m and int(m.group(3)) == 6 and int(m.group(4)) == 3, m and m.groups()
assert "HTTP 429, Retry-After 3600 s" in log
PY
echo "sk_webhook: OK"
