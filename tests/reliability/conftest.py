"""What the reliability suite reports about itself, for ``scripts/reliability_report.py``.

Every test here ends up in pytest's JUnit XML with properties the report counts from:
``group`` (the file), ``outcome`` (what the test asserts, from ``@pytest.mark.outcome``),
``param:<name>`` (each parametrize value, so bad-input classes and faults can be grouped)
and anything a test adds with ``record_property`` (streams, workers, files scanned...).
Property-based tests anywhere in the run (``tests/test_sse.py`` too) get
``hypothesis_examples``: the examples Hypothesis really ran, read from its statistics.
Properties travel with the reports, so this works under xdist as well.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

_HERE = Path(__file__).parent
#: Test files of other folders whose cases the report counts too (the promises they keep).
ELSEWHERE = frozenset({"test_network", "test_offline_phases", "test_nothing_lost", "test_shared_cassette",
                       "test_cassette_files", "test_http_encodings", "test_scrub_rule"})
_PASSING = re.compile(r"- during (\w+) phase.*?\n.*?\n\s+- (\d+) passing examples, (\d+) failing examples, "
                      r"(\d+) invalid examples")


def hypothesis_examples(statistics: str) -> dict[str, int]:
    """Examples run per phase, from Hypothesis's statistics text (shrinking not counted)."""
    counts = {"passing": 0, "failing": 0, "invalid": 0}
    for phase, passing, failing, invalid in _PASSING.findall(statistics):
        if phase == "shrink":
            continue
        counts["passing"] += int(passing)
        counts["failing"] += int(failing)
        counts["invalid"] += int(invalid)
    return counts


class _ReliabilityProperties:
    """Registered once for the whole run: Hypothesis counts are wanted from every test."""

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[None, Any, None]:
        if call.when == "teardown":  # the report built now carries the properties to the XML
            stats = getattr(item, "hypothesis_statistics", None)
            if isinstance(stats, str):
                counts = hypothesis_examples(stats)
                item.user_properties.append(("hypothesis_examples", counts["passing"] + counts["failing"]))
                item.user_properties.append(("hypothesis_invalid", counts["invalid"]))
            path = Path(str(item.path))
            if _HERE in path.parents or path.stem in ELSEWHERE:
                item.user_properties.append(("group", path.stem))
                marker = item.get_closest_marker("outcome")
                if marker is not None and marker.args:
                    item.user_properties.append(("outcome", str(marker.args[0])))
                callspec = getattr(item, "callspec", None)
                for name, value in (callspec.params.items() if callspec is not None else ()):
                    # Plain text only: xdist sends properties between processes (enums do not travel).
                    shown = value if type(value) in (str, int, float, bool) else \
                        getattr(value, "name", None) or getattr(value, "__name__", None) or repr(value)
                    item.user_properties.append((f"param:{name}", str(shown)))
        yield


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "outcome(text): what a reliability test shows (for the report)")
    if not config.pluginmanager.has_plugin("replaystream-reliability-properties"):
        config.pluginmanager.register(_ReliabilityProperties(), "replaystream-reliability-properties")
