"""The ``provider=`` option: whose a recorded request is when its path, headers and host do
not say (an emulator on loopback answers OpenAI, Azure and every gateway alike)."""

from __future__ import annotations

import json
from pathlib import Path

import openai
import pytest
from google import genai
from google.genai import types as genai_types

from replaystream import Cassette, ReplayOptions, use_cassette
from replaystream.emulator import ProviderEmulator, ScriptedResponse, gemini_stream, openai_chat_stream
from replaystream.options import OptionsError
from replaystream.providers import decide


def record_openai_format(path: Path, **options: object) -> Cassette:
    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(events=openai_chat_stream(["Hi"])))
        with use_cassette(path, mode="once", **options):  # type: ignore[arg-type]
            client = openai.OpenAI(base_url=emu.base_url + "/v1", api_key="sk-test-0000000000", max_retries=0)
            list(client.chat.completions.create(model="m", stream=True, messages=[{"role": "user", "content": "hi"}]))
    return Cassette.load(path)


@pytest.mark.parametrize(("option", "provider", "vendors"), [
    (None, "openai", None),
    ("openai-compatible", "openai-compatible", None),
    ("deepseek", "openai-compatible", {"openai-compatible": ["deepseek"]}),
    ("azure-openai", "azure-openai", None),
])
def test_on_loopback_the_option_decides(tmp_path: Path, option: str | None, provider: str,
                                        vendors: dict[str, list[str]] | None) -> None:
    cassette = record_openai_format(tmp_path / "c.json", provider=option)
    assert cassette.interactions[0].provider == provider
    assert cassette.meta.get("vendors") == vendors


def test_the_path_wins_over_the_option(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(events=gemini_stream(["Hi"])))
        with use_cassette(path, mode="once", provider="groq"):
            client = genai.Client(api_key="AIza-test", http_options=genai_types.HttpOptions(base_url=emu.base_url))
            list(client.models.generate_content_stream(model="gemini-2.0-flash", contents="hi"))
    assert Cassette.load(path).interactions[0].provider == "google"
    assert "vendors" not in json.loads(path.read_text())["meta"]


def test_the_real_host_wins_over_the_option() -> None:
    assert decide("/v1/chat/completions", {}, "api.openai.com", hint="groq").provider == "openai"
    assert decide("/openai/v1/chat/completions", {}, "api.groq.com", hint="mistral").vendor == "groq"
    assert decide("/v1/chat/completions", {}, "gateway.corp.example", hint="mistral") == \
        ("openai-compatible", "chat.completions", "gateway.corp.example")
    assert decide("/gateway/run", {}, None, hint="azure-openai") == ("azure-openai", "run", None)
    assert decide("/gateway/run", {}, None) == ("unknown", "unknown", None)


def test_an_unknown_provider_is_refused_with_the_closest_name() -> None:
    with pytest.raises(OptionsError) as info:
        ReplayOptions(provider="mistrall")
    assert "unknown provider 'mistrall': did you mean 'mistral'?" in str(info.value)
    with pytest.raises(OptionsError, match="provider"):
        use_cassette("x.json", provider="nobody")  # type: ignore[arg-type]


def test_the_replay_marker_takes_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_gateway="""
import openai, pytest
from replaystream.emulator import ProviderEmulator, ScriptedResponse, openai_chat_stream

EMU = ProviderEmulator().start()

@pytest.mark.replay(provider="groq")
def test_gateway():
    EMU.enqueue(ScriptedResponse(events=openai_chat_stream(["Hi"])))
    client = openai.OpenAI(base_url=EMU.base_url + "/openai/v1", api_key="gsk-test-000000000", max_retries=0)
    list(client.chat.completions.create(model="m", stream=True, messages=[{"role": "user", "content": "hi"}]))
""")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--replay-mode=once")
    result.assert_outcomes(passed=1)
    (saved,) = pytester.path.rglob("test_gateway.json")
    cassette = Cassette.load(saved)
    assert cassette.interactions[0].provider == "openai-compatible"
    assert cassette.meta["vendors"] == {"openai-compatible": ["groq"]}
