#!/usr/bin/env bash
# Warm start end to end: `rcfd train` on a generated CSV writes one rcf snapshot per key; the
# daemon, with the pipeline's initial_state pointing at them, consumes records from librdkafka's
# mock cluster. Checks that trained keys score > 0 from their first record, that an untrained key
# starts cold (0 until output_after), and that every score is bit-identical to an offline forest
# fed the training records and then the same records (rcfd_score_check LEARN). Then the startup
# errors: a snapshot trained with other parameters, a corrupt one and a missing directory exit 78
# naming the file (and the parameter).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
: "${SCORE_CHECK:?}"

python3 - <<'PY'
import json, math, random
rnd = random.Random(5)
def rec(key, i):
    base = {"dev-a": 20, "dev-b": 40, "dev-c": 60}[key]
    return (round(base + 5 * math.sin(i / 20) + rnd.gauss(0, 0.3), 4), round(101 + rnd.gauss(0, 0.1), 4))
train, learn = ["device,temp,pressure"], []
for i in range(400):
    for key in ("dev-a", "dev-b"):
        t, p = rec(key, i)
        train.append("%s,%r,%r" % (key, t, p))
        learn.append(json.dumps({"_rcfd": {"key": key}, "temp": t, "pressure": p}))
kafka = []
for i in range(400, 460):
    for key in ("dev-a", "dev-b", "dev-c"):
        t, p = rec(key, i)
        if i == 430 and key == "dev-a":
            t += 30  # one spike
        kafka.append(key + "\t" + json.dumps({"device": key, "seq": i, "temp": t, "pressure": p}))
open("train.csv", "w").write("\n".join(train) + "\n")
open("learn.jsonl", "w").write("\n".join(learn) + "\n")
open("live.kafka", "w").write("\n".join(kafka) + "\n")
PY

P="-p number_of_trees=30 -p sub_sample_size=64 -p time_decay=2000 -p seed=7 -p shingle_size=1"
"$RCFD" train --fields temp,pressure --key device $P --out snaps train.csv > train.log 2>&1 ||
    { cat train.log; fail "rcfd train"; }
[ -f snaps/dev-a.rcf.snap ] && [ -f snaps/dev-b.rcf.snap ] || fail "no snapshots: $(ls snaps)"
[ ! -e snaps/dev-c.rcf.snap ] || fail "dev-c was never trained"

# rcfd train --suggest on the same file: OpenBLAS and plain loops print the same statistics.
"$RCFD" train --suggest --fields temp,pressure train.csv > suggest.txt
"$RCFD" train --suggest --plain --fields temp,pressure train.csv > suggest_plain.txt
grep -q "^suggested HOTSPOTS scan_radius for min_points=17: [0-9.e+-]* " suggest.txt ||
    { cat suggest.txt; fail "no scan_radius suggestion"; }
[ "$(tail -n +2 suggest.txt)" = "$(tail -n +2 suggest_plain.txt)" ] ||
    { diff suggest.txt suggest_plain.txt; fail "--suggest: OpenBLAS and plain differ"; }
grep -q "^temp  *30\.[01]" suggest.txt || { cat suggest.txt; fail "temp mean (dev-a 20, dev-b 40) is not 30"; }

start_mock sensors:3
produce sensors live.kafka

config() { # FILE INITIAL_STATE TREES
    cat > "$1" <<JSON
{"log": {"level": "info"}, "runtime": {"stats_interval_ms": 0},
 "sources": [{"name": "sensors", "type": "kafka", "topics": ["sensors"],
              "rdkafka": {"bootstrap.servers": "$BOOT", "group.id": "bt-warm",
                          "auto.offset.reset": "earliest", "session.timeout.ms": 4000,
                          "heartbeat.interval.ms": 500}}],
 "outputs": [{"name": "scored", "type": "file", "path": "out.jsonl"}],
 "pipelines": [{"name": "warm", "source": "sensors", "fields": ["temp", "pressure"],
                "key": "device", "outputs": ["scored"], "initial_state": "$2",
                "models": [{"type": "rcf", "shingle_size": 1, "number_of_trees": $3, "sub_sample_size": 64,
                            "time_decay": 2000, "seed": 7}]}]}
JSON
}

config rcfd.json "$WORK/snaps" 30
start_rcfd run -c rcfd.json
wait_lines out.jsonl 180 60
stop_rcfd TERM
[ "$RCFD_RC" -eq 0 ] || fail "SIGTERM exit code $RCFD_RC"
grep -q "2 keys warm from" run.log || fail "no warm-start log line"

python3 - <<'PY' || fail "warm/cold scores"
import json, sys
first = {}
seen = {}
for line in open("out.jsonl"):
    r = json.loads(line)
    k = r["_rcfd"]["key"]
    seen.setdefault(k, []).append(r["anomaly_score"])
assert sorted(seen) == ["dev-a", "dev-b", "dev-c"], sorted(seen)
for k in ("dev-a", "dev-b"):
    assert all(s > 0 for s in seen[k]), (k, seen[k][:5])
# The untrained key is cold: 0 until sub_sample_size (64) records, i.e. all of its 60.
assert all(s == 0 for s in seen["dev-c"]), seen["dev-c"][:5]
# The spike on dev-a (record 31 of the live ones) stands out.
a = seen["dev-a"]
assert a[30] > 2 * sorted(a)[len(a) // 2], (a[30], sorted(a)[len(a) // 2])
print("warm: first scores", {k: round(v[0], 4) for k, v in seen.items()})
PY
# Bit for bit: an offline forest fed the 400 training records of each key, then the live ones.
"$SCORE_CHECK" out.jsonl temp,pressure 30 64 2000 1 -1 7 learn.jsonl
# ... and the cold forests differ (so the check above can fail): without LEARN it must mismatch.
if "$SCORE_CHECK" out.jsonl temp,pressure 30 64 2000 1 -1 7 > cold.out 2>&1; then
    fail "scores match cold forests: the warm start did nothing"
fi

# Startup errors exit 78 naming the file.
config bad.json "$WORK/snaps" 50
set +e
"$RCFD" -c bad.json > bad.log 2>&1; rc=$?
set -e
[ "$rc" -eq 78 ] || { cat bad.log; fail "parameter mismatch: exit $rc"; }
grep -q "snaps/dev-.\.rcf\.snap: snapshot was trained with a different number_of_trees" bad.log ||
    { cat bad.log; fail "mismatch not named"; }
mkdir corrupt && cp snaps/*.snap corrupt/ && printf 'garbage' > corrupt/dev-b.rcf.snap
config corrupt.json "$WORK/corrupt" 30
set +e
"$RCFD" -c corrupt.json > corrupt.log 2>&1; rc=$?
set -e
[ "$rc" -eq 78 ] || { cat corrupt.log; fail "corrupt snapshot: exit $rc"; }
grep -q "corrupt/dev-b.rcf.snap" corrupt.log || { cat corrupt.log; fail "corrupt file not named"; }
config missing.json "$WORK/nope" 30
set +e
"$RCFD" -c missing.json > missing.log 2>&1; rc=$?
set -e
[ "$rc" -eq 78 ] || { cat missing.log; fail "missing directory: exit $rc"; }
grep -q "nope" missing.log || { cat missing.log; fail "missing directory not named"; }
echo "bt_warm_start: OK"
