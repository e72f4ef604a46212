#!/usr/bin/env python3
"""Scores a NAB-style CSV (timestamp,value) with rcfd's forest and prints the most novel records;
plots series, score and novelty with matplotlib when it is importable.

    python3 python/examples/score_nab.py data.csv [--trees 100 --sample 256 --shingle 1
        --recent-mean 25 --seed 42 --top 10 --plot out.png --save model.snap]

--save writes the model's snapshot: put it in a directory as _.rcf.snap and point a pipeline's
initial_state (same fields and parameters, no key field) at it to warm-start the daemon.
Without a CSV it scores a generated series with three injected faults.
"""

import argparse
import csv
import sys

import numpy as np

import rcfd


def read_csv(path):
    stamps, values = [], []
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            try:
                values.append(float(row["value"]))
            except (KeyError, ValueError):
                continue  # the daemon dead-letters such records; skip them here too
            stamps.append(row.get("timestamp", str(len(stamps))))
    return stamps, np.array(values)


def generated():
    rnd = np.random.default_rng(1)
    t = np.arange(4000)
    v = 50 + 10 * np.sin(2 * np.pi * t / 288) + rnd.normal(0, 1, len(t))
    v[1500] += 25  # a spike
    v[2600:2700] += 12  # a level shift
    v[3400:3410] = 50  # a flat stretch
    return [str(i) for i in t], v


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("csv", nargs="?", help="timestamp,value CSV (NAB's format)")
    ap.add_argument("--trees", type=int, default=100)
    ap.add_argument("--sample", type=int, default=256)
    ap.add_argument("--shingle", type=int, default=1)
    ap.add_argument("--recent-mean", type=int, default=25)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--plot", help="write the plot to this file instead of showing it")
    ap.add_argument("--save", help="write the model's snapshot here")
    args = ap.parse_args(argv)

    stamps, values = read_csv(args.csv) if args.csv else generated()
    if len(values) == 0:
        sys.exit("no numeric 'value' column in %s" % args.csv)
    forest = rcfd.Forest(args.trees, args.sample, args.shingle, seed=args.seed,
                         recent_mean=args.recent_mean, key="")
    r = forest.process(values.reshape(-1, 1))
    print("%d records, %d flagged (grade >= 0.5), forest %s" % (len(values), r.anomaly.sum(), forest.params))
    print("%-24s %12s %8s %8s %8s" % ("timestamp", "value", "score", "grade", "novelty"))
    for i in np.argsort(-r.novelty, kind="stable")[: args.top]:
        print("%-24s %12.4g %8.3f %8.3f %8.3f" % (stamps[i], values[i], r.score[i], r.grade[i], r.novelty[i]))
    if args.save:
        with open(args.save, "wb") as fh:
            fh.write(forest.save())
        print("model snapshot: %s" % args.save)

    try:
        import matplotlib

        if args.plot:
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(matplotlib is not installed: no plot; Debian: apt install python3-matplotlib)")
        return
    fig, ax = plt.subplots(3, 1, sharex=True, figsize=(12, 7))
    ax[0].plot(values, lw=0.7)
    ax[0].set_ylabel("value")
    ax[1].plot(r.score, lw=0.7, label="score")
    ax[1].plot(r.threshold, lw=0.7, ls="--", label="threshold")
    ax[1].legend(loc="upper left")
    ax[2].plot(r.novelty, lw=0.7, color="C3")
    ax[2].set_ylabel("novelty")
    ax[2].set_xlabel("record")
    fig.tight_layout()
    if args.plot:
        fig.savefig(args.plot, dpi=100)
        print("plot: %s" % args.plot)
    else:
        plt.show()


if __name__ == "__main__":
    main()
