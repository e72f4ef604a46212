"""Reference counts and memory under repeated calls: rcfd's own allocation counters (rcfd/alloc.h)
for the C side, tracemalloc for Python objects and numpy arrays, sys.getrefcount for the inputs.
And the core's promise: no allocation per record."""

import gc
import sys
import tracemalloc

import numpy as np

import rcfd
from conftest import series

P = dict(trees=20, sample=32)


def exercise(f, h, x, snap, hsnap):
    f.process(x)
    f.process(x[0])
    f.score(x)
    rcfd.Forest.load(snap)
    f.save()
    h.process(x[:, :1].repeat(2, axis=1))
    h.json()
    h.hotspots
    rcfd.Hotspots.load(hsnap)
    repr(f), f.params, h.params
    # the error paths (plain try/except: pytest.raises keeps bookkeeping of its own)
    for bad in (np.array([[np.nan]]), np.zeros((2, 3)), [["a"]], snap[:100]):
        try:
            if isinstance(bad, bytes):
                rcfd.Forest.load(bad)
            else:
                f.process(bad)
        except (rcfd.Error, TypeError):
            pass
        else:
            raise AssertionError("no error for %r" % (bad,))
    try:
        rcfd.Forest(trees=0)
    except rcfd.Error:
        pass


def test_no_growth_under_repeated_calls():
    x = series(200)
    f = rcfd.Forest(explain=True, **P)
    h = rcfd.Hotspots(window=50, radius=0.5, min_points=3)
    f.process(x)
    h.process(x[:, :1].repeat(2, axis=1))
    snap, hsnap = f.save(), h.save()
    for _ in range(20):  # warm caches, interned strings, numpy's allocator
        exercise(f, h, x, snap, hsnap)
    gc.collect()
    refs = sys.getrefcount(x), sys.getrefcount(snap), sys.getrefcount(f)
    c_before = rcfd.alloc_stats()
    tracemalloc.start()
    snaps = []
    for _ in range(3):
        for _ in range(100):
            exercise(f, h, x, snap, hsnap)
        gc.collect()
        snaps.append(tracemalloc.take_snapshot())
    tracemalloc.stop()
    c_after = rcfd.alloc_stats()
    assert (sys.getrefcount(x), sys.getrefcount(snap), sys.getrefcount(f)) == refs
    # 300 rounds of forests and detectors loaded and freed: rcfd's heap is back where it was
    assert c_after["bytes_in_use"] == c_before["bytes_in_use"]
    assert c_after["bytes_reserved"] == c_before["bytes_reserved"]
    assert c_after["calls"] > c_before["calls"] + 300  # the counters do see those loads
    # Python objects and numpy arrays: anything leaked per round would grow every 100 rounds by
    # at least 100 blocks (a result array by megabytes); what is retained once (a free list, a
    # cache) shows in one interval only.
    growth = []
    for a, b in zip(snaps, snaps[1:]):
        d = b.compare_to(a, "filename")
        growth.append((sum(s.count_diff for s in d), sum(s.size_diff for s in d)))
    assert min(c for c, _ in growth) < 50, growth
    assert min(s for _, s in growth) < 64 * 1024, growth


def test_objects_are_freed():
    gc.collect()
    before = rcfd.alloc_stats()["bytes_in_use"]
    fs = [rcfd.Forest(dim=2, **P) for _ in range(10)]
    assert rcfd.alloc_stats()["bytes_in_use"] > before
    del fs
    gc.collect()
    assert rcfd.alloc_stats()["bytes_in_use"] == before


def test_nothing_allocated_per_record():
    f = rcfd.Forest(explain=True, dim=2, **P)
    h = rcfd.Hotspots(window=100, radius=0.5, min_points=3, dim=2)
    x = series(5000, fields=2)
    f.process(x[:10]), h.process(x[:10])
    calls = rcfd.alloc_stats()["calls"]
    f.process(x)
    f.score(x)
    h.process(x)
    assert rcfd.alloc_stats()["calls"] == calls
