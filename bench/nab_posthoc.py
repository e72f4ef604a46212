#!/usr/bin/env python3
"""NAB scores of score post-processing variants, from the per-record CSV of
`rcfd backtest --corpus NAB_DIR --scores S.csv` (the forest runs once; each variant here takes
seconds). It re-implements the NAB scoring of src/backtest/nab.c (probation, scaled sigmoid, one
threshold per profile for the corpus, null and perfect detectors) and the anomaly_novelty of
src/score/likelihood.h with its constants as options, and the periodic, level and range rules it
had until 2026-12-03 (off by default), so the experiments in bench/RESULTS.md (NAB) can be rerun
and extended. With the defaults it reproduces rcfd's own novelty column.

    build/bin/rcfd backtest --corpus ../shared/nab --scores /tmp/s.csv
    bench/nab_posthoc.py /tmp/s.csv                      # the default anomaly_novelty
    bench/nab_posthoc.py /tmp/s.csv --input novelty      # rcfd's column, as written
    bench/nab_posthoc.py /tmp/s.csv --range-tol 0.01 --per-events 16 --level-weight 0.3
                                                         # the fourth round's (until 2026-12-03)
    bench/nab_posthoc.py /tmp/s.csv --range-tol 0.05 --per-events 16 --level-weight 0.3
                                                         # the third round's (with a
                                                         # -p recent_mean=0 CSV: the forest's too)
    bench/nab_posthoc.py /tmp/s.csv --range-tol 0.05     # the second's
    bench/nab_posthoc.py /tmp/s.csv --window 400 --rank 0 --power 0   # the first round's

(The commands in bench/RESULTS.md's NAB rounds were written when the fourth round's rules were
the defaults: add `--range-tol 0.01 --per-events 16 --level-weight 0.3` before their options.)
    bench/nab_posthoc.py /tmp/s.csv --split              # also each half of the corpus
    bench/nab_posthoc.py /tmp/s.csv --view2 /tmp/s2.csv --combine max   # and a second forest's

--split scores two halves of the files (alternate files of each category, by name) apart, for a
held-out check: choose a variant on one half, report it on the other.
"""
import argparse
import bisect
import heapq
import csv
import math
import sys
from collections import deque

PROFILES = (("standard", 1.0, 0.11, 1.0), ("reward_low_FP_rate", 1.0, 0.22, 1.0),
            ("reward_low_FN_rate", 1.0, 0.11, 2.0))


def scaled_sigmoid(x):
    return -1.0 if x > 3.0 else 2.0 / (1.0 + math.exp(5.0 * x)) - 1.0


def load(path):
    files, by_name = [], {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            name = row["file"]
            if name not in by_name:
                by_name[name] = {"name": name, "value": [], "score": [], "novelty": [], "win": []}
                files.append(by_name[name])
            fl = by_name[name]
            num = lambda k: float(row[k]) if row[k] != "" else math.nan
            fl["value"].append(num("value"))
            fl["score"].append(num("score"))
            fl["novelty"].append(num("novelty"))
            fl["win"].append(int(row["window"]))
    base = 0
    for fl in files:
        base += label(fl, base)
    return files


def label(fl, base):
    """Fills fl's NAB structures from its per-record window ids fl["win"] (-1 outside): the
    windows' count, the probation, each record's sweep weight and window id (numbered from
    base). Returns the number of windows."""
    n = len(fl["win"])
    spans = {}
    for i, w in enumerate(fl["win"]):
        if w >= 0:
            a, _ = spans.get(w, (i, i))
            spans[w] = (a, i)
    wins = [spans[w] for w in sorted(spans)]
    fl["n_windows"] = len(wins)
    fl["prob"] = min(int(math.floor(0.15 * n)), 750)
    sweep, wid, j, prev = [], [], 0, -1
    for i in range(n):
        while j < len(wins) and wins[j][1] < i:
            prev, j = j, j + 1
        if j < len(wins) and i >= wins[j][0]:
            width = wins[j][1] - wins[j][0] + 1
            sweep.append(scaled_sigmoid(-(wins[j][1] - i + 1) / width))
            wid.append(base + j)
        elif prev < 0:
            sweep.append(-1.0)
            wid.append(-1)
        else:
            width = wins[prev][1] - wins[prev][0] + 1
            sweep.append(scaled_sigmoid((i - wins[prev][1]) / (width - 1 if width > 1 else 1)))
            wid.append(-1)
    fl["sweep"], fl["wid"] = sweep, wid
    return len(wins)


def nab(files, values, subset=None):
    """{profile: (normalised score, threshold, windows hit, false positives)} with one threshold
    per profile for the files in subset (all by default), as rcfd_nab_optimize chooses it."""
    idx = [i for i in range(len(files)) if subset is None or i in subset]
    pts, present = [], set()
    for i in idx:
        fl, v = files[i], values[i]
        for r in range(fl["prob"], len(v)):
            if fl["wid"][r] >= 0:
                present.add(fl["wid"][r])
            if v[r] == v[r]:
                pts.append((v[r], fl["sweep"][r], fl["wid"][r]))
    labelled = sum(files[i]["n_windows"] for i in idx)
    pts.sort(key=lambda p: -p[0])
    max_tp = scaled_sigmoid(-1.0)
    out = {}
    for name, a_tp, a_fp, a_fn in PROFILES:
        best = {w: -a_fn for w in present}
        wsum, fpsum = -a_fn * len(present), 0.0
        top = (wsum, math.inf, 0, 0)
        hit = fp = 0
        first = {}
        all_fp = 0.0
        i = 0
        while i < len(pts):
            t = pts[i][0]
            while i < len(pts) and pts[i][0] == t:
                _, sw, w = pts[i]
                if w < 0:
                    fp += 1
                    fpsum += sw * a_fp
                    all_fp += sw * a_fp
                else:
                    c = sw * a_tp / max_tp
                    hit += best[w] == -a_fn
                    if c > best[w]:
                        wsum, best[w] = wsum + c - best[w], c
                    first[w] = max(first.get(w, c), c)
                i += 1
            if wsum + fpsum > top[0]:
                top = (wsum + fpsum, t, hit, fp)
        # the null detector (one constant everywhere): nothing detected, or everything
        null = max(-a_fn * len(present), sum(first.values()) - a_fn * (len(present) - len(first))
                   + all_fp)
        perfect = a_tp * labelled
        norm = 100.0 * (top[0] - null) / (perfect - null) if perfect != null else 0.0
        out[name] = (norm, top[1], top[2], top[3])
    return out


def sliding_max_previous(xs, w):
    """m[t] = max of the last w non-NAN values before t (0 when none)."""
    out, dq, k = [], deque(), 0
    for x in xs:
        while dq and dq[0][0] < k - w:
            dq.popleft()
        out.append(dq[0][1] if dq else 0.0)
        if x == x:
            while dq and dq[-1][1] <= x:
                dq.pop()
            dq.append((k, x))
            k += 1
    return out


def rise_scale(a, recent=0, is_score=False):
    """The rise and its rank scale, fed one score at a time: rise / (floor + the rank-th largest
    earlier rise, decayed), as anomaly_novelty computes it for the forest's score and for the
    level score alike (a window of the previous `window` inputs, kept as a deque of maxima)."""
    decay = math.exp(-1.0 / a.memory)
    state = {"dq": deque(), "k": 0, "top": []}

    def feed(x):
        dq, k = state["dq"], state["k"]
        while dq and dq[0][0] < k - a.window:
            dq.popleft()
        m = dq[0][1] if dq else 0.0
        if a.window_rank > 1 and is_score:  # experiment: the k-th largest of the window
            w = state.setdefault("w", deque(maxlen=a.window))
            big = heapq.nlargest(a.window_rank, w)
            m = big[-1] if len(big) == a.window_rank else 0.0
            w.append(x)
        if recent > 0:  # experiment: the last `recent` inputs count in full, not x fraction
            hist_r = state.setdefault("r", deque(maxlen=recent))
            mr = max(hist_r) if hist_r else 0.0
            hist_r.append(x)
            m = max(m, mr / a.fraction)
        while dq and dq[-1][1] <= x:
            dq.pop()
        dq.append((k, x))
        state["k"] = k + 1
        jump = x - a.fraction * m
        rise = jump * x ** a.power if jump > 0 and x > 0 else 0.0
        if a.rank <= 0:
            return rise, rise
        top = [v * decay for v in state["top"]]
        scale = top[a.rank - 1] if len(top) >= a.rank else 0.0
        if a.typical > 0:  # experiment: plus c x the key's typical positive rise (EWMA)
            scale += a.typical * state.get("ew", 0.0)
            if rise > 0:
                ew = state.get("ew")
                state["ew"] = rise if ew is None else ew + (rise - ew) / a.typical_mem
        v = rise / (a.floor + scale)
        if rise > 0:
            top = sorted(top + [rise], reverse=True)[:a.rank]
        state["top"] = top
        return rise, v

    return feed


def periodic(events, t, x, a):
    """Whether a rise of score x at record t repeats two earlier rises of about its height (each
    >= per_height x) equally spaced before it: at t - d and t - 2d (+-per_slack records), d >=
    per_min; events holds the key's last per_events rises (t, score), oldest first."""
    for t1, x1 in reversed(events):
        d = t - t1
        if d < a.per_min or x1 < a.per_height * x:
            continue
        for t2, x2 in events:
            if abs(t1 - d - t2) <= a.per_slack and x2 >= a.per_height * x:
                return True
    return False


def novelty(fl, a, key="score", value_rules=True):
    """The key's anomaly_novelty from its score column `key`; value_rules False: without the rules
    on the record's values (range, level), for a second forest's score (--view2)."""
    s, values = fl[key], fl["value"]
    forest, level = rise_scale(a, a.recent, True), rise_scale(a)
    events = deque(maxlen=a.per_events)  # the key's last rises of the score: (record, score)
    hist, srt, recent = deque(), [], deque()  # the level rule's values: before, sorted, last k
    out = []
    lo, hi, t = math.inf, -math.inf, 0
    for x, val in zip(s, values):
        if x != x:
            out.append(x)
            continue
        rise, v = forest(x)
        if rise > 0 and a.per_events > 0:
            keep = v >= a.per_floor
            if periodic(events, t, x, a):
                v = 0.0
            if keep:
                events.append((t, x))
        if a.level_weight > 0 and value_rules:
            lvl = 0.0
            if val == val:
                recent.append(val)
                if len(recent) > a.level_k:
                    y = recent.popleft()
                    hist.append(y)
                    bisect.insort(srt, y)
                    if len(hist) > a.level_window:
                        del srt[bisect.bisect_left(srt, hist.popleft())]
                if len(hist) == a.level_window and t >= a.warm:
                    n = len(srt)
                    spread = max(srt[(3 * n) // 4] - srt[n // 4], 1e-3 * (hi - lo), 1e-300)
                    lvl = math.log1p(abs(sum(recent) / len(recent) - srt[n // 2]) / spread)
            lv = a.level_weight * level(lvl)[1]
            v = v + lv if a.level_sum else max(v, lv)
        if val == val and value_rules:
            if a.range_tol > 0 and t >= a.warm and hi > lo and (
                    val > hi + a.range_tol * (hi - lo) or val < lo - a.range_tol * (hi - lo)):
                v = max(v, a.extreme)
            lo, hi = min(lo, val), max(hi, val)
        if a.mature > 0:  # experiment: damp a young key's novelty
            v *= min(1.0, max(0.0, t - a.warm) / a.mature) ** a.mature_pow
        t += 1
        out.append(v)
    return out


def post(v, spec):
    """Optional suppression after a high value: newhigh:R keeps a value only above every value of
    the previous R records; rest:R:B zeroes R records after a value >= B (CAD OSE's rest)."""
    if spec == "none":
        return v
    kind, *arg = spec.split(":")
    if kind == "newhigh":
        m = sliding_max_previous(v, int(arg[0]))
        return [x if x != x or x > m[t] else 0.0 for t, x in enumerate(v)]
    if kind == "rest":
        r, b, last, out = int(arg[0]), float(arg[1]), -(10 ** 9), []
        for t, x in enumerate(v):
            out.append(x if x != x or t - last > r else 0.0)
            if x == x and x >= b:
                last = t
        return out
    sys.exit("unknown --post " + spec)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("csv")
    p.add_argument("--input", choices=("computed", "novelty", "score"), default="computed",
                   help="computed: the novelty from the score with the options below; novelty: "
                        "rcfd's column; score: the raw score")
    p.add_argument("--window", type=int, default=200)
    p.add_argument("--fraction", type=float, default=0.9)
    p.add_argument("--rank", type=int, default=3, help="0: no scale (the plain rise)")
    p.add_argument("--floor", type=float, default=1.0)
    p.add_argument("--recent", type=int, default=0,
                   help="experiment: the score must beat the last RECENT scores in full")
    p.add_argument("--mature", type=float, default=0.0, help="experiment: damp young keys")
    p.add_argument("--mature-pow", type=float, default=1.0)
    p.add_argument("--typical", type=float, default=0.0, help="experiment: scale + C x EWMA rise")
    p.add_argument("--typical-mem", type=float, default=100.0, help="rises the EWMA averages over")
    p.add_argument("--window-rank", type=int, default=1,
                   help="experiment: the score's baseline is the k-th largest of the window")
    p.add_argument("--power", type=float, default=1.0, help="rise = jump x score^power")
    p.add_argument("--memory", type=float, default=100000.0, help="decay of the stored rises")
    p.add_argument("--range-tol", type=float, default=0.0, help="0: no range rule (removed)")
    p.add_argument("--extreme", type=float, default=1.0, help="the range rule's novelty")
    p.add_argument("--warm", type=int, default=256, help="records before the range rule")
    p.add_argument("--per-events", type=int, default=0,
                   help="rises kept for the periodic rule (removed; it kept 16); 0: none")
    p.add_argument("--per-floor", type=float, default=0.0,
                   help="rises of a smaller novelty are not remembered by the periodic rule")
    p.add_argument("--per-min", type=int, default=50, help="shortest period, records")
    p.add_argument("--per-slack", type=int, default=5, help="records either side of t - 2d")
    p.add_argument("--per-height", type=float, default=0.9, help="earlier rises' score >= this x")
    p.add_argument("--level-weight", type=float, default=0.0, help="0: no level rule (removed; it was 0.3)")
    p.add_argument("--level-sum", action="store_true", help="add the level novelty, not max")
    p.add_argument("--level-k", type=int, default=5, help="values averaged by the level rule")
    p.add_argument("--level-window", type=int, default=200, help="values before them it compares")
    p.add_argument("--post", default="none")
    p.add_argument("--split", action="store_true")
    p.add_argument("--view2", metavar="CSV", help="a second --scores CSV of the same corpus (another "
                   "forest): its own novelty (no range or level rule) is combined with the first")
    p.add_argument("--weight2", type=float, default=1.0, help="the second novelty's weight")
    p.add_argument("--combine", choices=("max", "sum", "only2", "scoremax", "scoresum", "geo",
                                         "replace", "scoremean"), default="max")
    a = p.parse_args()
    files = load(a.csv)
    if a.view2:
        for fl, f2 in zip(files, load(a.view2)):
            assert fl["name"] == f2["name"] and len(fl["score"]) == len(f2["score"])
            fl["score2"] = f2["score"]
    if a.view2 and a.combine == "replace":  # the second forest's score, the first's values
        for fl in files:
            fl["score"] = fl["score2"]
    if a.view2 and a.combine == "scoremean":
        for fl in files:
            fl["score"] = [(x + a.weight2 * y) / (1 + a.weight2) for x, y in zip(fl["score"], fl["score2"])]
    if a.view2 and a.combine in ("scoremax", "scoresum"):
        for fl in files:
            f = max if a.combine == "scoremax" else (lambda x, y: x + y)
            fl["score"] = [f(x, a.weight2 * y) for x, y in zip(fl["score"], fl["score2"])]
    if a.input == "computed":
        values = [novelty(fl, a) for fl in files]
        if a.view2 and a.combine not in ("scoremax", "scoresum", "replace", "scoremean"):
            for i, fl in enumerate(files):
                v2 = novelty(fl, a, "score2", False)
                if a.combine == "max":
                    values[i] = [max(x, a.weight2 * y) for x, y in zip(values[i], v2)]
                elif a.combine == "sum":
                    values[i] = [x + a.weight2 * y for x, y in zip(values[i], v2)]
                elif a.combine == "geo":
                    values[i] = [math.sqrt(x * max(y, 0.0)) if x == x else x for x, y in zip(values[i], v2)]
                else:
                    values[i] = v2
        values = [post(v, a.post) for v in values]
    else:
        values = [post(fl[a.input], a.post) for fl in files]
    sets = [("corpus", None)]
    if a.split:
        cats = {}
        for i, fl in enumerate(files):
            cats.setdefault(fl["name"].split("/")[0], []).append(i)
        halves = (set(), set())
        for idx in cats.values():
            for j, i in enumerate(sorted(idx, key=lambda i: files[i]["name"])):
                halves[j % 2].add(i)
        sets += [("half A", halves[0]), ("half B", halves[1])]
    for label, subset in sets:
        r = nab(files, values, subset)
        print("%-7s %s   (standard: threshold %.4g, %d windows hit, %d FP)" % (
            label, " / ".join("%.1f" % r[n][0] for n, *_ in PROFILES), r["standard"][1],
            r["standard"][2], r["standard"][3]))


if __name__ == "__main__":
    main()
