#!/usr/bin/env bash
# HOTSPOTS training end to end: `rcfd train --model hotspots` with KDA's parameter names writes one
# snapshot per key, deterministically (a second run gives the same bytes); the daemon started with
# initial_state reports the trained hotspot on a key's very first record (its window is already
# full), and a config whose scan_radius differs from the training refuses to start (exit 78,
# naming scan_radius).
set -euo pipefail
# lib.sh wants these for the Kafka tests; this one needs neither.
MOCK_CLUSTER=${MOCK_CLUSTER:-unused} SRC_DIR=${SRC_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$(dirname "$0")/lib.sh"

python3 - <<'PY'
import random
rnd = random.Random(3)
rows = ["k,x,y"]
for i in range(300):
    for k in ("a", "b"):
        if i % 3 == 0:  # a dense cluster around (5, 5), the rest spread over [0, 10]^2
            x, y = 5 + rnd.gauss(0, 0.1), 5 + rnd.gauss(0, 0.1)
        else:
            x, y = rnd.uniform(0, 10), rnd.uniform(0, 10)
        rows.append("%s,%.4f,%.4f" % (k, x, y))
open("train.csv", "w").write("\n".join(rows) + "\n")
open("live.jsonl", "w").write('{"k": "a", "x": 5.02, "y": 4.98}\n{"k": "b", "x": 1.0, "y": 9.0}\n')
PY

P="-p windowSize=100 -p scanRadius=0.5 -p minimumNumberOfPointsInAHotspot=5"
"$RCFD" train --model hotspots --fields x,y --key k $P --out snaps train.csv > t1.log 2>&1 ||
    { cat t1.log; fail "rcfd train --model hotspots"; }
[ -f snaps/a.hotspots.snap ] && [ -f snaps/b.hotspots.snap ] || fail "no snapshots: $(ls snaps)"
"$RCFD" train --model hotspots --fields x,y --key k $P --out snaps2 train.csv > t2.log 2>&1
cmp snaps/a.hotspots.snap snaps2/a.hotspots.snap || fail "training is not deterministic"

config() { # FILE SCAN_RADIUS
    cat > "$1" <<JSON
{"sources": [{"name": "in", "type": "file", "path": "live.jsonl", "format": "json"}],
 "outputs": [{"name": "out", "type": "file", "path": "out.jsonl"}],
 "pipelines": [{"name": "p", "source": "in", "key": "k", "fields": ["x", "y"], "outputs": ["out"],
                "initial_state": "snaps",
                "models": [{"type": "hotspots", "window_size": 100, "scan_radius": $2,
                            "min_points": 5}]}]}
JSON
}
config ok.json 0.5
"$RCFD" -c ok.json 2> run.log || { cat run.log; fail "daemon with trained HOTSPOTS"; }
python3 - <<'PY' || fail "no hotspot on the first record of a trained key"
import json
recs = [json.loads(l) for l in open("out.jsonl")]
first_a = next(r for r in recs if r["k"] == "a")
hs = first_a["hotspots"]["hotspots"] if isinstance(first_a["hotspots"], dict) else first_a["hotspots"]
assert len(hs) >= 1, first_a
box = hs[0]
assert box["minValues"][0] < 5.02 < box["maxValues"][0], box
PY
config bad.json 0.6
set +e
"$RCFD" -c bad.json 2> bad.log
rc=$?
set -e
[ $rc -eq 78 ] || { cat bad.log; fail "mismatched scan_radius: exit $rc, expected 78"; }
grep -q "scan_radius" bad.log || { cat bad.log; fail "the error does not name scan_radius"; }
echo "hotspots training: deterministic, warm from record 1, mismatch refused"
