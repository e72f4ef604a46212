#!/usr/bin/env bash
# The HTML report in a real browser: headless Chromium (Debian's chromium, installed by
# scripts/setup.sh) loads reports rcfd backtest wrote (a labelled CSV with two keys and timestamps;
# an unlabelled JSONL file without them) with #all, which draws every chart at once, and the test
# reads the DOM it ends with: no JavaScript error, every chart drawn on a canvas with its title,
# the keys in their selector, the windows and detections in the data, the sortable file index.
set -euo pipefail
: "${RCFD:?}"
TIME_MULT=${TIME_MULT:-1}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rcfd-br.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[ -n "$CHROMIUM" ] || fail "chromium not found (scripts/setup.sh installs Debian's chromium)"

python3 - <<'PY'
import json, math
with open("two.csv", "w") as f:
    f.write("time,host,cpu,mem,anomaly\n")
    for i in range(3000):
        for h in ("web-1", "web-2"):
            cpu = 40 + 10 * math.sin(i / 40) + (35 if h == "web-2" and 2400 <= i < 2410 else 0)
            lab = int(h == "web-2" and 2400 <= i < 2410)
            f.write("2025-03-01T%02d:%02d:%02dZ,%s,%.3f,%.3f,%d\n"
                    % (i // 3600, i // 60 % 60, i % 60, h, cpu, 60 + (i % 7), lab))
with open("plain.jsonl", "w") as f:
    for i in range(1500):
        f.write(json.dumps({"value": 5 + math.cos(i / 30) + (9 if i == 1200 else 0)}) + "\n")
PY
"$RCFD" backtest --fields cpu,mem --key host --timestamp time --label anomaly \
    -p numberOfTrees=30 --html two.html --json two.json --quiet two.csv > two.out
"$RCFD" backtest -p numberOfTrees=30 --html plain.html --json plain.json --quiet plain.jsonl \
    > plain.out
grep -q "no labels: scores only" plain.out || fail "unlabelled run: $(cat plain.out)"

browse() { # browse FILE.html -> FILE.dom, the DOM after the page's scripts ran
    timeout $((90 * TIME_MULT)) "$CHROMIUM" --headless --no-sandbox --disable-gpu \
        --disable-background-networking --disable-dev-shm-usage --no-first-run \
        --disable-extensions --disable-sync --user-data-dir="$WORK/chrome" \
        --virtual-time-budget=10000 --dump-dom "file://$WORK/$1#all" > "${1%.html}.dom" \
        2> "${1%.html}.chromium.log" || fail "chromium failed on $1: $(tail -5 "${1%.html}.chromium.log")"
}
browse two.html
browse plain.html
python3 - <<'PY'
import html.parser, json, re
class Dom(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.body = {}; self.charts = []; self.canvas = {}; self.options = 0; self.open = []
        self.sortable = False; self.errors = ""; self.in_err = False
    def handle_starttag(self, t, a):
        a = dict(a)
        if t == "body": self.body = a
        if t == "div" and "data-chart" in a:
            self.charts.append(a["data-chart"]); self.open.append(len(self.charts) - 1)
        elif t == "div": self.open.append(None)
        if t == "canvas":
            for c in self.open:
                if c is not None: self.canvas[c] = self.canvas.get(c, 0) + 1
        if t == "option": self.options += 1
        if t == "table" and "sortable" in a.get("class", ""): self.sortable = True
        if a.get("id") == "rcfd-errors": self.in_err = True
    def handle_endtag(self, t):
        if t == "div" and self.open: self.open.pop()
        if t == "div": self.in_err = False
    def handle_data(self, d):
        if self.in_err: self.errors += d
def check(name, charts, keys):
    text = open(name + ".dom").read()
    d = Dom(); d.feed(text)
    assert d.body.get("data-ready") == "1", (name, "the report script did not finish", d.body)
    assert "data-errors" not in d.body and not d.errors.strip(), (name, d.errors)
    assert d.body.get("data-charts") == str(len(charts)), (name, d.body, d.charts)
    assert d.charts == charts, (name, d.charts)
    missing = [c for i, c in enumerate(d.charts) if d.canvas.get(i, 0) < 1]
    assert not missing, (name, "charts without a canvas", missing)
    assert d.options == keys, (name, "key options", d.options)
    assert d.sortable, name
    data = json.loads(re.search(r'id="rcfd-data">(.*?)</script>', text, re.S).group(1))
    return data
two = check("two", ["cpu (web-2)", "mem (web-2)", "anomaly_score and its adaptive threshold",
                    [c for c in re.findall(r'data-chart="(anomaly_novelty[^"]*)"', open("two.dom").read())][0]],
            2)
f = two["files"][0]
assert f["time"] and two["labelled"] and f["windows"], f.keys()
assert [k["name"] for k in f["keys"]] == ["web-2", "web-1"], "the alerting key first"
assert any(d[1] == 1 for d in f["keys"][0]["det"]), "no detection inside the window"
assert all(len(k["x"]) == 2000 for k in f["keys"]), "3000 records per key in 2000 buckets"
spike = max(v for v in f["keys"][0]["fh"][0] if v is not None)
assert spike > 65, "the bucket maxima keep the +35 cpu spike: %s" % spike
plain = check("plain", ["value", "anomaly_score and its adaptive threshold",
                        "anomaly_novelty and the alert threshold 1"], 0)
p = plain["files"][0]
assert not p["time"] and not plain["labelled"] and p["windows"] == [], p.keys()
assert p["x0"] == 0 and p["keys"][0]["x"][:3] == [0, 1, 2], "record numbers on the x axis"
assert any(d == [1200, 2] for d in p["keys"][0]["det"]), "the spike at record 1200 alerts"
s = json.load(open("plain.json"))
assert s["labelled"] is False and "metrics" not in s["corpus"], s["corpus"]
assert s["rcfd"]["version"] and s["rcfd"]["commit"], s["rcfd"]
assert s["params"]["number_of_trees"] == 30 and "sub_sample_size" in s["params"], s["params"]
assert "-p number_of_trees=30" in s["reproduce"] and s["reproduce"].endswith(" plain.jsonl")
print("ok")
PY
echo "bt_report_browser: OK"
