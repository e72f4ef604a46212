"""rcfd for Python: the daemon's streaming Random Cut Forest and HOTSPOTS on numpy arrays.

    >>> import numpy as np, rcfd
    >>> f = rcfd.Forest(trees=50, sample=128, seed=7)
    >>> x = np.sin(np.arange(2000) / 20.0).reshape(-1, 1)   # one record (one value) per row
    >>> x[1500] += 4
    >>> r = f.process(x)                # score each record, then learn it: r.score, r.novelty, ...
    >>> int(np.argmax(r.novelty))
    1500
    >>> g = rcfd.Forest.load(f.save())  # the daemon's snapshot format, both ways

Forest is the rcf model a pipeline of the daemon keeps per key (same parameter table, recent
means, anomaly_novelty and snapshot), so scores are bit-identical to `rcfd backtest --scores`,
`rcfd train` writes models Forest.load() reads, and Forest.save() writes models the daemon's
`initial_state` warm-starts from. Hotspots is KDA's HOTSPOTS. RandomCutForestDetector wraps
Forest in scikit-learn's outlier-detector conventions for batch use. Errors are rcfd.Error (a
ValueError) with rcfd's own message.
"""

from typing import Any, Dict, Union

import numpy as np

from ._rcfd import (
    Error,
    Forest,
    Hotspot,
    Hotspots,
    HotspotsResult,
    Result,
    __version__,
    alloc_stats,
    strerror,
)

__all__ = [
    "Error",
    "Forest",
    "Hotspot",
    "Hotspots",
    "HotspotsResult",
    "RandomCutForestDetector",
    "Result",
    "__version__",
    "alloc_stats",
    "strerror",
]


class RandomCutForestDetector:
    """A Random Cut Forest for batch outlier detection, in scikit-learn's conventions.

    Like sklearn.ensemble.IsolationForest: ``score_samples`` is the opposite of rcfd's anomaly
    score (lower is more abnormal), ``decision_function`` is ``score_samples - offset_``
    (negative for outliers) and ``predict`` gives -1 for outliers and 1 for inliers.

    ``fit(X)`` streams the rows of X through a fresh :class:`Forest` in order (it learns each
    one); ``partial_fit`` goes on learning; the scoring methods learn nothing.

    contamination: ``"auto"`` puts the cut at the forest's adaptive threshold after fitting (the
    one behind ``Result.grade`` and ``Result.anomaly``, which flags about ``anomaly_rate`` of a
    stream); a float in (0, 0.5] puts it at that quantile of the training rows' scores.

    recent_mean defaults to 0 here (KDA's forest): rows of a batch are not a time series, so the
    streaming model's recent means do not apply. output_after defaults to 0, so a forest fitted
    on fewer than ``sample`` rows still scores.
    """

    def __init__(
        self,
        trees: int = 100,
        sample: int = 256,
        shingle: int = 1,
        time_decay: int = 100000,
        seed: int = 42,
        recent_mean: int = 0,
        output_after: int = 0,
        contamination: Union[str, float] = "auto",
    ) -> None:
        self.trees = trees
        self.sample = sample
        self.shingle = shingle
        self.time_decay = time_decay
        self.seed = seed
        self.recent_mean = recent_mean
        self.output_after = output_after
        self.contamination = contamination

    _param_names = (
        "trees",
        "sample",
        "shingle",
        "time_decay",
        "seed",
        "recent_mean",
        "output_after",
        "contamination",
    )

    def get_params(self, deep: bool = True) -> Dict[str, Any]:
        """The constructor's parameters (scikit-learn's estimator protocol)."""
        return {k: getattr(self, k) for k in self._param_names}

    def set_params(self, **params: Any) -> "RandomCutForestDetector":
        """Sets constructor parameters; refit afterwards."""
        for k, v in params.items():
            if k not in self._param_names:
                raise ValueError("invalid parameter %r; valid: %s" % (k, ", ".join(self._param_names)))
            setattr(self, k, v)
        return self

    def __repr__(self) -> str:
        args = ", ".join("%s=%r" % (k, getattr(self, k)) for k in self._param_names)
        return "RandomCutForestDetector(%s)" % args

    @staticmethod
    def _rows(X: Any) -> np.ndarray:
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError("expected a 2-D array of samples (one row each), got %d-D" % X.ndim)
        return X

    def _check_fitted(self) -> None:
        if not hasattr(self, "forest_"):
            raise RuntimeError("this RandomCutForestDetector is not fitted yet: call fit(X) first")

    def partial_fit(self, X: Any, y: Any = None) -> "RandomCutForestDetector":
        """Learns the rows of X (in order) on top of what the forest holds; creates it if needed."""
        X = self._rows(X)
        if not hasattr(self, "forest_"):
            c = self.contamination
            if not (c == "auto" or (isinstance(c, (int, float)) and 0 < c <= 0.5)):
                raise ValueError("contamination: expected 'auto' or a number in (0, 0.5], got %r" % (c,))
            self.forest_ = Forest(
                self.trees,
                self.sample,
                self.shingle,
                self.time_decay,
                self.seed,
                dim=X.shape[1],
                recent_mean=self.recent_mean,
                output_after=self.output_after,
            )
            self.n_features_in_ = X.shape[1]
        r = self.forest_.process(X)
        if self.contamination == "auto":
            if len(X):
                self.offset_ = -float(r.threshold[-1])
        else:
            q = 100.0 * float(self.contamination)
            self.offset_ = float(np.percentile(self.score_samples(X), q)) if len(X) else 0.0
        return self

    def fit(self, X: Any, y: Any = None) -> "RandomCutForestDetector":
        """A fresh forest, fed the rows of X in order. y is ignored."""
        for attr in ("forest_", "offset_", "n_features_in_"):
            self.__dict__.pop(attr, None)
        return self.partial_fit(X)

    def score_samples(self, X: Any) -> np.ndarray:
        """The opposite of each row's anomaly score against the fitted forest (lower: more abnormal)."""
        self._check_fitted()
        return -np.asarray(self.forest_.score(self._rows(X)), dtype=float)

    def decision_function(self, X: Any) -> np.ndarray:
        """score_samples(X) - offset_: negative for outliers, positive for inliers."""
        return self.score_samples(X) - self.offset_

    def predict(self, X: Any) -> np.ndarray:
        """-1 for outliers, 1 for inliers."""
        return np.where(self.decision_function(X) < 0, -1, 1)

    def fit_predict(self, X: Any, y: Any = None) -> np.ndarray:
        """fit(X), then predict(X)."""
        return self.fit(X).predict(X)
