"""Run Python as it runs where some optional extras were never installed.

Each extra's modules are set to ``None`` in ``sys.modules`` before anything else runs, so
importing them fails exactly as a missing package does (``ModuleNotFoundError``) and
``importlib.util.find_spec`` reports them absent. pytest's plugin auto-loading is off (the
blocked packages' own plugins, syrupy's or pytest-asyncio's, would fail to load); the
runs name replaystream's plugin with ``-p replaystream.plugin`` instead, as its entry
point would load it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from replaystream.errors import EXTRAS

ROOT = Path(__file__).resolve().parents[2]
PLAIN_PROJECT = ROOT / "tests" / "data" / "plain_user_project"

# What each extra's packages bring beyond the modules replaystream imports from them.
# "google" itself: a fresh install has no `google` namespace, and find_spec("google.genai") raises then.
_ALSO = {"langchain": ("openai", "anthropic", "langsmith", "pytest_asyncio"), "vcr": ("vcr",),
         "google": ("google",)}


BASE_ONLY = tuple(EXTRAS)  # without every extra: what `pip install replaystream` gives


def _modules(extras: Sequence[str]) -> set[str]:
    return {m for e in extras for m in EXTRAS[e] + _ALSO.get(e, ())}


def blocked(*extras: str) -> list[str]:
    """The top-level modules missing when ``extras`` are not installed and every other extra is
    (numpy comes with [faiss] too, so it is missing only when both are)."""
    gone = _modules(extras) - _modules([e for e in EXTRAS if e not in extras])
    # A submodule whose parent is gone too is not listed: its import must fail at the parent, as it does.
    return sorted(m for m in gone if m.rpartition(".")[0] not in gone)


def run_python(code: str, *, without: Sequence[str], cwd: Path | None = None,
               timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -c code`` with the modules of the extras ``without`` missing."""
    prelude = f"import sys\nsys.modules.update(dict.fromkeys({blocked(*without)!r}))\n"
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    return subprocess.run([sys.executable, "-c", prelude + code], cwd=cwd or ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def run_cli(args: Sequence[str], *, without: Sequence[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``replaystream ARGS`` with the extras ``without`` missing."""
    return run_python(f"from replaystream.cli import main\nsys.exit(main({list(args)!r}))", without=without, cwd=cwd)


def run_pytest(args: Sequence[str], *, without: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``pytest ARGS`` in ``cwd`` with replaystream's plugin and the extras ``without`` missing."""
    code = ("import pytest\n"
            f"sys.exit(pytest.main(['-p', 'replaystream.plugin', '-p', 'no:cacheprovider', *{list(args)!r}]))")
    return run_python(code, without=without, cwd=cwd)
