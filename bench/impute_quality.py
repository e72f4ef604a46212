#!/usr/bin/env python3
"""The daemon's impute and expected values on real series (bench/RESULTS.md "Imputation, expected
values, forecasts (issue 19)").

    bench/impute_quality.py --rcfd build/bin/rcfd --nab ../shared/nab --ucr ../shared/ucr-dev \
        [--max-rows 20000] [--rate 0.05] [--skip 1000] [--spikes 10] [--seed 7]

Imputation: per series (NAB's data/*/*.csv, the UCR half's data/*.txt; the first --max-rows
rows), after the first --skip records a fraction --rate of the records, chosen at random, have
their value replaced by null. The real rcfd runs the series through one pipeline with the rcf
model's defaults and impute "previous", then "rcf" (the daemon, a file source, the output's
imputed_values), and "linear" (rcfd backtest, its scores CSV). Errors against the true value are
in units of the series' mean absolute step, so series of different units add up.

Expected values: the series with --spikes values (after half the series, at least 50 apart)
moved by 4 standard deviations of the series (sign at random), run with expected: true. On every
spiked record the daemon flags (anomaly_grade > 0, so it carries expected_values) the error of
the expected value against the value before the spike was added (the truth), beside the error of
the previous value and of the spiked value itself. Nothing is tuned: the model runs its defaults.
"""
import argparse
import glob
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile


def load(path, max_rows):
    vals = []
    with open(path) as f:
        for line in f:
            cell = line.strip().split(",")[-1]
            try:
                vals.append(float(cell))
            except ValueError:
                continue  # the header
            if len(vals) >= max_rows:
                break
    return vals


def write_jsonl(path, vals, removed):
    with open(path, "w") as f:
        for i, v in enumerate(vals):
            f.write('{"value":%s}\n' % ("null" if i in removed else repr(v)))


def param(kv):
    k, v = kv.split("=", 1)
    try:
        return k, json.loads(v)
    except ValueError:
        return k, v


def daemon(rcfd, work, src, impute, expected=False, params=()):
    out = os.path.join(work, "out.jsonl")
    if os.path.exists(out):
        os.remove(out)
    model = {"type": "rcf"}
    model.update(dict(param(kv) for kv in params))
    if expected:
        model["expected"] = True
    conf = {"log": {"level": "warn"},
            "sources": [{"name": "in", "type": "file", "path": src}],
            "outputs": [{"name": "out", "type": "file", "path": out}],
            "pipelines": [{"name": "p", "source": "in", "fields": ["value"], "outputs": ["out"],
                           "impute": impute, "models": [model]}]}
    cp = os.path.join(work, "c.json")
    with open(cp, "w") as f:
        json.dump(conf, f)
    subprocess.run([rcfd, "-c", cp], check=True)
    res = {}
    with open(out) as f:
        for line in f:
            o = json.loads(line)
            res[o["_rcfd"]["line"] - 1] = o
    return res


def backtest_linear(rcfd, work, src, params=()):
    scores = os.path.join(work, "s.csv")
    extra = [a for kv in params for a in ("-p", kv)]
    subprocess.run([rcfd, "backtest", "--quiet", "--impute", "linear", "--html",
                    os.path.join(work, "b.html"), "--scores", scores] + extra + [src], check=True,
                   stdout=subprocess.DEVNULL)
    res = {}
    with open(scores) as f:
        next(f)
        for line in f:
            c = line.split(",")
            if c[3] != "":
                res[int(c[1])] = float(c[2])
    return res


def series_of(args):
    out = []
    if args.nab:
        out += [("NAB", p) for p in sorted(glob.glob(os.path.join(args.nab, "data", "*", "*.csv")))]
    if args.ucr:
        out += [("UCR", p) for p in sorted(glob.glob(os.path.join(args.ucr, "data", "*.txt")))]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rcfd", required=True)
    ap.add_argument("--nab")
    ap.add_argument("--ucr")
    ap.add_argument("--max-rows", type=int, default=20000)
    ap.add_argument("--rate", type=float, default=0.05)
    ap.add_argument("--skip", type=int, default=1000)
    ap.add_argument("--spikes", type=int, default=10)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--stride", type=int, default=1,
                    help="every Nth series of each corpus, in name order (time)")
    ap.add_argument("-p", dest="params", action="append", default=[],
                    help="NAME=VALUE: an rcf model parameter for the imputation runs")
    ap.add_argument("--expected-param", dest="xparams", action="append", default=[],
                    help="NAME=VALUE: an rcf model parameter for the expected-value run")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="rcfd-impute-bench.")
    tot = {}
    seen = {}
    for corpus, path in series_of(args):
        seen[corpus] = seen.get(corpus, -1) + 1
        if seen[corpus] % args.stride != 0:
            continue
        name = os.path.basename(path)
        vals = load(path, args.max_rows)
        if len(vals) < args.skip + 200:
            continue
        scale = statistics.fmean(abs(a - b) for a, b in zip(vals[1:], vals)) or 1.0
        rng = random.Random("%d:%s" % (args.seed, name))
        removed = {i for i in range(args.skip, len(vals)) if rng.random() < args.rate}
        src = os.path.join(work, "in.jsonl")
        write_jsonl(src, vals, removed)
        t = tot.setdefault(corpus, {"series": 0, "removed": 0, "prev": 0.0, "rcf": 0.0,
                                    "linear": 0.0, "wins": 0, "ties": 0, "lin_n": 0,
                                    "spiked": 0, "flagged": 0, "x_exp": 0.0, "x_prev": 0.0,
                                    "x_spike": 0.0})
        t["series"] += 1
        prev = daemon(args.rcfd, work, src, "previous", params=args.params)
        rcf = daemon(args.rcfd, work, src, "rcf", params=args.params)
        lin = backtest_linear(args.rcfd, work, src, args.params)
        e_prev = e_rcf = 0.0
        n = 0
        for i in sorted(removed):
            if i not in prev or i not in rcf or "imputed_values" not in rcf[i]:
                continue  # dead-lettered (past the limit): none at this rate
            truth = vals[i]
            e_prev += abs(prev[i]["imputed_values"]["value"] - truth) / scale
            e_rcf += abs(rcf[i]["imputed_values"]["value"] - truth) / scale
            if i in lin:
                t["linear"] += abs(lin[i] - truth) / scale
                t["lin_n"] += 1
            n += 1
        t["removed"] += n
        t["prev"] += e_prev
        t["rcf"] += e_rcf
        t["wins"] += e_rcf < e_prev
        t["ties"] += e_rcf == e_prev
        # expected values on injected spikes
        sd = statistics.pstdev(vals) or 1.0
        spiked = list(vals)
        spots, i = [], len(vals) // 2
        while len(spots) < args.spikes and i < len(vals):
            i += 50 + rng.randrange(len(vals) // (2 * args.spikes) or 1)
            if i < len(vals):
                spots.append(i)
        for s in spots:
            spiked[s] = vals[s] + (4 * sd if rng.random() < 0.5 else -4 * sd)
        write_jsonl(src, spiked, set())
        exp = daemon(args.rcfd, work, src, "dead_letter", expected=True, params=args.xparams)
        for s in spots:
            t["spiked"] += 1
            o = exp.get(s)
            if o is None or "expected_values" not in o:
                continue
            t["flagged"] += 1
            t["x_exp"] += abs(o["expected_values"]["value"] - vals[s]) / scale
            t["x_prev"] += abs(vals[s - 1] - vals[s]) / scale
            t["x_spike"] += abs(spiked[s] - vals[s]) / scale
        print("%s %s: %d removed, rcf %.3f previous %.3f; %d/%d spikes flagged" %
              (corpus, name, n, e_rcf / max(n, 1), e_prev / max(n, 1),
               sum(1 for s in spots if s in exp and "expected_values" in exp[s]), len(spots)),
              file=sys.stderr, flush=True)
    print("| corpus | series | values removed | rcf error | linear error | previous | rcf / previous"
          " | rcf better / same / worse |")
    print("|---|---|---|---|---|---|---|---|")
    for c, t in tot.items():
        print("| %s | %d | %s | %.3f | %.3f | %.3f | %.3f | %d / %d / %d |" %
              (c, t["series"], format(t["removed"], ","), t["rcf"] / t["removed"],
               t["linear"] / max(t["lin_n"], 1), t["prev"] / t["removed"],
               t["rcf"] / t["prev"], t["wins"], t["ties"], t["series"] - t["wins"] - t["ties"]))
    print()
    print("| corpus | spikes | flagged | expected value error | previous value error | "
          "spiked value error |")
    print("|---|---|---|---|---|---|")
    for c, t in tot.items():
        f = max(t["flagged"], 1)
        print("| %s | %d | %d | %.3f | %.3f | %.3f |" %
              (c, t["spiked"], t["flagged"], t["x_exp"] / f, t["x_prev"] / f, t["x_spike"] / f))


if __name__ == "__main__":
    main()
