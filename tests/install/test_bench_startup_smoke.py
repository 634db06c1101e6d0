"""The start-up benchmark runs at a tiny size and reports every number it promises.

Structure only: nothing here asserts on timing (other work shares the machine).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from benchmarks import __main__ as bench_main
from benchmarks import bench_startup


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    return bench_startup.run(runs=1, warmup=False)


def test_result_is_json_with_both_variants(result: dict[str, Any]) -> None:
    assert json.loads(json.dumps(result)) == result
    assert result["runs"] == 1 and "replaystream" in result["plugins"]
    pairs = [result["with_other_plugins"]] + ([result["without_langsmith"]] if "without_langsmith" in result else [])
    assert ("without_langsmith" in result) == (bench_startup.LANGSMITH in result["plugins"])
    for pair in pairs:
        for kind in ("", "_cpu"):
            assert pair[f"bare{kind}_ms"] > 0 and pair[f"replaystream{kind}_ms"] > 0
            assert pair[f"overhead{kind}_ms"] == pytest.approx(
                pair[f"replaystream{kind}_ms"] - pair[f"bare{kind}_ms"], abs=0.2)
        assert pair["flags"]["bare"][:2] == ["-p", "no:replaystream"]
        assert "no:replaystream" not in pair["flags"]["replaystream"]
    assert result["plugin_import_ms"] > 0


def test_the_target_has_value_limit_and_verdict(result: dict[str, Any]) -> None:
    t = result["overhead"]
    assert set(t) == {"value", "target", "met"} and t["target"] == "<= 100.0"
    assert isinstance(result["met"], bool) and result["met"] == t["met"]


def test_the_runner_discovers_it() -> None:
    assert "startup" in bench_main.discover()
