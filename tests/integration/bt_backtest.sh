#!/usr/bin/env bash
# rcfd backtest on a small labelled CSV: the counts in the JSON summary match the labels in the
# file, the metrics follow from the counts, the HTML report is well-formed with its plots, and
# --scores writes every record with its window.
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
        super().__init__(); self.stack = []; self.count = {}
    def handle_starttag(self, t, a):
        self.count[t] = self.count.get(t, 0) + 1
        if t not in self.VOID: self.stack.append(t)
    def handle_startendtag(self, t, a):
        self.count[t] = self.count.get(t, 0) + 1
    def handle_endtag(self, t):
        assert self.stack and self.stack[-1] == t, (t, self.stack[-5:])
        self.stack.pop()
pp = P(); pp.feed(text); pp.close()
assert not pp.stack, pp.stack
assert pp.count.get("svg") == 3, pp.count     # series, score and threshold, grade
assert pp.count.get("rect", 0) >= 3           # the labelled window in each plot
assert pp.count.get("polyline", 0) >= 4       # series, score, threshold, grade
for svg in re.findall(r"<svg.*?</svg>", text, re.S):
    root = ET.fromstring(svg)                 # each plot is well-formed XML
    assert root.tag.endswith("svg")
import csv
rows = list(csv.DictReader(open("s.csv")))              # --scores: every record, in order
assert len(rows) == 1200 and [int(r["row"]) for r in rows] == list(range(1200))
assert [i for i, r in enumerate(rows) if r["window"] == "0"] == list(range(900, 910))
assert all(r["window"] in ("0", "-1") and r["file"] == "in.csv" for r in rows)
assert all(float(r["score"]) == 0 for r in rows[:256])  # the forest's warm-up
assert all(float(r["novelty"]) >= 0 for r in rows)
assert max(float(r["novelty"]) for r in rows[900:910]) >= 1   # the +40 jump is novel
assert "<script" not in text and "http://" not in text.replace("http://www.w3.org/2000/svg", "")
print("ok")
PY
grep -q "NAB standard" out.txt
