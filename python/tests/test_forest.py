"""rcfd.Forest on its own: results, score without learning, snapshots, parameters, bad input."""

import pickle

import numpy as np
import pytest

import rcfd
from conftest import series

SMALL = dict(trees=30, sample=64, seed=3)


def test_batch_equals_record_by_record():
    x = series(600, spikes=(450,), fields=2)
    a, b = rcfd.Forest(**SMALL), rcfd.Forest(**SMALL)
    ra = a.process(x)
    for i, row in enumerate(x):
        rb = b.process(row)
        assert isinstance(rb.score, float) and rb.score == ra.score[i]
        assert rb.grade == ra.grade[i] and rb.novelty == ra.novelty[i]
        same_threshold = rb.threshold == ra.threshold[i] or (rb.threshold != rb.threshold and ra.threshold[i] != ra.threshold[i])  # NaN while warming up
        assert same_threshold and bool(rb.anomaly) == bool(ra.anomaly[i])
    assert a.save() == b.save()
    assert a.records == b.records == 600 and a.dim == 2


def test_results_shape_and_meaning():
    x = series(1000, spikes=(800,))
    f = rcfd.Forest(**SMALL)
    r = f.process(x)
    assert r.score.shape == r.grade.shape == r.novelty.shape == (1000,)
    assert r.score.dtype == np.float64 and r.anomaly.dtype == np.bool_
    assert r.attribution is None and r.strength is None and r.direction is None
    assert np.all(r.score[:64] == 0)  # warm-up: output_after = sample
    assert int(np.argmax(r.score)) == 800 and int(np.argmax(r.novelty)) == 800
    assert r.anomaly[800] and r.grade[800] >= 0.5
    assert np.array_equal(r.anomaly, r.grade >= 0.5)
    assert r.anomaly.mean() < 0.05
    assert f.params["recent_mean"] == 25 and f.params["output_after"] == 64


def test_explain_columns_sum_to_score():
    x = series(700, spikes=(600,), fields=3)
    r = rcfd.Forest(explain=True, **SMALL).process(x)
    assert r.attribution.shape == r.strength.shape == r.direction.shape == (700, 3)
    assert r.direction.dtype == np.int8
    ready = r.score > 0
    assert ready.sum() > 500
    np.testing.assert_allclose(r.attribution[ready].sum(axis=1), r.score[ready], rtol=1e-9)
    assert int(np.argmax(r.attribution[600])) == 0 and r.direction[600, 0] == 1
    assert set(np.unique(r.direction[ready])) <= {-1, 1}
    one = rcfd.Forest(explain=True, dim=3, **SMALL).process(x[0])
    assert one.attribution.shape == (3,)


def test_score_learns_nothing():
    x = series(500, spikes=(400,))
    f = rcfd.Forest(**SMALL)
    f.process(x[:300])
    before = f.save()
    s = f.score(x[300:])
    assert f.save() == before and f.records == 300
    assert s.shape == (200,) and np.all(s > 0)
    # each score is what process() gives that record next
    for i in range(300, 320):
        assert f.score(x[i]) == f.process(x[i]).score


def test_seed_and_key():
    x = series(400)
    a = rcfd.Forest(seed=5, trees=20, sample=32).process(x).score
    b = rcfd.Forest(seed=5, trees=20, sample=32).process(x).score
    c = rcfd.Forest(seed=6, trees=20, sample=32).process(x).score
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    k = rcfd.Forest(seed=5, key="host-1", trees=20, sample=32)
    assert k.seed != 5 and k.key == "host-1"
    assert k.seed == rcfd.Forest(seed=5, key="host-1").seed
    assert k.seed != rcfd.Forest(seed=5, key="host-2").seed


def test_recent_mean_changes_the_forest():
    x = series(500)
    a = rcfd.Forest(recent_mean=0, **SMALL).process(x).score
    b = rcfd.Forest(**SMALL).process(x).score
    assert not np.array_equal(a, b)


def test_integer_and_bool_input():
    xi = np.arange(300, dtype=np.int32).reshape(-1, 1) % 17
    a = rcfd.Forest(**SMALL).process(xi).score
    b = rcfd.Forest(**SMALL).process(xi.astype(float)).score
    assert np.array_equal(a, b)
    rcfd.Forest(**SMALL).process(np.array([[True], [False]]))
    rcfd.Forest(**SMALL).process([[1.5, 2], [3, 4]])  # lists


def test_empty_batch():
    f = rcfd.Forest(dim=2, **SMALL)
    r = f.process(np.empty((0, 2)))
    assert r.score.shape == (0,) and f.records == 0


def test_snapshot_round_trip_continues():
    x = series(900, spikes=(700,), fields=2)
    a = rcfd.Forest(explain=True, **SMALL)
    a.process(x[:500])
    snap = a.save()
    b = rcfd.Forest.load(snap)
    assert b.save() == snap and b.dim == 2 and b.explain and b.records == 500
    assert b.params == a.params and b.seed == a.seed
    ra, rb = a.process(x[500:]), b.process(x[500:])
    for field in ("score", "grade", "novelty", "threshold", "attribution", "direction"):
        assert np.array_equal(getattr(ra, field), getattr(rb, field)), field
    c = pickle.loads(pickle.dumps(a))
    assert type(c) is rcfd.Forest and c.save() == a.save()
    assert rcfd.Forest.load(bytearray(snap)).save() == snap
    assert rcfd.Forest.load(memoryview(snap)).save() == snap


class Mine(rcfd.Forest):
    pass


def test_subclass_load():
    m = Mine(dim=1, **SMALL)
    m.process(series(100))
    assert type(Mine.load(m.save())) is Mine
    assert type(pickle.loads(pickle.dumps(m))) is Mine


def test_damaged_snapshots_raise_rcfd_errors():
    f = rcfd.Forest(**SMALL)
    f.process(series(200))
    snap = f.save()
    with pytest.raises(rcfd.Error) as e:
        rcfd.Forest.load(snap[: len(snap) // 2])
    assert e.value.name == "ETRUNCATED" and "truncated" in str(e.value)
    bad = bytearray(snap)
    bad[1000] ^= 0x10
    with pytest.raises(rcfd.Error) as e:
        rcfd.Forest.load(bytes(bad))
    assert e.value.name == "ECHECKSUM" and e.value.code == -4005
    bad = bytearray(snap)
    bad[len(snap) - 3] ^= 0x40  # inside the alert decision's section, the last one
    with pytest.raises(rcfd.Error) as e:
        rcfd.Forest.load(bytes(bad))
    assert "alert" in str(e.value)
    with pytest.raises(rcfd.Error):
        rcfd.Forest.load(b"")
    with pytest.raises(rcfd.Error):
        rcfd.Forest.load(b"RCFDSNAP" + bytes(100))
    with pytest.raises(TypeError):
        rcfd.Forest.load("not bytes")
    assert isinstance(e.value, ValueError)


def test_save_needs_a_dimension():
    with pytest.raises(rcfd.Error, match="no dimension"):
        rcfd.Forest().save()


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(trees=0), "number_of_trees"),
        (dict(trees=1001), "number_of_trees"),
        (dict(sample=5), "sub_sample_size"),
        (dict(sample=256, time_decay=100), "timeDecay (100) must be greater"),
        (dict(shingle=0), "shingle_size"),
        (dict(seed=-1), "seed"),
        (dict(trees=2.5), "number_of_trees"),
        (dict(explain=1), "explain"),
        (dict(recent_mean=-1), "recent_mean"),
        (dict(bogus=1), "unknown key; valid keys"),
        (dict(number_of_trees=5), "duplicate key"),
    ],
)
def test_bad_parameters_carry_rcfds_message(kwargs, words):
    with pytest.raises(rcfd.Error) as e:
        rcfd.Forest(**kwargs)
    assert words in str(e.value), str(e.value)
    assert e.value.name in ("ECONFIG", "ERANGE", "EINVAL")


def test_bad_argument_types():
    with pytest.raises(TypeError):
        rcfd.Forest(1, 2, 3, 4, 5, 6, 7)
    with pytest.raises(TypeError):
        rcfd.Forest(100, trees=100)
    with pytest.raises(TypeError):
        rcfd.Forest(trees=[1])
    with pytest.raises(TypeError):
        rcfd.Forest(key=5)
    with pytest.raises(ValueError):
        rcfd.Forest(dim=0)
    with pytest.raises(ValueError):
        rcfd.Forest(trees=float("nan"))
    with pytest.raises(rcfd.Error):  # dim x shingle beyond RCF_MAX_DIM
        rcfd.Forest(shingle=1024, dim=100)


def test_bad_values_raise_and_learn_nothing():
    f = rcfd.Forest(**SMALL)
    x = series(300, fields=2)
    f.process(x[:100])
    before = f.save()
    for v in (np.nan, np.inf, -np.inf, 1e39):
        bad = x[100:200].copy()
        bad[37, 1] = v
        with pytest.raises(rcfd.Error) as e:
            f.process(bad)
        assert e.value.name == "ENONFINITE" and e.value.row == 37
        assert "record 37, column 1" in str(e.value)
        with pytest.raises(rcfd.Error):
            f.score(bad)
    assert f.save() == before and f.records == 100


def test_wrong_shapes_and_dtypes():
    f = rcfd.Forest(dim=2, **SMALL)
    with pytest.raises(rcfd.Error) as e:
        f.process(np.zeros((5, 3)))
    assert e.value.name == "EDIM" and "3 values" in str(e.value)
    with pytest.raises(rcfd.Error):
        f.process(np.zeros(3))
    with pytest.raises(rcfd.Error):
        f.process(np.zeros((2, 2, 2)))
    with pytest.raises(rcfd.Error):
        f.process(1.0)  # a scalar is a record only for a 1-value forest
    with pytest.raises(TypeError):
        f.process(np.array([["a", "b"]]))
    with pytest.raises(TypeError):
        f.process(np.zeros((2, 2), dtype=complex))
    with pytest.raises(TypeError):
        f.process([[1.0, None]])
    one = rcfd.Forest(dim=1, **SMALL)
    with pytest.raises(rcfd.Error, match=r"reshape\(-1, 1\)"):
        one.process(np.zeros(10))  # a series must be a column
    assert one.process(2.0).score == 0.0
    assert f.records == 0


def test_lazy_dimension():
    f = rcfd.Forest(**SMALL)
    assert f.dim is None and f.records == 0
    f.process(np.zeros((3, 4)))
    assert f.dim == 4
    with pytest.raises(rcfd.Error):
        f.process(np.zeros((3, 2)))


def test_numpy_scalars_as_parameters():
    a = rcfd.Forest(trees=np.int64(20), sample=np.int32(32), seed=np.uint8(5), explain=np.True_,
                    dim=np.int64(1), recent_mean=np.int16(0))
    b = rcfd.Forest(trees=20, sample=32, seed=5, explain=True, dim=1, recent_mean=0)
    assert a.params == b.params and a.seed == b.seed and a.explain
    with pytest.raises(ValueError):
        rcfd.Forest(dim=20000)
    with pytest.raises(TypeError):
        rcfd.Forest(dim=True)
    with pytest.raises(TypeError):
        rcfd.Forest(seed=5.0)
    h = rcfd.Hotspots(window=np.int64(100), min_points=np.int32(5), dim=np.int8(2))
    assert h.dim == 2 and h.params["window_size"] == 100


def test_strerror_and_repr():
    assert "dimension" in rcfd.strerror(-4001)
    assert "records=0" in repr(rcfd.Forest(dim=1))
    assert rcfd.__version__.count(".") == 2
