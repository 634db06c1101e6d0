"""Deterministic faults on replay and while recording, met by the real SDKs and LangChain
integrations.

Each fault is compared with the same client against a provider that really fails that
way (the loopback emulator): same exception type, same point in the stream. Retries
reach the recorded stream; the cassette never changes. Recording under a fault shows the
client the same failure and records the provider's whole response, so the fault test
replays from its own cassette."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from langchain_anthropic import ChatAnthropic
from langchain_openai import ChatOpenAI

from replaystream import Cassette, use_cassette
from replaystream.emulator import (
    ProviderEmulator,
    ScriptedResponse,
    anthropic_error,
    anthropic_messages_stream,
    openai_chat_stream,
    openai_error,
)
from replaystream.cassette.model import Event
from replaystream.wire.faults import Fault, FaultedDelivery, FaultSpecError, disconnect_after, http_error, malform

TEXT = ["one", " two", " three", " four", " five", " six"]
Q = "count"


def events(provider: str) -> list[bytes]:
    if provider == "openai":
        return openai_chat_stream(TEXT)
    return anthropic_messages_stream(TEXT, ping=False)


# Each client returns the pieces of text it saw before it finished or failed.
def openai_sdk(base: str, retries: int, timeout: float | None = None) -> list[str]:
    client = openai.OpenAI(base_url=base + "/v1", api_key="sk-test", max_retries=retries, timeout=timeout)
    out: list[str] = []
    for c in client.chat.completions.create(model="gpt-4o-mini", stream=True, messages=[{"role": "user", "content": Q}]):
        if c.choices and c.choices[0].delta.content:
            out.append(c.choices[0].delta.content)
    return out


def anthropic_sdk(base: str, retries: int, timeout: float | None = None) -> list[str]:
    client = anthropic.Anthropic(base_url=base, api_key="sk-ant-test", max_retries=retries, timeout=timeout)
    out: list[str] = []
    for e in client.messages.create(model="claude-3-5-sonnet-latest", max_tokens=64, stream=True,
                                    messages=[{"role": "user", "content": Q}]):
        if e.type == "content_block_delta" and e.delta.type == "text_delta":
            out.append(e.delta.text)
    return out


def chat_openai(base: str, retries: int, timeout: float | None = None) -> list[str]:
    model = ChatOpenAI(model="gpt-4o-mini", base_url=base + "/v1", api_key="sk-test", max_retries=retries,
                       timeout=timeout)
    return [c.content for c in model.stream(Q) if c.content]  # type: ignore[misc]


def chat_anthropic(base: str, retries: int, timeout: float | None = None) -> list[str]:
    model = ChatAnthropic(model="claude-3-5-sonnet-latest", base_url=base, api_key="sk-ant-test",
                          max_retries=retries, default_request_timeout=timeout)
    return [c.content for c in model.stream(Q) if c.content]  # type: ignore[misc]


def chat_anthropic_async(base: str, retries: int, timeout: float | None = None) -> list[str]:
    async def run() -> list[str]:
        model = ChatAnthropic(model="claude-3-5-sonnet-latest", base_url=base, api_key="sk-ant-test",
                              max_retries=retries, default_request_timeout=timeout)
        return [c.content async for c in model.astream(Q) if c.content]  # type: ignore[misc]
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(run())
    finally:
        loop.close()


CLIENTS: dict[str, tuple[str, Callable[..., list[str]]]] = {
    "openai.OpenAI": ("openai", openai_sdk),
    "anthropic.Anthropic": ("anthropic", anthropic_sdk),
    "ChatOpenAI": ("openai", chat_openai),
    "ChatAnthropic": ("anthropic", chat_anthropic),
    "ChatAnthropic.astream": ("anthropic", chat_anthropic_async),
}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One recording per client (request bodies differ between SDK and integration)."""
    folder = tmp_path_factory.mktemp("faults")
    paths = {}
    with ProviderEmulator() as emu:
        for name, (provider, run) in CLIENTS.items():
            emu.enqueue(ScriptedResponse(events=events(provider)))
            paths[name] = folder / f"{name}.json"
            with use_cassette(paths[name], mode="once"):
                assert "".join(run(emu.base_url, 0)) == "".join(TEXT)
    return paths


def outcome(run: Callable[..., list[str]], *args: Any) -> tuple[list[str], type[BaseException] | None]:
    seen: list[str] = []
    try:
        seen = run(*args)
    except Exception as exc:  # the type is what is compared
        return seen, type(exc)
    return seen, None


def live(script: list[ScriptedResponse], run: Callable[..., list[str]], retries: int = 0,
         timeout: float | None = None) -> tuple[list[str], type[BaseException] | None]:
    with ProviderEmulator() as emu:
        for s in script:
            emu.enqueue(s)
        return outcome(run, emu.base_url, retries, timeout)


def replayed(path: Path, faults: list[Any], run: Callable[..., list[str]], retries: int = 0,
             timeout: float | None = None) -> tuple[list[str], type[BaseException] | None]:
    before = path.read_bytes()
    with use_cassette(path, faults=faults):
        result = outcome(run, "http://127.0.0.1:9", retries, timeout)
    assert path.read_bytes() == before  # a fault never changes the cassette
    return result


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_disconnect_after_event_k_fails_like_a_dropped_connection(recorded: dict[str, Path], client: str) -> None:
    provider, run = CLIENTS[client]
    k = 3
    expected = live([ScriptedResponse(events=events(provider), close_after=k)], run)
    got = replayed(recorded[client], [disconnect_after(k)], run)
    assert expected[1] is not None
    assert got == expected
    assert replayed(recorded[client], [f"disconnect:after={k}"], run) == got  # same failure every run


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_429_with_retry_after_then_the_recorded_stream(recorded: dict[str, Path], client: str) -> None:
    provider, run = CLIENTS[client]
    error = (openai_error(429, "Rate limit reached", "rate_limit_error") if provider == "openai"
             else anthropic_error(429, "rate_limit_error", "Rate limited"))
    error.headers["retry-after"] = "0.01"
    error.headers["retry-after-ms"] = "10"
    # without retries: the same exception the live 429 raises
    expected = live([error], run)
    assert expected[1] is not None
    assert replayed(recorded[client], [http_error(429, retry_after=0.01)], run) == expected
    # with retries: the retry reaches the recorded stream
    assert replayed(recorded[client], [http_error(429, retry_after=0.01)], run, 2) == (TEXT, None)


@pytest.mark.parametrize("status", [500, 529])
@pytest.mark.parametrize("client", ["anthropic.Anthropic", "ChatAnthropic", "openai.OpenAI"])
def test_server_errors_before_the_stream(recorded: dict[str, Path], client: str, status: int) -> None:
    provider, run = CLIENTS[client]
    error = (anthropic_error(status, "overloaded_error" if status == 529 else "api_error", "boom")
             if provider == "anthropic" else openai_error(status, "boom", "server_error"))
    expected = live([error], run)
    assert expected[1] is not None
    assert replayed(recorded[client], [f"status:{status}"], run) == expected
    fault = Fault("status", status=status, retry_after=0.01, times=2)
    assert replayed(recorded[client], [fault], run, 2) == (TEXT, None)  # two failures, then the stream


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_malformed_event_at_k(recorded: dict[str, Path], client: str) -> None:
    provider, run = CLIENTS[client]
    k = 3
    broken = list(events(provider))
    broken[k] = malform(broken[k])
    expected = live([ScriptedResponse(events=broken)], run)
    assert expected[1] is not None
    assert replayed(recorded[client], [f"malformed:at={k}"], run) == expected


@pytest.mark.parametrize("client", ["openai.OpenAI", "anthropic.Anthropic"])
def test_delay_before_event_k_trips_the_read_timeout(recorded: dict[str, Path], client: str) -> None:
    provider, run = CLIENTS[client]
    k = 2
    gaps = [0.0] * len(events(provider))
    gaps[k] = 600.0
    expected = live([ScriptedResponse(events=events(provider), gaps_ms=gaps)], run, 0, 0.2)
    assert expected[1] is not None
    assert replayed(recorded[client], [f"delay:at={k}:seconds=0.6"], run, 0, 0.2) == expected
    # a delay shorter than the timeout only slows the stream down
    assert replayed(recorded[client], [f"delay:at={k}:seconds=0.05"], run, 0, 0.2) == (TEXT, None)


def test_faults_from_the_marker(pytester: pytest.Pytester, recorded: dict[str, Path]) -> None:
    folder = pytester.path / "cassettes" / "test_m"
    folder.mkdir(parents=True)
    (folder / "stream.json").write_bytes(recorded["openai.OpenAI"].read_bytes())
    pytester.makepyfile(test_m="""
import httpx2, openai, pytest

def text(retries):
    client = openai.OpenAI(base_url="http://127.0.0.1:9/v1", api_key="sk-test", max_retries=retries)
    stream = client.chat.completions.create(model="gpt-4o-mini", stream=True,
                                            messages=[{"role": "user", "content": "count"}])
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

@pytest.mark.replay("stream", faults=["disconnect:after=2"])
def test_drop():
    with pytest.raises(openai.APIConnectionError):
        text(0)

@pytest.mark.replay("stream", faults=["status:429:retry_after=0.01"])
def test_retry():
    assert text(2) == "one two three four five six"
""")
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)


@pytest.mark.parametrize("spec,problem", [("explode", "unknown fault kind"), ("status:200", "error status"),
                                          ("delay:at=x", "not a number"), ("disconnect:when=3", "unknown field")])
def test_bad_fault_specs_are_typed_errors(spec: str, problem: str) -> None:
    with pytest.raises(FaultSpecError, match=problem):
        Fault.parse(spec)


# -- faults while recording: the client sees the fault, the cassette gets the whole stream --------
def live_fault(fault: str, provider: str) -> tuple[ScriptedResponse, float | None]:
    """The provider really failing as ``fault`` says, and the client's read timeout."""
    kind, k = fault.split(":")[0], 3
    if kind == "disconnect":
        return ScriptedResponse(events=events(provider), close_after=k), None
    if kind == "malformed":
        broken = list(events(provider))
        broken[k] = malform(broken[k])
        return ScriptedResponse(events=broken), None
    gaps = [0.0] * len(events(provider))
    gaps[2] = 600.0
    return ScriptedResponse(events=events(provider), gaps_ms=gaps), 0.2


FAULTS_WHILE_RECORDING = [(c, f) for c in sorted(CLIENTS) for f in ("disconnect:after=3", "malformed:at=3")] + [
    (c, "delay:at=2:seconds=0.6") for c in ("anthropic.Anthropic", "openai.OpenAI")]


@pytest.mark.parametrize("client,fault", FAULTS_WHILE_RECORDING)
def test_record_a_fault_test_from_scratch_then_replay_it(tmp_path: Path, client: str, fault: str) -> None:
    provider, run = CLIENTS[client]
    script, timeout = live_fault(fault, provider)
    expected = live([script], run, 0, timeout)
    assert expected[1] is not None
    path = tmp_path / "new.json"
    with ProviderEmulator() as emu:  # a healthy provider: the fault is replaystream's
        emu.enqueue(ScriptedResponse(events=events(provider)))
        with use_cassette(path, mode="once", faults=[fault]):
            assert outcome(run, emu.base_url, 0, timeout) == expected
    (inter,) = Cassette.load(path).interactions
    assert inter.response.end == "complete"  # recorded whole, past the point the client failed
    assert [e.raw for e in inter.response.events or []] == events(provider)
    assert replayed(path, [fault], run, 0, timeout) == expected  # the same failure from the cassette
    assert replayed(path, [], run, 0, timeout) == (TEXT, None)


@pytest.mark.parametrize("client", ["anthropic.Anthropic", "openai.OpenAI", "ChatOpenAI"])
def test_a_status_fault_never_reaches_the_provider_while_recording(tmp_path: Path, client: str) -> None:
    provider, run = CLIENTS[client]
    path = tmp_path / "new.json"
    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(events=events(provider)))
        with use_cassette(path, mode="once", faults=["status:429:retry_after=0.01"]):
            assert outcome(run, emu.base_url, 2) == (TEXT, None)  # the retry went upstream
        assert len(emu.requests) == 1
    assert [i.response.status for i in Cassette.load(path).interactions] == [200]
    assert replayed(path, ["status:429:retry_after=0.01"], run, 2) == (TEXT, None)
    # Without retries nothing reaches the provider, nothing is recorded, and replay (with no
    # cassette at all) answers with the same injected error.
    error = (openai_error(500, "boom", "server_error") if provider == "openai"
             else anthropic_error(500, "api_error", "boom"))
    expected = live([error], run)
    fresh = tmp_path / "fresh.json"
    with ProviderEmulator() as emu:
        with use_cassette(fresh, mode="once", faults=["status:500"]):
            assert outcome(run, emu.base_url, 0) == expected
        assert emu.requests == []
    assert not fresh.exists()
    with use_cassette(fresh, faults=["status:500"]):
        assert outcome(run, "http://127.0.0.1:9", 0) == expected


BODY = {"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": Q}]}


def read(base: str, stop_after: int | None = None) -> list[bytes]:
    """The raw events a client reads (one per read) until the stream fails or it stops reading."""
    got: list[bytes] = []
    with pytest.raises(httpx2.RemoteProtocolError) if stop_after is None else contextlib.nullcontext():
        with httpx2.stream("POST", base + "/v1/chat/completions", json=BODY) as response:
            for raw in response.iter_raw():
                got.append(raw)
                if len(got) == stop_after:
                    break
    return got


@pytest.mark.parametrize("k", [0, 1, 5])
def test_disconnect_after_k_delivers_exactly_k_events_in_both_modes(tmp_path: Path, k: int) -> None:
    path = tmp_path / "c.json"
    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(events=events("openai")))
        with use_cassette(path, mode="all", faults=[f"disconnect:after={k}"]):
            assert read(emu.base_url) == events("openai")[:k]
    with use_cassette(path, faults=[disconnect_after(k)]):
        assert read("http://127.0.0.1:9") == events("openai")[:k]


def test_the_recording_is_whole_however_the_client_stops(tmp_path: Path) -> None:
    stream = events("openai")
    with ProviderEmulator() as emu:
        # The client stops reading before the fault: closing the response reads the rest in.
        emu.enqueue(ScriptedResponse(events=stream))
        with use_cassette(tmp_path / "early.json", mode="once", faults=["malformed:at=5"]):
            assert read(emu.base_url, stop_after=2) == stream[:2]
        # The provider itself drops the connection after the fault: recorded as it happened.
        emu.enqueue(ScriptedResponse(events=stream, close_after=6))
        with use_cassette(tmp_path / "cut.json", mode="once", faults=["disconnect:after=2"]):
            assert read(emu.base_url) == stream[:2]
    (early,) = Cassette.load(tmp_path / "early.json").interactions
    assert early.response.end == "complete" and [e.raw for e in early.response.events or []] == stream
    (cut,) = Cassette.load(tmp_path / "cut.json").interactions
    assert cut.response.end == "error" and [e.raw for e in cut.response.events or []] == stream[:6]
    with use_cassette(tmp_path / "cut.json", faults=["disconnect:after=2"]):
        assert read("http://127.0.0.1:9") == stream[:2]
    with use_cassette(tmp_path / "cut.json"):  # without the fault: the provider's own failure
        assert read("http://127.0.0.1:9") == stream[:6]


def test_faulted_delivery_reads_everything_in_before_the_first_fault() -> None:
    stream = [Event(f'data: {{"n": {n}}}\n\n'.encode()) for n in range(5)]
    delivery = FaultedDelivery([Fault("malformed", at=1), Fault("delay", at=2, seconds=0.5),
                                Fault("disconnect", at=3)])
    steps = list(delivery.steps(stream))
    # None: "read the rest into the recording now", once, before the first faulted event.
    assert steps == [stream[0].raw, None, malform(stream[1].raw), 0.5, stream[2].raw]
    assert delivery.cut and malform(stream[1].raw) != stream[1].raw
    assert list(FaultedDelivery([]).steps(stream)) == [e.raw for e in stream]
