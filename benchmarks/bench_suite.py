"""Suite-scale cost: pytest wall time of 1, 100 and 1,000 tests that each replay a small
recorded stream through the openai SDK, under replaystream, under pytest-recording (vcrpy),
and with no cassette at all.

Each suite is a generated folder of test modules (at most 100 tests a module, the client
built once per module) run as ``python -m pytest -q -p no:cacheprovider`` in a
subprocess, as a user runs a suite:

- ``mock_transport``: the SDK fed the recorded events by an ``httpx2.MockTransport``, one
  read per event: the test itself, with no cassette.
- ``replaystream``: ``pytestmark = pytest.mark.replay``, one JSON cassette per test.
- ``pytest_recording``: ``pytestmark = pytest.mark.vcr``, one YAML cassette per test.

Beside each suite runs its empty twin: the same modules (imports, the client), with no
marker, no plugin, and tests that do nothing. Per-test overhead = (wall time of the suite -
wall time of its N empty tests) / N: what each test adds, plus the plugin's import spread
over the tests, but not what a module pays once (a default client loads the CA bundle,
~60 ms of CPU; the MockTransport client does not).

Plugin autoloading is off and each folder loads only its own plugin, so neither tool pays
for the other. Both cassettes are recorded by the tools themselves from the provider
emulator. Runs are interleaved (every folder once per round, rotating order) and the best
round of each is kept. CPU time of the pytest process is given beside wall time: other work
on a shared machine disturbs it far less.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import openai

from replaystream.emulator import ProviderEmulator, ScriptedResponse, openai_chat_stream
from replaystream.wire.session import use_cassette

from . import _util

ROOT = Path(__file__).resolve().parents[1]
CHUNKS = ["Polar bears", " have", " black", " skin", "."]
TEXT = "".join(CHUNKS)
PER_MODULE = 100
#: replaystream's per-test overhead at the largest size, relative to each baseline's.
TARGETS = {"vs_mock_transport": 1.5, "vs_pytest_recording": 0.5}
CONTENDERS = ("mock_transport", "replaystream", "pytest_recording")
PLUGINS = {"replaystream": "replaystream.plugin", "pytest_recording": "pytest_recording.plugin"}
MARKERS = {"replaystream": "pytestmark = pytest.mark.replay\n", "pytest_recording": "pytestmark = pytest.mark.vcr\n"}

_CLIENTS = {
    "mock_transport": '''import httpx2
import openai

EVENTS = {events!r}


class _Events(httpx2.SyncByteStream):
    def __iter__(self):
        yield from EVENTS


def _handler(request):
    request.read()
    return httpx2.Response(200, headers={{"content-type": "text/event-stream"}}, stream=_Events())


client = openai.OpenAI(base_url="{base}", api_key="sk-bench", max_retries=0,
                       http_client=httpx2.Client(transport=httpx2.MockTransport(_handler)))
''',
    "replaystream": '''import openai
import pytest

client = openai.OpenAI(base_url="{base}", api_key="sk-bench", max_retries=0)
''',
}
_CLIENTS["pytest_recording"] = _CLIENTS["replaystream"]
_CALL = '''

def _text():
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "What color is a polar bear's skin?"}],
        stream=True)
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
'''
_TESTS = {"empty": "\n\ndef test_{n}():\n    pass\n", "suite": "\n\ndef test_{n}():\n    assert _text() == {text!r}\n"}


def record(folder: Path) -> tuple[str, list[bytes], dict[str, Path]]:
    """One stream recorded by each tool from the emulator: (base URL, events, cassette paths)."""
    paths = {"replaystream": folder / "stream.json", "pytest_recording": folder / "stream.yaml"}
    events = openai_chat_stream(CHUNKS)
    with ProviderEmulator() as emu:
        base = emu.base_url + "/v1"
        client = openai.OpenAI(base_url=base, api_key="sk-bench", max_retries=0)
        emu.enqueue(ScriptedResponse(events=events))
        with use_cassette(paths["replaystream"], mode="all"):
            _consume(client)
        import vcr

        emu.enqueue(ScriptedResponse(events=events))
        with vcr.VCR(filter_headers=["authorization"]).use_cassette(str(paths["pytest_recording"]),
                                                                    record_mode="all"):
            _consume(client)
        client.close()
    return base, events, paths  # vcrpy matches on host and port: the tests keep this base URL


def _consume(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "What color is a polar bear's skin?"}],
        stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    if text != TEXT:
        raise AssertionError(f"recording returned {text!r}, expected {TEXT!r}")


def generate(folder: Path, contender: str, kind: str, tests: int, base: str, events: list[bytes],
             cassettes: dict[str, Path]) -> Path:
    """A folder of ``tests`` tests of one contender, ``kind`` "suite" (with its marker and
    cassettes) or "empty" (the same modules, tests doing nothing)."""
    folder.mkdir(parents=True)
    header = _CLIENTS[contender].format(base=base, events=events)
    if kind == "suite":
        header += MARKERS.get(contender, "") + _CALL
    for m, start in enumerate(range(0, tests, PER_MODULE)):
        names = range(start, min(start + PER_MODULE, tests))
        module = f"test_suite_{m}"
        tests_code = "".join(_TESTS[kind].format(n=n, text=TEXT) for n in names)
        (folder / f"{module}.py").write_text(header + tests_code, "utf-8")
        if kind == "suite" and contender in cassettes:
            cassette_dir = folder / "cassettes" / module
            cassette_dir.mkdir(parents=True)
            for n in names:  # both plugins: <test dir>/cassettes/<module>/<test><suffix>
                shutil.copyfile(cassettes[contender], cassette_dir / f"test_{n}{cassettes[contender].suffix}")
    return folder


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # each folder loads its own plugin only
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # every run rewrites its test modules alike
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "PYTEST_ADDOPTS"):
        env.pop(name, None)
    return env


def run_suite(folder: Path, plugin: str | None, tests: int) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of ``pytest`` over ``folder``; every test must pass."""
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *(["-p", plugin] if plugin else [])]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=folder, env=_env(), capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0 or not re.search(rf"\b{tests} passed\b", proc.stdout):
        raise AssertionError(f"{folder.name}: {tests} test(s) did not pass:\n{proc.stdout[-3000:]}{proc.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def run(sizes: tuple[int, ...] = (1, 100, 1000), rounds: int = 3, warmup: int = 1) -> dict[str, Any]:
    """Time every suite and its empty twin at every size; per-test overheads in ms, with targets
    (judged on wall time, at the largest size)."""
    runs = [(c, kind, n) for n in sizes for c in CONTENDERS for kind in ("suite", "empty")]
    wall = {key: float("inf") for key in runs}
    cpu = dict(wall)
    with tempfile.TemporaryDirectory(prefix="replaystream-bench-suite-") as tmp:
        base, events, cassettes = record(Path(tmp) / "recorded")
        folders = {(c, kind, n): generate(Path(tmp) / f"{c}-{kind}-{n}", c, kind, n, base, events, cassettes)
                   for c, kind, n in runs}
        for r in range(-warmup, rounds):  # round r starts at a different folder
            for k in range(len(runs)):
                c, kind, n = runs[(r + k) % len(runs)]
                w, t = run_suite(folders[c, kind, n], PLUGINS.get(c) if kind == "suite" else None, n)
                if r >= 0:
                    wall[c, kind, n], cpu[c, kind, n] = min(wall[c, kind, n], w), min(cpu[c, kind, n], t)

    def per_test(times: dict[tuple[str, str, int], float]) -> dict[str, dict[str, float]]:
        return {c: {str(n): _util.ms(max(times[c, "suite", n] - times[c, "empty", n], 0.0) / n) for n in sizes}
                for c in CONTENDERS}

    top = str(max(sizes))

    def verdicts(per: dict[str, dict[str, float]]) -> dict[str, Any]:
        rs = per["replaystream"][top]
        return {name: _util.target(rs / max(per[other][top], 1e-6), TARGETS[name])
                for name, other in (("vs_mock_transport", "mock_transport"),
                                    ("vs_pytest_recording", "pytest_recording"))}

    per_wall, per_cpu = per_test(wall), per_test(cpu)
    targets = verdicts(per_wall)
    return {
        "sizes": list(sizes),
        "rounds": rounds,
        "tests_per_module": PER_MODULE,
        "wall_s": {c: {f"{kind}/{n}": round(wall[c, kind, n], 3) for _, kind, n in runs if _ == c}
                   for c in CONTENDERS},
        "cpu_s": {c: {f"{kind}/{n}": round(cpu[c, kind, n], 3) for _, kind, n in runs if _ == c}
                  for c in CONTENDERS},
        "per_test_ms": per_wall,
        "per_test_cpu_ms": per_cpu,
        "targets_at": int(top),
        "targets": targets,
        "targets_cpu": verdicts(per_cpu),
        "met": all(t["met"] for t in targets.values()),
    }
