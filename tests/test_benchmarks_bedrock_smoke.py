"""The Bedrock benchmark runs at a tiny size and reports every number (structure only: nothing
here asserts on timing, other work shares the machine)."""

from __future__ import annotations

import json

from benchmarks import bench_bedrock


def test_bedrock_benchmark_reports_its_ratio_against_botocores_floor() -> None:
    result = bench_bedrock.run(frames=50, rounds=1)
    assert json.loads(json.dumps(result)) == result
    assert result["frames"] == 50 and result["cassette_bytes"] > 0
    for key in ("floor_ms", "replaystream_load_ms", "replaystream_load_replay_ms"):
        assert result[key] > 0, key
    assert set(result["replay_vs_floor"]) == {"value", "target", "met"}
    assert isinstance(result["met"], bool)
