"""The scrub benchmark runs at a tiny size, reports every number, and writes no key.

Structure only: nothing here asserts on timing (other work shares the machine).
"""

from __future__ import annotations

import json

from benchmarks import bench_scrub


def test_bench_scrub_reports_each_time_and_writes_no_key() -> None:
    result = bench_scrub.run(events=50, calls=3, rounds=1)
    assert json.loads(json.dumps(result)) == result
    for key in ("record_stream_ms", "record_calls_ms", "replay_stream_ms", "replay_calls_ms",
                "scrub_interaction_ms", "scrub_interaction_and_cassette_ms"):
        assert result[key] > 0, key
    assert result["key_written"] is False
