#!/usr/bin/env bash
# NAB quality report: rcfd backtest over the whole NAB corpus with default settings, corpus scores
# written into bench/RESULTS.md (section "## NAB"). Usage: bench/nab_quality.sh NAB_DIR [RCFD]
set -euo pipefail
NAB=${1:?usage: bench/nab_quality.sh NAB_DIR [path/to/rcfd]}
HERE=$(cd "$(dirname "$0")" && pwd)
RCFD=${2:-$HERE/../build-bt/src/daemon/rcfd}
OUT=$(mktemp -d "${TMPDIR:-/tmp}/rcfd-nab.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
start=$(date +%s.%N)
"$RCFD" backtest --corpus "$NAB" --html "$OUT/nab.html" --json "$OUT/nab.json" 2>/dev/null > "$OUT/out.txt"
secs=$(python3 -c "import time; print('%.1f' % (time.time() - $start))")
cat "$OUT/out.txt"
python3 - "$OUT/nab.json" "$HERE/RESULTS.md" "$secs" <<'PY'
import json, sys, re
s = json.load(open(sys.argv[1])); c = s["corpus"]; path = sys.argv[2]; secs = sys.argv[3]
m = c["metrics"]
rows = []
for key, label in (("standard", "standard"), ("reward_low_FP_rate", "reward_low_FP_rate"), ("reward_low_FN_rate", "reward_low_FN_rate")):
    n = c["nab"][key]; g = c["nab_at_grade_cutoff"][key]
    rows.append("| %s | %.1f | %.4g | %d/%d | %d | %.1f |" % (label, n["score"], n["threshold"], n["windows_hit"], n["windows_scored"], n["false_positives"], g["score"]))
sec = """## NAB

`bench/nab_quality.sh ../shared/nab` (rcfd backtest --corpus, default settings: rcf with KDA's defaults —
100 trees, 256 samples, timeDecay 100000, shingle 1, seed 24301 — the NAB threshold swept over the raw
score, one threshold per profile for the whole corpus, as NAB does). %d files, %d windows, %s s.

| profile | NAB score | threshold | windows hit | false positives | at grade >= %g (no tuning) |
|---|---|---|---|---|---|
%s

Scoreboard for comparison (anchors §5): KDA RANDOM_CUT_FOREST 51.7 / 38.4 / 59.7, Numenta HTM 70.5.
Record-level metrics at grade >= %g: precision %.3f, recall %.3f, F1 %.3f, accuracy %.3f.
""" % (c["files"], c["windows"], secs, s["grade_cutoff"], "\n".join(rows), s["grade_cutoff"], m["precision"], m["recall"], m["f1"], m["accuracy"])
text = open(path).read() if __import__("os").path.exists(path) else ""
pat = re.compile(r"^## NAB\n.*?(?=^## |\Z)", re.S | re.M)
text = pat.sub(lambda _: sec + "\n", text) if pat.search(text) else text.rstrip("\n") + "\n\n" + sec
open(path, "w").write(text)
PY
