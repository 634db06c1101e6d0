#!/usr/bin/env python3
"""Check a plain ``pip install replaystream`` (no extras), as a new user meets it.

Given the Python of a fresh virtual environment where only ``pip install .`` ran:

1. no extra came along: none of the modules replaystream.errors.EXTRAS lists is installed;
2. ``tests/data/plain_user_project`` (a plain test, a replay of its committed cassette
   through a plain httpx2 client, and a changed request) gives exactly: two passed, and
   the changed request failed with ``CassetteMissError``;
3. ``replaystream inspect`` reads that cassette; ``replaystream demo`` exits 2 naming the
   extras it needs, without a traceback.

    python -m venv /tmp/plain && /tmp/plain/bin/pip install .
    python scripts/check_plain_install.py --python /tmp/plain/bin/python

Exit 0 when everything is as expected; 1 with what differed otherwise.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ROOT / "tests" / "data" / "plain_user_project"
CASSETTE = Path("tests") / "cassettes" / "test_replay" / "test_replays_the_recorded_stream.json"

#: test name -> "passed", or the exception class its failure must name.
EXPECTED = {
    "test_arithmetic": "passed",
    "test_replays_the_recorded_stream": "passed",
    "test_a_changed_question_misses": "replaystream.errors.CassetteMissError",
}
DEMO_MESSAGE = "replaystream demo needs the [langchain,faiss] extras: pip install 'replaystream[langchain,faiss]'"


# find_spec("google.genai") raises, not returns None, when the parent package is absent: errors knows that.
_LIST_EXTRA_MODULES = ("import replaystream.errors as e; "
                       "print(' '.join(m for ms in e.EXTRAS.values() for m in ms if e._installed(m)))")


def outcome(junit_xml: Path) -> dict[str, str]:
    """test name -> "passed", "skipped", or the first line of its failure or error message."""
    result: dict[str, str] = {}
    for case in ET.parse(junit_xml).getroot().iter("testcase"):
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is not None:
            message = problem.get("message") or "failed"
            result[case.get("name", "?")] = message.splitlines()[0]
        else:
            result[case.get("name", "?")] = "skipped" if case.find("skipped") is not None else "passed"
    return result


def differences(got: dict[str, str]) -> list[str]:
    """What differs from EXPECTED (empty: as expected)."""
    out = [f"{name}: expected {want}, got {got.get(name, 'not run')}" for name, want in EXPECTED.items()
           if not (got.get(name) == want if want == "passed" else got.get(name, "").startswith(want + ":"))]
    out += [f"{name}: not expected, got {value}" for name, value in got.items() if name not in EXPECTED]
    return out


def _run(python: str, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS")}
    return subprocess.run([python, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
                          check=False)


def check(python: str) -> list[str]:
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(shutil.copytree(PROJECT, Path(tmp) / "project"))  # away from this checkout
        modules = _run(python, ["-c", _LIST_EXTRA_MODULES], project)
        if modules.returncode != 0:
            return [f"replaystream does not import: {modules.stderr.strip()}"]
        if modules.stdout.strip():
            problems.append(f"the base install brought modules of an extra: {modules.stdout.strip()}")
        junit = Path(tmp) / "results.xml"
        run = _run(python, ["-m", "pytest", "-p", "no:cacheprovider", f"--junitxml={junit}"], project)
        if not junit.exists():
            return [*problems, f"pytest wrote no results (exit {run.returncode}):\n{run.stdout}{run.stderr}"]
        found = differences(outcome(junit))
        if found or run.returncode != 1:
            problems += [*found, f"pytest exit {run.returncode} (expected 1)\n{run.stdout}{run.stderr}"]
        cli = str(Path(python).with_name("replaystream"))
        inspect = _run(cli, ["inspect", str(CASSETTE)], project)
        if inspect.returncode != 0 or "Polar bears have transparent fur." not in inspect.stdout:
            problems.append(f"replaystream inspect: exit {inspect.returncode}\n{inspect.stdout}{inspect.stderr}")
        demo = _run(cli, ["demo"], project)
        if demo.returncode != 2 or DEMO_MESSAGE not in demo.stderr or "Traceback" in demo.stderr:
            problems.append(f"replaystream demo: exit {demo.returncode} (expected 2 and {DEMO_MESSAGE!r})\n"
                            f"{demo.stdout}{demo.stderr}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--python", required=True, help="the Python of the plain install's virtual environment")
    args = parser.parse_args(argv)
    problems = check(args.python)
    if problems:
        print("plain install: NOT as expected", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print("plain install as expected: no extra installed; the user project's plain test and replay "
          "passed, its changed request failed with CassetteMissError; inspect works; demo names "
          "[langchain,faiss]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
