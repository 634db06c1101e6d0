"""The agents benchmark runs at a tiny size and reports its ratio (no timing is asserted here)."""

from __future__ import annotations

import json

from benchmarks import __main__ as bench_main
from benchmarks.bench_agents import run


def test_bench_agents_smoke() -> None:
    result = run(n=200, rounds=1)
    assert json.loads(json.dumps(result)) == result
    assert result["chunks"] == {"replay": 200, "floor": 200}  # every chunk reached the messages stream
    assert result["stream_mode"] == "messages"
    verdict = result["replay_vs_floor"]
    assert set(verdict) == {"value", "target", "met"} and verdict["target"] == "<= 1.2" and verdict["value"] > 0
    assert result["met"] is verdict["met"]
    assert "agents" in bench_main.discover()
