"""Library advice: errors raised under ``use_cassette`` name its keywords (never pytest
flags), one action per case, and following it makes the next run pass."""

from __future__ import annotations

import ast
import re
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
import pytest

from replaystream import CassetteMissError, NetworkBlockedError, use_cassette
from replaystream.emulator import ProviderEmulator, ScriptedResponse, openai_chat_stream
from replaystream.wire.advice import Advice, PytestAdvice, differing_fields, volatile
from replaystream.wire.network import block_network

KEY = "sk-test-0123456789abcdef"


def asker(emulator: ProviderEmulator) -> Callable[..., str]:
    base_url = emulator.base_url + "/v1"

    def ask(prompt: str, **extra: Any) -> str:
        client = openai.OpenAI(base_url=base_url, api_key=KEY, max_retries=0)
        out = client.chat.completions.create(model="gpt-4o-mini", stream=True,
                                             messages=[{"role": "user", "content": prompt}], **extra)
        return "".join(c.choices[0].delta.content or "" for c in out if c.choices)
    return ask


def miss(run: Callable[[], object]) -> str:
    """The message of the replay error ``run`` raises (the SDK wraps it)."""
    with pytest.raises(Exception) as info:
        run()
    error = info.value if isinstance(info.value, CassetteMissError) else info.value.__cause__
    assert isinstance(error, CassetteMissError), info.value
    message = str(error)
    assert "--replay" not in message and "pytest " not in message and "mark." not in message  # library words only
    return message


def fix(message: str) -> dict[str, Any]:
    """The keywords of the first ``use_cassette(...)`` call the message says to make."""
    calls = re.findall(r'^ +(use_cassette\(.*\))$', message, re.M)
    assert calls, message
    call = ast.parse(calls[0], mode="eval").body
    assert isinstance(call, ast.Call)
    return {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg}


def test_changed_request_rewrite(tmp_path: Path, emulator: ProviderEmulator) -> None:
    path, ask = tmp_path / "c.json", asker(emulator)
    emulator.enqueue(ScriptedResponse(events=openai_chat_stream(["white"])))
    emulator.enqueue(ScriptedResponse(events=openai_chat_stream(["still white"])))
    with use_cassette(path, mode="once"):
        ask("What colour?")
    with use_cassette(path):
        message = miss(lambda: ask("What colour is it?"))
    assert "The request changed since it was recorded (or is new)." in message
    assert fix(message) == {"mode": "rewrite"}
    assert f'use_cassette("{path}", mode="rewrite")' in message
    with use_cassette(path, **fix(message)):  # as written
        ask("What colour is it?")
    with use_cassette(path) as session:
        assert ask("What colour is it?") == "still white"
    assert session.unused() == []  # the stale recording is gone


def test_volatile_field_ignore_fields(tmp_path: Path, emulator: ProviderEmulator) -> None:
    path, ask = tmp_path / "c.json", asker(emulator)
    emulator.enqueue(ScriptedResponse(events=openai_chat_stream(["white"])))
    with use_cassette(path, mode="once"):
        ask("Hi", extra_body={"metadata": {"trace_id": "a1", "created_at": "2024-01-01T10:00:00Z"}})
    with use_cassette(path):
        message = miss(lambda: ask("Hi", extra_body={"metadata": {"trace_id": "b2",
                                                                  "created_at": "2024-01-02T11:00:00Z"}}))
    assert "Only volatile fields differ (metadata.created_at, metadata.trace_id)." in message
    assert fix(message) == {"ignore_fields": ["metadata.created_at", "metadata.trace_id"]}
    with use_cassette(path, **fix(message)):  # as written
        assert ask("Hi", extra_body={"metadata": {"trace_id": "c3", "created_at": "2024-01-03T12:00:00Z"}}) == "white"


def test_exhausted_rewrite_or_allow_repeats(tmp_path: Path, emulator: ProviderEmulator) -> None:
    path, ask = tmp_path / "c.json", asker(emulator)
    for _ in range(3):
        emulator.enqueue(ScriptedResponse(events=openai_chat_stream(["white"])))
    with use_cassette(path, mode="once"):
        ask("Hi")
    with use_cassette(path):
        ask("Hi")
        message = miss(lambda: ask("Hi"))
    assert re.search(r'mode="rewrite"\)\n  or, if the repeat should get the same answer again:\n'
                     r'    use_cassette\(".*", allow_repeats=True\)$', message)
    with use_cassette(path, allow_repeats=True):
        assert ask("Hi") == ask("Hi") == "white"
    with use_cassette(path, mode="rewrite"):
        ask("Hi"), ask("Hi")
    with use_cassette(path):
        assert ask("Hi") == ask("Hi") == "white"


def test_missing_cassette_once(tmp_path: Path, emulator: ProviderEmulator) -> None:
    path, ask = tmp_path / "new.json", asker(emulator)
    with use_cassette(path):
        message = miss(lambda: ask("Hi"))
    assert "The cassette does not exist. Record it first (needs a real key):" in message
    assert fix(message) == {"mode": "once"}
    emulator.enqueue(ScriptedResponse(events=openai_chat_stream(["white"])))
    with use_cassette(path, **fix(message)):
        ask("Hi")
    with use_cassette(path):
        assert ask("Hi") == "white"


def test_blocked_hosts(tmp_path: Path) -> None:
    with block_network(), pytest.raises(NetworkBlockedError) as info:
        socket.getaddrinfo("openaipublic.blob.core.windows.net", 443)
    message = str(info.value)
    assert "not a model provider's host, so there is nothing to record" in message
    assert "TIKTOKEN_CACHE_DIR" in message and "allow_network=True" in message and "mode=" not in message
    with use_cassette(tmp_path / "c.json"), pytest.raises(NetworkBlockedError) as info:
        socket.getaddrinfo("api.anthropic.com", 443)
    message = str(info.value)
    assert "api.anthropic.com is anthropic's API" in message
    assert f'use_cassette("{tmp_path / "c.json"}", mode="once")' in message and "--replay" not in message
    with block_network(PytestAdvice("c.json", ("t.py::test_a",))), pytest.raises(NetworkBlockedError) as info:
        socket.create_connection(("198.51.100.1", 443))
    assert "@pytest.mark.replay(allow_network=True), or run with --replay-allow-network" in str(info.value)


def test_volatile_fields() -> None:
    def req(**body: Any) -> dict[str, Any]:
        return {"method": "POST", "path": "/v1/x", "query": [], "body": body}

    assert volatile(req(m=[{"id": "1", "c": "x"}], seed=1), req(m=[{"id": "2", "c": "x"}], seed=2)) == ["m.*.id",
                                                                                                          "seed"]
    assert volatile(req(note="3f1c2a9e-0000-4000-8000-000000000001"),
                    req(note="9d8e7f6a-0000-4000-8000-000000000002")) == ["note"]  # uuid-shaped values
    assert volatile(req(userId="a", content="x"), req(userId="b", content="y")) is None  # the prompt changed
    assert volatile(req(id="1"), req()) is None  # a field gone is a change
    assert volatile(req(paid="1"), req(paid="2")) is None
    assert volatile({**req(id="1"), "path": "/v1/y"}, req(id="2")) is None
    assert differing_fields([1, 2], [1, 3]) == [("1", 2, 3)]


def test_advice_wording_per_front_end() -> None:
    assert Advice("c.json").record().endswith('use_cassette("c.json", mode="once")')
    shared = PytestAdvice("c.json", ("tests/test_x.py::test_y[a b]", 'tests/test_x.py::test_z["$x"]'))
    assert shared.rerecord().splitlines()[1] == \
        '    pytest "tests/test_x.py::test_y[a b]" "tests/test_x.py::test_z[\\"\\$x\\"]" --replay-mode=rewrite'
    assert PytestAdvice("c.json", ("t.py::a",)).record().endswith('pytest "t.py::a" --replay-mode=once')
