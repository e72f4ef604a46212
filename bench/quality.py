#!/usr/bin/env python3
"""Quality benchmark of rcfd's alerts (issue 14): NAB and the UCR anomaly archive, scored from the
daemon's own runtime through `rcfd backtest --scores`.

    bench/quality.sh --nab ../shared/nab --ucr ../shared/ucr-dev [--rcfd build/bin/rcfd]
                     [-p NAME=VALUE ...] [--cv NAME=V1,V2,...] [--jobs 2] [--ucr-limit N]
                     [--results bench/RESULTS.md] [--keep DIR]
    bench/quality.sh --selftest          # a generated corpus of each kind; needs no ../shared

Reports, for the model parameters given (-p, as `rcfd backtest -p`; none: the defaults):
- NAB standard / reward_low_FP_rate / reward_low_FN_rate at the shipped alert rule: detections are
  the records whose `anomaly` column is true, no threshold sweep (scored here as src/backtest/nab.c
  does: probation, scaled sigmoid, profile weights, null and perfect detectors; checked against
  rcfd's own figure for grade >= 0.5 on the same run). Without an `anomaly` column the rule is
  grade >= 0.5 (`min_grade: 0.5`, the example configs' filter), and the report says so. The figure
  at rcfd's hindsight threshold sweep over anomaly_novelty follows, labelled as such.
- UCR top-1 accuracy (rows >= train only; solved when the highest-scoring row lies within
  [begin - 100, end + 100]) of the raw score, the novelty and the grade. Each series is replayed
  whole, in order: the model learns the training prefix first and never looks ahead (a warm start).
- Event-wise precision / recall / F1 of the alert flag: an alert is a true positive inside a
  labelled window (NAB: combined_windows.json; UCR: [begin - 100, end + 100]); recall counts
  windows with at least one alert. NAB counts every record (its probation too: a user sees those
  alerts); UCR counts rows >= train only (the archive's rule). Alerts per 10,000 such records, and
  the wall time of the backtests per record.
- --cv NAME=V1,V2,...: each value is run (-p NAME=V on top of -p); for each metric the value best
  on half A of the corpus is reported on half B and vice versa (NAB: alternate files of each
  category by name, as bench/nab_posthoc.py --split; UCR: alternate series by file name). Ties go
  to the value listed first.
Python 3 standard library only. Corpora are read from the paths given; nothing else is written
outside a temporary directory, except --results (which replaces its "## Quality (issue 14)"
section and keeps the rest).
"""
import argparse
import concurrent.futures
import csv
import datetime
import json
import math
import os
import random
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SECTION = "## Quality (issue 14)"
PROFILES = (("standard", 1.0, 0.11, 1.0), ("reward_low_FP_rate", 1.0, 0.22, 1.0),
            ("reward_low_FN_rate", 1.0, 0.11, 2.0))
GRADE_CUTOFF = 0.5  # today's shipped rule, min_grade: 0.5
UCR_SLACK = 100
T0 = datetime.datetime(2000, 1, 1)


def sig(x):
    """NAB's scaled sigmoid."""
    return -1.0 if x > 3.0 else 2.0 / (1.0 + math.exp(5.0 * x)) - 1.0


def flag(s):
    return s.strip().lower() in ("1", "true")


def num(s):
    return float(s) if s != "" else math.nan


def ts(i):
    return (T0 + datetime.timedelta(minutes=i)).strftime("%Y-%m-%d %H:%M:%S")


# ---- corpora ---------------------------------------------------------------------------------

def ucr_series(ucr_dir, limit):
    s = json.load(open(os.path.join(ucr_dir, "labels.json")))["series"]
    s = sorted(s, key=lambda e: e["file"])
    return s[:limit] if limit else s


def ucr_corpora(ucr_dir, series, jobs, out):
    """The series as NAB-layout corpora (timestamp,value CSVs, one minute apart; the window
    [begin-100, end+100]), split into `jobs` corpora of about equal rows."""
    dirs = [os.path.join(out, "ucr%d" % k) for k in range(jobs)]
    load = [0] * jobs
    wins = [{} for _ in range(jobs)]
    for d in dirs:
        os.makedirs(os.path.join(d, "data", "ucr"))
        os.makedirs(os.path.join(d, "labels"))
    for e in sorted(series, key=lambda e: -e["rows"]):
        k = load.index(min(load))
        load[k] += e["rows"]
        name = e["file"].rsplit(".", 1)[0] + ".csv"
        with open(os.path.join(ucr_dir, "data", e["file"])) as f, \
                open(os.path.join(dirs[k], "data", "ucr", name), "w") as g:
            g.write("timestamp,value\n")
            t = T0
            step = datetime.timedelta(minutes=1)
            for line in f:
                if line.strip():
                    g.write("%s,%s\n" % (t.strftime("%Y-%m-%d %H:%M:%S"), line.strip()))
                    t += step
        a, b = max(0, e["begin"] - UCR_SLACK), min(e["rows"] - 1, e["end"] + UCR_SLACK)
        wins[k]["ucr/" + name] = [[ts(a) + ".000000", ts(b) + ".000000"]]
    for d, w in zip(dirs, wins):
        json.dump(w, open(os.path.join(d, "labels", "combined_windows.json"), "w"), indent=1)
    return [d for d, w in zip(dirs, wins) if w]


def nab_halves(names):
    """Alternate files of each category, by name (bench/nab_posthoc.py --split)."""
    cats, half = {}, {}
    for n in sorted(names):
        cats.setdefault(n.split("/")[0], []).append(n)
    for files in cats.values():
        for j, n in enumerate(files):
            half[n] = "AB"[j % 2]
    return half


# ---- running the backtest ----------------------------------------------------------------------

def backtest(rcfd, corpus, params, out, tag):
    os.makedirs(out, exist_ok=True)
    cmd = [rcfd, "backtest", "--corpus", corpus, "--quiet"]
    for p in params:
        cmd += ["-p", p]
    cmd += ["--scores", os.path.join(out, tag + ".csv"), "--json", os.path.join(out, tag + ".json"),
            "--html", os.path.join(out, tag + ".html")]
    t = time.time()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    secs = time.time() - t
    if r.returncode != 0:
        sys.exit("quality: %s failed (%d):\n%s" % (shlex.join(cmd), r.returncode, r.stderr))
    return {"cmd": cmd, "secs": secs, "csv": cmd[cmd.index("--scores") + 1],
            "json": json.load(open(cmd[cmd.index("--json") + 1]))}


def read_files(path):
    """Yields (name, columns) per file of a --scores CSV, one file at a time (a file's rows are
    contiguous), with the alert flag and which rule made it."""
    with open(path, newline="") as f:
        rd = csv.reader(f)
        head = next(rd)
        col = {h: i for i, h in enumerate(head)}
        gcol = col.get("grade", col.get("anomaly_grade"))
        acol = col.get("anomaly")
        need = [c for c in ("file", "row", "score", "novelty", "window") if c not in col]
        if need or gcol is None:
            sys.exit("quality: %s: no column %s in %s" % (path, need or "grade", head))
        cur, cols = None, None
        for row in rd:
            if row[0] != cur:
                if cur is not None:
                    yield cur, cols
                cur = row[0]
                cols = {"score": [], "novelty": [], "grade": [], "window": [], "alert": [],
                        "by_grade": [], "rule": "anomaly" if acol is not None else "grade"}
            g = num(row[gcol])
            cols["score"].append(num(row[col["score"]]))
            cols["novelty"].append(num(row[col["novelty"]]))
            cols["grade"].append(g)
            cols["window"].append(int(row[col["window"]]))
            a = flag(row[acol]) if acol is not None else g >= GRADE_CUTOFF
            # rcfd's own "at the shipped rule" figure judges the same detections (its decision
            # column: the alert flag, or grade >= the cut-off for a model without one)
            cols["by_grade"].append(a)
            cols["alert"].append(a)
        if cur is not None:
            yield cur, cols


# ---- scoring -----------------------------------------------------------------------------------

def nab_file(win, alerts):
    """Per profile, one file's NAB sums for the detections `alerts` (as src/backtest/nab.c):
    raw, windows present (a scored row), windows labelled, hits, FPs, and the sum a detector
    flagging every scored row gets (the null detector is the better of that and nothing)."""
    n = len(win)
    prob = min(int(math.floor(0.15 * n)), 750)
    spans = {}
    for i, w in enumerate(win):
        if w >= 0:
            spans[w] = (spans.get(w, (i, i))[0], i)
    ws = [spans[w] for w in sorted(spans)]
    sweep = [0.0] * n
    j, prev = 0, -1
    for i in range(n):
        while j < len(ws) and ws[j][1] < i:
            prev, j = j, j + 1
        if j < len(ws) and i >= ws[j][0]:
            sweep[i] = sig(-(ws[j][1] - i + 1) / (ws[j][1] - ws[j][0] + 1))
        elif prev < 0:
            sweep[i] = -1.0
        else:
            width = ws[prev][1] - ws[prev][0] + 1
            sweep[i] = sig((i - ws[prev][1]) / (width - 1 if width > 1 else 1))
    first, fp_all = {}, 0.0
    for i in range(prob, n):
        if win[i] >= 0:
            first.setdefault(win[i], sweep[i])  # the earliest scored row: the best credit
        else:
            fp_all += sweep[i]
    out = {}
    for name, a_tp, a_fp, a_fn in PROFILES:
        best, fp, fps = {}, 0, 0.0
        for i in range(prob, n):
            if not alerts[i]:
                continue
            if win[i] < 0:
                fp += 1
                fps += sweep[i] * a_fp
            else:
                best[win[i]] = max(best.get(win[i], -math.inf), sweep[i] * a_tp / sig(-1.0))
        raw = sum(best.values()) - a_fn * (len(first) - len(best)) + fps
        everything = sum(v * a_tp / sig(-1.0) for v in first.values()) + a_fp * fp_all
        out[name] = {"raw": raw, "present": len(first), "labelled": len(ws), "hit": len(best),
                     "fp": fp, "everything": everything}
    return out


def nab_corpus(per_file):
    """Normalised NAB score per profile over a list of nab_file() results."""
    out = {}
    for name, a_tp, _, a_fn in PROFILES:
        f = [p[name] for p in per_file]
        raw = sum(x["raw"] for x in f)
        present = sum(x["present"] for x in f)
        null = max(-a_fn * present, sum(x["everything"] for x in f))
        perfect = a_tp * sum(x["labelled"] for x in f)
        out[name] = {"score": 100.0 * (raw - null) / (perfect - null) if perfect != null else 0.0,
                     "hit": sum(x["hit"] for x in f), "windows": sum(x["labelled"] for x in f),
                     "fp": sum(x["fp"] for x in f)}
    return out


def events(win, alerts, start=0):
    """Event-wise counts from row `start`: alerts, alerts in a window, windows, windows hit."""
    hit, tp, n_alerts, wins = set(), 0, 0, set()
    for i in range(start, len(win)):
        if win[i] >= 0:
            wins.add(win[i])
        if alerts[i]:
            n_alerts += 1
            if win[i] >= 0:
                tp += 1
                hit.add(win[i])
    return {"alerts": n_alerts, "tp": tp, "windows": len(wins), "hit": len(hit),
            "records": len(win) - start}


def event_metrics(ev):
    s = {k: sum(e[k] for e in ev) for k in ("alerts", "tp", "windows", "hit", "records")}
    p = s["tp"] / s["alerts"] if s["alerts"] else 0.0
    r = s["hit"] / s["windows"] if s["windows"] else 0.0
    s.update(precision=p, recall=r, f1=2 * p * r / (p + r) if p + r else 0.0,
             per10k=1e4 * s["alerts"] / s["records"] if s["records"] else 0.0)
    return s


def top1(v, start, a, b):
    """Whether the first row >= start with the highest value lies in [a, b]."""
    best, at = -math.inf, -1
    for i in range(start, len(v)):
        if v[i] > best:
            best, at = v[i], i
    return a <= at <= b


def score_nab(run):
    halves = None
    files = []
    for name, c in read_files(run["csv"]):
        files.append({"name": name, "rule": c["rule"], "nab": nab_file(c["window"], c["alert"]),
                      "nab_grade": nab_file(c["window"], c["by_grade"]),
                      "ev": events(c["window"], c["alert"])})
    halves = nab_halves([f["name"] for f in files])
    return summarise(files, halves, run, "nab")


def score_ucr(runs, series):
    lab = {e["file"].rsplit(".", 1)[0] + ".csv": e for e in series}
    order = sorted(lab)
    halves = {"ucr/" + n: "AB"[i % 2] for i, n in enumerate(order)}
    files = []
    for run in runs:
        for name, c in read_files(run["csv"]):
            e = lab[name.split("/", 1)[1]]
            if len(c["score"]) != e["rows"]:
                sys.exit("quality: %s: %d records scored, labels.json says %d"
                         % (name, len(c["score"]), e["rows"]))
            a, b = e["begin"] - UCR_SLACK, e["end"] + UCR_SLACK
            win = [0 if a <= i <= b else -1 for i in range(e["rows"])]
            files.append({"name": name, "rule": c["rule"], "ev": events(win, c["alert"], e["train"]),
                          "top1": {k: top1(c[k], e["train"], a, b)
                                   for k in ("score", "novelty", "grade")}})
    return summarise(files, halves, runs, "ucr")


def summarise(files, halves, runs, kind):
    runs = runs if isinstance(runs, list) else [runs]
    out = {"rule": files[0]["rule"] if files else "grade", "secs": sum(r["secs"] for r in runs),
           "cmds": [r["cmd"] for r in runs], "files": len(files)}
    for h in ("all", "A", "B"):
        fs = [f for f in files if h == "all" or halves[f["name"]] == h]
        m = {"ev": event_metrics([f["ev"] for f in fs]), "n": len(fs)}
        if kind == "nab":
            m["nab"] = nab_corpus([f["nab"] for f in fs])
            m["nab_grade"] = nab_corpus([f["nab_grade"] for f in fs])
        else:
            m["top1"] = {k: sum(f["top1"][k] for f in fs) / len(fs) if fs else 0.0
                         for k in ("score", "novelty", "grade")}
        out[h] = m
    if kind == "nab":
        j = runs[0]["json"]["corpus"]
        out["records"] = j["records"]
        out["c_grade"] = {p: j["nab_at_grade_cutoff"][p]["score"] for p, *_ in PROFILES}
        out["c_swept"] = j["nab"]
        out["swept_on"] = runs[0]["json"]["alerts"]["on"]
    else:
        out["records"] = sum(r["json"]["corpus"]["records"] for r in runs)
    return out


def measure(a, corpora, params, tag):
    """Runs the backtests of one parameter set (up to --jobs at once) and scores them."""
    work = os.path.join(a.work, tag)
    tasks = []
    if corpora["nab"]:
        tasks.append(("nab", corpora["nab"], "nab"))
    tasks += [("ucr", d, "ucr%d" % k) for k, d in enumerate(corpora["ucr"])]
    print("quality: %s: %d backtest run(s) %s" % (tag, len(tasks), " ".join("-p " + p for p in params)),
          file=sys.stderr)
    with concurrent.futures.ThreadPoolExecutor(a.jobs) as ex:
        fut = [(k, ex.submit(backtest, a.rcfd, d, params, work, t)) for k, d, t in tasks]
        done = [(k, f.result()) for k, f in fut]
    res = {}
    nab_runs = [r for k, r in done if k == "nab"]
    ucr_runs = [r for k, r in done if k == "ucr"]
    if nab_runs:
        res["nab"] = score_nab(nab_runs[0])
    if ucr_runs:
        res["ucr"] = score_ucr(ucr_runs, corpora["series"])
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    return res


# ---- the report --------------------------------------------------------------------------------

CV_METRICS = (("NAB standard (shipped rule)", "nab", lambda m: m["nab"]["standard"]["score"], "%.1f"),
              ("NAB event F1", "nab", lambda m: m["ev"]["f1"], "%.3f"),
              ("UCR top-1 (score)", "ucr", lambda m: m["top1"]["score"], "%.3f"),
              ("UCR event F1", "ucr", lambda m: m["ev"]["f1"], "%.3f"))


def ev_row(label, r):
    e = r["all"]["ev"]
    return "| %s | %d | %d | %.2f | %d | %.3f | %d/%d | %.3f | %.3f | %.1f s | %.1f |" % (
        label, r["records"], e["alerts"], e["per10k"], e["tp"], e["precision"], e["hit"],
        e["windows"], e["recall"], e["f1"], r["secs"], 1e6 * r["secs"] / r["records"])


def report(a, base, cv, argv):
    rcfd_ver = subprocess.run([a.rcfd, "--version"], stdout=subprocess.PIPE, text=True).stdout.strip()
    L = [SECTION, ""]
    L.append("Measured %s UTC with %s on a 2-core machine shared with other jobs (times are wall "
             "clock, indicative only)." % (datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M"),
                                            rcfd_ver))
    L += ["", "    " + shlex.join(["bench/quality.sh"] + argv), ""]
    any_r = next(iter(base.values()))
    if any_r["rule"] == "anomaly":
        L.append("Alert flag: the scores CSV's `anomaly` column (the shipped rule).")
    else:
        L.append("Alert flag: **grade >= %g** (the scores CSV has no `anomaly` column; this is "
                 "today's shipped rule, `min_grade: %g` in the example configs)." % (GRADE_CUTOFF,
                                                                                     GRADE_CUTOFF))
    L.append("Each backtest (the daemon's runtime per file; `-p` as given):")
    L.append("")
    for r in base.values():
        for c in r["cmds"]:
            L.append("    " + shlex.join(["rcfd"] + c[1:]))
    L.append("")
    if "nab" in base:
        n = base["nab"]
        L += ["NAB (%d files, %d records, %d windows):" % (n["files"], n["records"],
                                                           n["all"]["nab"]["standard"]["windows"]), "",
              "| detections | standard | reward_low_FP_rate | reward_low_FN_rate | windows hit | FP |",
              "|---|---|---|---|---|---|"]
        s = n["all"]["nab"]
        L.append("| **shipped rule** (%s) | **%.1f** | **%.1f** | **%.1f** | %d/%d | %d |" % (
            "anomaly" if n["rule"] == "anomaly" else "grade >= %g" % GRADE_CUTOFF,
            s["standard"]["score"], s["reward_low_FP_rate"]["score"],
            s["reward_low_FN_rate"]["score"], s["standard"]["hit"], s["standard"]["windows"],
            s["standard"]["fp"]))
        w = n["c_swept"]
        L.append("| hindsight: %s >= the corpus's best threshold per profile (NAB's sweep) | %s |"
                 " %d/%d | %d |" % (n["swept_on"], " | ".join(
                     "%.1f (%.4g)" % (w[p]["score"], w[p]["threshold"]) for p, *_ in PROFILES),
                     w["standard"]["windows_hit"], w["standard"]["windows_scored"],
                     w["standard"]["false_positives"]))
        g = n["all"]["nab_grade"]
        L += ["", "Check of this script's NAB scoring: the shipped rule (alert flag, or grade >= %g "
              "without one) scored here %s, by rcfd (src/backtest/nab.c) %s." % (GRADE_CUTOFF,
                                            " / ".join("%.2f" % g[p]["score"] for p, *_ in PROFILES),
                                            " / ".join("%.2f" % n["c_grade"][p] for p, *_ in PROFILES)),
              ""]
    if "ucr" in base:
        u = base["ucr"]
        t = u["all"]["top1"]
        L += ["UCR (%d series, %d records): top-1 accuracy (rows >= train; the first highest row "
              "within [begin-100, end+100]) of the raw score **%.3f**, the novelty %.3f, the grade "
              "%.3f (%d, %d, %d solved)." % (u["files"], u["records"], t["score"], t["novelty"],
                                             t["grade"], round(t["score"] * u["files"]),
                                             round(t["novelty"] * u["files"]),
                                             round(t["grade"] * u["files"])), ""]
    L += ["Event-wise, the alert flag (a true positive is an alert inside a labelled window; NAB: "
          "every record, its probation too; UCR: rows >= train only, the archive's rule):", "",
          "| corpus | records | alerts | per 10k | TP alerts | precision | windows hit | recall | F1 "
          "| backtest wall | µs/record |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for k, label in (("nab", "NAB"), ("ucr", "UCR")):
        if k in base:
            L.append(ev_row(label, base[k]))
    if a.jobs > 1:
        L.append("")
        L.append("(--jobs %d: backtests ran %d at a time; the wall time is their sum.)" % (a.jobs, a.jobs))
    if cv:
        key = a.cv.split("=", 1)[0]
        L += ["", "2-fold cross-validation of `%s` (halves: NAB alternate files of each category, "
              "UCR alternate series; each metric: the value best on one half, reported on the "
              "other):" % key, ""]
        head = ["| %s |" % key]
        for name, corpus, _, _ in CV_METRICS:
            head.append(" %s A | B |" % name)
        L.append("".join(head))
        L.append("|---|" + "---|---|" * len(CV_METRICS))
        for v, r in cv:
            row = ["| %s |" % v]
            for _, corpus, f, fmt in CV_METRICS:
                row.append("".join(" " + (fmt % f(r[corpus][h]) if corpus in r else "-") + " |"
                                   for h in "AB"))
            L.append("".join(row))
        L.append("")
        L.append("| metric | chosen on A | its B (held out) | chosen on B | its A (held out) |")
        L.append("|---|---|---|---|---|")
        for name, corpus, f, fmt in CV_METRICS:
            if corpus not in cv[0][1]:
                continue
            cells = []
            for fit, held in (("A", "B"), ("B", "A")):
                v, r = max(cv, key=lambda vr: (f(vr[1][corpus][fit]), -cv.index(vr)))
                cells += ["%s (%s)" % (v, fmt % f(r[corpus][fit])), fmt % f(r[corpus][held])]
            L.append("| %s | %s |" % (name, " | ".join(cells)))
    return "\n".join(L) + "\n"


def write_results(path, text):
    old = open(path).read() if os.path.exists(path) else ""
    lines = old.splitlines(keepends=True)
    start = next((i for i, l in enumerate(lines) if l.rstrip() == SECTION), None)
    if start is None:
        new = old.rstrip("\n") + ("\n\n" if old else "") + text
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
                   len(lines))
        new = "".join(lines[:start]) + text + ("\n" + "".join(lines[end:]) if end < len(lines) else "")
    open(path, "w").write(new)


# ---- self-check --------------------------------------------------------------------------------

def synth(out):
    """A small NAB-layout corpus and a UCR-layout folder: noisy sines with one big spike each."""
    rnd = random.Random(7)
    nab, ucr = os.path.join(out, "nab"), os.path.join(out, "ucr")
    wins, series = {}, []
    os.makedirs(os.path.join(nab, "data", "synth"))
    os.makedirs(os.path.join(nab, "labels"))
    os.makedirs(os.path.join(ucr, "data"))
    for k in range(4):
        n, spike = 3000, 1800 + 250 * k
        v = [10 + math.sin(i / (8 + k)) + rnd.gauss(0, 0.1) + (8 if spike <= i < spike + 3 else 0)
             for i in range(n)]
        with open(os.path.join(nab, "data", "synth", "s%d.csv" % k), "w") as f:
            f.write("timestamp,value\n" + "".join("%s,%.6f\n" % (ts(i), x) for i, x in enumerate(v)))
        wins["synth/s%d.csv" % k] = [[ts(spike - 50) + ".000000", ts(spike + 50) + ".000000"]]
        name = "%03d_UCR_Anomaly_1000.txt" % (2 * k + 2)
        with open(os.path.join(ucr, "data", name), "w") as f:
            f.write("".join("%.6f\n" % x for x in v))
        series.append({"file": name, "name": "synth%d" % k, "train": 1000, "begin": spike,
                       "end": spike + 2, "rows": n})
    json.dump(wins, open(os.path.join(nab, "labels", "combined_windows.json"), "w"))
    json.dump({"series": series}, open(os.path.join(ucr, "labels.json"), "w"))
    return nab, ucr


def selftest_checks(res):
    n, u = res["nab"], res["ucr"]
    bad = []
    for p, *_ in PROFILES:
        mine, c = n["all"]["nab_grade"][p]["score"], n["c_grade"][p]
        if abs(mine - c) > 1e-6 * max(1.0, abs(c)):
            bad.append("NAB %s at the shipped rule: %.6f here, %.6f by rcfd" % (p, mine, c))
    if u["all"]["top1"]["score"] < 1.0:
        bad.append("UCR top-1 of the score on four obvious spikes: %.2f, not 1" % u["all"]["top1"]["score"])
    if n["all"]["ev"]["records"] != n["records"]:
        bad.append("NAB records: %d read, %d scored" % (n["all"]["ev"]["records"], n["records"]))
    return bad


def main():
    argv = sys.argv[1:]
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--nab", help="NAB directory (data/, labels/combined_windows.json)")
    p.add_argument("--ucr", help="UCR directory (data/NNN_*.txt, labels.json)")
    p.add_argument("--rcfd", default=os.path.join(HERE, "..", "build", "bin", "rcfd"))
    p.add_argument("-p", dest="params", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--cv", metavar="NAME=V1,V2,...")
    p.add_argument("--jobs", type=int, default=1, help="backtests at once (UCR is split in as many)")
    p.add_argument("--ucr-limit", type=int, default=0, metavar="N", help="the first N series only")
    p.add_argument("--results", metavar="RESULTS.md", help="replace its '%s' section" % SECTION)
    p.add_argument("--keep", metavar="DIR", help="keep the corpora, scores and reports in DIR")
    p.add_argument("--selftest", action="store_true", help="a generated corpus; checks, no ../shared")
    a = p.parse_args()
    if not a.selftest and not (a.nab or a.ucr):
        p.error("--nab and/or --ucr (or --selftest)")
    if a.cv and "=" not in a.cv:
        p.error("--cv NAME=V1,V2,...")
    if not os.access(a.rcfd, os.X_OK):
        p.error("%s: not an executable (build it, or --rcfd PATH)" % a.rcfd)
    a.jobs = max(1, a.jobs)
    a.work = a.keep or tempfile.mkdtemp(prefix="rcfd-quality.")
    os.makedirs(a.work, exist_ok=True)
    try:
        if a.selftest:
            a.nab, a.ucr = synth(os.path.join(a.work, "synth"))
        corpora = {"nab": a.nab, "ucr": [], "series": []}
        if a.ucr:
            corpora["series"] = ucr_series(a.ucr, a.ucr_limit)
            corpora["ucr"] = ucr_corpora(a.ucr, corpora["series"], a.jobs,
                                         os.path.join(a.work, "ucr-corpus"))
        base = measure(a, corpora, a.params, "base")
        cv = []
        if a.cv:
            key, vals = a.cv.split("=", 1)
            for v in vals.split(","):
                cv.append((v, measure(a, corpora, a.params + ["%s=%s" % (key, v)], "cv-%s" % v)))
        text = report(a, base, cv, argv)
        print(text)
        if a.results:
            write_results(a.results, text)
        if a.selftest:
            bad = selftest_checks(base)
            print("selftest: " + ("ok" if not bad else "FAILED\n  " + "\n  ".join(bad)))
            return 1 if bad else 0
        return 0
    finally:
        if not a.keep:
            shutil.rmtree(a.work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
