"""Security: a full record run across every provider and API leaves no key, auth header,
cookie or organisation id in any written file; replay never opens a non-loopback socket.

``tests/test_record_replay.py::test_secrets_never_land`` checks two streamed chat calls;
this runs every API the emulator speaks, errors included, keys from the environment and
passed in code, and greps every file the run left behind.
"""

from __future__ import annotations

import re
import socket
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
from langchain_anthropic import ChatAnthropic
from langchain_openai import ChatOpenAI, OpenAIEmbeddings

from replaystream import Cassette, NetworkBlockedError, use_cassette
from replaystream.emulator import (
    ProviderEmulator,
    ScriptedResponse,
    anthropic_error,
    anthropic_message,
    anthropic_messages_stream,
    anthropic_stream_error,
    openai_chat_completion,
    openai_chat_stream,
    openai_embeddings,
    openai_error,
    openai_responses_stream,
)
from replaystream.wire import network
from replaystream.wire.scrub import TOKEN_PATTERN

pytestmark = pytest.mark.outcome("no secret written, no outside socket")
Property = Callable[[str, object], None]

OPENAI_KEY = "sk-proj-ENVopenaiKEY0123456789abcdefghij"
ANTHROPIC_KEY = "sk-ant-api03-ENVanthropicKEY0123456789abcdef"
EXPLICIT_KEY = "sk-proj-EXPLICITkeyPassedInCode0123456789"
ORG, PROJECT = "org-SECRETorganisation42", "proj_SECRETproject42"
ANTHROPIC_ORG = "ant-org-SECRET-4242"
COOKIE = "__cf_bm=SECRETcookieValue42"
SECRETS = (OPENAI_KEY, ANTHROPIC_KEY, EXPLICIT_KEY, ORG, PROJECT, ANTHROPIC_ORG, "SECRETcookieValue42",
           "sessionSECRET42", "req_SECRET42")
SECRET_HEADERS = ("authorization", "x-api-key", "cookie", "set-cookie", "openai-organization", "openai-project",
                  "anthropic-organization-id", "x-request-id", "request-id")
LEAKY_HEADERS = {"set-cookie": COOKIE + "; path=/; HttpOnly", "openai-organization": ORG, "openai-project": PROJECT,
                 "anthropic-organization-id": ANTHROPIC_ORG, "x-request-id": "req_SECRET42",
                 "request-id": "req_SECRET42"}
TEXT = ["Hello", " there"]
Q = [{"role": "user", "content": "hi"}]


def leaky(resp: ScriptedResponse) -> ScriptedResponse:
    resp.headers.update(LEAKY_HEADERS)
    return resp


def stream(events: list[bytes]) -> ScriptedResponse:
    return leaky(ScriptedResponse(events=events, headers={"content-type": "text/event-stream"}))


def body(data: bytes) -> ScriptedResponse:
    return leaky(ScriptedResponse(body=data, headers={"content-type": "application/json"}))


def swallow(call: Callable[[], Any]) -> None:
    try:
        result = call()
        for _ in result if hasattr(result, "__iter__") and not isinstance(result, (str, bytes, dict, list)) else ():
            pass
    except (openai.APIError, anthropic.APIError):
        pass  # the error was recorded; that is all this run needs


def calls(base: str) -> dict[str, tuple[ScriptedResponse, Callable[[], Any]]]:
    """Every provider and API in the suite: (what the provider answers, the call)."""
    oai = openai.OpenAI(base_url=base + "/v1", max_retries=0, default_headers={"cookie": "session=sessionSECRET42"})
    explicit = openai.OpenAI(base_url=base + "/v1", api_key=EXPLICIT_KEY, max_retries=0)
    ant = anthropic.Anthropic(base_url=base, max_retries=0)
    # Real APIs echo the organisation in rate-limit messages, and some servers echo the key.
    rate_limited = openai_error(429, f"Rate limit reached for gpt-4o-mini in organization {ORG} on tokens per min.",
                                "tokens", "rate_limit_exceeded")
    bad_key = openai_error(401, f"Incorrect API key provided: {EXPLICIT_KEY}.", "invalid_request_error",
                           "invalid_api_key")
    return {
        "openai.chat.stream": (stream(openai_chat_stream(TEXT)), lambda: oai.chat.completions.create(
            model="gpt-4o-mini", messages=Q, stream=True)),
        "openai.chat": (body(openai_chat_completion("Hello there")), lambda: oai.chat.completions.create(
            model="gpt-4o-mini", messages=Q)),
        "openai.responses.stream": (stream(openai_responses_stream(TEXT)), lambda: oai.responses.create(
            model="gpt-4o-mini", input="hi", stream=True)),
        "openai.embeddings": (body(openai_embeddings([[0.5, 0.25]])), lambda: oai.embeddings.create(
            model="text-embedding-3-small", input="hi", encoding_format="float")),
        "openai.429": (leaky(rate_limited), lambda: oai.chat.completions.create(model="gpt-4o-mini", messages=Q)),
        "openai.401-explicit-key": (leaky(bad_key), lambda: explicit.chat.completions.create(
            model="gpt-4o-mini", messages=Q)),
        "openai.explicit-key.stream": (stream(openai_chat_stream(TEXT)), lambda: explicit.chat.completions.create(
            model="gpt-4o-mini", messages=Q, stream=True)),
        "anthropic.messages.stream": (stream(anthropic_messages_stream(TEXT)), lambda: ant.messages.create(
            model="claude-3-5-sonnet-latest", max_tokens=64, messages=Q, stream=True)),
        "anthropic.messages": (body(anthropic_message("Hello there")), lambda: ant.messages.create(
            model="claude-3-5-sonnet-latest", max_tokens=64, messages=Q)),
        "anthropic.429": (leaky(anthropic_error(429, "rate_limit_error", "slow down")), lambda: ant.messages.create(
            model="claude-3-5-sonnet-latest", max_tokens=64, messages=Q)),
        "anthropic.overloaded-mid-stream": (
            stream(anthropic_messages_stream(TEXT)[:3] + [anthropic_stream_error()]),
            lambda: ant.messages.create(model="claude-3-5-sonnet-latest", max_tokens=64, messages=Q, stream=True)),
        "langchain.ChatOpenAI": (stream(openai_chat_stream(TEXT)), lambda: list(ChatOpenAI(
            model="gpt-4o-mini", base_url=base + "/v1", max_retries=0).stream("hi"))),
        "langchain.ChatAnthropic": (stream(anthropic_messages_stream(TEXT)), lambda: list(ChatAnthropic(
            model="claude-3-5-sonnet-latest", base_url=base, max_retries=0).stream("hi"))),
        "langchain.OpenAIEmbeddings": (body(openai_embeddings([[0.5, 0.25]])), lambda: OpenAIEmbeddings(
            model="text-embedding-3-small", base_url=base + "/v1", check_embedding_ctx_length=False,
            max_retries=0).embed_query("hi")),
    }


@pytest.fixture
def keys_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    monkeypatch.setenv("OPENAI_ORG_ID", ORG)
    monkeypatch.setenv("OPENAI_PROJECT_ID", PROJECT)


def record_everything(folder: Path) -> tuple[list[str], set[str]]:
    """Record every call into its own cassette and one shared cassette; returns names, sent headers."""
    with ProviderEmulator() as emu:
        names = sorted(calls(emu.base_url))
        for name in names:
            resp, call = calls(emu.base_url)[name]
            emu.enqueue(resp)
            with use_cassette(folder / f"{name}.json", mode="once"):
                swallow(call)
        with use_cassette(folder / "all.json", mode="once"):
            for name in names:
                resp, call = calls(emu.base_url)[name]
                emu.enqueue(resp)
                swallow(call)
        sent = {k for r in emu.requests for k in r.headers}
        sent_values = " ".join(v for r in emu.requests for v in r.headers.values())
    for secret in (OPENAI_KEY, ANTHROPIC_KEY, EXPLICIT_KEY, ORG, PROJECT, "sessionSECRET42"):
        assert secret in sent_values, f"{secret} was never sent: the run proves nothing about it"
    return names, sent


def test_a_full_record_run_writes_no_secret(tmp_path: Path, keys_in_env: None, record_property: Property) -> None:
    folder = tmp_path / "cassettes"
    names, sent = record_everything(folder)
    assert {"authorization", "cookie", "openai-organization", "openai-project"} <= sent  # anthropic: Bearer too
    files = [p for p in tmp_path.rglob("*") if p.is_file()]  # hidden files included
    assert sorted(p.name for p in files) == sorted([f"{n}.json" for n in names] + ["all.json"])
    leaks = []
    for path in files:
        text = path.read_text()
        leaks += [f"{path.name}: {s}" for s in SECRETS if s in text]
        leaks += [f"{path.name}: header {h}" for h in SECRET_HEADERS if re.search(rf'"{h}"\s*:', text, re.I)]
        leaks += [f"{path.name}: token {m}" for m in TOKEN_PATTERN.findall(text)]
    assert leaks == [], "\n".join(leaks)
    interactions = Cassette.load(folder / "all.json").interactions
    assert len(interactions) == len(names)
    assert {(i.provider, i.api) for i in interactions} >= {("openai", "chat.completions"), ("openai", "responses"),
                                                           ("openai", "embeddings"), ("anthropic", "messages")}
    assert all(i.scrubbed for i in interactions)  # each says what was removed
    record_property("apis", len(names))
    record_property("files_scanned", len(files))
    record_property("secrets_checked", len(SECRETS) + len(SECRET_HEADERS))


# -- replay opens no outside socket, watched at the interpreter's audit hook -----------------------
_watch: list[tuple[str, object]] | None = None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _watch is not None and event in ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname"):
        _watch.append((event, args[1] if event == "socket.connect" else args[0]))


network.install_guard()  # replaystream's guard first: the watch sees only what got past it
sys.addaudithook(_audit)  # sees every connect and look-up, however the socket was reached


@pytest.fixture
def socket_calls() -> Iterator[list[tuple[str, object]]]:
    global _watch
    _watch = []
    try:
        yield _watch
    finally:
        _watch = None


def test_replay_never_opens_a_non_loopback_socket(tmp_path: Path, keys_in_env: None,
                                                 socket_calls: list[tuple[str, object]],
                                                 record_property: Property) -> None:
    folder = tmp_path / "cassettes"
    with ProviderEmulator() as emu:
        names = sorted(calls(emu.base_url))
        with use_cassette(folder / "all.json", mode="once"):
            for name in names:
                resp, call = calls(emu.base_url)[name]
                emu.enqueue(resp)
                swallow(call)
    recording_calls = len(socket_calls)
    assert recording_calls > 0  # the watch works: recording really connected (to loopback)
    socket_calls.clear()

    # Replay with the SDKs' real default hosts: a request that escaped would go out.
    real = {"openai": "https://api.openai.com", "anthropic": "https://api.anthropic.com"}
    with use_cassette(folder / "all.json") as session:
        for name in names:
            _, call = calls_for_real_hosts(real)[name]
            swallow(call)
        # Other stacks are stopped before they reach a socket.
        with pytest.raises(NetworkBlockedError):
            socket.create_connection(("api.openai.com", 443), timeout=1)
        with pytest.raises(Exception) as info:
            urllib.request.urlopen("http://example.com/", timeout=1)
        assert isinstance(info.value, NetworkBlockedError) or isinstance(info.value.__cause__, NetworkBlockedError) \
            or "replaystream blocked" in str(info.value)
    assert session.unused() == []
    outside = [(e, a) for e, a in socket_calls if not _loopback(a)]
    assert outside == []
    assert socket_calls == []  # in fact, replay made no socket call at all
    record_property("socket_calls_watched", recording_calls)
    record_property("apis", len(names))


def calls_for_real_hosts(real: dict[str, str]) -> dict[str, tuple[ScriptedResponse, Callable[[], Any]]]:
    # Both providers' clients are built from one base; give each its real host.
    oai, ant = calls(real["openai"]), calls(real["anthropic"])
    return {name: (ant if name.startswith(("anthropic", "langchain.ChatAnthropic")) else oai)[name] for name in oai}


def _loopback(address: object) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, bytes):
        host = host.decode()
    return host in ("127.0.0.1", "::1", "localhost") or str(host).startswith("127.")
