"""RandomCutForestDetector: scikit-learn's outlier-detector conventions over Forest."""

import numpy as np
import pytest

import rcfd


def blobs(seed=0):
    rnd = np.random.default_rng(seed)
    inliers = rnd.normal(0, 1, (1500, 3))
    outliers = rnd.uniform(6, 9, (15, 3)) * rnd.choice([-1, 1], (15, 3))
    return inliers, outliers


def test_outliers_score_lower():
    inl, out = blobs()
    d = rcfd.RandomCutForestDetector(trees=50, sample=128).fit(inl)
    assert d.n_features_in_ == 3 and d.forest_.records == 1500
    s_in, s_out = d.score_samples(inl[:500]), d.score_samples(out)
    assert s_out.max() < np.median(s_in)
    assert np.array_equal(d.decision_function(out), s_out - d.offset_)
    assert (d.predict(out) == -1).mean() >= 0.9
    assert (d.predict(inl[:500]) == 1).mean() >= 0.9
    before = d.forest_.save()
    d.decision_function(inl)  # scoring learns nothing
    assert d.forest_.save() == before


def test_contamination_quantile():
    inl, _ = blobs(1)
    d = rcfd.RandomCutForestDetector(trees=50, sample=128, contamination=0.1).fit(inl)
    frac = (d.predict(inl) == -1).mean()
    assert 0.09 <= frac <= 0.11


def test_fit_predict_partial_fit_and_params():
    inl, out = blobs(2)
    d = rcfd.RandomCutForestDetector(trees=30, sample=64, seed=9)
    labels = d.fit_predict(np.vstack([inl, out]))
    assert set(np.unique(labels)) <= {-1, 1} and labels[-15:].mean() < 0
    d.partial_fit(inl[:100])
    assert d.forest_.records == 1615
    d.fit(inl[:200])  # refits from scratch
    assert d.forest_.records == 200
    p = d.get_params()
    assert p["trees"] == 30 and p["seed"] == 9
    clone = rcfd.RandomCutForestDetector(**p)
    assert repr(clone) == repr(d)
    assert d.set_params(trees=40).trees == 40
    with pytest.raises(ValueError):
        d.set_params(bogus=1)


def test_misuse():
    d = rcfd.RandomCutForestDetector()
    with pytest.raises(RuntimeError):
        d.predict(np.zeros((2, 2)))
    with pytest.raises(ValueError):
        d.fit(np.zeros(10))
    with pytest.raises(ValueError):
        rcfd.RandomCutForestDetector(contamination=0.9).fit(np.zeros((10, 2)))
    with pytest.raises(rcfd.Error):
        rcfd.RandomCutForestDetector(trees=0).fit(np.zeros((10, 2)))
