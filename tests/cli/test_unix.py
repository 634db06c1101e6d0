"""The command line behaves like a Unix tool: one-line errors, exit codes 0/1/2, quiet pipes.

Each test is a user's action at the shell, run in a subprocess where stderr and the exit
code are what a terminal or script would see.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from replaystream.cassette import Cassette, Event, Interaction, Request, Response

ROOT = Path(__file__).resolve().parents[2]
VCR_YAML = ROOT / "tests" / "data" / "corpus" / "pydantic-ai" / "test_anthropic_model_thinking_part_stream.yaml"


def replaystream(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "replaystream.cli", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def one_line_error(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr


def chat_cassette(path: Path, n_events: int = 3) -> Path:
    events = [Event(b'data: {"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"w%d "}}]}\n\n'
                    % i, float(i)) for i in range(n_events)] + [Event(b"data: [DONE]\n\n", float(n_events))]
    Cassette([Interaction(Request("POST", "/v1/chat/completions", body={"model": "gpt-4o-mini"}),
                          Response(200, {"content-type": "text/event-stream"}, events=events),
                          "openai", "chat.completions")]).save(path)
    return path


def test_upgrade_on_a_folder_says_so_and_exits_2(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    err = one_line_error(replaystream("upgrade", "tests/", cwd=tmp_path), 2)
    assert "tests: is a folder, not a cassette file (name the files, e.g. tests/*.json)" in err


@pytest.mark.parametrize("command", ["upgrade", "check", "inspect", "serve"])
def test_a_vcrpy_cassette_points_at_import(tmp_path: Path, command: str) -> None:
    err = one_line_error(replaystream(command, VCR_YAML, cwd=tmp_path), 2)
    assert "this looks like a vcrpy cassette: run `replaystream import" in err
    assert str(VCR_YAML) in err


def test_a_vcrpy_cassette_saved_as_json_points_at_import_too(tmp_path: Path) -> None:
    (tmp_path / "old.json").write_text('{"interactions": [{"request": {"uri": "https://x"}}], "version": 1}')
    err = one_line_error(replaystream("inspect", "old.json", cwd=tmp_path), 2)
    assert "replaystream import old.json" in err


@pytest.mark.parametrize("args", [("upgrade", "missing.json"), ("check", "missing.json"), ("inspect", "missing.json"),
                                  ("serve", "missing.json"), ("import", "missing.yaml", "out.json")])
def test_a_missing_path_exits_2(tmp_path: Path, args: tuple[str, ...]) -> None:
    err = one_line_error(replaystream(*args, cwd=tmp_path), 2)
    assert "missing." in err and "no such file or folder" in err


def test_a_damaged_cassette_is_a_failure_with_its_position_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "c.json").write_text('{"replaystream_cassette": 1, "interactions": [')
    result = replaystream("upgrade", "c.json", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "c.json at line 1" in result.stderr


def test_upgrade_checks_every_path_before_rewriting_any(tmp_path: Path) -> None:
    chat_cassette(tmp_path / "a.json")
    before = (tmp_path / "a.json").read_bytes()
    one_line_error(replaystream("upgrade", "a.json", "b.json", cwd=tmp_path), 2)
    assert (tmp_path / "a.json").read_bytes() == before


def test_check_a_folder_of_vcrpy_cassettes_says_to_import_them(tmp_path: Path) -> None:
    (tmp_path / "cassettes").mkdir()
    (tmp_path / "cassettes" / "t.yaml").write_text(VCR_YAML.read_text())
    err = one_line_error(replaystream("check", "cassettes", cwd=tmp_path), 2)
    assert "no cassettes found in cassettes" in err and "replaystream import" in err


def test_inspect_piped_into_head_stops_quietly(tmp_path: Path) -> None:
    chat_cassette(tmp_path / "big.json", n_events=20000)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    shell = f'"{sys.executable}" -m replaystream.cli inspect big.json --limit 0 | head -1; exit "${{PIPESTATUS[0]}}"'
    result = subprocess.run(["bash", "-c", shell], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.stdout == "big.json: 1 interaction(s), 0 record(s)\n"
    assert result.stderr == ""  # no BrokenPipeError traceback, no "Exception ignored"
    assert result.returncode == 141  # as a tool stopped by SIGPIPE


def test_inspect_limits_rows_by_default_and_shows_all_on_request(tmp_path: Path) -> None:
    chat_cassette(tmp_path / "c.json", n_events=100)
    out = replaystream("inspect", "c.json", cwd=tmp_path).stdout
    assert "... 81 more events (--limit N shows more, --limit 0 all)" in out  # 101 events, 20 shown
    assert "'w0 '" in out and "'w99 '" in out and "'w50 '" not in out
    every = replaystream("inspect", "c.json", "--limit", "0", cwd=tmp_path).stdout
    assert "'w50 '" in every and "more events" not in every
    few = replaystream("inspect", "c.json", "--limit", "4", cwd=tmp_path).stdout
    assert "... 97 more events" in few
    one_line_error(replaystream("inspect", "c.json", "--limit", "-1", cwd=tmp_path), 2)


def test_drift_help_says_whether_the_base_url_includes_v1(tmp_path: Path) -> None:
    out = " ".join(replaystream("check", "--help", cwd=tmp_path).stdout.split())
    assert "the recorded path (/v1/...) is appended, so the URL may end in /v1 or not" in out
