#!/usr/bin/env bash
# NAB quality report: rcfd backtest over the whole NAB corpus with default settings, and again with
# the rcf model's recent_mean 0 (KDA's forest), corpus scores written into bench/RESULTS.md (section
# "## NAB").
# Usage: bench/nab_quality.sh NAB_DIR [RCFD]
set -euo pipefail
NAB=${1:?usage: bench/nab_quality.sh NAB_DIR [path/to/rcfd]}
HERE=$(cd "$(dirname "$0")" && pwd)
RCFD=${2:-$HERE/../build-bt/bin/rcfd}
OUT=$(mktemp -d "${TMPDIR:-/tmp}/rcfd-nab.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
start=$(date +%s.%N)
"$RCFD" backtest --corpus "$NAB" --html "$OUT/nab.html" --json "$OUT/nab.json" 2>/dev/null > "$OUT/out.txt"
secs=$(python3 -c "import time; print('%.1f' % (time.time() - $start))")
cat "$OUT/out.txt"
start=$(date +%s.%N)
"$RCFD" backtest --corpus "$NAB" -p recent_mean=0 --html "$OUT/nab0.html" --json "$OUT/nab0.json" \
    2>/dev/null > "$OUT/out0.txt"
secs0=$(python3 -c "import time; print('%.1f' % (time.time() - $start))")
echo "with -p recent_mean=0:"
cat "$OUT/out0.txt"
python3 - "$OUT/nab.json" "$HERE/RESULTS.md" "$secs" "$OUT/nab0.json" "$secs0" <<'PY'
import json, sys, re
s = json.load(open(sys.argv[1])); c = s["corpus"]; path = sys.argv[2]; secs = sys.argv[3]
m = c["metrics"]


def table(c):
    rows = []
    for key, label in (("standard", "standard"), ("reward_low_FP_rate", "reward_low_FP_rate"), ("reward_low_FN_rate", "reward_low_FN_rate")):
        n = c["nab"][key]; g = c["nab_at_grade_cutoff"][key]
        rows.append("| %s | %.1f | %.4g | %d/%d | %d | %.1f |" % (label, n["score"], n["threshold"], n["windows_hit"], n["windows_scored"], n["false_positives"], g["score"]))
    return rows


rows = table(c)
rows0 = table(json.load(open(sys.argv[4]))["corpus"])
secs0 = sys.argv[5]
THIRD = """### What the forest sees (third round, forest inputs, 2026-12-02)

(Measured on its own branch, with the second round's anomaly_novelty — no periodic or level rule: its
baseline is 66.0, not 68.9. The two third rounds were merged afterwards; the fourth round combines them.)

The rounds above changed what is done with the forest's score; this one changes the points the forest
is given. A forest on one value per record isolates a value that is rare *in the key's sample* (256
points of the last ~100,000 records): it cannot see that spikes became denser, that a value is back at
a level the key left an hour ago, or that a jump happened inside a slowly moving series. The new rcf
parameter `recent_mean` R (src/models/rcf.c; 0 = KDA's forest, the default until the fourth round) gives the forest, after
each field's value, the mean of the key's earlier values of that field weighted by (1 - 1/R)^age, so
a 1-field key gets a 2-D point (value, recent level). Same corpus, same anomaly_novelty, `-p
recent_mean=20` (13.3 s, then):

| profile | NAB score | threshold | windows hit | false positives | at grade >= 0.5 (no tuning) |
|---|---|---|---|---|---|
| standard | 67.6 | 0.5237 | 98/116 | 246 | -67.3 |
| reward_low_FP_rate | 56.2 | 0.5237 | 98/116 | 246 | -225.4 |
| reward_low_FN_rate | 74.0 | 0.3406 | 104/116 | 399 | -13.6 |

Seeds and halves (`-p recent_mean=R -p seed=S --scores S.csv`, then `bench/nab_posthoc.py S.csv
--split`; standard profile; halves as in the held-out check above):

| recent_mean | seed 24301 (default) | seed 1 | seed 2 | seed 3 | half A, seeds 24301/1/2/3 | half B, seeds 24301/1/2/3 |
|---|---|---|---|---|---|---|
| 0 (then the default, KDA) | 66.0 | 63.8 | 64.8 | 64.6 | 72.0 / 70.9 / 72.1 / 72.0 | 61.4 / 61.7 / 61.0 / 62.8 |
| 15 | 68.1 | 68.0 | 68.4 | 68.1 | 73.8 / 73.6 / 72.8 / 74.3 | 64.2 / 63.0 / 64.2 / 63.3 |
| **20** | **67.6** | **68.2** | **68.5** | **68.1** | 73.4 / 73.5 / 73.9 / 74.2 | 62.9 / 63.6 / 65.0 / 62.2 |
| 30 | 69.2 | 67.1 | 67.3 | 67.1 | 74.4 / 71.8 / 72.7 / 72.7 | 64.2 / 62.9 / 63.3 / 63.6 |

R = 20 gains 1.6 points with the default seed and 3.9 on average over seeds 1–3 (where the default
loses 1.2–2.2 to seed 24301: that seed was lucky, R = 20 is not seed-sensitive); it gains on half A
with every seed (+1.4 to +2.6) and on half B with three of the four (-0.6 to +4.0). Held out: R
chosen on half A among 10, 15, 20, 30 (default seed; A: 71.8 / 73.8 / 73.4 / 74.4) is 30, which
scores 64.2 on half B (+2.8 over the default's 61.4); chosen on B (62.4 / 64.2 / 62.9 / 64.2) 15 and
30 tie, and score 73.8 and 74.4 on A (+1.8 and +2.4 over 72.0). 15 to 30 is a plateau; 10 (66.9) and
33 (65.8) are lower. Still below 70 then, so it stayed off by default (it also makes
ANOMALY_SCORE differ from KDA's); the fourth round turned it on. Where the points come from (default seed, at each run's best
standard threshold): windows gained in art_increase_spike_density (the denser spikes raise the
recent level), iio_us-east-1_i-a2eb1cd9_NetworkIn, machine_temperature_system_failure and the last
Twitter_volume_UPS window; lost in art_load_balancer_spikes and the last nyc_taxi window; false
positives 269 -> 246 (tweet files 107 -> 93). art_daily_nojump is still missed.

Cost (`build/bench/bench_rcf --case a` and `--case e`, three interleaved runs each, RelWithDebInfo,
2 shared vCPUs): 9.0–13.3 µs per record for the 1-D forest, 13.0–14.2 µs with recent_mean 20 (a 2-D
point: about a third more per record), model 2.17 -> 2.48 MB; the corpus backtest 5.4 -> 8.1 s. A
snapshot grows by 5% (`rcfd train` over nyc_taxi: 880,816 -> 924,088 bytes: the forest's 2-D points,
and a 60-byte section with the key's means, 32 + 20 + 8 per field), and loads only under the same
recent_mean.

Tried first, each a second corpus run written with `--scores S2.csv` and combined with the default's
scores by `bench/nab_posthoc.py S1.csv --view2 S2.csv --combine HOW [--weight2 W]` (max / sum: of the
two novelties, each computed from its own forest's score, the range rule on the record's values
once; scoremax / scoresum / scoremean: of the two scores, then one novelty; replace: the second
forest's score alone, the range rule on the record's values). Second views that are not a -p
parameter ran on a transformed copy of the corpus (extra columns, `--fields value,...`), the
prototypes of recent_mean among them (their figures match `-p recent_mean=R` to the point):

| second view | combined | standard | low FP | low FN |
|---|---|---|---|---|
| shingle 8 forest | alone (`-p shingle_size=8`) | 60.4 | 54.3 | 66.0 |
| shingle 16 / 32 / 48 forest | alone | 59.5 / 60.4 / 61.6 | 54.3 / 55.3 / 56.9 | 65.4 / 65.5 / 65.3 |
| shingle 8 forest | max of novelties | 64.4 | 55.8 | 70.8 |
| shingle 16 forest | max | 65.3 | 55.3 | 71.6 |
| shingle 16 forest | sum of novelties | 67.1 | 55.5 | 73.8 |
| shingle 32 forest | max | 65.2 | 55.3 | 71.4 |
| shingle 48 forest | max | 65.5 | 55.4 | 71.5 |
| shingle 48 forest | max, second weighted 1.5 | 66.2 | 56.1 | 72.9 |
| shingle 48 forest | scoresum | 66.6 | 56.9 | 72.4 |
| shingle 8 forest | scoremax | 66.8 | 55.0 | 72.7 |
| differences x(t) - x(t-1) | replace | 61.6 | 51.6 | 68.4 |
| differences | max | 65.0 | 55.2 | 71.4 |
| log(1 + x - the file's minimum) | replace | 62.5 | 54.5 | 70.4 |
| (x, time of day as sin and cos, each x the file's range / 2) | replace | 65.2 | 54.7 | 73.1 |
| the same | max / scoresum | 65.8 / 65.0 | 54.8 / 55.1 | 72.0 / 71.8 |
| (x, the value 24 h earlier) | replace | 62.7 | 53.7 | 70.0 |
| the same seed-1 forest and a seed-2 forest | scoremean (vs 63.8 and 64.8 alone) | 64.1 | 55.6 | 71.0 |
| (x, mean) with R = 5 / 10 / 33 | replace | 65.2 / 66.9 / 65.8 | 55.0 / 54.7 / 55.7 | 71.6 / 73.0 / 73.7 |
| (x, x - mean), R = 10 | replace | 63.9 | 54.8 | 70.9 |
| (x, 0.5 x mean) / (x, 2 x mean), R = 10 | replace | 66.2 / 66.5 | 56.2 / 54.2 | 72.7 / 73.5 |
| (x, mean R = 10, mean R = 100) | replace | 65.9 | 55.6 | 72.6 |
| (x, mean R = 20, mean R = 200) | replace | 67.0 | 55.7 | 73.8 |
| (x, mean, weighted deviation), R = 10 | replace | 65.7 | 53.8 | 72.8 |
| (x, mean) R = 10, shingle 2 | replace | 64.6 | 54.6 | 71.0 |
| (x, mean, max of the previous 20 values), R = 20 | replace | 64.3 | 50.4 | 72.5 |
| (x, mean, time of day as above), R = 20 | replace | 66.9 | 56.0 | 74.2 |
| recent_mean 20 and the default forest | max | 67.5 | 56.1 | 73.8 |
| recent_mean 20 and a shingle 48 forest | max / scoremean | 67.3 / 67.6 | 55.7 / 55.5 | 73.6 / 74.2 |
| recent_mean 20 and the time-of-day forest | scoremean | 67.6 | 58.3 | 73.7 |

With recent_mean 20, forest parameters (`-p`): time_decay 10000 67.7 / 56.9 / 73.6, 20000 67.9 / 55.8
/ 74.6; sub_sample_size 128 63.0 / 53.4 / 68.7, 512 63.8 / 56.4 / 70.5; number_of_trees 200 68.2 /
57.3 / 74.2. A second forest of any kind, or a shingle, adds nothing over the recent mean and doubles
the cost; the time of day (which the rcf model does not get) separates art_daily_nojump in the
forest's score but not in the novelty."""
FOURTH = """### The combination: forest inputs and novelty together (fourth round, 2026-12-02)

The two third rounds were measured apart (the recent mean with the second round's novelty, the
periodic and level rules with KDA's plain forest); together, at recent_mean 20, they gave 68.8 with
the default seed and 69.4 / 69.2 / 69.4 with seeds 1-3: a gain on the seeds, not yet 70. This round
retuned the novelty's constants jointly on recent_mean's scores: one corpus run per (recent_mean,
seed), `rcfd backtest --corpus ../shared/nab -p recent_mean=R -p seed=S --scores rR_sS.csv` (R = 0,
15, 20, 25, 30, 40; S = 24301, 1, 2, 3), then `bench/nab_posthoc.py rR_sS.csv --split OPTIONS` on
each (standard profile; half A / half B as in the held-out checks above, default seed; low FP / low
FN with the default seed; nab_posthoc.py's defaults are now rcfd's, range tolerance 1%, so the
earlier rounds' commands need `--range-tol 0.05` added to give their figures):

| recent_mean | options | seed 24301 | seed 1 | seed 2 | seed 3 | mean of 1-3 | half A / B | low FP / low FN |
|---|---|---|---|---|---|---|---|---|
| 0 (the default before) | `--range-tol 0.05` | 68.9 | 66.4 | 67.8 | 66.9 | 67.0 | 74.2 / 64.5 | 57.5 / 74.7 |
| 0 | `--range-tol 0.01` | 70.1 | 68.5 | 70.0 | 68.7 | 69.1 | 73.7 / 66.7 | 58.5 / 75.8 |
| 20 | `--range-tol 0.05` | 68.8 | 69.4 | 69.2 | 69.4 | 69.3 | 74.3 / 64.7 | 57.8 / 75.2 |
| 20 | `--range-tol 0.03` | 69.4 | 69.2 | 69.1 | 70.0 | 69.4 | 74.2 / 65.1 | 58.2 / 75.1 |
| 20 | `--range-tol 0.02` | 69.5 | 69.4 | 69.0 | 70.2 | 69.5 | 73.9 / 65.7 | 58.1 / 75.1 |
| 20 | `--range-tol 0.015` | 69.4 | 69.2 | 68.9 | 70.1 | 69.4 | 73.9 / 65.4 | 57.8 / 75.0 |
| 20 | `--range-tol 0.01` | 70.7 | 70.6 | 70.0 | 70.6 | 70.4 | 74.9 / 66.7 | 58.8 / 76.4 |
| 20 | `--range-tol 0.005` | 70.3 | 70.1 | 69.5 | 70.2 | 69.9 | 74.6 / 66.1 | 57.8 / 76.2 |
| 15 | `--range-tol 0.01` | 70.5 | 69.9 | 70.5 | 69.7 | 70.0 | 74.4 / 67.7 | 58.8 / 76.3 |
| 25 | `--range-tol 0.05` | 69.1 | 69.1 | 68.6 | 69.5 | 69.1 | 74.7 / 64.6 | 58.3 / 75.3 |
| 25 | `--range-tol 0.02` | 69.9 | 69.9 | 69.4 | 70.2 | 69.8 | 74.4 / 66.6 | 58.8 / 75.6 |
| **25: the new default** | **`--range-tol 0.01`** | **71.0** | **71.1** | **70.6** | **71.4** | **71.0** | **74.8 / 67.5** | **59.6 / 76.6** |
| 25 | `--range-tol 0.005` | 70.5 | 70.6 | 70.1 | 70.9 | 70.5 | 74.5 / 67.0 | 58.6 / 76.3 |
| 30 | `--range-tol 0.05` | 70.3 | 68.1 | 68.6 | 68.2 | 68.3 | 75.3 / 65.5 | 58.3 / 76.4 |
| 30 | `--range-tol 0.01` | 70.9 | 69.5 | 70.6 | 70.1 | 70.1 | 74.8 / 68.1 | 59.3 / 77.1 |
| 40 | `--range-tol 0.01` | 69.6 | 69.1 | 70.1 | 69.2 | 69.5 | 72.7 / 66.7 | 59.7 / 75.3 |

The other constants, on recent_mean 20's scores (range tolerance 5%, `--range-tol 0.05`, unless given; standard, seeds
24301 / 1 / 2 / 3): level weight 0.2 69.1 / 69.5 / 69.7 / 69.6, 0.4 68.4 / 68.7 / 69.4 / 68.8, 0 (no
level rule) 68.6 / 68.9 / 69.3 / 69.0; window 150 67.8 / 69.2 / 68.7 / 67.9, 300 68.0 / 68.8 / 68.4 /
68.1; rank 2 68.9 / 68.6 / 69.3 / 68.6, 4 68.7 / 68.8 / 69.1 / 69.6; periodic slack 10 69.1 / 69.6 /
69.8 / 69.7; fraction 0.85 69.6 / 69.4 / 70.2 / 69.8, 0.95 67.9 / 69.0 / 68.1 / 69.3; with range
tolerance 1%, level weight 0.2 70.9 / 70.7 / 70.1 / 70.8. On recent_mean 25's with 1%: fraction 0.85
70.8 / 70.3 / 70.5 / 71.2, periodic slack 10 71.1 / 71.2 / 70.9 / 71.5. (`bench/nab_posthoc.py
r20_sS.csv --split --range-tol 0.05 --level-weight 0.2` etc.) None moves the score by more than the seeds' spread, so
the window, rank, fraction, level rule and periodic rule keep their constants; only the range
tolerance and recent_mean change.

What changed where: on KDA's forest a 1% tolerance gained two windows, both in half B (new
extremes by 1-5%: speed_7578's window at row 909, ec2_cpu_utilization_53ea38's at 2559) and lost on
half A (73.7 against 74.2 in the first two rows), so it was rejected in the third round. With the
recent mean half A no longer loses: at recent_mean 20 and 25, 1% is at least as good as 5% on both
halves with every seed (at 25, half A 74.8 / 74.2 / 74.5 / 75.7 against 74.7 / 73.3 / 73.9 / 74.9 at
5%, half B 67.5 / 68.3 / 66.9 / 67.4 against 64.6 / 65.4 / 64.4 / 64.4); at 30 half A prefers 5%
(75.3 against 74.8). The tolerance is peaked (1.5% and 2% lose most of the gain, 0.5% keeps most of
it): its gain is a few windows, which is why the held-out check and the seeds matter here. Where
the 2.1 points come from (default seed, each default at its own best standard threshold, the
default before against the new): windows hit 100 -> 102 (gained speed_7578's and
iio_us-east-1_i-a2eb1cd9_NetworkIn's, none lost), false positives 258 -> 247 (the tweet files -10,
ec2_network_in_5abac7 -4, nyc_taxi -3; machine_temperature_system_failure +8), the rest from earlier
detections inside windows (NAB's reward for a window falls with the delay).

Held out, over the 16 (recent_mean, tolerance) rows above: chosen on half A (default seed) it is
recent_mean 30 with 5% (A 75.3), which scores B 65.5 (the default before: 64.5); chosen on B it is
30 with 1% (B 68.1), which scores A 74.8 (before: 74.2). Half A barely separates the rows (72.7 to
75.3 for every recent_mean >= 15). The new default (recent_mean 25, 1%) against the default before
(recent_mean 0, 5%), seeds 24301 / 1 / 2 / 3: half A 74.8 / 74.2 / 74.5 / 75.7 against 74.2 / 73.3 /
74.4 / 74.2 (+0.6 / +0.9 / +0.1 / +1.5), half B 67.5 / 68.3 / 66.9 / 67.4 against 64.5 / 63.4 /
62.6 / 63.9 (+3.0 / +4.9 / +4.3 / +3.5), corpus +2.1 / +4.7 / +2.8 / +4.5: it gains on every seed and
both halves, and its seeds 1-3 are all above 70. Against KDA's forest with the new tolerance (the
second row; its halves with seeds 1 / 2 / 3: 72.9 / 65.2, 73.9 / 66.6, 73.7 / 65.8), the recent mean
gains on half A +1.1 / +1.3 / +0.6 / +2.0 and on half B +0.8 / +3.1 / +0.3 / +1.6 (seeds 24301 / 1 /
2 / 3): small per half, but on every one. 25 over 20 or 30 is within the noise (a plateau from
15 to 30 at 1%: seed means 70.0 to 71.0); 25 is the best row on the seeds' mean and on no half alone.

KDA's forest with the same novelty (`-p recent_mean=0`, @@SECS0@@ s here; the default run: the time
at the top):

| profile | NAB score | threshold | windows hit | false positives | at grade >= 0.5 (no tuning) |
|---|---|---|---|---|---|
@@ROWS0@@

The trade-off of recent_mean on by default. (1) ANOMALY_SCORE, grade and the explanation are no
longer KDA's: the forest scores (values, recent means), so a migrating application sees other
scores than KDA gave on the same records; `recent_mean 0` in the rcf model's config gives KDA's
forest bit for bit (tests/integration/it_kafka.sh checks it against an offline forest with KDA's
inputs; the other score checks run the default, `RECENT_MEAN=25 rcfd_score_check`), and with the new
range tolerance it still scores 70.1 here. (2) Cost: a 2-D point per 1-field record, about a third
more CPU per record (third round: 9.0-13.3 µs -> 13.0-14.2 µs, model 2.17 -> 2.48 MB, snapshot +5%);
the corpus backtest takes the times above. (3) With `explain`, a column's attribution holds its
recent mean's share too, so the columns still sum to the score (as first written it left that share out). (4) A snapshot loads
only under the recent_mean it was made with: checkpoints and `rcfd train` snapshots made under the
old default (0) are refused at startup (exit 78, naming recent_mean) until the config says
`recent_mean 0` or they are retrained. Issue #6 asks for the quality with default settings, and the
KDA-exact forest is one parameter away, so the default is on; the range tolerance (1%) applies to
both."""
sec = """## NAB

`bench/nab_quality.sh ../shared/nab [path/to/rcfd]` (rcfd backtest --corpus, default settings: rcf with
KDA's defaults — 100 trees, 256 samples, timeDecay 100000, shingle 1, seed 24301 — and rcfd's
recent_mean 25 (the forest also sees each key's recent mean: fourth round below), the NAB threshold
swept over the record's anomaly_novelty, the default NAB input, one threshold per profile for the whole
corpus, as NAB does). %d files, %d windows, %s s.

| profile | NAB score | threshold | windows hit | false positives | at grade >= %g (no tuning) |
|---|---|---|---|---|---|
%s

Scoreboard for comparison (anchors §5): KDA RANDOM_CUT_FOREST 51.7 / 38.4 / 59.7, CAD OSE 69.9 / 67.0 /
73.2, Numenta HTM 70.5 / 62.6 / 75.2. **Above the 70 target** (standard profile): 71.0 with the
default seed, 71.1 / 70.6 / 71.4 with seeds 1 / 2 / 3, and on both held-out halves with every seed
better than the default before (fourth round below). Before the fourth round (recent_mean 0, range
tolerance 5%%): 68.9, 66.4 / 67.8 / 66.9; before the third: 66.0, 63.8 / 64.8 / 64.6; before the
second: 56.0, 55.7 / 55.3 / 55.3. With KDA's forest exactly (`-p recent_mean=0`, the new novelty):
70.1, 68.5 / 70.0 / 68.7 (table in the fourth round).

What the default alerts on (src/score/likelihood.h, per key, in the daemon's output and here alike):

    point   = (the record's values, the key's recent mean of each: mean += (value - mean) / 25)
              is what the forest scores (rcf recent_mean 25, src/models/rcf.c)
    rise    = score x max(0, score - 0.9 x max(the key's previous 200 scores))
    novelty = rise / (1 + the key's third-largest earlier rise, decayed by e^(-age / time_decay))
    novelty = 0 when the score's rise repeats two earlier rises of at least 0.9 x its score at
              t - d and t - 2d (+-5 records, d >= 50; among the key's last 16 rises): periodic
    level   = ln(1 + |mean of the last 5 values - median of the 200 values before them|
                     / the interquartile range of those 200)          (per field, the largest)
    novelty = max(novelty, 0.3 x the same rise / (1 + third-largest rise) computed over level)
    novelty = max(novelty, 1) when a value lies more than 1%% of its field's range beyond the lowest
              or highest value the key has had (from output_after records on)

Why: one threshold serves every stream in NAB's sweep, and that is where the old default lost most. A
per-file best threshold would have scored the old novelty 71.8 and the raw score 78.0 (an upper bound,
with hindsight): the information is in the forest's score, the loss is in calibrating it across streams.
Per-stream z-scores and Numenta's likelihood calibrate against a stream's *typical* score and turn its
noise into alerts (first table); dividing by the key's own *largest* earlier rises instead makes a key
whose scores jump all the time (tweet counts) need a bigger jump than a steady one. Weighting the rise by
the score ranks a rise to a score the forest rarely gives above an equal one among low scores. The range
rule is Numenta's "spatial anomaly" (Numenta's tolerance is 5%%; 1%% since the fourth round): a value beyond
anything the key has had is novel even when the forest's 256-point sample holds too few extremes to
isolate it. Refractory periods (suppressing
alerts for a while after one, as CAD OSE does) did not help: the rise already alerts once per burst.
The third round's two rules (below) attack what was left: the periodic rule forgives a daily job's
spike (the AWS CPU files spike every 288 records to the same height, beyond the 200-record window, and
alerted every day), the level rule sees a shift of the level made of ordinary values, which a forest on
single values scores low (rogue_agent_key_hold, art_increase_spike_density, a Twitter_volume_UPS window);
it goes through the same per-key rise and rank scale as the score, so its calibration is the key's own,
and is weighted 0.3 so that it decides only where the forest has nothing.

The NAB scorer was checked against numenta/NAB's sweeper.py (probation min(floor(0.15 n), 750) rows
excluded, window and after-window positions, A_TP / scaled_sigmoid(-1), null detector and perfect score
for the normalisation) and not changed; the one difference is at exactly 3 window lengths past a window
(NAB's later sweeper.py uses >= 3, its v1.0 scorer.py and ours > 3: 6e-7 of an FP weight).

**Held-out check.** The window, fraction, rank, floor and power were chosen on the whole corpus (58
files), so 66.0 is optimistic. Split the files in two halves (alternate files of each category, by name;
A: 31 files, 57 windows; B: 27 files, 59 windows), choose those constants on one half (the best of the
~190 variants searched, scored without the range rule), then score the other half with Numenta's 5%%
range rule added (`bench/nab_posthoc.py S.csv OPTIONS --split`):

| | half A | half B |
|---|---|---|
| the old default (score - 0.9 x max of the previous 400) | 66.7 / 57.4 / 71.5 | 49.4 / 39.0 / 58.7 |
| the new default (chosen on both halves) | 72.0 / 62.7 / 77.4 | 61.4 / 50.4 / 68.5 |
| chosen on A only (fraction 1.0, floor 0.5), scored on B | (73.3 / 63.4 / 78.7) | **59.6 / 48.6 / 66.1** |
| chosen on B only (window 150, floor 4, power 2), scored on A | **70.1 / 60.1 / 76.5** | (62.4 / 50.9 / 69.1) |

Held out, the new form gains 3.4 (A) and 10.2 (B) standard points over the old default. The halves
differ by 10 points under any detector and one forest seed moves the corpus score by up to 2, so
differences under about 2 points in the tables below are noise.

Third round, the same check for its constants (level weight 0, 0.15, 0.25, 0.3, 0.35, 0.5 x level_k 3,
5, 10 x periodic rule on / off: 36 variants, `bench/nab_posthoc.py S.csv --level-k K --level-weight W
[--per-events 0] --split`; the periodic rule's slack, height and count and the level window were fixed
on the whole corpus, not searched per half):

| | half A | half B |
|---|---|---|
| the second round's default (no periodic or level rule) | 72.0 / 62.7 / 77.4 | 61.4 / 50.4 / 68.5 |
| the new default (chosen on both halves) | 74.2 / 64.2 / 79.9 | 64.5 / 53.5 / 70.1 |
| chosen on A only (level weight 0.35), scored on B | (74.5) | **64.1** |
| chosen on B only (five variants tie at 64.5; the worst of them on A: level_k 3, weight 0.25) | **72.8** (73.1, 72.9, 73.1, 74.2 for the others) | (64.5) |

Held out, the third round gains 2.7 (B) and 0.8 to 2.2 (A) standard points; with every forest seed it
gains 2.6 / 3.0 / 2.3 (seeds 1 / 2 / 3); over the four seeds the periodic rule adds 0.8-1.0 to the
level rule and the level rule 1.2-2.1 to the periodic one.

Experiments, third round (2026-12-02): `rcfd backtest --corpus ../shared/nab --scores S.csv` once, then
`bench/nab_posthoc.py S.csv OPTIONS` (it reproduces rcfd's novelty column record for record), standard /
low FP / low FN, default seed (since the fourth round: `-p recent_mean=0` for S.csv, and
`--range-tol 0.05` before OPTIONS unless they set it):

| what was tried | options | standard | low FP | low FN |
|---|---|---|---|---|
| the second round's default | `--per-events 0 --level-weight 0` | 66.0 | 54.7 | 71.9 |
| periodic rule only | `--level-weight 0` | 66.8 | 55.7 | 72.4 |
| level rule only | `--per-events 0` | 68.1 | 55.9 | 74.1 |
| **both: anomaly_novelty, the default** | (none) | **68.9** | **57.5** | **74.7** |
| level weight 0.15 | `--level-weight 0.15` | 67.6 | 56.4 | 73.2 |
| level weight 0.25 | `--level-weight 0.25` | 68.1 | 56.3 | 74.1 |
| level weight 0.35 | `--level-weight 0.35` | 68.4 | 57.2 | 74.4 |
| level weight 0.5 | `--level-weight 0.5` | 68.0 | 57.0 | 74.0 |
| level over the last 3 values | `--level-k 3` | 68.6 | 56.9 | 74.5 |
| level over the last 10 values | `--level-k 10` | 68.2 | 56.3 | 73.9 |
| level against 100 values before | `--level-window 100` | 67.1 | 55.5 | 72.9 |
| level against 400 values before | `--level-window 400` | 67.0 | 55.5 | 72.8 |
| level novelty added instead of max | `--level-sum` | 67.5 | 57.0 | 73.7 |
| periodic slack +-10 records | `--per-slack 10` | 69.2 | 58.1 | 74.9 |
| periodic slack +-15 records | `--per-slack 15` | 69.2 | 58.2 | 74.9 |
| periodic: earlier rises >= 0.8 x the score | `--per-height 0.8` | 68.4 | 57.2 | 74.0 |
| periodic: the last 8 rises | `--per-events 8` | 68.7 | 57.1 | 74.5 |
| periodic: the last 32 rises | `--per-events 32` | 69.0 | 57.7 | 74.7 |
| periodic: periods from 20 records | `--per-min 20` | 68.9 | 57.5 | 74.7 |
| periodic: only rises of novelty >= 0.1 remembered | `--per-floor 0.1` | 69.0 | 57.7 | 74.7 |
| the score must beat its last 3 scores in full, not 0.9 x | `--recent 3` | 68.9 | 57.9 | 74.4 |
| the same, last 10 | `--recent 10` | 68.0 | 56.8 | 73.5 |
| a young key damped: x min(1, age / 500) | `--mature 500` | 66.0 | 54.9 | 71.6 |
| x min(1, age / 1500)^0.5 | `--mature 1500 --mature-pow 0.5` | 66.6 | 56.3 | 72.0 |
| range tolerance 2%% | `--range-tol 0.02` | 69.6 | 58.2 | 75.2 |
| no range rule | `--range-tol 0` | 66.6 | 55.4 | 72.3 |
| range tolerance 3%% | `--range-tol 0.03` | 69.4 | 58.0 | 75.0 |
| range tolerance 1%% | `--range-tol 0.01` | 70.1 | 58.5 | 75.8 |
| range tolerance 0.5%% | `--range-tol 0.005` | 69.7 | 57.5 | 75.5 |
| range tolerance 0.1%% | `--range-tol 0.001` | 68.1 | 55.0 | 74.4 |
| the range rule's novelty 0.7 / 1.5 instead of 1 | `--extreme 0.7`, `--extreme 1.5` | 68.9 | 57.5 | 74.7 |
| rank scale + 5 x the key's typical rise (moving average of its rises over 100) | `--typical 5` | 68.9 | 58.6 | 74.1 |
| the same, 3 x | `--typical 3` | 68.8 | 58.5 | 74.0 |
| the score's baseline the 2nd largest of the window, not the largest | `--window-rank 2` | 65.2 | 53.2 | 71.9 |
| the 3rd largest | `--window-rank 3` | 62.9 | 49.3 | 70.5 |

Only the range tolerance moves the corpus score by more than 0.7, and 1%% passes 70 (70.1 / 58.5 / 75.8;
seeds 1 / 2 / 3: 68.5 / 70.0 / 68.7, against 66.4 / 67.8 / 66.9 at 5%%), but it does not hold up held
out: its gain is two windows, both in half B (speed_7578's at row 909 and ec2_cpu_utilization_53ea38's
at 2559, new extremes by 1-5%%), and half A prefers 5%% (halves at 1%%: 73.7 / 66.7, at 5%%: 74.2 / 64.5).
Choosing range tolerance (1, 2, 5%%) x the typical-rise term (0, 3, 5) on one half: on A it picks 1%%
with 5 x typical (A 76.0), which scores B 65.6 (the default: 64.5); on B it picks 1%% alone (B 66.7),
which scores A 73.7 (the default: 74.2). Held out that is +1.1 and -0.5: noise, so the tolerance stays
Numenta's 5%% and the default stays below 70. The typical-rise term is the same story the other way
(half A 75.2 against 74.2, half B 64.1 against 64.5; seeds 67.1 / 68.0 / 68.1). The
same round, one-off scripts over the same scores (not kept; on the second round's default, 66.0,
unless said; standard): the rank-3 scale replaced by or combined with a running quantile of the key's scores (p90,
p99, p99.9; divided by 1 + q^2, by 1 + max(rank-3 rise, q^2), or times 1 / (1 + q)): 54.2-65.5 (the best,
rank-3 novelty / (1 + 0.3 p90^2): 65.5 / 54.6 / 71.3, seed 1 63.9); rises of the key's first 50 / 128 / 256
scored records not in the rank scale 65.2 / 65.6 / 64.9; the first 50 / 128 scores not in the window's
maximum 64.0 / 62.7; (1 + scale)^0.7 or ^1.3 63.5 / 64.7; a soft refractory, novelty / (1 + c x its own
maximum over the previous Q records), Q 50-500, c 0.3-3: 58.3-65.2; max with 0.3 or 1 x the novelty of the
score smoothed over 5 or 20 records 63.0-66.0; the periodic rule with a relative slack (2%%, 5%% of d) and
no height condition: 61.6 / 59.8 (chance triples among small rises; x 0.3 instead of 0: 64.9 / 63.5),
with height 0.7 and slack 2 / 5 records 66.1 / 66.7; (on top of the new default) max with 0.15 / 0.3 x the level rule for single values
(k 1) 68.7 / 68.0, for 20 values against 400 68.9 / 68.6, with 0.15 / 0.3 x a spread rule (interquartile
range of the last 20 values over that of the 200 before) 67.9 / 67.0. The per-file best threshold
(hindsight) would score the new novelty 79.4 (the second round's 77.2): calibration across streams still
costs 10 points.

Experiments, second round (2026-11-22; the options below are relative to that round's default: add
`--per-events 0 --level-weight 0` to rerun them with today's bench/nab_posthoc.py): the forest runs once, `rcfd backtest --corpus ../shared/nab
--scores S.csv`, then `bench/nab_posthoc.py S.csv OPTIONS` scores a post-processing of the same scores
(it re-implements the scorer and the novelty and reproduces rcfd's figures exactly); standard / low FP /
low FN:

| what was tried | options | standard | low FP | low FN |
|---|---|---|---|---|
| the raw score | `--input score` | 52.7 | 39.7 | 60.0 |
| score - 0.9 x max(previous 400): the default before | `--window 400 --rank 0 --power 0 --range-tol 0` | 56.0 | 46.1 | 62.0 |
| the same over 200 records | `--rank 0 --power 0 --range-tol 0` | 54.5 | 40.3 | 61.9 |
| the default before / (0.5 + the key's third-largest earlier value of it) | `--window 400 --floor 0.5 --power 0 --range-tol 0` | 61.5 | 51.1 | 66.6 |
| the 200-record one / (1 + the key's third-largest earlier value of it) | `--power 0 --range-tol 0` | 58.5 | 48.3 | 66.0 |
| rise = score x the 200-record one; rise / (1 + the key's third-largest earlier rise) | `--range-tol 0` | 63.7 | 51.9 | 69.5 |
| **the same and the range rule: anomaly_novelty, the default** | (none) | **66.0** | **54.7** | **71.9** |
| range tolerance 2%% | `--range-tol 0.02` | 66.8 | 56.6 | 72.4 |
| range tolerance 10%% | `--range-tol 0.1` | 64.4 | 52.9 | 70.2 |
| range rule from the first record | `--warm 0` | 66.0 | 54.7 | 71.9 |
| window 150 | `--window 150` | 65.6 | 53.5 | 72.2 |
| window 300 | `--window 300` | 64.9 | 56.9 | 71.0 |
| window 400 | `--window 400` | 65.7 | 58.5 | 72.0 |
| fraction 1.0 | `--fraction 1.0` | 64.2 | 54.3 | 71.0 |
| rank 1 (the key's largest earlier rise) | `--rank 1` | 60.5 | 53.0 | 67.9 |
| rank 2 | `--rank 2` | 65.4 | 55.9 | 70.7 |
| rank 5 | `--rank 5` | 63.2 | 52.9 | 70.1 |
| floor 0.5 | `--floor 0.5` | 65.0 | 56.2 | 71.2 |
| floor 2 | `--floor 2` | 63.9 | 54.8 | 70.8 |
| rise x score squared | `--power 2` | 64.9 | 55.1 | 70.6 |
| rises forgotten over 20,000 records | `--memory 20000` | 65.3 | 54.7 | 71.5 |
| rises forgotten over 5,000 records | `--memory 5000` | 63.7 | 54.5 | 71.1 |
| refractory: a value only above all of the previous 100 | `--post newhigh:100` | 65.8 | 54.8 | 71.5 |
| CAD OSE's rest: 0 for 100 records after a value >= 1 | `--post rest:100:1` | 62.7 | 51.9 | 68.2 |

The same, one-off scripts over the same scores (not kept): on the old novelty, a refractory period
(a value only above all of the previous 100) 57.4 / 47.4 / 64.2, CAD OSE's rest (100 records after a
value >= 1) 55.1 / 45.7 / 60.8, output 0 until 50 scores were seen 53.8 / 45.2 / 59.8, divided by 0.5 +
the key's largest earlier value 58.2 / 48.2 / 63.2; score / (1 + max of the previous 2,000) 54.2 / 44.8 /
59.3; score / (1 + the key's 10th-largest earlier score) 56.3 / 42.1 / 66.3; a baseline of max(0.9 x max
of 400, the 99.5th percentile of all earlier scores) 57.9 / 46.0 / 64.2; an exponentially decaying
maximum (400 records) instead of the window, with the rank-3 scale, 61.4 / 50.1 / 69.1; two windows (0.9
x max of 200 and 0.8 x max of 1,000) 57.3 / 51.5 / 62.2; the score smoothed over 3 records first 58.3 /
45.1 / 65.9; a CUSUM of the score's excess 57.1 / 45.8 / 62.6 (the last four with the rank-3 scale).

Forest parameters with the new default (`rcfd backtest --corpus ../shared/nab -p NAME=VALUE`): seed 1
63.8 / 54.7 / 71.3, seed 2 64.8 / 55.8 / 71.2, seed 3 64.6 / 55.4 / 71.8; time_decay 2000 63.3 / 50.0 /
69.5, 10000 65.2 / 55.1 / 72.2; shingle_size 2 62.7 / 55.5 / 69.4, 4 61.9 / 53.9 / 69.0;
sub_sample_size 512 59.3 / 50.5 / 64.9; number_of_trees 50 65.0 / 54.3 / 71.0; output_after 32 63.8 /
54.3 / 70.3. None beats KDA's defaults by more than the seed's spread, so they stay.

What is left: 16 of 116 windows missed (some need temporal context a 1-D forest on single values does
not see: art_daily_nojump; some come within 200 records of an earlier anomaly or of the forest's young,
high scores: TravelTime_387, speed_7578), and 258 false positives, 106 of them in the ten tweet-count
files (noisy daily cycles: their spikes are neither periodic enough for the periodic rule nor lower
than the labelled ones); the periodic rule took the AWS CPU file 24ae8d from 9 to 1 and c6585a from 13 to
9 (its daily spikes drift by up to 10 records a day, beyond the 5-record slack; slack 10: 69.2).
Before the third round: 19 windows missed, 269 false positives, 107 in the tweet files. (This
paragraph describes the third round's default; the fourth round's misses 14 windows, with 247 false
positives.)

@@FOURTH@@

@@THIRD@@

First round (the old anomaly_novelty's design; each one full corpus run, `rcfd backtest --corpus
../shared/nab [--nab-input X] [-p ...]`; standard / reward_low_FP / reward_low_FN):

| what was tried | standard | low FP | low FN |
|---|---|---|---|
| raw score, KDA defaults (the default before the first round) | 52.7 | 39.7 | 60.0 |
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
| score - 0.9 × max(previous 400): the round's result (the default before the second round) | 56.0 | 46.1 | 62.0 |
| score - 0.95 × max(previous 400) | 55.6 | 47.0 | 61.8 |
| score - 0.9 × max(previous 600) | 53.2 | 42.5 | 59.5 |
| novelty 0.9 × 400, time_decay 10000 | 55.1 | 46.4 | 62.3 |
| novelty 0.9 × 400, sub_sample_size 512 | 56.1 | 46.0 | 60.9 |
| novelty 0.9 × 400, sub_sample_size 128 | 52.8 | 42.5 | 60.2 |
| novelty 0.9 × 400, shingle_size 2 | 55.5 | 44.1 | 61.4 |
| novelty 0.9 × 400, number_of_trees 200 | 55.3 | 47.0 | 62.1 |
| `--nab-input ratio` (score / adaptive threshold) | 49.4 | 42.5 | 56.2 |
| `--nab-input grade` | 0.0 | 0.0 | 7.9 |

Record-level metrics at grade >= %g: precision %.3f, recall %.3f, F1 %.3f, accuracy %.3f.
""" % (c["files"], c["windows"], secs, s["grade_cutoff"], "\n".join(rows), s["grade_cutoff"], m["precision"], m["recall"], m["f1"], m["accuracy"])
sec = sec.replace("@@FOURTH@@", FOURTH.replace("@@ROWS0@@", "\n".join(rows0)).replace("@@SECS0@@", secs0))
sec = sec.replace("@@THIRD@@", THIRD)
text = open(path).read() if __import__("os").path.exists(path) else ""
pat = re.compile(r"^## NAB\n.*?(?=^## |\Z)", re.S | re.M)
text = pat.sub(lambda _: sec + "\n", text) if pat.search(text) else text.rstrip("\n") + "\n\n" + sec
open(path, "w").write(text)
PY
