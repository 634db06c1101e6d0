"""The fakes benchmark runs and reports its ratios (no timing is asserted here)."""

from __future__ import annotations

from benchmarks.bench_fakes import run


def test_bench_fakes_smoke() -> None:
    result = run(n=200, rounds=1)
    assert result["chunks"]["replay"] == 200
    assert set(result) >= {"us_per_chunk", "replay_vs_generic", "replay_vs_floor", "floor_vs_generic"}
