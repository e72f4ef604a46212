#!/usr/bin/env bash
# runtime.workers: the same input scored with the models on the loop thread (workers 1) and on 2
# and 4 worker threads gives the same bytes in every output: scores bit for bit per key, per-key
# order, dead letters, both output styles, two pipelines on one source. Then Kafka with 4
# partitions and a state directory: workers 1 and 2 consume the same topic (separate groups)
# and every key's scored records are identical; a checkpointed run stopped and restarted with
# workers 2 continues each key exactly as an uninterrupted run does. 8 keys split 4/4 over 2
# workers and 2/2/2/2 over 4.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
T="python3 $SRC_DIR/tests/integration/tools.py"

"$RCFD" --check-config -c /dev/stdin > bad.out 2>&1 <<'JSON' && fail "workers -1 accepted"
{"runtime": {"workers": -1}, "sources": [{"name": "f", "type": "file", "path": "x"}],
 "outputs": [{"name": "o", "type": "file", "path": "-"}],
 "pipelines": [{"name": "p", "source": "f", "fields": ["a"], "outputs": ["o"], "models": [{"type": "rcf"}]}]}
JSON
grep -q "runtime.workers" bad.out || fail "the error does not name runtime.workers: $(cat bad.out)"

# ---- files: 24 keys, malformed and unscorable records among them ----
$T gen 6000 24 11 0 30 f
cut -f2 f.kafka > in.jsonl
# The same records with holes (absent or null fields, a run past the consecutive limit) for a
# pipeline that imputes with each key's forest: the worker imputes, the loop counts and writes.
python3 - in.jsonl holes.jsonl <<'PY'
import json, random, sys
rnd = random.Random(5)
with open(sys.argv[2], "w") as out:
    for i, line in enumerate(open(sys.argv[1])):
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if isinstance(r, dict) and "pressure" in r and (rnd.random() < 0.05 or 3000 <= i < 3040):
            if rnd.random() < 0.5:
                del r["pressure"]
            else:
                r["pressure"] = None
        out.write(json.dumps(r) + "\n")
PY
for w in 1 2 4; do
    cat > w$w.json <<JSON
{"runtime": {"workers": $w, "stats_interval_ms": 0},
 "sources": [{"name": "f", "type": "file", "path": "in.jsonl"},
             {"name": "h", "type": "file", "path": "holes.jsonl"}],
 "outputs": [{"name": "out", "type": "file", "path": "out$w.jsonl"},
             {"name": "imp", "type": "file", "path": "imp$w.jsonl"},
             {"name": "impdead", "type": "file", "path": "impdead$w.jsonl"},
             {"name": "kda", "type": "file", "path": "kda$w.jsonl", "style": "kda"},
             {"name": "hi", "type": "file", "path": "hi$w.jsonl", "min_score": 1.0},
             {"name": "dead", "type": "file", "path": "dead$w.jsonl"}],
 "pipelines": [{"name": "rcf", "source": "f", "fields": ["temp", "pressure"], "key": "device",
                "outputs": ["out", "kda", "hi"], "dead_letter": "dead",
                "models": [{"type": "rcf", "shingle_size": 4, "number_of_trees": 20, "sub_sample_size": 64, "seed": 3,
                            "explain": true}]},
               {"name": "fc", "source": "f", "fields": ["temp"], "key": "meta.site",
                "outputs": ["out"],
                "models": [{"type": "forecast", "horizon": 3, "seed": 4}]},
               {"name": "imp", "source": "h", "fields": ["temp", "pressure"], "key": "device",
                "outputs": ["imp"], "dead_letter": "impdead", "impute": "rcf",
                "impute_max_consecutive": 3,
                "models": [{"type": "rcf", "shingle_size": 2, "number_of_trees": 20, "sub_sample_size": 64, "seed": 5}]}]}
JSON
    "$RCFD" -c w$w.json 2> w$w.log || fail "workers $w: exit $?"
done
grep -q "runtime.workers: 2 model threads" w2.log || fail "workers 2 did not start threads"
! grep -q "model threads" w1.log || fail "workers 1 started threads"
[ "$(wc -l < out1.jsonl)" -eq 12000 ] || fail "out1: $(wc -l < out1.jsonl) records, expected 12000"
[ -s hi1.jsonl ] || fail "the filtered output got nothing: the test would not compare it"
[ "$(wc -l < dead1.jsonl)" -eq 30 ] || fail "dead1: $(wc -l < dead1.jsonl) dead letters"
grep -q '"imputed":\["pressure"\]' imp1.jsonl || fail "no imputed record in imp1.jsonl"
grep -q 'impute_max_consecutive' impdead1.jsonl || fail "no dead letter past impute_max_consecutive"
for w in 2 4; do
    for o in out kda hi dead imp impdead; do
        cmp -s ${o}1.jsonl ${o}$w.jsonl || fail "workers $w: $o differs from workers 1: $(cmp ${o}1.jsonl ${o}$w.jsonl)"
    done
done
# Per key: the rcf pipeline's records in input order, with the input's values.
python3 - out1.jsonl f.exp <<'PY'
import json, sys
exp = {}
for line in open(sys.argv[2]):
    r = json.loads(line)
    exp.setdefault(r["device"], []).append(r["seq"])
got = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["_rcfd"]["pipeline"] == "rcf":
        got.setdefault(r["device"], []).append(r["seq"])
if got != exp:
    bad = [k for k in exp if got.get(k) != exp[k]]
    sys.exit("per-key order or records differ for %s" % bad[:3])
PY

# ---- placement: a few keys split evenly (a hash modulo the worker count gave 8 keys 5/3) ----
$T gen 4000 8 13 0 0 few
cut -f2 few.kafka > few.jsonl
for w in 2 4; do
    cat > few$w.json <<JSON
{"runtime": {"workers": $w, "stats_interval_ms": 0},
 "sources": [{"name": "f", "type": "file", "path": "few.jsonl"}],
 "outputs": [{"name": "out", "type": "file", "path": "few$w.out"}],
 "pipelines": [{"name": "p", "source": "f", "fields": ["temp", "pressure"], "key": "device",
                "outputs": ["out"], "models": [{"type": "rcf", "number_of_trees": 10, "sub_sample_size": 32}]}]}
JSON
    "$RCFD" -c few$w.json 2> few$w.log || fail "placement, workers $w: exit $?"
done
grep -q "pipeline p: keys per worker 4/4$" few2.log || fail "8 keys over 2 workers: $(grep 'keys per worker' few2.log)"
grep -q "pipeline p: keys per worker 2/2/2/2$" few4.log || fail "8 keys over 4 workers: $(grep 'keys per worker' few4.log)"
cmp -s few2.out few4.out || fail "placement changed the output"

# ---- Kafka, 4 partitions, a state directory ----
start_mock sensors:4
$T gen 4000 16 12 0 0 k1
produce sensors k1.kafka
kafka_conf() { # WORKERS GROUP OUT STATE_DIR
    cat <<JSON
{"runtime": {"workers": $1, "stats_interval_ms": 0},
 "state": {"dir": "$4", "interval_ms": 300},
 "sources": [{"name": "s", "type": "kafka", "topics": ["sensors"],
              "rdkafka": {"bootstrap.servers": "$BOOT", "group.id": "$2",
                          "auto.offset.reset": "earliest", "auto.commit.interval.ms": 200,
                          "session.timeout.ms": 4000, "heartbeat.interval.ms": 500}}],
 "outputs": [{"name": "o", "type": "file", "path": "$3"}],
 "pipelines": [{"name": "p", "source": "s", "fields": ["temp", "pressure"], "key": "device",
                "outputs": ["o"],
                "models": [{"type": "rcf", "shingle_size": 2, "number_of_trees": 20, "sub_sample_size": 32, "seed": 9}]}]}
JSON
}
# per_key A B: every key's records (seq and score) are the same in both files
per_key() {
    python3 - "$1" "$2" <<'PY'
import json, sys
def load(path):
    d = {}
    for line in open(path):
        r = json.loads(line)
        d.setdefault(r["device"], []).append((r["seq"], repr(r["anomaly_score"])))
    return d
a, b = load(sys.argv[1]), load(sys.argv[2])
if a != b:
    bad = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    sys.exit("%s and %s differ for keys %s" % (sys.argv[1], sys.argv[2], bad[:4]))
PY
}
mkdir -p st1 st2 st3
kafka_conf 1 g1 k1.jsonl st1 > k1.json
kafka_conf 2 g2 k2.jsonl st2 > k2.json
start_rcfd kw1 -c k1.json
wait_lines k1.jsonl 4000 60
stop_rcfd TERM
[ "$RCFD_RC" -eq 0 ] || fail "kafka workers 1: exit $RCFD_RC"
start_rcfd kw2 -c k2.json
wait_lines k2.jsonl 4000 60
stop_rcfd TERM
[ "$RCFD_RC" -eq 0 ] || fail "kafka workers 2: exit $RCFD_RC"
grep -q "model threads" kw2.log || fail "kafka workers 2 did not start threads"
per_key k1.jsonl k2.jsonl

# Checkpoints with workers: group g3 reads the first half, stops (final checkpoints written on
# the loop from the workers' quiesced models), and a new process continues from them; every
# key's scores then equal the uninterrupted workers 1 run over both halves.
$T gen 2000 16 13 100000 0 k2
kafka_conf 2 g3 k3.jsonl st3 > k3.json
start_rcfd kw3a -c k3.json
wait_lines k3.jsonl 4000 60
stop_rcfd TERM
[ "$RCFD_RC" -eq 0 ] || fail "kafka workers 2 (first half): exit $RCFD_RC"
grep -q "checkpoint" kw3a.log || ls st3/* > /dev/null || fail "no checkpoint written"
produce sensors k2.kafka
start_rcfd kw3b -c k3.json
wait_lines k3.jsonl 6000 60
stop_rcfd TERM
[ "$RCFD_RC" -eq 0 ] || fail "kafka workers 2 (second half): exit $RCFD_RC"
grep -q "restored" kw3b.log || fail "the second run restored no checkpoint"
start_rcfd kw1b -c k1.json
wait_lines k1.jsonl 6000 60
stop_rcfd TERM
per_key k1.jsonl k3.jsonl

# ---- a partition's records are not held behind another partition's backlog ----
# Partition 0 of a second cluster holds 150,000 records; once rcfd is scoring them, partition 1
# receives 500. Each partition is read from its own fetch queue, so partition 1's records are
# out while partition 0's backlog is still being worked off. Read from librdkafka's one consumer
# queue, they waited behind the up to queued.min.messages (100,000) records it had prefetched of
# partition 0, at least ~35,000 of them past what the source could park.
start_mock backlog:2
python3 - <<'PY'
import random
rnd = random.Random(21)
with open("bl0.jsonl", "w") as f:
    for i in range(150000):
        f.write('{"device":"a","seq":%d,"temp":%.3f}\n' % (i, rnd.gauss(20, 1)))
with open("bl1.jsonl", "w") as f:
    for i in range(500):
        f.write('{"device":"b","seq":%d,"temp":%.3f}\n' % (i, rnd.gauss(20, 1)))
PY
kcat -P -b "$BOOT" -t backlog -p 0 -z lz4 -X log_level=3 < bl0.jsonl
cat > kb.json <<JSON
{"runtime": {"workers": 2, "stats_interval_ms": 0},
 "sources": [{"name": "s", "type": "kafka", "topics": ["backlog"],
              "rdkafka": {"bootstrap.servers": "$BOOT", "group.id": "gb",
                          "auto.offset.reset": "earliest", "fetch.wait.max.ms": 10}}],
 "outputs": [{"name": "o", "type": "file", "path": "kb.jsonl"}],
 "pipelines": [{"name": "p", "source": "s", "fields": ["temp"], "key": "device", "outputs": ["o"],
                "models": [{"type": "rcf", "number_of_trees": 50, "sub_sample_size": 256, "seed": 5}]}]}
JSON
start_rcfd kwb -c kb.json
wait_lines kb.jsonl 2000 60
kcat -P -b "$BOOT" -t backlog -p 1 -X log_level=3 < bl1.jsonl
at=$(wc -l < kb.jsonl)
wait_lines kb.jsonl 150500 300
stop_rcfd TERM
[ "$RCFD_RC" -eq 0 ] || fail "kafka backlog: exit $RCFD_RC"
python3 - "$at" <<'PY' || fail "partition 1 waited behind partition 0's backlog"
import json, sys
at = int(sys.argv[1])
last_b = max(i for i, line in enumerate(open("kb.jsonl")) if json.loads(line)["device"] == "b")
print("partition 1 produced at output line %d, its last record at line %d" % (at, last_b))
sys.exit(0 if last_b - at < 20000 else 1)
PY
echo "it_workers: OK"
