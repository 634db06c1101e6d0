"""``replaystream serve``: a cassette served over HTTP on loopback, matched like replay."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import anthropic
import httpx2
import pytest

from replaystream import Cassette, use_cassette
from replaystream.emulator import ProviderEmulator, ScriptedResponse, anthropic_messages_stream


def record(path: Path) -> None:
    with ProviderEmulator() as emu:
        for text in (["Polar bears", " are white."], ["Grizzlies", " are brown."]):
            emu.enqueue(ScriptedResponse(events=anthropic_messages_stream(text)))
        with use_cassette(path, mode="once"):
            for q in ("polar", "grizzly"):
                ask(emu.base_url, q)


def ask(base: str, q: str) -> str:
    client = anthropic.Anthropic(base_url=base, api_key="sk-ant-test", max_retries=0)
    with client.messages.stream(model="claude-3-5-sonnet-latest", max_tokens=64,
                                messages=[{"role": "user", "content": q}]) as stream:
        return "".join(stream.text_stream)


def test_serve_cassette_matches_requests_like_replay(tmp_path: Path) -> None:
    record(tmp_path / "c.json")
    with ProviderEmulator() as emu:
        emu.serve_cassette(Cassette.load(tmp_path / "c.json"))
        assert ask(emu.base_url, "grizzly") == "Grizzlies are brown."  # out of recorded order
        assert ask(emu.base_url, "polar") == "Polar bears are white."
        miss = httpx2.post(f"{emu.base_url}/v1/messages", json={"model": "claude-3-5-sonnet-latest"})
    assert miss.status_code == 500
    error = miss.json()["error"]
    # The replay engine's own miss message, as a session raises it.
    assert error["type"] == "replaystream_no_recording"
    assert "POST /v1/messages: no recorded response in cassette" in error["message"]
    assert "Closest recorded request: interaction" in error["message"]


def test_a_request_replayed_already_says_so(tmp_path: Path) -> None:
    record(tmp_path / "c.json")
    lines: list[str] = []
    with ProviderEmulator() as emu:
        emu.serve_cassette(Cassette.load(tmp_path / "c.json"), log=lines.append)
        assert ask(emu.base_url, "polar") == "Polar bears are white."
        with pytest.raises(anthropic.InternalServerError) as info:
            ask(emu.base_url, "polar")
    body = info.value.body
    assert isinstance(body, dict)
    message = body["error"]["message"]
    assert body["error"]["type"] == "replaystream_already_replayed"
    assert "all 1 recorded response(s) for this request (interaction 0) were already replayed" in message
    assert "replaystream serve --repeat" in message and "allow_repeats=True" in message
    assert "Difference" not in message  # not a miss with an empty diff
    assert lines == ["POST /v1/messages -> interaction 0", "POST /v1/messages -> already replayed"]


def test_repeats_answer_with_the_last_recording_and_are_logged(tmp_path: Path) -> None:
    record(tmp_path / "c.json")
    lines: list[str] = []
    with ProviderEmulator() as emu:
        emu.serve_cassette(Cassette.load(tmp_path / "c.json"), allow_repeats=True, log=lines.append)
        assert [ask(emu.base_url, q) for q in ("grizzly", "grizzly", "polar")] == [
            "Grizzlies are brown.", "Grizzlies are brown.", "Polar bears are white."]
        httpx2.post(f"{emu.base_url}/v1/messages?beta=true", json={})
    assert lines == ["POST /v1/messages -> interaction 1", "POST /v1/messages -> interaction 1",
                     "POST /v1/messages -> interaction 0", "POST /v1/messages?beta=true -> miss"]


def test_serve_injects_faults_through_the_same_engine(tmp_path: Path) -> None:
    record(tmp_path / "c.json")
    lines: list[str] = []
    with ProviderEmulator() as emu:
        emu.serve_cassette(Cassette.load(tmp_path / "c.json"), faults=["status:429"], log=lines.append)
        with pytest.raises(anthropic.RateLimitError):
            ask(emu.base_url, "polar")
        assert ask(emu.base_url, "polar") == "Polar bears are white."  # the retry gets the recording
    assert lines == ["POST /v1/messages -> injected HTTP 429 (fault)", "POST /v1/messages -> interaction 0"]


def test_serve_command_repeat_and_log(tmp_path: Path) -> None:
    record(tmp_path / "c.json")
    log = tmp_path / "requests.log"
    proc = subprocess.Popen([sys.executable, "-m", "replaystream.cli", "serve", str(tmp_path / "c.json"),
                             "--repeat", "--log", str(log)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        base = _served_at(proc)
        assert [ask(base, "polar") for _ in range(2)] == ["Polar bears are white."] * 2
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    # The readiness probe is logged too: a request nothing in the cassette answers.
    assert log.read_text("utf-8").splitlines() == ["GET / -> miss"] + ["POST /v1/messages -> interaction 0"] * 2


def _served_at(proc: subprocess.Popen[str]) -> str:
    """The base URL ``replaystream serve`` printed, once it answers."""
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "serving" in line and "http://127.0.0.1:" in line, line + (proc.stderr.read() if proc.stderr else "")
    base = line.split(" at ")[1].split()[0]
    deadline = time.monotonic() + 10
    while True:  # the line is printed once the socket listens; retry briefly anyway
        try:
            httpx2.get(base + "/")
            return base
        except httpx2.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_serve_command_runs_until_stopped(tmp_path: Path) -> None:
    record(tmp_path / "c.json")
    proc = subprocess.Popen([sys.executable, "-m", "replaystream.cli", "serve", str(tmp_path / "c.json")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert ask(_served_at(proc), "polar") == "Polar bears are white."
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_serve_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "replaystream.cli", "serve", str(tmp_path / "nope.json")],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "no such file" in result.stderr
