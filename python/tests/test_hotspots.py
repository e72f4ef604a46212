"""rcfd.Hotspots: per-record results, the reference algorithm, snapshots, JSON, bad input."""

import json
import pickle

import numpy as np
import pytest

import rcfd


def clustered(n=600, seed=0):
    """Uniform noise over [0, 10]^2 with every third record near (5, 5)."""
    rnd = np.random.default_rng(seed)
    x = rnd.uniform(0, 10, (n, 2))
    x[::3] = 5 + rnd.normal(0, 0.1, (len(x[::3]), 2))
    return x


P = dict(window=200, radius=0.5, min_points=5)


def test_finds_the_cluster():
    x = clustered()
    h = rcfd.Hotspots(**P)
    r = h.process(x)
    assert r.in_hotspot.dtype == np.bool_ and r.in_hotspot.shape == (600,)
    late = slice(300, 600)
    assert r.in_hotspot[late][::3].all()  # the clustered records
    assert len(r.hotspots) >= 1 and repr(r.hotspots) == repr(h.hotspots)
    top = r.hotspots[0]
    assert top.min_values[0] < 5 < top.max_values[0] and top.count >= 40
    assert top.dense_count <= top.count and top.density > 10
    assert np.all(r.density[~r.in_hotspot] == 0) and np.all(r.count[~r.in_hotspot] == 0)
    assert h.records == 600 and h.dim == 2


def test_incremental_equals_brute_force_record_for_record():
    x = clustered(500, seed=4)
    a = rcfd.Hotspots(**P).process(x)
    b = rcfd.Hotspots(algorithm="brute_force", **P).process(x)
    for field in ("in_hotspot", "density", "count", "n_hotspots", "changed"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field
    assert repr(a.hotspots) == repr(b.hotspots)


def test_one_record_at_a_time_equals_batch():
    x = clustered(300)
    a = rcfd.Hotspots(**P)
    ra = a.process(x)
    b = rcfd.Hotspots(**P)
    for i, row in enumerate(x):
        rb = b.process(row)
        assert bool(rb.in_hotspot) == bool(ra.in_hotspot[i]) and rb.density == ra.density[i]
    assert a.save() == b.save()


def test_only_containing_new_and_scale():
    x = clustered(400)
    r = rcfd.Hotspots(only_containing_new=True, **P).process(x)
    assert r.n_hotspots.max() == 1
    # scaling both columns by 2 is the same as halving the radius
    a = rcfd.Hotspots(window=200, radius=0.25, min_points=5).process(x)
    b = rcfd.Hotspots(window=200, radius=0.5, min_points=5, scale=[2, 2]).process(x)
    assert np.array_equal(a.in_hotspot, b.in_hotspot)


def test_json():
    h = rcfd.Hotspots(**P)
    assert json.loads(h.json()) == {"hotspots": []}
    h.process(clustered())
    full, kda = json.loads(h.json()), json.loads(h.json(kda=True))
    assert full["hotspots"][0]["count"] == h.hotspots[0].count
    assert set(kda["hotspots"][0]) == {"density", "minValues", "maxValues"}


def test_snapshot_round_trip_continues():
    x = clustered(800)
    a = rcfd.Hotspots(**P)
    a.process(x[:400])
    snap = a.save()
    b = rcfd.Hotspots.load(snap)
    assert b.save() == snap and b.params == a.params and b.records == 400
    assert repr(b.hotspots) == repr(a.hotspots)  # recomputed from the window after load
    ra, rb = a.process(x[400:]), b.process(x[400:])
    assert np.array_equal(ra.in_hotspot, rb.in_hotspot) and np.array_equal(ra.changed, rb.changed)
    assert pickle.loads(pickle.dumps(a)).save() == a.save()
    with pytest.raises(rcfd.Error):
        rcfd.Hotspots.load(snap[:-5])
    bad = bytearray(snap)
    bad[100] ^= 1
    with pytest.raises(rcfd.Error) as e:
        rcfd.Hotspots.load(bytes(bad))
    assert e.value.name == "ECHECKSUM"


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(window=5), "windowSize"),
        (dict(radius=0), "scanRadius"),
        (dict(min_points=1), "minimumNumberOfPointsInAHotspot"),
        (dict(window=100, min_points=200), "minimumNumberOfPointsInAHotspot"),
        (dict(scale=[1, -1]), "scale[1]"),
    ],
)
def test_bad_parameters(kwargs, words):
    with pytest.raises(rcfd.Error) as e:
        rcfd.Hotspots(**kwargs)
    assert words in str(e.value)


def test_bad_input():
    h = rcfd.Hotspots(dim=2, **P)
    h.process(clustered(50))
    before = h.save()
    bad = clustered(20)
    bad[7, 0] = np.nan
    with pytest.raises(rcfd.Error) as e:
        h.process(bad)
    assert e.value.row == 7 and e.value.name == "ENONFINITE"
    big = np.full((1, 2), 1e300)
    with pytest.raises(rcfd.Error):  # its scaled form overflows
        rcfd.Hotspots(scale=[1e10, 1], **P).process(big)
    with pytest.raises(rcfd.Error):
        h.process(np.zeros((3, 3)))
    with pytest.raises(TypeError):
        h.process([["x", "y"]])
    with pytest.raises(ValueError):
        rcfd.Hotspots(algorithm="fast")
    with pytest.raises(ValueError):
        rcfd.Hotspots(dim=3, scale=[1, 1])
    assert h.save() == before
