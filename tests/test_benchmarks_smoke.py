"""The wire benchmark runs at a tiny size, reports every number, and keeps event boundaries.

Structure only: nothing here asserts on timing (other work shares the machine).
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("vcr")
pytest.importorskip("openai")

from benchmarks import __main__ as bench_main
from benchmarks import bench_wire


@pytest.fixture(scope="module")
def result() -> dict:
    return bench_wire.run(events=200, large=50, small=10, rounds=1, vcr_sizes=(20, 10), scaling_rounds=1)


def test_result_is_json_with_every_section(result: dict) -> None:
    assert json.loads(json.dumps(result)) == result
    stream = result["stream"]
    for key in ("floor_ms", "floor_one_read_ms", "replaystream_load_ms", "replaystream_load_replay_ms",
                "vcrpy_load_ms", "vcrpy_load_replay_ms"):
        assert stream[key] > 0, key
    assert stream["events"] == 200
    assert result["scaling"]["interactions"] == [50, 10]
    assert result["scaling"]["vcrpy"]["interactions"] == [20, 10]
    assert isinstance(result["met"], bool)


@pytest.mark.parametrize("path", [("stream", "replay_vs_floor"), ("stream", "replay_vs_vcrpy"),
                                  ("scaling", "time_ratio")])
def test_each_target_has_value_limit_and_verdict(result: dict, path: tuple[str, str]) -> None:
    t = result[path[0]][path[1]]
    assert set(t) == {"value", "target", "met"}
    assert isinstance(t["met"], bool) and t["value"] > 0 and t["target"].startswith("<=")


def test_replay_keeps_event_boundaries(result: dict) -> None:
    b = result["boundaries"]
    assert b["replaystream_reads"] == [200]  # one read per recorded event
    assert b["floor_reads"] == [200]
    assert b["vcrpy_reads"] == [1]  # vcrpy hands the body over in one read
    assert b["floor_one_read_reads"] == [1]
    assert b["kept"] is True


def test_runner_discovers_bench_modules(capsys: pytest.CaptureFixture[str]) -> None:
    assert "wire" in bench_main.discover()
    assert bench_main.main(["--list"]) == 0
    assert "wire" in capsys.readouterr().out.split()
    with pytest.raises(SystemExit):
        bench_main.main(["--only", "no-such-benchmark"])
