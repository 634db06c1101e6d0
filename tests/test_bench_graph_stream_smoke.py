"""The graph stream benchmark runs at a tiny size and reports every number (no timing asserted)."""

from __future__ import annotations

import json

from benchmarks import bench_graph_stream


def test_graph_stream_benchmark_reports_its_ratio() -> None:
    result = bench_graph_stream.run(n_chunks=20, rounds=1)
    assert json.loads(json.dumps(result)) == result
    assert result["n_chunks"] == 20 and result["n_parts"] > 40  # two model calls' chunks, and more
    for key in ("run_ms", "normalise_ms", "normalise_serialise_ms", "us_per_part", "snapshot_bytes"):
        assert result[key] > 0, key
    ratio = result["ratio_to_run"]
    assert set(ratio) == {"value", "target", "met"} and ratio["target"] == "<= 0.1" and isinstance(ratio["met"], bool)
