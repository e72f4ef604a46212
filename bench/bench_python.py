#!/usr/bin/env python3
"""Python against C: what rcfd.Forest costs per record, batch and one call per record, next to
bench_rcf (the forest library alone, in C) over the same values.

    PYTHONPATH=build/python/site /usr/bin/python3 bench/bench_python.py [--bench-rcf build/bench/bench_rcf]
        [--records 50000] [--warmup 20000] [--trees 100] [--sample 256] [--repeat 5]

The Python figures are process CPU time per record (as bench_rcf's), one thread. rcfd.Forest is the
daemon's rcf model: the forest plus anomaly_novelty per record (and with recent_mean its means), so
"Forest, recent_mean 0" against bench_rcf case a is the model layer plus the binding; the
record-per-call row adds the Python call, conversion and result objects. bench_rcf's stream is its
own generated one; --input hands it this script's values so both run the same records.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

import rcfd


def values(n):
    rnd = np.random.default_rng(1)
    t = np.arange(n)
    return 10 + 3 * np.sin(t / 20.0) + rnd.normal(0, 0.3, n)


def cpu():
    return time.process_time()


def per_record(seconds, n):
    return seconds * 1e9 / n


def best(fn, repeat):
    """The least CPU time of `repeat` runs of fn(), which returns (seconds, records)."""
    return min(per_record(*fn()) for _ in range(repeat))


def run(args):
    n_all = args.warmup + args.records
    v = values(n_all)
    x = v.reshape(-1, 1)
    rows = x[args.warmup :]
    out = []

    def forest(recent):
        f = rcfd.Forest(args.trees, args.sample, seed=7, dim=1, recent_mean=recent)
        f.process(x[: args.warmup])
        return f

    def batch(recent):
        f = forest(recent)
        t0 = cpu()
        f.process(rows)
        return cpu() - t0, args.records

    def one_by_one():
        f = forest(0)
        m = min(args.records, 20000)
        t0 = cpu()
        for i in range(m):
            f.process(rows[i])
        return cpu() - t0, m

    def score():
        f = forest(0)
        t0 = cpu()
        f.score(rows)
        return cpu() - t0, args.records

    xy = np.stack([v, np.roll(v, 1)], axis=1)

    def hotspots():
        h = rcfd.Hotspots(window=1000, radius=0.2, min_points=17, dim=2)
        h.process(xy[: args.warmup])
        t0 = cpu()
        h.process(xy[args.warmup :])
        return cpu() - t0, args.records

    for recent in (0, 25):
        out.append(("Forest.process, one call, recent_mean %d" % recent, best(lambda: batch(recent), args.repeat)))
    out.append(("Forest.process, one call per record, recent_mean 0", best(one_by_one, args.repeat)))
    out.append(("Forest.score, one call (learns nothing)", best(score, args.repeat)))
    out.append(("Hotspots.process (window 1000, 2-D), one call", best(hotspots, args.repeat)))

    c_ns = None
    if args.bench_rcf:
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
            fh.write("\n".join(repr(float(a)) for a in v) + "\n")
            path = fh.name
        cmd = [args.bench_rcf, "--case", "a", "--input", path, "--warmup", str(args.warmup),
               "--records", str(args.records), "--trees", str(args.trees), "--sample", str(args.sample)]
        try:
            runs = [subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
                    for _ in range(args.repeat)]
        finally:
            os.unlink(path)
        c_ns = min(float(re.search(r"([0-9.]+) ns/record", r).group(1)) for r in runs)
        out.append(("bench_rcf --case a (C, forest library only), same values", c_ns))

    print("rcfd %s, %d trees, sample %d, %d timed records after %d; CPU ns/record, best of %d"
          % (rcfd.__version__, args.trees, args.sample, args.records, args.warmup, args.repeat))
    for what, ns in out:
        ratio = "  %.2fx bench_rcf" % (ns / c_ns) if c_ns else ""
        print("  %-58s %9.0f ns  %9.0f records/s%s" % (what, ns, 1e9 / ns, ratio))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench-rcf", help="path of build/bench/bench_rcf, to run it on the same values")
    ap.add_argument("--records", type=int, default=50000)
    ap.add_argument("--warmup", type=int, default=20000)
    ap.add_argument("--trees", type=int, default=100)
    ap.add_argument("--sample", type=int, default=256)
    ap.add_argument("--repeat", type=int, default=5)
    run(ap.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
