"""The package docstring's example runs as written, and so does python/examples/score_nab.py."""

import doctest
import importlib.util
import os

import rcfd

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "examples", "score_nab.py")


def test_module_docstring_example():
    res = doctest.testmod(rcfd)
    assert res.attempted >= 5 and res.failed == 0


def load_example():
    spec = importlib.util.spec_from_file_location("score_nab", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_example_scores_a_nab_csv(tmp_path, capsys):
    ex = load_example()
    stamps, values = ex.generated()
    csv = tmp_path / "data.csv"
    with open(csv, "w") as fh:
        fh.write("timestamp,value\n")
        for i, v in enumerate(values):
            fh.write("2024-01-01 00:%05d,%r\n" % (i, float(v)))
        fh.write("2024-01-02 00:00:00,not-a-number\n")  # skipped, as the daemon dead-letters it
    png, snap = tmp_path / "out.png", tmp_path / "m.snap"
    ex.main([str(csv), "--top", "2", "--plot", str(png), "--save", str(snap), "--trees", "50"])
    out = capsys.readouterr().out
    assert "4000 records" in out
    top = out.splitlines()[2]
    assert top.startswith("2024-01-01 00:01500"), out  # the injected spike is the most novel
    assert rcfd.Forest.load(snap.read_bytes()).records == 4000
    if importlib.util.find_spec("matplotlib") is not None:
        assert png.stat().st_size > 10000
    else:
        assert "matplotlib is not installed" in out
