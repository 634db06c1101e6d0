"""What replaystream's pytest plugin adds to every test run's start-up.

    python -m benchmarks.bench_startup [--python /path/to/venv/bin/python] [--runs N]

``pytest -q -p no:cacheprovider`` runs a folder with one plain test, N times per variant,
the variants interleaved (each round in a rotating order) so a busy moment of the machine
hurts them alike; the median wall time of each is reported, and the median CPU time (user +
system), which the neighbours on a shared machine disturb far less than the wall time:

- ``bare``: replaystream's plugin disabled (``-p no:replaystream``);
- ``replaystream``: the plugin loaded through its entry point, as installed.

Other installed plugins load in both (in a [dev] environment langsmith's plugin, which
langchain-core brings, costs more than everything else), so when langsmith's plugin is
installed the pair is measured again with ``-p no:langsmith_plugin``. ``plugin_import_ms``
is the plugin's own import after pytest's (median, in-process). The target: the plugin
adds at most 100 ms to a wire-only install's start-up. ``--python`` measures another
environment (e.g. a fresh ``pip install replaystream``); by default this checkout's code is
measured in the running interpreter's environment.

Bytecode is cached (in a temporary ``PYTHONPYCACHEPREFIX``) and a warm-up run precedes the
timed ones, as for an installed package, whose ``.pyc`` files pip writes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ._util import target

ROOT = Path(__file__).resolve().parents[1]
RUNS = 11
TARGET_MS = 100.0
LANGSMITH = "langsmith_plugin"  # langsmith's pytest11 entry point name

_IMPORT_TIMER = """
import time, pytest, _pytest.fixtures, _pytest.python
start = time.perf_counter()
import replaystream.plugin
print((time.perf_counter() - start) * 1000)
"""
_ENTRY_POINTS = """
from importlib.metadata import entry_points
print(" ".join(sorted(e.name for e in entry_points(group="pytest11"))))
"""


def _env(pycache: Path, python: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONDONTWRITEBYTECODE", "PYTEST_ADDOPTS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD")}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    if python == sys.executable:  # this checkout's code, whatever the environment has installed
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    else:
        env.pop("PYTHONPATH", None)  # the other environment's own install
    return env


def _time_ms(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system) milliseconds of one run of ``cmd``."""
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)
    wall = (time.perf_counter() - start) * 1000
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime) * 1000
    return wall, cpu


def _pair(variants: dict[str, list[str]], bare: str, loaded: str,
          times: dict[str, list[tuple[float, float]]]) -> dict[str, Any]:
    def median(name: str, k: int) -> float:
        return statistics.median(t[k] for t in times[name])

    return {"bare_ms": round(median(bare, 0), 1),
            "replaystream_ms": round(median(loaded, 0), 1),
            "overhead_ms": round(median(loaded, 0) - median(bare, 0), 1),
            "bare_cpu_ms": round(median(bare, 1), 1),
            "replaystream_cpu_ms": round(median(loaded, 1), 1),
            "overhead_cpu_ms": round(median(loaded, 1) - median(bare, 1), 1),
            "flags": {"bare": variants[bare], "replaystream": variants[loaded]}}


def run(runs: int = RUNS, python: str | None = None, warmup: bool = True) -> dict[str, Any]:
    python = python or sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "project"
        folder.mkdir()
        (folder / "pytest.ini").write_text("[pytest]\n")  # its own rootdir: no conftest of this checkout
        (folder / "test_one.py").write_text("def test_one():\n    assert True\n")
        env = _env(Path(tmp) / "pycache", python)
        plugins = subprocess.run([python, "-c", _ENTRY_POINTS], env=env, capture_output=True, text=True,
                                 timeout=120, check=True).stdout.split()
        if "replaystream" not in plugins:
            raise RuntimeError(f"{python}: replaystream's pytest11 entry point is not installed")
        variants = {"bare": ["-p", "no:replaystream"], "replaystream": []}
        if LANGSMITH in plugins:
            variants["bare_no_langsmith"] = ["-p", "no:replaystream", "-p", f"no:{LANGSMITH}"]
            variants["replaystream_no_langsmith"] = ["-p", f"no:{LANGSMITH}"]
        base = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        for flags in variants.values() if warmup else ():  # writes the bytecode cache
            _time_ms(base + flags, folder, env)
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
        names = list(variants)
        for r in range(runs):
            for k in range(len(names)):
                name = names[(r + k) % len(names)]
                times[name].append(_time_ms(base + variants[name], folder, env))
        imports = [float(subprocess.run([python, "-c", _IMPORT_TIMER], env=env, capture_output=True, text=True,
                                        timeout=120, check=True).stdout) for _ in range(runs)]
    result: dict[str, Any] = {"python": python, "runs": runs, "plugins": plugins,
                              "with_other_plugins": _pair(variants, "bare", "replaystream", times)}
    isolated = result["with_other_plugins"]
    if "bare_no_langsmith" in variants:
        result["without_langsmith"] = isolated = _pair(variants, "bare_no_langsmith", "replaystream_no_langsmith", times)
    result["plugin_import_ms"] = round(statistics.median(imports), 1)
    result["overhead"] = target(isolated["overhead_ms"], TARGET_MS)
    result["met"] = result["overhead"]["met"]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--python", help="measure this environment's installed replaystream instead")
    parser.add_argument("--runs", type=int, default=RUNS, help=f"timed runs per variant (default {RUNS})")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.runs, args.python), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
