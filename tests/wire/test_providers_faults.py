"""Faults on Gemini and Azure recordings meet google-genai, ChatGoogleGenerativeAI and
AzureChatOpenAI as a provider that really fails that way does (the loopback emulator):
the same exception type after the same text."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from google import genai
from google.genai import types as genai_types
from langchain_google_genai import ChatGoogleGenerativeAI
from langchain_openai import AzureChatOpenAI

from replaystream import use_cassette
from replaystream.emulator import ProviderEmulator, ScriptedResponse, gemini_error, gemini_stream, openai_chat_stream
from replaystream.emulator.scripts import openai_error
from replaystream.wire.faults import malform

TEXT = ["one", " two", " three", " four", " five", " six"]


def genai_sdk(base: str, retries: int) -> list[str]:
    options = genai_types.HttpOptions(base_url=base, retry_options=genai_types.HttpRetryOptions(attempts=retries + 1))
    client = genai.Client(api_key="AIza-test", http_options=options)
    return [c.text for c in client.models.generate_content_stream(model="gemini-2.0-flash", contents="count")
            if c.text]


def chat_google(base: str, retries: int) -> list[str]:
    model = ChatGoogleGenerativeAI(model="gemini-2.0-flash", api_key="AIza-test", base_url=base, max_retries=retries)
    return [c.content for c in model.stream("count") if c.content]  # type: ignore[misc]


def chat_azure(base: str, retries: int) -> list[str]:
    model = AzureChatOpenAI(azure_endpoint=base, azure_deployment="dep", api_version="2024-10-21", api_key="k-test",
                            max_retries=retries)
    return [c.content for c in model.stream("count") if c.content]  # type: ignore[misc]


CLIENTS: dict[str, tuple[str, Callable[[str, int], list[str]]]] = {
    "genai.Client": ("google", genai_sdk), "ChatGoogleGenerativeAI": ("google", chat_google),
    "AzureChatOpenAI": ("azure-openai", chat_azure)}


def events(provider: str) -> list[bytes]:
    return gemini_stream(TEXT) if provider == "google" else openai_chat_stream(TEXT)


def error(provider: str, status: int) -> ScriptedResponse:
    return gemini_error(status, "Resource exhausted", "RESOURCE_EXHAUSTED") if provider == "google" else \
        openai_error(status, "Rate limit reached", "rate_limit_error")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("faults")
    paths = {}
    with ProviderEmulator() as emu:
        for name, (provider, run) in CLIENTS.items():
            emu.enqueue(ScriptedResponse(events=events(provider)))
            paths[name] = folder / f"{name}.json"
            with use_cassette(paths[name], mode="once"):
                assert "".join(run(emu.base_url, 0)) == "".join(TEXT)
    return paths


def outcome(run: Callable[[str, int], list[str]], base: str, retries: int) -> tuple[list[str], Any]:
    seen: list[str] = []
    try:
        seen = run(base, retries)
    except Exception as exc:  # the type is what is compared (and Google's error status)
        return seen, (type(exc), getattr(exc, "status", None))
    return seen, None


def live(script: ScriptedResponse, run: Callable[[str, int], list[str]]) -> tuple[list[str], Any]:
    with ProviderEmulator() as emu:
        emu.enqueue(script)
        return outcome(run, emu.base_url, 0)


def replayed(path: Path, faults: list[str], run: Callable[[str, int], list[str]], retries: int = 0
             ) -> tuple[list[str], Any]:
    before = path.read_bytes()
    with use_cassette(path, faults=faults):
        result = outcome(run, "http://127.0.0.1:9", retries)
    assert path.read_bytes() == before
    return result


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_disconnect_after_unit_k(recorded: dict[str, Path], client: str) -> None:
    provider, run = CLIENTS[client]
    expected = live(ScriptedResponse(events=events(provider), close_after=3), run)
    assert expected[1] is not None
    assert replayed(recorded[client], ["disconnect:after=3"], run) == expected


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_malformed_unit_at_k(recorded: dict[str, Path], client: str) -> None:
    provider, run = CLIENTS[client]
    broken = list(events(provider))
    broken[2] = malform(broken[2])
    expected = live(ScriptedResponse(events=broken), run)
    assert expected[1] is not None
    assert replayed(recorded[client], ["malformed:at=2"], run) == expected


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_status_fault_is_the_providers_own_error(recorded: dict[str, Path], client: str) -> None:
    provider, run = CLIENTS[client]
    expected = live(error(provider, 429), run)
    assert expected[1] is not None
    assert replayed(recorded[client], ["status:429"], run) == expected
