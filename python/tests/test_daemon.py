"""Python against the rcfd binary ($RCFD), bit for bit:
- every record's score, grade and novelty agree with `rcfd backtest --scores` (the daemon's
  runtime replaying a file);
- a model `rcfd train` writes loads in Python, byte for byte the snapshot of a Python forest fed
  the same records, and goes on identically;
- a model Python saves warm-starts the daemon (initial_state): its output for the next records
  is Python's, and a config with other parameters refuses it (exit 78, naming the parameter);
- the same for HOTSPOTS (`rcfd train --model hotspots`)."""

import csv
import json
import os
import subprocess

import numpy as np
import pytest

import rcfd
from conftest import series

pytestmark = pytest.mark.daemon

# The daemon's parameter names, and Forest's for the same model.
CASES = {
    # Python's Forest takes a fixed shingle (default 1); the daemon's default is "auto"
    "defaults": ({"number_of_trees": 50, "sub_sample_size": 128, "seed": 7, "shingle_size": 1}, {}),
    "kda": (
        {"number_of_trees": 40, "sub_sample_size": 64, "seed": 11, "shingle_size": 4,
         "time_decay": 5000, "recent_mean": 0},
        {},
    ),
    "explain": ({"number_of_trees": 30, "sub_sample_size": 64, "seed": 5, "explain": "true",
                 "shingle_size": 1}, {}),
}


def forest_for(daemon_params, key=""):
    p = dict(daemon_params)
    kw = dict(trees=p.pop("number_of_trees"), sample=p.pop("sub_sample_size"), seed=p.pop("seed"))
    if "shingle_size" in p:
        kw["shingle"] = p.pop("shingle_size")
    if "time_decay" in p:
        kw["time_decay"] = p.pop("time_decay")
    if "explain" in p:
        kw["explain"] = p.pop("explain") == "true"
    return rcfd.Forest(key=key, **kw, **p)


def pflags(params):
    out = []
    for k, v in params.items():
        out += ["-p", "%s=%s" % (k, v)]
    return out


def run(cmd, cwd):
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120)
    return r


def write_nab_csv(path, x, labels=None):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["timestamp", "value", "is_anomaly"])
        for i, v in enumerate(x[:, 0]):
            ts = "2024-01-%02d %02d:%02d:00" % (1 + i // 1440, (i // 60) % 24, i % 60)
            w.writerow([ts, repr(float(v)), int(labels is not None and i in labels)])


@pytest.mark.parametrize("case", sorted(CASES))
def test_scores_agree_with_rcfd_backtest(rcfd_bin, tmp_path, case):
    params, _ = CASES[case]
    x = np.round(series(2500, seed=3, spikes=(900, 1800, 2300)), 6)
    write_nab_csv(tmp_path / "data.csv", x, labels={900, 1800, 2300})
    r = run([rcfd_bin, "backtest", "--label", "is_anomaly", "--fields", "value", "--scores",
             "s.csv", "--html", "r.html", "--json", "r.json"] + pflags(params) + ["data.csv"],
            tmp_path)
    assert r.returncode == 0, r.stderr
    with open(tmp_path / "s.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2500
    want = {k: np.array([float(row[k]) for row in rows]) for k in ("value", "score", "grade", "novelty")}
    got = forest_for(params).process(x)
    assert np.array_equal(want["value"], x[:, 0])
    for k in ("score", "grade", "novelty"):
        bad = np.flatnonzero(getattr(got, k) != want[k])
        assert bad.size == 0, "%s differs at records %s" % (k, bad[:5])
    assert np.count_nonzero(want["score"]) > 2000  # so the comparison compares something


def test_rcfd_train_model_loads_in_python(rcfd_bin, tmp_path):
    params = {"number_of_trees": 40, "sub_sample_size": 64, "seed": 9, "time_decay": 3000,
              "shingle_size": 1}
    x = np.round(series(1200, seed=5, spikes=(700,)), 6)
    write_nab_csv(tmp_path / "train.csv", x[:800])
    r = run([rcfd_bin, "train", "--fields", "value", "--out", "snaps"] + pflags(params)
            + ["train.csv"], tmp_path)
    assert r.returncode == 0, r.stderr
    snap = (tmp_path / "snaps" / "_.rcf.snap").read_bytes()
    f = rcfd.Forest.load(snap)
    assert f.records == 800 and f.dim == 1
    assert f.params["number_of_trees"] == 40 and f.params["recent_mean"] == 25
    # the same forest trained in Python: the same bytes, and the same future
    mine = forest_for(params)
    mine.process(x[:800])
    assert mine.save() == snap
    assert f.seed == mine.seed
    a, b = f.process(x[800:]), mine.process(x[800:])
    assert np.array_equal(a.score, b.score) and np.array_equal(a.novelty, b.novelty)
    assert np.count_nonzero(a.score) == 400


def daemon_config(path, snaps, params, fields=("value",)):
    model = {"type": "rcf"}
    for k, v in params.items():
        model[k] = {"true": True, "false": False}.get(v, v)
    cfg = {
        "sources": [{"name": "in", "type": "file", "path": "live.jsonl", "format": "json"}],
        "outputs": [{"name": "out", "type": "file", "path": "out.jsonl"}],
        "pipelines": [{"name": "p", "source": "in", "fields": list(fields), "outputs": ["out"],
                       "initial_state": str(snaps), "models": [model]}],
    }
    path.write_text(json.dumps(cfg))


@pytest.mark.parametrize("case", ["defaults", "explain"])
def test_python_model_warm_starts_the_daemon(rcfd_bin, tmp_path, case):
    params, _ = CASES[case]
    x = np.round(series(1500, seed=8, spikes=(1200,)), 6)
    f = forest_for(params, key="")  # a pipeline without a key field: the empty key
    f.process(x[:1000])
    snaps = tmp_path / "snaps"
    snaps.mkdir()
    (snaps / "_.rcf.snap").write_bytes(f.save())
    with open(tmp_path / "live.jsonl", "w") as fh:
        for v in x[1000:, 0]:
            fh.write(json.dumps({"value": float(v)}) + "\n")
    daemon_config(tmp_path / "rcfd.json", snaps, params)
    r = run([rcfd_bin, "-c", "rcfd.json"], tmp_path)
    assert r.returncode == 0, r.stderr
    out = [json.loads(line) for line in open(tmp_path / "out.jsonl")]
    assert len(out) == 500
    want = f.process(x[1000:])
    got_score = np.array([o["anomaly_score"] for o in out])
    got_novelty = np.array([o["anomaly_novelty"] for o in out])
    assert np.array_equal(got_score, want.score) and np.array_equal(got_novelty, want.novelty)
    assert np.all(got_score > 0)  # warm: a cold forest would score 0 for sample records
    assert int(np.argmax(got_novelty)) == 200
    if f.explain:
        attr = np.array([o["explanation"]["value"]["attribution"] for o in out])
        assert np.array_equal(attr, want.attribution[:, 0])

    # other parameters than the snapshot's: the daemon refuses it, naming the parameter
    other = dict(params, number_of_trees=params["number_of_trees"] + 1)
    daemon_config(tmp_path / "bad.json", snaps, other)
    r = run([rcfd_bin, "-c", "bad.json"], tmp_path)
    assert r.returncode == 78 and "number_of_trees" in r.stderr, r.stderr


def test_hotspots_snapshots_both_ways(rcfd_bin, tmp_path):
    rnd = np.random.default_rng(3)
    x = np.round(rnd.uniform(0, 10, (600, 2)), 4)
    x[::3] = np.round(5 + rnd.normal(0, 0.1, (200, 2)), 4)
    with open(tmp_path / "train.csv", "w") as fh:
        fh.write("x,y\n" + "".join("%r,%r\n" % (float(a), float(b)) for a, b in x))
    p = ["-p", "window_size=100", "-p", "scan_radius=0.5", "-p", "min_points=5"]
    r = run([rcfd_bin, "train", "--model", "hotspots", "--fields", "x,y", "--out", "snaps"] + p
            + ["train.csv"], tmp_path)
    assert r.returncode == 0, r.stderr
    snap = (tmp_path / "snaps" / "_.hotspots.snap").read_bytes()
    mine = rcfd.Hotspots(window=100, radius=0.5, min_points=5)
    mine.process(x)
    assert mine.save() == snap
    h = rcfd.Hotspots.load(snap)
    assert h.records == 600 and repr(h.hotspots) == repr(mine.hotspots)

    # and Python's warm-starts the daemon: the first live record's hotspots are Python's
    live = np.array([[5.01, 4.99], [1.0, 9.0]])
    want = []
    for row in live:
        mine.process(row)
        want.append(json.loads(mine.json()))
    (tmp_path / "snaps" / "_.hotspots.snap").write_bytes(rcfd.Hotspots.load(snap).save())
    with open(tmp_path / "live.jsonl", "w") as fh:
        for a, b in live:
            fh.write(json.dumps({"x": a, "y": b}) + "\n")
    cfg = {
        "sources": [{"name": "in", "type": "file", "path": "live.jsonl", "format": "json"}],
        "outputs": [{"name": "out", "type": "file", "path": "out.jsonl"}],
        "pipelines": [{"name": "p", "source": "in", "fields": ["x", "y"], "outputs": ["out"],
                       "initial_state": "snaps",
                       "models": [{"type": "hotspots", "window_size": 100, "scan_radius": 0.5,
                                   "min_points": 5}]}],
    }
    (tmp_path / "rcfd.json").write_text(json.dumps(cfg))
    r = run([rcfd_bin, "-c", "rcfd.json"], tmp_path)
    assert r.returncode == 0, r.stderr
    out = [json.loads(line) for line in open(tmp_path / "out.jsonl")]
    for o, w in zip(out, want):
        hs = o["hotspots"]["hotspots"] if isinstance(o["hotspots"], dict) else o["hotspots"]
        assert hs == w["hotspots"]
    assert len(want[0]["hotspots"]) >= 1
