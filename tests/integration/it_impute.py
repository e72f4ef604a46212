#!/usr/bin/env python3
"""A pipeline's impute, end to end with the real rcfd:
- the daemon (stdin source, /metrics on) with impute "previous": fields that are absent or null
  are imputed with the key's previous value (checked against this script's own bookkeeping),
  marked ("imputed", "imputed_values"; "IMPUTED", "IMPUTED_VALUES" in the kda style); a
  non-numeric value and the records past impute_max_consecutive are dead letters naming the
  field; rcfd_imputed_total and friends count them;
- impute "rcf" across a snapshot: rcfd train on the first part of the file (--impute rcf), the
  daemon warm-started from those snapshots on the rest gives the records the same scores and
  imputed values as one daemon run over the whole file;
- impute "linear": the daemon and --check-config refuse it naming the pipeline (exit 78);
  rcfd backtest interpolates (values in its scores CSV), bounded by impute_lookahead.
usage: it_impute.py RCFD"""
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

rcfd = sys.argv[1]
work = tempfile.mkdtemp(prefix="rcfd-impute.")


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def path(name):
    return os.path.join(work, name)


# Two keys, y = 2x on a sine; y missing or null now and then, a run of 12 for key b (limit 10).
records, missing_at, bad_at = [], set(), set()
for i in range(1600):
    k = "ab"[i % 2]
    x = 10 + 5 * math.sin(i / 9.0) + (0.3 if k == "b" else 0)
    r = {"k": k, "x": round(x, 4), "y": round(2 * x + 0.01 * ((i * 7) % 5), 4)}
    if i >= 600 and i % 37 == 0:
        r["y"] = None
        missing_at.add(i)
    elif i >= 600 and i % 41 == 0:
        del r["y"]
        missing_at.add(i)
    elif 1201 <= i <= 1223 and k == "b":
        del r["y"]
        missing_at.add(i)
    if i == 1500:
        r["y"] = "n/a"
        bad_at.add(i)
    records.append(r)
with open(path("in.jsonl"), "w") as f:
    for r in records:
        f.write(json.dumps(r) + "\n")

# What "previous" must give: per key the last accepted record's y; a record past the limit is a
# dead letter and changes nothing; a complete record resets the count.
expect, dead_expect = {}, set()
last, run = {}, {}
for i, r in enumerate(records):
    k = r["k"]
    if i in bad_at:
        dead_expect.add(i)
        continue
    if i in missing_at:
        if run.get(k, 0) >= 10:
            dead_expect.add(i)
            continue
        expect[i] = last[k]
        run[k] = run.get(k, 0) + 1
    else:
        last[k] = r["y"]
        run[k] = 0

model = {"type": "rcf", "shingle_size": 4, "number_of_trees": 30, "sub_sample_size": 64,
         "time_decay": 2000, "output_after": 32, "recent_mean": 0, "seed": 9}


def config(name, impute, source_path, outputs=("rcfd",), admin=False, extra=None):
    outs = [{"name": s, "type": "file", "path": path("%s-%s.jsonl" % (name, s)), "style": s}
            for s in outputs]
    outs.append({"name": "dead", "type": "file", "path": path("%s-dead.jsonl" % name)})
    pipe = {"name": "p", "source": "in", "fields": ["x", "y"], "key": "k",
            "outputs": list(outputs), "dead_letter": "dead", "impute": impute, "models": [model]}
    pipe.update(extra or {})
    conf = {"sources": [{"name": "in", "type": "file", "path": source_path}],
            "outputs": outs, "pipelines": [pipe]}
    if admin:
        conf["runtime"] = {"admin_listen": "127.0.0.1:0"}
    p = path(name + ".json")
    with open(p, "w") as f:
        json.dump(conf, f)
    return p


def read(name):
    with open(path(name)) as f:
        return [json.loads(line) for line in f if line.strip()]


# --- the daemon, impute previous, both output styles, /metrics -----------------------------
conf = config("prev", "previous", "-", outputs=("rcfd", "kda"), admin=True)
log = open(path("prev.log"), "w")
proc = subprocess.Popen([rcfd, "-c", conf], stdin=subprocess.PIPE, stderr=log)
port = None
for _ in range(200):
    m = re.search(r"admin listener on [^:]+:(\d+)", open(path("prev.log")).read())
    if m:
        port = int(m.group(1))
        break
    time.sleep(0.05)
if port is None:
    proc.kill()
    fail("no admin listener: " + open(path("prev.log")).read())
proc.stdin.write(open(path("in.jsonl"), "rb").read())
proc.stdin.flush()
want_out = len(records) - len(dead_expect)
for _ in range(400):
    if os.path.exists(path("prev-rcfd.jsonl")) and \
            sum(1 for _ in open(path("prev-rcfd.jsonl"))) >= want_out:
        break
    time.sleep(0.05)
time.sleep(0.3)
with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
    metrics = r.read().decode()
proc.stdin.close()
proc.send_signal(signal.SIGTERM)
if proc.wait(timeout=30) != 0:
    fail("daemon exit %d: %s" % (proc.returncode, open(path("prev.log")).read()))

out = read("prev-rcfd.jsonl")
if len(out) != want_out:
    fail("%d scored records, expected %d" % (len(out), want_out))
n_imputed = 0
for o in out:
    i = o["_rcfd"]["line"] - 1
    if i in expect:
        n_imputed += 1
        if o.get("imputed") != ["y"] or o.get("imputed_values") != {"y": expect[i]}:
            fail("record %d: %r, expected y imputed as %r" % (i, o, expect[i]))
    elif "imputed" in o or "imputed_values" in o:
        fail("record %d is marked but was complete: %r" % (i, o))
kda = read("prev-kda.jsonl")
marked = [o for o in kda if "IMPUTED" in o]
if len(marked) != n_imputed or any(o["IMPUTED"] != ["y"] or "y" not in o["IMPUTED_VALUES"]
                                   for o in marked):
    fail("kda style: %d marked records, expected %d: %r" % (len(marked), n_imputed, marked[:2]))
dead = read("prev-dead.jsonl")
if sorted(d["line"] - 1 for d in dead) != sorted(dead_expect):
    fail("dead letters at %r, expected %r" % ([d["line"] - 1 for d in dead], sorted(dead_expect)))
limit = [d for d in dead if d["line"] - 1 not in bad_at]
if len(limit) != 2 or not all('missing field "y"' in d["reason"] and
                              "impute_max_consecutive" in d["reason"] for d in limit):
    fail("limit dead letters: %r" % limit)
if not any('non-numeric field "y"' in d["reason"] for d in dead):
    fail("the non-numeric value is not dead-lettered as such: %r" % dead)


def metric(name):
    m = re.search(r"^%s (\S+)$" % re.escape(name), metrics, re.M)
    if m is None:
        fail("no %s in /metrics:\n%s" % (name, metrics))
    return float(m.group(1))


checks = {'rcfd_imputed_total{pipeline="p",field="y"}': n_imputed,
          'rcfd_imputed_total{pipeline="p",field="x"}': 0,
          'rcfd_imputed_records_total{pipeline="p"}': n_imputed,
          'rcfd_impute_refused_total{pipeline="p"}': 2,
          'rcfd_impute_fallback_total{pipeline="p"}': 0,
          'rcfd_records_dead_total{pipeline="p",reason="field"}': 3}
for name, want in checks.items():
    if metric(name) != want:
        fail("%s = %g, expected %d" % (name, metric(name), want))
print("previous: %d imputed, %d dead letters, metrics agree" % (n_imputed, len(dead)))

# --- impute rcf across a snapshot: rcfd train, then a warm start ----------------------------
cut = 900
with open(path("first.jsonl"), "w") as f:
    for r in records[:cut]:
        f.write(json.dumps(r) + "\n")
with open(path("rest.jsonl"), "w") as f:
    for r in records[cut:]:
        f.write(json.dumps(r) + "\n")
subprocess.run([rcfd, "-c", config("whole", "rcf", path("in.jsonl"))], check=True,
               stderr=subprocess.DEVNULL)
params = ["-p", "shingle_size=4", "-p", "number_of_trees=30", "-p", "sub_sample_size=64", "-p",
          "time_decay=2000", "-p", "output_after=32", "-p", "recent_mean=0", "-p", "seed=9"]
tr = subprocess.run([rcfd, "train", "--quiet", "--fields", "x,y", "--key", "k", "--impute", "rcf",
                     "--out", path("snaps")] + params + [path("first.jsonl")],
                    capture_output=True, text=True)
if tr.returncode != 0 or "records trained with an imputed field (impute rcf)" not in tr.stdout:
    fail("rcfd train: %d %s %s" % (tr.returncode, tr.stdout, tr.stderr))
subprocess.run([rcfd, "-c", config("warm", "rcf", path("rest.jsonl"),
                                    extra={"initial_state": path("snaps")})],
               check=True, stderr=subprocess.DEVNULL)
whole = {o["_rcfd"]["line"] - 1: o for o in read("whole-rcfd.jsonl")}
warm = read("warm-rcfd.jsonl")
same = 0
for o in warm:
    i = o["_rcfd"]["line"] - 1 + cut
    w = whole.get(i)
    if w is None or w["anomaly_score"] != o["anomaly_score"] or \
            w.get("imputed_values") != o.get("imputed_values"):
        fail("record %d after the warm start: %r, one run: %r" % (i, o, w))
    same += "imputed" in o
if same < 10:
    fail("only %d imputed records after the cut" % same)
err_rcf = [abs(o["imputed_values"]["y"] - 2 * o["x"]) for o in whole.values() if "imputed" in o]
print("rcf: warm start equals one run (%d records, %d imputed); mean |y - 2x| %.3f" %
      (len(warm), same, sum(err_rcf) / len(err_rcf)))

# --- linear: refused by the daemon, interpolated by rcfd backtest ---------------------------
lin = config("lin", "linear", path("in.jsonl"))
for args in (["--check-config", "-c", lin], ["-c", lin]):
    p = subprocess.run([rcfd] + args, capture_output=True, text=True)
    if p.returncode != 78 or '"linear" needs the next value' not in p.stderr or \
            'pipeline "p"' not in p.stderr:
        fail("rcfd %s: %d %s" % (" ".join(args), p.returncode, p.stderr))
with open(path("lin.csv"), "w") as f:
    f.write("timestamp,value\n")
    for i in range(300):
        v = "" if i in (200, 201, 202, 250) or 260 <= i < 275 else "%g" % (3 * i + 1)
        f.write("%d,%s\n" % (1700000000 + i, v))
bt = subprocess.run([rcfd, "backtest", "--quiet", "--impute", "linear", "--impute-lookahead", "5",
                     "--impute-max-consecutive", "20", "--html", path("bt.html"), "--scores",
                     path("bt.csv"), path("lin.csv")], capture_output=True, text=True)
if bt.returncode != 0:
    fail("backtest: %s" % bt.stderr)
vals = {}
with open(path("bt.csv")) as f:
    next(f)
    for line in f:
        c = line.split(",")
        vals[int(c[1])] = float(c[2])
for i in (200, 201, 202, 250):
    if vals[i] != 3 * i + 1:
        fail("linear at %d: %g, expected %d" % (i, vals[i], 3 * i + 1))
# a gap of 15 with a look-ahead of 5: its first 10 have no next value in reach (previous), the
# last 5 do
for i in range(260, 275):
    want = 3 * 259 + 1 if i < 270 else 3 * i + 1
    if vals[i] != want:
        fail("linear in the long gap at %d: %g, expected %d" % (i, vals[i], want))
print("linear: refused by the daemon, interpolated by rcfd backtest")
print("OK")
