"""The public API as a user's type checker and interpreter see it.

``import replaystream`` stays free of LangChain; its lazily loaded names are still typed
(``mypy --strict`` on ``user_api_sample.py``, which uses every name in ``__all__``); the
Literal types reject what they should (``user_api_misuse.py``).
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import replaystream

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SAMPLE = HERE / "user_api_sample.py"
MISUSE = HERE / "user_api_misuse.py"
HEAVY = ("langchain", "syrupy", "numpy", "faiss")


def test_import_replaystream_stays_light() -> None:
    code = ("import replaystream, sys\n"
            f"heavy = sorted(m for m in sys.modules if m.startswith({HEAVY!r}))\n"
            "assert not heavy, heavy\n"
            "replaystream.ReplayChatModel  # the first use loads LangChain\n"
            "assert 'langchain_core' in sys.modules\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr


def test_the_sample_uses_every_public_name() -> None:
    tree = ast.parse(SAMPLE.read_text("utf-8"))
    used = {node.attr for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "replaystream"}
    missing = sorted(set(replaystream.__all__) - used)
    assert missing == [], f"use these in {SAMPLE.name} the way a user would: {missing}"


def test_the_sample_runs(tmp_path: Path) -> None:
    sys.path.insert(0, str(HERE))
    try:
        import user_api_sample
    finally:
        sys.path.remove(str(HERE))
    user_api_sample.main(tmp_path)


def test_user_code_passes_mypy_strict_and_misuse_fails_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    api = pytest.importorskip("mypy.api")  # mypy is in the [dev] extra
    monkeypatch.setenv("MYPYPATH", str(ROOT))  # this checkout's replaystream, not an installed one
    monkeypatch.chdir(ROOT)
    out, err, status = api.run(["--strict", "--config-file", str(ROOT / "pyproject.toml"),
                                "--cache-dir", str(tmp_path / "mypy-cache"), str(SAMPLE), str(MISUSE)])
    errors = [line for line in out.splitlines() if ": error:" in line]
    flagged = {int(m.group(1)) for line in errors if (m := re.match(rf".*{MISUSE.name}:(\d+): error:", line))}
    expected = {n for n, line in enumerate(MISUSE.read_text("utf-8").splitlines(), 1) if "  # rejected:" in line}
    others = [line for line in errors if MISUSE.name not in line]
    assert others == [], "\n".join(others)  # the sample (and replaystream itself) are clean
    assert flagged == expected, out
    assert status == 1 and not err, (out, err)
