"""Each feature whose extra is not installed says which extra to install, and the rest works.

Every test runs Python as it runs without the extras (see ``_without``), in the normal
test environment: nothing is uninstalled.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from typing import Any

import pytest

from replaystream.errors import MissingExtraError, ReplayStreamError

from ._without import BASE_ONLY, PLAIN_PROJECT, ROOT, run_cli, run_pytest, run_python

CASSETTE = PLAIN_PROJECT / "tests" / "cassettes" / "test_replay" / "test_replays_the_recorded_stream.json"


def load_checker() -> Any:
    spec = importlib.util.spec_from_file_location("check_plain_install", ROOT / "scripts" / "check_plain_install.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pip_hint(extras: str) -> str:
    return f"pip install 'replaystream[{extras}]'"


def test_the_error_names_the_extra_and_is_an_import_error() -> None:
    exc = MissingExtraError("FaissRetriever", ["faiss"], ["faiss"])
    assert str(exc).startswith("FaissRetriever needs the [faiss] extra: pip install 'replaystream[faiss]'")
    assert isinstance(exc, ImportError) and isinstance(exc, ReplayStreamError)
    assert exc.name == "faiss" and exc.extras == ("faiss",)
    both = MissingExtraError("replaystream demo", ["langchain", "faiss"])
    assert str(both) == "replaystream demo needs the [langchain,faiss] extras: pip install 'replaystream[langchain,faiss]'"


def test_the_base_imports_and_the_langchain_names_say_which_extra() -> None:
    done = run_python("""
import replaystream
from replaystream import *  # the LangChain names are left out of __all__, not an error
from replaystream.errors import MissingExtraError
heavy = sorted(m for m, v in sys.modules.items() if v is not None and m.split('.')[0] in ('httpx', 'httpx2', 'pydantic'))
assert not heavy, heavy
for name in ('ReplayChatModel', 'event_snapshot', 'normalize_events'):
    try:
        getattr(replaystream, name)
    except MissingExtraError as exc:
        print(exc)
try:
    from replaystream import ReplayChatModel
except ImportError as exc:  # what code guarding an optional import catches
    print('ImportError:', exc)
try:
    import replaystream.langchain.fakes
except MissingExtraError as exc:
    print(exc)
""", without=BASE_ONLY)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 5, done.stdout
    for line, name in zip(lines, ["replaystream.ReplayChatModel", "replaystream.event_snapshot",
                                  "replaystream.normalize_events", "ImportError: replaystream.ReplayChatModel",
                                  "replaystream's LangChain layer"]):
        assert line.startswith(f"{name}"), line
        assert f"needs the [langchain] extra: {pip_hint('langchain')}" in line, line


def test_faiss_retriever_without_faiss_names_the_faiss_extra() -> None:
    done = run_python("""
from replaystream import FaissRetriever, ReplayChatModel, ReplayEmbeddings
from replaystream.errors import MissingExtraError
model = ReplayChatModel.from_text("Polar bears| are white.")
print(''.join(c.content for c in model.stream('hi')))
embeddings = ReplayEmbeddings(vectors={'polar bears': [1.0, 0.0]})
try:
    FaissRetriever.from_texts(['polar bears'], embeddings)
except MissingExtraError as exc:
    print(exc)
""", without=["faiss"])
    assert done.returncode == 0, done.stderr
    chat, error = done.stdout.splitlines()
    assert chat == "Polar bears are white."
    assert error.startswith(f"FaissRetriever needs the [faiss] extra: {pip_hint('faiss')}")


def test_the_fakes_import_without_loading_faiss() -> None:
    done = run_python("from replaystream import ReplayChatModel, FaissRetriever\nassert 'faiss' not in sys.modules",
                      without=())
    assert done.returncode == 0, done.stderr


def test_a_plain_project_runs_with_the_base_alone(tmp_path: Path) -> None:
    # The same project and expectations as CI's fresh `pip install .` (scripts/check_plain_install.py).
    checker = load_checker()
    project = shutil.copytree(PLAIN_PROJECT, tmp_path / "project")
    done = run_pytest(["-q", f"--junitxml={tmp_path / 'results.xml'}"], without=BASE_ONLY, cwd=project)
    assert done.returncode == 1, done.stdout + done.stderr
    assert checker.differences(checker.outcome(tmp_path / "results.xml")) == [], done.stdout


def test_the_checker_lists_no_extra_module_on_a_base_install() -> None:
    # CI's first step: the listing itself must run where the `google` namespace does not exist.
    done = run_python(load_checker()._LIST_EXTRA_MODULES, without=BASE_ONLY)
    assert (done.returncode, done.stdout.strip()) == (0, ""), done.stderr
    with_google = run_python(load_checker()._LIST_EXTRA_MODULES, without=[e for e in BASE_ONLY if e != "google"])
    assert with_google.stdout.split() == ["google.genai", "langchain_google_genai"], with_google.stderr


def test_the_checker_catches_a_wrong_outcome() -> None:
    checker = load_checker()
    right = {"test_arithmetic": "passed", "test_replays_the_recorded_stream": "passed",
             "test_a_changed_question_misses": "replaystream.errors.CassetteMissError: POST /v1/..."}
    assert checker.differences(right) == []
    wrong = {**right, "test_a_changed_question_misses": "AssertionError: assert False", "test_new": "passed"}
    assert checker.differences(wrong) == [
        ("test_a_changed_question_misses: expected replaystream.errors.CassetteMissError, got AssertionError: "
         "assert False"),
        "test_new: not expected, got passed"]
    assert checker.differences({}) == [f"{name}: expected {want}, got not run" for name, want in checker.EXPECTED.items()]


def test_the_langchain_fixtures_without_the_extra_name_it(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_chain.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.replay\n"
        "def test_model(replay_chat_model):\n    pass\n\n"
        "def test_events(event_snapshot):\n    pass\n\n"
        "def test_plain():\n    pass\n")
    done = run_pytest(["-q", "-rE"], without=["langchain"], cwd=tmp_path)
    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    assert "1 passed, 2 errors" in out, out
    for fixture in ("replay_chat_model", "event_snapshot"):
        assert f"MissingExtraError: the {fixture} fixture needs the [langchain] extra: {pip_hint('langchain')}" \
            in out, out
    assert "fixture 'snapshot' not found" not in out and "Traceback" not in out


def test_import_of_a_vcrpy_yaml_cassette_without_the_vcr_extra(tmp_path: Path) -> None:
    src = ROOT / "tests" / "data" / "corpus" / "pydantic-ai" / "test_openai_responses_stream.yaml"
    done = run_cli(["import", str(src), str(tmp_path / "out.json")], without=["vcr"])
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"needs the [vcr] extra: {pip_hint('vcr')}" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "out.json").exists()
    # A raw SSE body needs no extra.
    (tmp_path / "body.txt").write_bytes(b'data: {"choices":[{"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\n')
    done = run_cli(["import", str(tmp_path / "body.txt"), str(tmp_path / "raw.json")], without=BASE_ONLY)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "raw.json").exists()


def test_inspect_plot_without_the_plot_extra(tmp_path: Path) -> None:
    done = run_cli(["inspect", str(CASSETTE), "--plot", str(tmp_path / "t.png")], without=["plot"])
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == ""  # nothing half done
    assert f"inspect --plot) needs the [plot] extra: {pip_hint('plot')}" in done.stderr
    assert "Traceback" not in done.stderr
    done = run_cli(["inspect", str(CASSETTE)], without=BASE_ONLY)  # inspect itself is in the base
    assert done.returncode == 0, done.stderr
    assert "assembled text: 'Polar bears have transparent fur.'" in done.stdout


@pytest.mark.parametrize(("without", "extras"), [(BASE_ONLY, "langchain,faiss"), (["faiss"], "faiss")])
def test_demo_names_the_extras_it_needs(without: tuple[str, ...], extras: str) -> None:
    done = run_cli(["demo"], without=without)
    assert done.returncode == 2, done.stdout + done.stderr
    noun = "extras" if "," in extras else "extra"
    assert done.stderr.startswith(f"replaystream demo: replaystream demo needs the [{extras}] {noun}: "
                                  f"{pip_hint(extras)}"), done.stderr
    assert "Traceback" not in done.stderr


def test_check_and_upgrade_need_no_extra(tmp_path: Path) -> None:
    copy = shutil.copy(CASSETTE, tmp_path / "c.json")
    done = run_cli(["check", str(copy)], without=BASE_ONLY)
    assert done.returncode == 0, done.stdout + done.stderr
    done = run_cli(["upgrade", str(copy)], without=BASE_ONLY)
    assert done.returncode == 0, done.stdout + done.stderr
