#!/usr/bin/env python3
"""Forecast calibration of the `forecast` model type on real series (bench/RESULTS.md "Forecasts").

For each series, the daemon runs a forecast model over the values (a file source, a file output),
and this script compares every calibrated forecast with the values that came later: per step the
share of values inside [lower, upper] (coverage; the model's target is `coverage`), the mean
absolute error, and the same error for two baselines that need no model: the last value held
(naive) and the value one period earlier (seasonal naive; the period found by autocorrelation on
the series' first part, the part a user would train on). Reads the corpora from the paths given:

    bench/forecast_quality.py --rcfd build/bin/rcfd --nab ../shared/nab --ucr ../shared/ucr-dev \
        [--horizon 10] [--coverage 0.9] [--max-rows 20000] [--shingle auto|N]

`--shingle auto` sets the model's shingle_size to the period, clamped to [4, 64].
"""
import argparse, csv, glob, json, math, os, statistics, subprocess, sys, tempfile


def period_of(xs, lo=4, hi=500):
    """Lag of the highest autocorrelation peak after the first zero crossing (0: none)."""
    n = len(xs)
    if n < 3 * lo:
        return 0
    m = sum(xs) / n
    d = [x - m for x in xs]
    var = sum(v * v for v in d)
    if var == 0:
        return 0
    hi = min(hi, n // 3)
    acf = [sum(d[i] * d[i + k] for i in range(n - k)) / var for k in range(hi + 1)]
    k = 1
    while k <= hi and acf[k] > 0:
        k += 1
    best, lag = 0.2, 0
    for j in range(max(k, lo), hi):
        if acf[j] > best and acf[j] >= acf[j - 1] and acf[j] >= acf[j + 1]:
            best, lag = acf[j], j
    return lag


def run_series(rcfd, values, horizon, coverage, shingle, tmp):
    src = os.path.join(tmp, "in.csv")
    out = os.path.join(tmp, "out.jsonl")
    with open(src, "w") as f:
        f.write("v\n")
        for v in values:
            f.write(repr(v) + "\n")
    conf = {
        "sources": [{"name": "in", "type": "file", "path": src, "format": "csv", "csv_header": True}],
        "outputs": [{"name": "out", "type": "file", "path": out}],
        "pipelines": [{"name": "p", "source": "in", "fields": ["v"], "outputs": ["out"],
                       "models": [{"type": "forecast", "horizon": horizon, "coverage": coverage,
                                   "shingle_size": shingle}]}],
    }
    cpath = os.path.join(tmp, "c.json")
    with open(cpath, "w") as f:
        json.dump(conf, f)
    if os.path.exists(out):
        os.unlink(out)
    subprocess.run([rcfd, "-c", cpath], check=True, stderr=subprocess.DEVNULL)
    fc = [None] * len(values)
    with open(out) as f:
        for i, line in enumerate(f):
            r = json.loads(line)
            x = r.get("forecast")
            if x and x["calibrated"]:
                fc[i] = x["fields"]["v"]
    return fc


def evaluate(values, fc, horizon, period):
    n = len(values)
    st = [[0, 0, 0.0, 0.0, 0.0] for _ in range(horizon)]  # count, inside, err, naive, seasonal
    for t in range(n):
        f = fc[t]
        if f is None:
            continue
        for h in range(horizon):
            j = t + h + 1
            if j >= n:
                break
            y = values[j]
            s = st[h]
            s[0] += 1
            s[1] += f["lower"][h] <= y <= f["upper"][h]
            s[2] += abs(f["value"][h] - y)
            s[3] += abs(values[t] - y)
            if period > 0:
                back = j - period * math.ceil((h + 1) / period)
                s[4] += abs(values[back] - y) if back >= 0 else abs(values[t] - y)
            else:
                s[4] += abs(values[t] - y)
    return st


def corpus_nab(root):
    for path in sorted(glob.glob(os.path.join(root, "data", "*", "*.csv"))):
        with open(path) as f:
            rows = list(csv.DictReader(f))
        yield os.path.relpath(path, os.path.join(root, "data")), [float(r["value"]) for r in rows], \
            max(len(rows) * 15 // 100, 100)


def corpus_ucr(root):
    labels = json.load(open(os.path.join(root, "labels.json")))
    for e in labels["series"] if isinstance(labels, dict) else labels:
        with open(os.path.join(root, "data", e["file"])) as f:
            vals = [float(l) for l in f if l.strip()]
        yield e["file"], vals, e["train"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rcfd", required=True)
    ap.add_argument("--nab")
    ap.add_argument("--ucr")
    ap.add_argument("--horizon", type=int, default=10)
    ap.add_argument("--coverage", type=float, default=0.9)
    ap.add_argument("--max-rows", type=int, default=20000)
    ap.add_argument("--shingle", default="auto")
    a = ap.parse_args()
    corpora = []
    if a.nab:
        corpora.append(("NAB", corpus_nab(a.nab)))
    if a.ucr:
        corpora.append(("UCR", corpus_ucr(a.ucr)))
    with tempfile.TemporaryDirectory() as tmp:
        for name, series in corpora:
            tot = [[0, 0, 0.0, 0.0, 0.0] for _ in range(a.horizon)]
            covs, beat_naive, beat_seasonal, files = [], 0, 0, 0
            for fname, vals, train in series:
                vals = vals[: a.max_rows]
                period = period_of(vals[: min(train, 5000)])
                sh = int(a.shingle) if a.shingle != "auto" else min(max(period, 4), 64)
                fc = run_series(a.rcfd, vals, a.horizon, a.coverage, sh, tmp)
                st = evaluate(vals, fc, a.horizon, period)
                cnt = sum(s[0] for s in st)
                if cnt == 0:
                    continue
                files += 1
                cov = sum(s[1] for s in st) / cnt
                covs.append(cov)
                err, naive, seas = (sum(s[k] for s in st) for k in (2, 3, 4))
                beat_naive += err < naive
                beat_seasonal += err < seas
                for h in range(a.horizon):
                    for k in range(5):
                        tot[h][k] += st[h][k]
                print(f"{name} {fname}: period {period} shingle {sh} coverage {cov:.3f} "
                      f"mae/naive {err / naive if naive else float('nan'):.3f} "
                      f"mae/seasonal {err / seas if seas else float('nan'):.3f}", file=sys.stderr)
            print(f"## {name}: {files} series, horizon {a.horizon}, target coverage {a.coverage}")
            print(f"coverage per series: median {statistics.median(covs):.3f}, "
                  f"mean {statistics.mean(covs):.3f}, within +-0.05 of the target: "
                  f"{sum(abs(c - a.coverage) <= 0.05 for c in covs)}/{files}")
            print(f"forecast error below the last value's in {beat_naive}/{files} series, "
                  f"below the seasonal naive's in {beat_seasonal}/{files}")
            print("| step | coverage | MAE / naive MAE | MAE / seasonal-naive MAE |")
            print("|---|---|---|---|")
            for h in range(a.horizon):
                c, i, e, nv, se = tot[h]
                print(f"| {h + 1} | {i / c:.3f} | {e / nv:.3f} | {e / se:.3f} |")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
