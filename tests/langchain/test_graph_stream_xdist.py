"""The graph stream snapshots come out byte-identical from two xdist workers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

HERE = Path(__file__).parent
ROOT = HERE.parents[1]


@pytest.mark.slow
def test_graph_snapshots_are_the_same_under_xdist(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    # The workers import this checkout's replaystream, whatever the installed one is.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    for name in ("test_graph_stream.py", "_graph_data.py"):
        (pytester.path / name).write_text((HERE / name).read_text(encoding="utf-8"), encoding="utf-8")
    pytester.makeini("[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "--snapshot-update",
                                           "-k", "test_stream_modes_snapshot")
    result.assert_outcomes(passed=36)
    made = pytester.path / "__snapshots__" / "test_graph_stream"
    committed = HERE / "__snapshots__" / "test_graph_stream"
    assert sorted(p.name for p in made.iterdir()) == sorted(p.name for p in committed.iterdir())
    for path in sorted(made.iterdir()):
        assert path.read_bytes() == (committed / path.name).read_bytes(), path.name
