"""The providers benchmark runs at a tiny size, reports every number and keeps unit boundaries.

Structure only: nothing here asserts on timing (other work shares the machine).
"""

from __future__ import annotations

import json

from benchmarks import bench_providers


def test_each_framing_reports_its_ratio_and_keeps_one_read_per_unit() -> None:
    result = bench_providers.run(units=60, rounds=1)
    assert json.loads(json.dumps(result)) == result
    assert set(result) == {"gemini_sse", "ollama_ndjson", "met"}
    for name in ("gemini_sse", "ollama_ndjson"):
        entry = result[name]
        assert entry["units"] == 60 and entry["kept"] is True
        assert entry["floor_ms"] > 0 and entry["replaystream_load_replay_ms"] > 0
        assert set(entry["replay_vs_floor"]) == {"value", "target", "met"}
    assert isinstance(result["met"], bool)
