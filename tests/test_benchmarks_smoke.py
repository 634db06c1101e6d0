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


# -- bench_suite: pytest wall time of generated suites ---------------------------------------
from benchmarks import bench_suite  # noqa: E402


@pytest.fixture(scope="module")
def suite_result() -> dict:
    return bench_suite.run(sizes=(1,), rounds=1, warmup=0)  # 6 pytest runs: the structure, not the timing


def test_suite_result_is_json_with_every_contender_and_size(suite_result: dict) -> None:
    assert json.loads(json.dumps(suite_result)) == suite_result
    assert suite_result["sizes"] == [1] and suite_result["targets_at"] == 1
    for contender in bench_suite.CONTENDERS:
        assert set(suite_result["wall_s"][contender]) == {"suite/1", "empty/1"}
        assert all(v > 0 for v in suite_result["wall_s"][contender].values())
        assert set(suite_result["per_test_ms"][contender]) == {"1"}
        assert set(suite_result["per_test_cpu_ms"][contender]) == {"1"}
    for name in ("vs_mock_transport", "vs_pytest_recording"):
        for verdicts in (suite_result["targets"], suite_result["targets_cpu"]):
            assert set(verdicts[name]) == {"value", "target", "met"} and verdicts[name]["target"].startswith("<=")
    assert isinstance(suite_result["met"], bool)


def test_suite_folders_hold_a_module_per_hundred_tests_and_a_cassette_per_test(tmp_path) -> None:
    cassettes = {"replaystream": tmp_path / "c.json", "pytest_recording": tmp_path / "c.yaml"}
    for path in cassettes.values():
        path.write_text("{}")
    folder = bench_suite.generate(tmp_path / "rs", "replaystream", "suite", 150, "http://127.0.0.1:9/v1",
                                  [b"data: [DONE]\n\n"], cassettes)
    assert sorted(p.name for p in folder.glob("test_*.py")) == ["test_suite_0.py", "test_suite_1.py"]
    assert len(list(folder.glob("cassettes/*/*.json"))) == 150
    assert "pytestmark = pytest.mark.replay" in (folder / "test_suite_1.py").read_text()
    empty = bench_suite.generate(tmp_path / "rs-empty", "replaystream", "empty", 3, "http://127.0.0.1:9/v1",
                                 [], cassettes)
    code = (empty / "test_suite_0.py").read_text()
    assert "pytestmark" not in code and "client = openai.OpenAI" in code and not (empty / "cassettes").exists()


def test_runner_discovers_the_suite_benchmark() -> None:
    assert "suite" in bench_main.discover()
