#!/usr/bin/env python3
"""2-fold cross-validation of anomaly_novelty's rules on NAB and the UCR archive (issue 14 item 4),
from the per-record CSVs of one `rcfd backtest --scores` run per corpus (the forest runs once; each
variant here is recomputed from the score and value columns).

    bench/quality.sh --nab ../shared/nab --ucr ../shared/ucr-dev --jobs 1 --keep KEEP
    bench/novelty_cv.py --nab KEEP/base/nab.csv --ucr KEEP/base/ucr0.csv \\
                        --ucr-labels ../shared/ucr-dev/labels.json [--check]

Variants are the raw score, the rise's core (rise / (1 + third-largest earlier rise), no rules)
and the core with any of the three rules (P periodic, L level x 0.3, R range 1%) and some of their
constants. The components are computed once per record with numpy (the periodic rule and the rank
scale in a loop over the records that rise); --check first compares the shipped variant with the
CSV's novelty column (rcfd's own) record for record.

Halves: NAB, alternate files of each category sorted by name (bench/nab_posthoc.py --split,
bench/quality.py); UCR, alternate series sorted by file name (bench/quality.py). Per variant and
half: NAB standard at the sweep (the half's own best threshold, NAB's convention: hindsight), NAB
standard at the threshold chosen on the other half (held out: what a user who tuned on one half
gets on the other), NAB standard at the fixed threshold 1, UCR top-1 (rows >= train; the first
highest row within [begin - 100, end + 100]; no threshold).
"""
import argparse
import csv
import json
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import nab_posthoc  # noqa: E402  (the NAB scorer, checked against rcfd's)
from quality import nab_halves  # noqa: E402  (the halves quality.py reports)

WINDOW, FRACTION, RANK, FLOOR, MEMORY, WARM = 200, 0.9, 3, 1.0, 100000.0, 256
PER_EVENTS, PER_MIN, PER_SLACK, PER_HEIGHT = 16, 50, 5, 0.9
LEVEL_K, LEVEL_WINDOW = 5, 200
UCR_SLACK = 100


def load_csv(path):
    """{file: {"value", "score", "novelty", "win"}} as numpy arrays, in the file's order; cached
    beside the CSV as .npz (the UCR CSV has 6 million rows)."""
    cache = path + ".npz"
    if os.path.exists(cache) and os.path.getmtime(cache) >= os.path.getmtime(path):
        z = np.load(cache, allow_pickle=True)
        names = list(z["names"])
        bounds = z["bounds"]
        cols = {k: z[k] for k in ("value", "score", "novelty", "threshold", "win")}
    else:
        names, bounds, cols = [], [], {k: [] for k in ("value", "score", "novelty", "threshold", "win")}
        with open(path, newline="") as f:
            rd = csv.reader(f)
            head = next(rd)
            c = {h: i for i, h in enumerate(head)}
            cur, n = None, 0
            for row in rd:
                if row[0] != cur:
                    names.append(row[0])
                    bounds.append(n)
                    cur = row[0]
                for k in ("value", "score", "novelty", "threshold"):
                    s = row[c[k]]
                    cols[k].append(float(s) if s != "" else math.nan)
                cols["win"].append(int(row[c["window"]]))
                n += 1
            bounds.append(n)
        cols = {k: np.array(v, dtype=np.int64 if k == "win" else np.float64) for k, v in cols.items()}
        bounds = np.array(bounds)
        np.savez(cache, names=np.array(names, dtype=object), bounds=bounds, **cols)
    out = {}
    for i, name in enumerate(names):
        a, b = bounds[i], bounds[i + 1]
        out[name] = {k: v[a:b] for k, v in cols.items()}
    return out


def prev_max(x, w):
    """m[t] = max(0, x[t-w..t-1]) (the previous w inputs; 0 before any): van Herk / Gil-Werman."""
    n = len(x)
    pad = (-n) % w
    y = np.concatenate([np.full(w, -np.inf), x, np.full(pad, -np.inf)])
    blocks = y.reshape(-1, w)
    g = np.maximum.accumulate(blocks, axis=1).ravel()  # prefix max within a block
    h = np.maximum.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].ravel()  # suffix max
    # window y[i .. i+w-1] for i = t (y is shifted by w: y[t+w] = x[t]), i.e. x[t-w .. t-1]
    i = np.arange(n)
    m = np.maximum(h[i], g[i + w - 1])
    return np.maximum(m, 0.0)


def rise_core(x, window=WINDOW, fraction=FRACTION, rank=RANK, power=1.0):
    """(rise, rise / (FLOOR + the rank-th largest earlier rise, decayed)) per record, as
    rise_update() in src/score/likelihood.c."""
    m = prev_max(x, window)
    jump = x - fraction * m
    rise = np.where((jump > 0) & (x > 0), jump * np.power(np.maximum(x, 0), power), 0.0)
    nov = np.zeros_like(x)
    idx = np.flatnonzero(rise > 0)
    if rank <= 0:
        return rise, rise.copy()
    d = math.exp(-1.0 / MEMORY)
    top, last = [], 0
    for t in idx:
        r = rise[t]
        if top:
            f = d ** (t - last)
            top = [v * f for v in top]
        last = t
        scale = top[rank - 1] if len(top) >= rank else 0.0
        nov[t] = r / (FLOOR + scale)
        if len(top) < rank or r > top[-1]:
            top.append(r)
            top.sort(reverse=True)
            del top[rank:]
    return rise, nov


def periodic_flags(x, rise, slack=PER_SLACK, height=PER_HEIGHT, events=PER_EVENTS, dmin=PER_MIN):
    """Whether each rising record repeats two earlier rises at t - d and t - 2d (src periodic())."""
    out = np.zeros(len(x), dtype=bool)
    ev = []
    for t in np.flatnonzero(rise > 0):
        s = x[t]
        h = height * s
        hit = False
        for t1, s1 in reversed(ev):
            dd = t - t1
            if dd < dmin or s1 < h:
                continue
            want = t1 - dd
            for t2, s2 in ev:
                if -slack <= t2 - want <= slack and s2 >= h:
                    hit = True
                    break
            if hit:
                break
        out[t] = hit
        ev.append((t, s))
        if len(ev) > events:
            ev.pop(0)
    return out


def prev_range(v):
    """The lowest and highest value before each record (+inf / -inf before any)."""
    lo = np.concatenate([[np.inf], np.minimum.accumulate(v)[:-1]])
    hi = np.concatenate([[-np.inf], np.maximum.accumulate(v)[:-1]])
    return lo, hi


def level_values(v, k=LEVEL_K, w=LEVEL_WINDOW, warm=WARM):
    """level_update(): log1p(|mean of the last k values - median of the w before| / max(IQR,
    1e-3 x the key's range before the record)), 0 until the window is full or the key is warm."""
    n = len(v)
    out = np.zeros(n)
    if n < k + w:
        return out
    lo, hi = prev_range(v)
    win = np.lib.stride_tricks.sliding_window_view(v, w)  # row j: v[j .. j+w-1]
    cs = np.concatenate([[0.0], np.cumsum(v)])
    chunk = 50000
    for a in range(k + w - 1, n, chunk):
        b = min(n, a + chunk)
        t = np.arange(a, b)
        rows = win[t - (k + w - 1)]
        q = np.partition(rows, (w // 4, w // 2, (3 * w) // 4), axis=1)
        med, iqr = q[:, w // 2], q[:, (3 * w) // 4] - q[:, w // 4]
        spread = np.maximum(np.maximum(iqr, 1e-3 * (hi[t] - lo[t])), 1e-300)
        mean = (cs[t + 1] - cs[t + 1 - k]) / k
        out[a:b] = np.log1p(np.abs(mean - med) / spread)
    out[:warm] = 0.0
    return out


def range_flags(v, tol, warm=WARM):
    lo, hi = prev_range(v)
    ok = (np.arange(len(v)) >= warm) & (hi > lo)
    with np.errstate(invalid="ignore"):
        sl = tol * (hi - lo)
        return ok & ((v > hi + sl) | (v < lo - sl))


class Components:
    """Everything a variant combines, for one file's scores and values."""

    def __init__(self, s, v, thr=None):
        self.s, self.v, self.thr = s, v, thr
        self._c = {}

    def get(self, key, f):
        if key not in self._c:
            self._c[key] = f()
        return self._c[key]

    def core(self, **kw):
        return self.get(("core",) + tuple(sorted(kw.items())), lambda: rise_core(self.s, **kw))

    def per(self, **kw):
        rise = self.core()[0]
        return self.get(("per",) + tuple(sorted(kw.items())),
                        lambda: periodic_flags(self.s, rise, **kw))

    def level(self):
        return self.get("level", lambda: rise_core(level_values(self.v))[1])

    def rng(self, tol):
        return self.get(("rng", tol), lambda: range_flags(self.v, tol))


def variant(c, spec):
    """One variant's novelty. spec: "score", or a dict with core options and rules."""
    if spec == "score":
        return c.s.copy()
    if spec == "ratio":  # the score over the key's alert threshold (0 while it has none)
        return np.where(np.isnan(c.thr), 0.0, c.s / np.where(np.isnan(c.thr), 1.0, c.thr))
    core_kw = spec.get("core", {})
    rise, out = c.core(**core_kw)
    out = out.copy()
    if spec.get("P"):
        out[(rise > 0) & c.per(**spec.get("P_kw", {}))] = 0.0
    if spec.get("L"):
        out = np.maximum(out, spec["L"] * c.level())
    if spec.get("R"):
        out[c.rng(spec["R"]) & (out < 1.0)] = 1.0
    return out


def variants():
    v = {"raw score": "score", "score / alert threshold": "ratio"}
    for name, p, l, r in (("core", 0, 0, 0), ("core+P", 1, 0, 0), ("core+L", 0, 0.3, 0),
                          ("core+R", 0, 0, 0.01), ("core+P+L", 1, 0.3, 0),
                          ("core+P+R", 1, 0, 0.01), ("core+L+R", 0, 0.3, 0.01),
                          ("shipped (core+P+L+R)", 1, 0.3, 0.01)):
        v[name] = {"P": p, "L": l, "R": r}
    v["shipped, R 5%"] = {"P": 1, "L": 0.3, "R": 0.05}
    v["shipped, R 2%"] = {"P": 1, "L": 0.3, "R": 0.02}
    v["shipped, L 0.15"] = {"P": 1, "L": 0.15, "R": 0.01}
    v["shipped, L 0.5"] = {"P": 1, "L": 0.5, "R": 0.01}
    v["shipped, P slack 10"] = {"P": 1, "P_kw": {"slack": 10}, "L": 0.3, "R": 0.01}
    v["core+R 5%"] = {"R": 0.05}
    v["core, rank 0 (the plain rise)"] = {"core": {"rank": 0}}
    v["core, power 0 (jump, not x score)"] = {"core": {"power": 0.0}}
    v["core, fraction 1.0"] = {"core": {"fraction": 1.0}}
    v["core, window 400"] = {"core": {"window": 400}}
    return v


# ---- corpora -------------------------------------------------------------------------------

def nab_files(data):
    """nab_posthoc's per-file structures (probation, sweep, window ids) from the loaded CSV."""
    files, base = [], 0
    for name, d in data.items():
        fl = {"name": name, "win": d["win"].tolist()}
        base += nab_posthoc.label(fl, base)
        del fl["win"]
        files.append(fl)
    return files


def nab_at(files, values, subset, thr):
    """NAB standard for detections value >= thr on the files in subset (nab_posthoc's scorer with
    one threshold: every value below thr set to -inf, so the sweep's best is thr or nothing)."""
    vals = [np.where(v >= thr, 1.0, -np.inf) if i in subset else v for i, v in enumerate(values)]
    vals = [np.where(np.isnan(v), -np.inf, v) for v in vals]
    return nab_fixed(files, vals, subset)


def nab_fixed(files, vals, subset):
    """The standard score when exactly the records with value 1 are detections."""
    a_tp, a_fp, a_fn = 1.0, 0.11, 1.0
    max_tp = nab_posthoc.scaled_sigmoid(-1.0)
    raw, present, labelled, everything = 0.0, 0, 0, 0.0
    for i in subset:
        fl, v = files[i], vals[i]
        best, fps, first, fp_all = {}, 0.0, {}, 0.0
        for r in range(fl["prob"], len(v)):
            w, sw = fl["wid"][r], fl["sweep"][r]
            if w >= 0:
                first.setdefault(w, sw)
            else:
                fp_all += sw * a_fp
            if v[r] == 1.0:
                if w < 0:
                    fps += sw * a_fp
                else:
                    best[w] = max(best.get(w, -math.inf), sw * a_tp / max_tp)
        raw += sum(best.values()) - a_fn * (len(first) - len(best)) + fps
        present += len(first)
        labelled += fl["n_windows"]
        everything += sum(x * a_tp / max_tp for x in first.values()) + fp_all
    null = max(-a_fn * present, everything)
    perfect = a_tp * labelled
    return 100.0 * (raw - null) / (perfect - null)


def ucr_top1(v, start, a, b):
    x = np.where(np.isnan(v[start:]), -np.inf, v[start:])
    at = start + int(np.argmax(x))
    return a <= at <= b


# ---- one threshold across the UCR series: NAB's standard scoring, rows < train as probation ----

def nab_arrays(win, prob):
    """(sweep weight, window id) per row, as nab_posthoc.load (numpy)."""
    n = len(win)
    idx = np.flatnonzero(win >= 0)
    sw = np.full(n, -1.0)
    wid = np.full(n, -1)
    if idx.size == 0:
        return sw, wid, 0
    spans = []
    for w in np.unique(win[idx]):
        r = np.flatnonzero(win == w)
        spans.append((r[0], r[-1]))
    sig = np.vectorize(nab_posthoc.scaled_sigmoid)
    for j, (a, b) in enumerate(spans):
        width = b - a + 1
        i = np.arange(a, b + 1)
        sw[a:b + 1] = sig(-(b - i + 1) / width)
        wid[a:b + 1] = j
        end = spans[j + 1][0] if j + 1 < len(spans) else n
        i = np.arange(b + 1, end)
        if i.size:
            sw[b + 1:end] = sig((i - b) / (width - 1 if width > 1 else 1))
    return sw, wid, len(spans)


class UcrNab:
    """NAB standard over UCR series with one threshold for all of them; probation = the rows
    before train (the archive's rule: only rows >= train are judged)."""

    def __init__(self, names, data, lab):
        self.f = []
        base = 0
        for n in names:
            e = lab[n.split("/", 1)[1]]
            win = data[n]["win"]
            sw, wid, nw = nab_arrays(win, e["train"])
            prob = e["train"]
            self.f.append({"sw": sw[prob:], "wid": np.where(wid[prob:] >= 0, wid[prob:] + base, -1),
                           "prob": prob, "nw": nw})
            base += nw

    def score(self, values, subset, thr=None):
        """(normalised standard score, threshold): the sweep's best, or at thr."""
        a_tp, a_fp, a_fn = 1.0, 0.11, 1.0
        max_tp = nab_posthoc.scaled_sigmoid(-1.0)
        vs, sws, wids = [], [], []
        labelled, present, everything = 0, set(), 0.0
        for i in subset:
            f, v = self.f[i], values[i][self.f[i]["prob"]:]
            v = np.where(np.isnan(v), -np.inf, v)
            vs.append(v)
            sws.append(f["sw"])
            wids.append(f["wid"])
            labelled += f["nw"]
        v, sw, wid = np.concatenate(vs), np.concatenate(sws), np.concatenate(wids)
        inw = wid >= 0
        present = set(np.unique(wid[inw]).tolist())
        first = {}
        for w in present:
            first[w] = sw[wid == w].max() * a_tp / max_tp
        everything = sum(first.values()) + a_fp * sw[~inw].sum()
        null = max(-a_fn * len(present), everything)
        perfect = a_tp * labelled
        base = -a_fn * len(present)
        if thr is not None:
            d = v >= thr
            fp = a_fp * sw[d & ~inw].sum()
            best = {}
            for r in np.flatnonzero(d & inw):
                c = sw[r] * a_tp / max_tp
                best[wid[r]] = max(best.get(wid[r], -math.inf), c)
            raw = base + len(best) * a_fn + sum(best.values()) + fp
            return 100.0 * (raw - null) / (perfect - null), thr
        order = np.argsort(-v, kind="stable")
        order = order[np.isfinite(v[order])]
        vo = v[order]
        delta = np.where(inw[order], 0.0, a_fp * sw[order])
        best = {}
        for k in np.flatnonzero(inw[order]):
            r = order[k]
            c = sw[r] * a_tp / max_tp
            w = wid[r]
            old = best.get(w, -a_fn)
            if c > old:
                delta[k] = c - old
                best[w] = c
        tot = base + np.cumsum(delta)
        ends = np.flatnonzero(np.append(vo[1:] != vo[:-1], True))  # last of each tie group
        k = ends[np.argmax(tot[ends])] if ends.size else None
        if k is None or tot[k] <= base:
            return 100.0 * (base - null) / (perfect - null), math.inf
        return 100.0 * (tot[k] - null) / (perfect - null), vo[k]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--nab", required=True, help="rcfd backtest --scores CSV of the NAB corpus")
    p.add_argument("--ucr", nargs="*", default=[], help="the UCR corpus' --scores CSV(s)")
    p.add_argument("--ucr-labels")
    p.add_argument("--check", action="store_true", help="compare the shipped variant with rcfd's")
    p.add_argument("--only", help="comma-separated variant names")
    a = p.parse_args()

    nab = load_csv(a.nab)
    ucr = {}
    for path in a.ucr:
        ucr.update(load_csv(path))
    lab = {e["file"].rsplit(".", 1)[0] + ".csv": e
           for e in json.load(open(a.ucr_labels))["series"]} if ucr else {}
    ucr_names = sorted(ucr)
    ucr_half = {n: "AB"[i % 2] for i, n in enumerate(ucr_names)}
    nf = nab_files(nab)
    nh = nab_halves(list(nab))
    nab_sub = {h: {i for i, f in enumerate(nf) if nh[f["name"]] == h} for h in "AB"}
    ncomp = [Components(nab[f["name"]]["score"], nab[f["name"]]["value"],
                         nab[f["name"]]["threshold"]) for f in nf]
    ucomp = {n: Components(ucr[n]["score"], ucr[n]["value"], ucr[n]["threshold"]) for n in ucr_names}

    un = UcrNab(ucr_names, ucr, lab) if ucr else None
    ucr_sub = {h: [i for i, n in enumerate(ucr_names) if ucr_half[n] == h] for h in "AB"}
    vs = variants()
    if a.only:
        vs = {k: vs[k] for k in a.only.split(",")}
    if a.check:
        spec = variants()["shipped (core+P+L+R)"]
        for name, comps in (("NAB", {f["name"]: c for f, c in zip(nf, ncomp)}), ("UCR", ucomp)):
            worst, nrec = 0.0, 0
            for fname, c in comps.items():
                mine = variant(c, spec)
                theirs = (nab if name == "NAB" else ucr)[fname]["novelty"]
                ok = ~np.isnan(theirs)
                err = np.abs(mine[ok] - theirs[ok]) / np.maximum(1.0, np.abs(theirs[ok]))
                if err.size and err.max() > worst:
                    worst = err.max()
                nrec += ok.sum()
            print("check %s: %d records, largest relative difference from rcfd's novelty %.3g"
                  % (name, nrec, worst), flush=True)

    rows = []
    for vname, spec in vs.items():
        nv = [variant(c, spec) for c in ncomp]
        r = {"name": vname}
        sw = {h: nab_posthoc.nab(nf, [np.where(np.isnan(v), np.nan, v).tolist() for v in nv],
                                 nab_sub[h])["standard"] for h in "AB"}
        for h, o in (("A", "B"), ("B", "A")):
            r["sweep " + h] = sw[h][0]
            r["thr " + h] = sw[h][1]
            r["held " + h] = nab_at(nf, nv, nab_sub[h], sw[o][1])  # threshold from the other half
            r["fix1 " + h] = nab_at(nf, nv, nab_sub[h], 1.0)
        sol = {"A": 0, "B": 0}
        cnt = {"A": 0, "B": 0}
        for n in ucr_names:
            e = lab[n.split("/", 1)[1]]
            v = variant(ucomp[n], spec)
            h = ucr_half[n]
            cnt[h] += 1
            sol[h] += ucr_top1(v, e["train"], e["begin"] - UCR_SLACK, e["end"] + UCR_SLACK)
        if ucr:
            uv = [variant(ucomp[n], spec) for n in ucr_names]
            usw = {h: un.score(uv, ucr_sub[h]) for h in "AB"}
            for h, o in (("A", "B"), ("B", "A")):
                r["unab sweep " + h] = usw[h][0]
                r["unab thr " + h] = usw[h][1]
                r["unab held " + h] = un.score(uv, ucr_sub[h], usw[o][1])[0]
        for h in "AB":
            r["ucr " + h] = sol[h] / max(1, cnt[h])
            r["ucr n " + h] = sol[h]
        r["ucr all"] = (sol["A"] + sol["B"]) / max(1, cnt["A"] + cnt["B"])
        rows.append(r)
        print(json.dumps(r), flush=True)

    print()
    print("| variant | NAB sweep A / B | NAB threshold A / B | NAB held-out threshold A / B "
          "| NAB at 1 A / B | UCR top-1 A / B (solved) | UCR-as-NAB sweep A / B "
          "| UCR-as-NAB held-out threshold A / B |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %s | %.1f / %.1f | %.3g / %.3g | %.1f / %.1f | %.1f / %.1f | %.3f / %.3f (%d + %d) "
              "| %.1f / %.1f | %.1f / %.1f |"
              % (r["name"], r["sweep A"], r["sweep B"], r["thr A"], r["thr B"], r["held A"],
                 r["held B"], r["fix1 A"], r["fix1 B"], r["ucr A"], r["ucr B"], r["ucr n A"],
                 r["ucr n B"], r.get("unab sweep A", math.nan), r.get("unab sweep B", math.nan),
                 r.get("unab held A", math.nan), r.get("unab held B", math.nan)))


if __name__ == "__main__":
    main()
