"""Each new provider's credentials never reach the cassette (env var, constructor, header,
``?key=``, echoed back), a scrubbed query key does not stop the replay from matching, replay
needs no key, and their non-streamed and embeddings calls record and replay too."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import openai
import pytest
from google import genai
from google.genai import types as genai_types

from replaystream import Cassette, use_cassette
from replaystream.emulator import (
    ProviderEmulator,
    ScriptedResponse,
    gemini_embeddings,
    gemini_response,
    gemini_stream,
    openai_chat_completion,
    openai_chat_stream,
    openai_embeddings,
)

GEMINI_KEY = "AIzaSyFAKE-gemini-key-0123456789abcdef"
AZURE_KEY = "azureFAKEkey0123456789abcdef0123"
GROQ_KEY = "gsk_FAKEgroqKEY0123456789abcdefghij"


def gemini(base: str, **kwargs: object) -> genai.Client:
    return genai.Client(http_options=genai_types.HttpOptions(base_url=base), **kwargs)  # type: ignore[arg-type]


def assert_absent(path: Path, *secrets: str) -> None:
    text = path.read_text()
    for secret in secrets:
        assert secret not in text


@pytest.mark.parametrize("how", ["env", "constructor"])
def test_gemini_key_never_lands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    if how == "env":
        monkeypatch.setenv("GOOGLE_API_KEY", GEMINI_KEY)
        kwargs = {}
    else:
        monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
        kwargs = {"api_key": GEMINI_KEY}
    path = tmp_path / "c.json"
    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(events=gemini_stream([f"you sent {GEMINI_KEY}"])))
        with use_cassette(path, mode="once"):
            client = gemini(emu.base_url, **kwargs)  # held: a collected client closes its pool
            out = list(client.models.generate_content_stream(model="gemini-2.0-flash",
                                                             contents=f"my key is {GEMINI_KEY}"))
        assert emu.requests[0].headers["x-goog-api-key"] == GEMINI_KEY  # really sent
    assert GEMINI_KEY in "".join(c.text or "" for c in out)
    assert_absent(path, GEMINI_KEY)
    scrubbed = Cassette.load(path).interactions[0].scrubbed
    assert "request.headers.x-goog-api-key" in scrubbed and "response.events[0]" in scrubbed


def test_a_query_key_is_scrubbed_even_where_echoed_and_replay_still_matches(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    route = "/v1beta/models/gemini-2.0-flash:streamGenerateContent"
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    with ProviderEmulator() as emu:
        echo = gemini_stream([f"request key={GEMINI_KEY}"])
        emu.enqueue(ScriptedResponse(events=echo, headers={"x-echo": f"key={GEMINI_KEY}"}))
        with use_cassette(path, mode="once"):
            with httpx.Client() as client:
                recorded = client.post(f"{emu.base_url}{route}?alt=sse&key={GEMINI_KEY}", json=body).content
        base = emu.base_url
    assert_absent(path, GEMINI_KEY)
    inter = Cassette.load(path).interactions[0]
    assert inter.provider == "google" and inter.request.query == "alt=sse&key=<scrubbed:1>"  # masked in place
    assert {"request.query.key", "response.events[0]", "response.headers.x-echo"} <= set(inter.scrubbed)
    # Another key (a teammate's, or none at all) replays the same recording.
    for key in ("AIzaSyANOTHER-key-9876543210", ""):
        with use_cassette(path, allow_repeats=True), httpx.Client() as client:
            replayed = client.post(f"{base}{route}?alt=sse" + (f"&key={key}" if key else ""), json=body).content
        assert replayed == recorded.replace(GEMINI_KEY.encode(), b"<scrubbed:1>")


@pytest.mark.parametrize("how", ["env", "constructor"])
def test_azure_key_never_lands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", AZURE_KEY) if how == "env" else \
        monkeypatch.delenv("AZURE_OPENAI_API_KEY", raising=False)
    kwargs = {"api_key": AZURE_KEY} if how == "constructor" else {}
    path = tmp_path / "c.json"
    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(events=openai_chat_stream([f"echo {AZURE_KEY}"]),
                                     headers={"apim-request-id": "apim-secret-id-1"}))
        with use_cassette(path, mode="once"):
            client = openai.AzureOpenAI(azure_endpoint=emu.base_url, api_version="2024-10-21", max_retries=0,
                                        **kwargs)  # type: ignore[arg-type]
            list(client.chat.completions.create(model="dep", stream=True,
                                                messages=[{"role": "user", "content": "hi"}]))
        assert emu.requests[0].headers["api-key"] == AZURE_KEY
    assert_absent(path, AZURE_KEY, "apim-secret-id-1")
    inter = Cassette.load(path).interactions[0]
    assert inter.provider == "azure-openai" and "request.headers.api-key" in inter.scrubbed


@pytest.mark.parametrize("how", ["env", "constructor"])
def test_gateway_key_never_lands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    monkeypatch.setenv("GROQ_API_KEY", GROQ_KEY)  # scrubbed by value, wherever it appears
    path = tmp_path / "c.json"
    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(events=openai_chat_stream([f"echo {GROQ_KEY}"])))
        with use_cassette(path, mode="once", provider="groq"):
            key = GROQ_KEY if how == "constructor" else __import__("os").environ["GROQ_API_KEY"]
            client = openai.OpenAI(base_url=emu.base_url + "/openai/v1", api_key=key, max_retries=0)
            list(client.chat.completions.create(model="llama", stream=True,
                                                messages=[{"role": "user", "content": f"k={GROQ_KEY}"}]))
    assert_absent(path, GROQ_KEY)
    cassette = Cassette.load(path)
    assert cassette.interactions[0].provider == "openai-compatible"
    assert cassette.meta["vendors"] == {"openai-compatible": ["groq"]}


def test_replay_needs_no_gemini_or_azure_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.json"
    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(events=gemini_stream(["Hi"])))
        emu.enqueue(ScriptedResponse(events=openai_chat_stream(["Hi"])))
        with use_cassette(path, mode="once"):
            client = gemini(emu.base_url, api_key=GEMINI_KEY)
            list(client.models.generate_content_stream(model="gemini-2.0-flash", contents="hi"))
            azure = openai.AzureOpenAI(azure_endpoint=emu.base_url, api_key=AZURE_KEY, api_version="2024-10-21")
            list(azure.chat.completions.create(model="dep", stream=True, messages=[{"role": "user", "content": "hi"}]))
        base = emu.base_url
    for var in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT",
                "OPENAI_API_VERSION", "AZURE_OPENAI_AD_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    with use_cassette(path) as session:
        client = gemini(base)  # no key given, none in the environment: the placeholder
        text = "".join(c.text or "" for c in client.models.generate_content_stream(
            model="gemini-2.0-flash", contents="hi"))
        # Endpoint, key and API version all from the placeholders: only the deployment is code.
        azure_text = "".join(c.choices[0].delta.content or "" for c in openai.AzureOpenAI().chat.completions.create(
            model="dep", stream=True, messages=[{"role": "user", "content": "hi"}]) if c.choices)
    assert text == "Hi" and azure_text == "Hi" and session.unused() == []


def test_non_streamed_and_embeddings_calls_record_and_replay(tmp_path: Path) -> None:
    path = tmp_path / "c.json"

    def calls(base: str) -> list[object]:
        client = gemini(base, api_key=GEMINI_KEY)
        azure = openai.AzureOpenAI(azure_endpoint=base, api_key=AZURE_KEY, api_version="2024-10-21", max_retries=0)
        reply = client.models.generate_content(model="gemini-2.0-flash", contents="hi")
        vectors = client.models.embed_content(model="text-embedding-004", contents=["a", "b"])
        completion = azure.chat.completions.create(model="dep", messages=[{"role": "user", "content": "hi"}])
        embedded = azure.embeddings.create(model="emb", input=["a"], encoding_format="float")
        return [reply.text, [e.values for e in vectors.embeddings or []], completion.choices[0].message.content,
                [d.embedding for d in embedded.data]]

    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(body=gemini_response("Hello there")))
        emu.enqueue(ScriptedResponse(body=gemini_embeddings([[0.25, 0.5], [0.75, 1.0]])))
        emu.enqueue(ScriptedResponse(body=openai_chat_completion("Hi from Azure")))
        emu.enqueue(ScriptedResponse(body=openai_embeddings([[0.125, 0.375]])))
        with use_cassette(path, mode="once"):
            recorded = calls(emu.base_url)
        base = emu.base_url
    assert recorded == ["Hello there", [[0.25, 0.5], [0.75, 1.0]], "Hi from Azure", [[0.125, 0.375]]]
    found = [(i.provider, i.api) for i in Cassette.load(path).interactions]
    assert found == [("google", "generateContent"), ("google", "batchEmbedContents"),
                     ("azure-openai", "chat.completions"), ("azure-openai", "embeddings")]
    with use_cassette(path) as session:
        assert calls(base) == recorded
    assert session.unused() == []
    assert json.loads(path.read_text())["interactions"][0]["response"]["body"].startswith('{"candidates"')
