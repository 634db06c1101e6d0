"""``replaystream serve``: a cassette served over HTTP on loopback, matched like replay."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import anthropic
import httpx2

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
    assert "no recorded response for POST /v1/messages" in miss.json()["error"]["message"]
    assert "closest recorded request is interaction" in miss.json()["error"]["message"]


def test_serve_command_runs_until_stopped(tmp_path: Path) -> None:
    record(tmp_path / "c.json")
    proc = subprocess.Popen([sys.executable, "-m", "replaystream.cli", "serve", str(tmp_path / "c.json")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "serving" in line and "http://127.0.0.1:" in line, line + (proc.stderr.read() if proc.stderr else "")
        base = line.split(" at ")[1].split()[0]
        deadline = time.monotonic() + 10
        while True:  # the line is printed once the socket listens; retry briefly anyway
            try:
                assert ask(base, "polar") == "Polar bears are white."
                break
            except anthropic.APIConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_serve_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "replaystream.cli", "serve", str(tmp_path / "nope.json")],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "no such file" in result.stderr
