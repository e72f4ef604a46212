#!/usr/bin/env bash
# rcfd backtest on a small labelled CSV: the counts in the JSON summary match the labels in the
# file, the metrics follow from the counts, the HTML report is well-formed, self-contained and
# carries the chart data (windows, buckets, detections; bt_report_browser draws it), and --scores
# writes every record with its window.
set -euo pipefail
: "${RCFD:?}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rcfd-bt.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
python3 - <<'PY'
import math
with open("in.csv", "w") as f:
    f.write("timestamp,value,label\n")
    for i in range(1200):
        v = 10 + 3 * math.sin(i * 0.2)
        lab = 1 if 900 <= i < 910 else 0
        if lab: v += 40
        f.write("2024-01-01T00:%02d:%02dZ,%.4f,%d\n" % (i // 60 % 60, i % 60, v, lab))
PY
"$RCFD" backtest --label label -p numberOfTrees=50 --html r.html --json r.json --scores s.csv \
    in.csv > out.txt
python3 - <<'PY'
import json, html.parser, xml.etree.ElementTree as ET, re
s = json.load(open("r.json"))
c = s["corpus"]; m = c["metrics"]
assert c["files"] == 1 and c["windows"] == 1, c
assert m["tp"] + m["fn"] == 10, m              # ten labelled rows in the file
assert m["tp"] + m["fp"] + m["fn"] + m["tn"] == 1200, m
assert m["tp"] >= 1, m                         # a +40 jump on a sine of amplitude 3 is found
p = m["tp"] / (m["tp"] + m["fp"]); r = m["tp"] / 10
assert abs(m["precision"] - p) < 1e-12 and abs(m["recall"] - r) < 1e-12
assert abs(m["f1"] - 2 * p * r / (p + r)) < 1e-12
assert abs(m["accuracy"] - (m["tp"] + m["tn"]) / 1200) < 1e-12
nab = c["nab"]["standard"]
assert nab["windows_hit"] == 1 and 0 < nab["score"] <= 100, nab
text = open("r.html").read()
class P(html.parser.HTMLParser):
    VOID = {"meta", "br", "img", "hr", "input", "link"}
    def __init__(self):
        super().__init__(); self.stack = []; self.count = {}; self.refs = []
    def handle_starttag(self, t, a):
        self.count[t] = self.count.get(t, 0) + 1
        self.refs += [v for k, v in a if k in ("src", "href") and v and not v.startswith("#")]
        if t not in self.VOID: self.stack.append(t)
    def handle_startendtag(self, t, a):
        self.count[t] = self.count.get(t, 0) + 1
    def handle_endtag(self, t):
        assert self.stack and self.stack[-1] == t, (t, self.stack[-5:])
        self.stack.pop()
pp = P(); pp.feed(text); pp.close()
assert not pp.stack, pp.stack
assert not pp.refs, pp.refs                      # self-contained: nothing loaded from elsewhere
assert pp.count.get("section") == 1, pp.count     # one file
assert "@license https://github.com/danvk/dygraphs" in text   # dygraphs inlined
data = json.loads(re.search(r'id="rcfd-data">(.*?)</script>', text, re.S).group(1))
f = data["files"][0]
assert data["labelled"] and f["time"] and len(f["windows"]) == 1, f.keys()
w = f["windows"][0]
assert w[1] - w[0] == 9000, w                     # rows 900..909, 1 s apart, in ms
k = f["keys"][0]
assert len(k["x"]) == 1200 and k["x"] == sorted(k["x"]), len(k["x"])
assert max(v for v in k["fh"][0] if v is not None) > 45   # the +40 jump survives
assert any(d[1] == 1 for d in k["det"]), k["det"]        # detected inside the window
t = s["corpus"]["nab"]["standard"]["threshold"]
assert abs(data["threshold"] - t) <= 1e-5 * abs(t), (data["threshold"], t)
assert s["rcfd"]["version"] and "-p number_of_trees=50" in s["reproduce"], s["reproduce"]
import csv
rows = list(csv.DictReader(open("s.csv")))              # --scores: every record, in order
assert len(rows) == 1200 and [int(r["row"]) for r in rows] == list(range(1200))
assert [i for i, r in enumerate(rows) if r["window"] == "0"] == list(range(900, 910))
assert all(r["window"] in ("0", "-1") and r["file"] == "in.csv" for r in rows)
assert all(float(r["score"]) == 0 for r in rows[:256])  # the forest's warm-up
assert all(float(r["novelty"]) >= 0 for r in rows)
assert max(float(r["novelty"]) for r in rows[900:910]) >= 1   # the +40 jump is novel
print("ok")
PY
grep -q "NAB standard" out.txt

# --progress prints the progress line when stderr is not a terminal; --quiet prints nothing.
"$RCFD" backtest --label label -p numberOfTrees=20 --html p.html --progress in.csv > /dev/null 2> p.err
grep -q "^rcfd backtest: 1,200 / 1,200 records (100%), [0-9]* records/s" p.err || { cat p.err; exit 1; }
[ -s p.json ] || { echo "no summary beside the report (p.json)"; exit 1; }
"$RCFD" backtest --label label -p numberOfTrees=20 --html q.html --quiet in.csv > /dev/null 2> q.err
[ ! -s q.err ] || { echo "--quiet printed:"; cat q.err; exit 1; }
# Errors name what is missing.
set +e
"$RCFD" backtest --label lab in.csv > /dev/null 2> e1.err; rc1=$?
"$RCFD" backtest --fields nope --label label in.csv > /dev/null 2> e2.err; rc2=$?
set -e
[ "$rc1" -eq 65 ] && grep -q 'the label column "lab" (--label) is not in the CSV header, which has: timestamp, value, label' e1.err ||
    { echo "label error ($rc1):"; cat e1.err; exit 1; }
[ "$rc2" -eq 65 ] && grep -q 'field "nope" is not a CSV column (the header has: timestamp, value, label)' e2.err ||
    { echo "field error ($rc2):"; cat e2.err; exit 1; }
echo "bt_backtest: OK"
