"""Shared fixtures. The package under test is the one on PYTHONPATH (tests/python.cmake builds it
into the build tree); the daemon tests find the rcfd binary through $RCFD."""

import os

import numpy as np
import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "daemon: runs the rcfd binary ($RCFD)")


@pytest.fixture(scope="session")
def rcfd_bin():
    path = os.environ.get("RCFD")
    if not path or not os.access(path, os.X_OK):
        pytest.fail("set RCFD to the rcfd binary (ctest's python_daemon does): %r" % path)
    return path


def series(n, seed=1, spikes=(), fields=1):
    """A seeded sine + noise stream of n records (rows), with +8 spikes at the given rows."""
    rnd = np.random.default_rng(seed)
    t = np.arange(n)
    cols = [10 + 3 * np.sin(t / (15.0 + 5 * k)) + rnd.normal(0, 0.2, n) for k in range(fields)]
    x = np.stack(cols, axis=1)
    for s in spikes:
        x[s, 0] += 8
    return x
