"""Placeholder keys: filled while a session only replays, only where unset, removed after;
never written; a recording request carrying one is refused, naming the variable to set."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import anthropic
import openai
import pytest

from replaystream import Cassette, RecordingError, use_cassette
from replaystream.cassette.model import Interaction, Request, Response
from replaystream.emulator import ProviderEmulator, ScriptedResponse, openai_chat_stream
from replaystream.providers import PLACEHOLDER_ENV, PLACEHOLDER_KEY, PlaceholderVar, key_variable
from replaystream.wire import keys

# Variables no outer run holds placeholders for (the pytest run replaying this suite holds
# OPENAI_API_KEY's and ANTHROPIC_API_KEY's): each is seen set, and removed.
ACME = (PlaceholderVar("ACME_API_KEY"), PlaceholderVar("ACME_REGION", "eu-1", unless=("ACME_ZONE",)))


@pytest.fixture(autouse=True)
def acme(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(PLACEHOLDER_ENV, "acme", ACME)
    for name in ("ACME_API_KEY", "ACME_REGION", "ACME_ZONE"):
        monkeypatch.delenv(name, raising=False)
    yield
    assert "ACME_API_KEY" not in os.environ  # nothing left behind


def chat_cassette(path: Path) -> None:
    Cassette([Interaction(Request("POST", "/v1/chat/completions", body={"model": "m", "stream": True}),
                          Response(200, {"content-type": "text/event-stream"}, events=[]),
                          "openai", "chat.completions")]).save(path)


def test_set_while_a_session_only_replays_and_removed_after(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chat_cassette(tmp_path / "c.json")
    monkeypatch.setenv("ACME_ZONE", "us")  # the user's alternative to ACME_REGION
    with use_cassette(tmp_path / "c.json"):
        assert os.environ["ACME_API_KEY"] == PLACEHOLDER_KEY
        assert "ACME_REGION" not in os.environ
        with use_cassette(tmp_path / "c.json"):  # nested: shared, still there after the inner one ends
            pass
        assert os.environ["ACME_API_KEY"] == PLACEHOLDER_KEY
    assert "ACME_API_KEY" not in os.environ
    with use_cassette(tmp_path / "new.json", mode="once"):  # it records: no placeholder
        assert "ACME_API_KEY" not in os.environ


def test_the_users_values_are_never_touched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chat_cassette(tmp_path / "c.json")
    monkeypatch.setenv("ACME_API_KEY", "acme-real-0123456789")
    monkeypatch.setenv("ACME_REGION", "")  # empty counts as unset, and comes back empty
    with use_cassette(tmp_path / "c.json"):
        assert os.environ["ACME_API_KEY"] == "acme-real-0123456789" and os.environ["ACME_REGION"] == "eu-1"
    assert os.environ["ACME_API_KEY"] == "acme-real-0123456789" and os.environ["ACME_REGION"] == ""
    monkeypatch.delenv("ACME_API_KEY")


def test_overlapping_holders_share_each_variable() -> None:
    first = keys.acquire()
    second = keys.acquire()
    keys.release(first)  # e.g. a thread's session ended while another still replays
    assert os.environ["ACME_API_KEY"] == PLACEHOLDER_KEY
    os.environ.pop("ACME_API_KEY")  # a test unsets it meanwhile ...
    third = keys.acquire()  # ... the next holder sets it again
    assert os.environ["ACME_API_KEY"] == PLACEHOLDER_KEY
    keys.release(second)
    keys.release(third)


def test_the_registry_declares_placeholders_for_providers_to_come() -> None:
    names = {v.name for group in PLACEHOLDER_ENV.values() for v in group}
    assert {"OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GOOGLE_API_KEY", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT",
            "OPENAI_API_VERSION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"} <= names
    assert key_variable("anthropic") == "ANTHROPIC_API_KEY" and key_variable("google") == "GOOGLE_API_KEY"


def test_clients_start_with_no_key_while_replaying(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   emulator: ProviderEmulator) -> None:
    monkeypatch.setitem(PLACEHOLDER_ENV, "acme", ())
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789abcdef")
    path = tmp_path / "chat.json"
    emulator.enqueue(ScriptedResponse(events=openai_chat_stream(["white"])))
    base_url = emulator.base_url + "/v1"

    def ask() -> str:
        client = openai.OpenAI(base_url=base_url, max_retries=0)  # the key from the environment
        out = client.chat.completions.create(model="gpt-4o-mini", stream=True,
                                             messages=[{"role": "user", "content": "colour?"}])
        return "".join(c.choices[0].delta.content or "" for c in out if c.choices)

    with use_cassette(path, mode="once"):
        assert ask() == "white"
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(openai.OpenAIError, match="api_key"):
        openai.OpenAI()
    emulator.stop()
    with use_cassette(path):
        assert ask() == "white"
    with use_cassette(path, mode="once"):  # the file exists: it only replays
        assert ask() == "white"


def test_recording_with_the_placeholder_names_the_variable(tmp_path: Path, emulator: ProviderEmulator) -> None:
    client = anthropic.Anthropic(base_url=emulator.base_url, api_key=PLACEHOLDER_KEY, max_retries=0)
    with pytest.raises(anthropic.APIConnectionError) as info, use_cassette(tmp_path / "c.json", mode="once"):
        client.messages.create(model="claude-3-5-sonnet-latest", max_tokens=8,
                               messages=[{"role": "user", "content": "hi"}])
    error = info.value.__cause__
    assert isinstance(error, RecordingError)
    assert str(error).startswith("ANTHROPIC_API_KEY is not set: recording needs a real key.\n"
                                 f"  POST /v1/messages (to be recorded into cassette {tmp_path / 'c.json'}) "
                                 "carries replaystream's placeholder key in its ")
    assert emulator.requests == [] and not (tmp_path / "c.json").exists()


@pytest.mark.parametrize(("host", "headers", "refused"), [
    ("api.openai.com", {"authorization": "Bearer "}, "OPENAI_API_KEY is not set"),
    ("api.anthropic.com", {"x-api-key": "", "anthropic-version": "1"}, "ANTHROPIC_API_KEY is not set"),
    ("api.groq.com", {"authorization": "Bearer"}, "GROQ_API_KEY is not set"),  # a gateway vendor names its own
    ("127.0.0.1:11434", {"authorization": "Bearer "}, None),  # a local server may want no key
    ("localhost", {"authorization": f"Bearer {PLACEHOLDER_KEY}"}, "OPENAI_API_KEY is not set"),
    ("api.openai.com", {"authorization": "Bearer sk-real"}, None),
    ("api.openai.com", {}, None),
])
def test_which_recording_requests_are_refused(host: str, headers: dict[str, str], refused: str | None) -> None:
    path = "/v1/messages" if "x-api-key" in headers else "/v1/chat/completions"
    request = Request("POST", path, headers={"host": host, **headers})
    if refused is None:
        keys.require_real_key(request, "c.json")
    else:
        with pytest.raises(RecordingError, match=refused):
            keys.require_real_key(request, "c.json")


def test_the_placeholder_is_scrubbed_wherever_it_appears(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         emulator: ProviderEmulator) -> None:
    monkeypatch.setitem(PLACEHOLDER_ENV, "acme", ())
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    emulator.enqueue(ScriptedResponse(events=openai_chat_stream(["ok"])))
    client = openai.OpenAI(base_url=emulator.base_url + "/v1", api_key="sk-test-0123456789abcdef", max_retries=0)
    with keys.placeholder_keys():  # e.g. held by a replay run while one test records
        echoed = os.environ["ANTHROPIC_API_KEY"]
        with use_cassette(tmp_path / "c.json", mode="once"):
            list(client.chat.completions.create(model="m", stream=True,
                                                messages=[{"role": "user", "content": f"key: {echoed}"}]))
    assert PLACEHOLDER_KEY not in (tmp_path / "c.json").read_text("utf-8")
