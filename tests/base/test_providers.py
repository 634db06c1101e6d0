"""The provider registry: detection, look-alikes by host, and a provider registered later
seen by everything that reads the registry (scrubbing, cassette loading, chat APIs)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from replaystream import Cassette, CassetteError
from replaystream import providers
from replaystream.cassette import Event, Interaction, Request, Response
from replaystream.cassette.model import FORMAT_META
from replaystream.langchain.fakes.wire import CHAT_APIS
from replaystream.providers import Provider, by_name, detect, event_text
from replaystream.review.checks import check_file
from replaystream.wire.scrub import Scrubber, secret_env_vars, secret_headers, secret_query_keys


@pytest.mark.parametrize(("path", "headers", "host", "expected"), [
    ("/v1/chat/completions", {}, None, ("openai", "chat.completions")),
    ("/v1/completions", {}, None, ("openai", "completions")),
    ("/v1/responses/", {}, None, ("openai", "responses")),
    ("/v1/messages", {}, None, ("anthropic", "messages")),
    ("/v1/messages/count_tokens", {}, None, ("anthropic", "count_tokens")),
    ("/v1/models", {"anthropic-version": "2023-06-01"}, None, ("anthropic", "models")),
    ("/v1/chat/completions", {"anthropic-version": "2023-06-01"}, None, ("anthropic", "completions")),
    ("/health", {}, None, ("unknown", "unknown")),
    # The host tells OpenAI from the servers that speak its format.
    ("/v1/chat/completions", {}, "api.openai.com", ("openai", "chat.completions")),
    ("/v1/chat/completions", {}, "eu.api.openai.com", ("openai", "chat.completions")),
    ("/openai/deployments/x/chat/completions", {}, "me.openai.azure.com", ("azure-openai", "chat.completions")),
    ("/openai/deployments/x/chat/completions", {}, "127.0.0.1", ("azure-openai", "chat.completions")),
    ("/v1/chat/completions", {"api-key": "k"}, "127.0.0.1", ("azure-openai", "chat.completions")),
    ("/openai/v1/responses", {}, "me.openai.azure.com", ("azure-openai", "responses")),
    ("/v1beta/models/gemini-2.0-flash:streamGenerateContent", {}, None, ("google", "streamGenerateContent")),
    ("/v1/models/gemini-2.0-flash:generateContent", {}, "127.0.0.1", ("google", "generateContent")),
    ("/v1beta/models/text-embedding-004:batchEmbedContents", {}, None, ("google", "batchEmbedContents")),
    ("/v1beta/openai/chat/completions", {}, "generativelanguage.googleapis.com",
     ("openai-compatible", "chat.completions")),
    ("/api/chat", {}, "127.0.0.1", ("ollama", "chat")),
    ("/api/embed", {}, None, ("ollama", "embed")),
    ("/v1/chat/completions", {}, "127.0.0.1", ("openai", "chat.completions")),
    ("/v1/chat/completions", {}, "", ("openai", "chat.completions")),
    ("/openai/v1/chat/completions", {}, "api.groq.com", ("openai-compatible", "chat.completions")),
    ("/v1/embeddings", {}, "llm.internal.example", ("openai-compatible", "embeddings")),
    ("/v1/messages", {}, "anthropic-proxy.example", ("anthropic", "messages")),  # no look-alike: stays
])
def test_detect(path: str, headers: dict[str, str], host: str | None, expected: tuple[str, str]) -> None:
    assert detect(path, headers, host) == expected


def test_built_in_records_hold_what_used_to_be_spread_around() -> None:
    openai, anthropic = by_name("openai"), by_name("anthropic")
    assert openai is not None and anthropic is not None
    assert {"OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "GOOGLE_API_KEY",
            "GEMINI_API_KEY", "AZURE_OPENAI_API_KEY", "GROQ_API_KEY", "MISTRAL_API_KEY", "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} <= set(secret_env_vars())
    assert secret_headers() == {
        "authorization", "proxy-authorization", "x-api-key", "api-key", "x-goog-api-key", "cookie", "set-cookie",
        "openai-organization", "openai-project", "anthropic-organization-id",
        "x-request-id", "request-id", "openai-request-id", "x-amzn-requestid", "cf-ray",
        "apim-request-id", "x-ms-client-request-id",
        "x-amz-security-token", "x-amz-date", "x-amz-content-sha256", "amz-sdk-invocation-id", "amz-sdk-request",
        "x-amzn-bedrock-invocation-latency", "x-amzn-bedrock-output-token-count", "x-amzn-bedrock-input-token-count"}
    assert secret_query_keys() == {"api-key", "api_key", "key", "access_token"}
    assert anthropic.integration is not None and anthropic.integration.name == "ChatAnthropic"
    assert set(CHAT_APIS) == {("anthropic", "messages"), ("openai", "chat.completions"), ("openai", "responses"),
                              ("openai-compatible", "chat.completions"), ("azure-openai", "chat.completions"),
                              ("azure-openai", "responses"), ("google", "streamGenerateContent"),
                              ("google", "generateContent"), ("ollama", "chat"), ("bedrock", "converse-stream"),
                              ("bedrock", "converse")}
    assert providers.names() == ("openai", "anthropic", "openai-compatible", "azure-openai", "google", "ollama",
                                 "bedrock", "unknown")


def test_event_text_per_provider() -> None:
    assert event_text("anthropic", "messages", {"type": "content_block_delta", "delta": {"text": "hi"}}) == "hi"
    assert event_text("openai", "responses", {"type": "response.output_text.delta", "delta": "yo"}) == "yo"
    chunk = {"choices": [{"delta": {"content": "ok"}}]}
    assert event_text("openai-compatible", "chat.completions", chunk) == "ok"
    assert event_text("unknown", "unknown", chunk) == "ok"  # most providers share this format
    assert event_text("anthropic", "messages", "[DONE]") == ""


ACME = Provider(
    "acme", paths=(("/v2/generate", "generate"),), headers=("acme-version",),
    key_env_vars=("ACME_API_KEY",), credential_headers=("acme-key",), id_headers=("acme-trace",),
    secret_query=("acme_token",),
    event_text=lambda api, data: str(data.get("piece", "")) if isinstance(data, dict) else "",
)


@pytest.fixture
def acme() -> Iterator[Provider]:
    providers.register(ACME)
    yield ACME
    providers.unregister("acme")


def test_a_registered_provider_is_detected_and_scrubbed(acme: Provider, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_API_KEY", "acme-secret-0123456789")
    assert detect("/v2/generate", {}) == ("acme", "generate")
    assert detect("/v1/chat/completions", {"acme-version": "1"}) == ("acme", "completions")  # newest first
    assert "ACME_API_KEY" in secret_env_vars() and "acme-key" in secret_headers()
    inter = Interaction(
        Request("POST", "/v2/generate", query="acme_token=t0k3n&x=1",
                headers={"acme-key": "acme-header-secret-42", "content-type": "application/json"},
                body={"prompt": "my key is acme-secret-0123456789"}),
        Response(200, {"acme-trace": "tr-1", "content-type": "text/event-stream"},
                 events=[Event(b'data: {"echo": "acme-header-secret-42"}\n\n', 1.0)]),
        "acme", "generate")
    out = Scrubber()(inter)
    assert out is not None
    assert out.request.headers == {"content-type": "application/json"}
    assert out.response.headers == {"content-type": "text/event-stream"}
    assert out.request.query == "acme_token=<scrubbed:1>&x=1"  # the value masked in place: replay still matches
    assert out.request.body == {"prompt": "my key is <scrubbed:2>"}  # each value its own placeholder
    assert out.response.events is not None and out.response.events[0].raw == b'data: {"echo": "<scrubbed:3>"}\n\n'
    assert {"request.headers.acme-key", "response.headers.acme-trace", "request.query.acme_token"} <= set(out.scrubbed)


def test_a_registered_provider_is_known_to_cassettes_and_checks(acme: Provider, tmp_path: Path) -> None:
    path = tmp_path / "acme.json"
    Cassette([Interaction(Request("POST", "/v2/generate", headers={"acme-key": "k"}), Response(200, body=b"{}"),
                          "acme", "generate")]).save(path)
    assert Cassette.load(path).interactions[0].provider == "acme"
    findings = check_file(path)
    assert [f.where for f in findings] == ["interactions[0].request.headers.acme-key"]
    providers.unregister("acme")
    with pytest.raises(CassetteError, match="unknown provider 'acme'"):
        Cassette.load(path)


def test_register_refuses_a_taken_name_unless_replacing(acme: Provider) -> None:
    with pytest.raises(ValueError, match="already registered"):
        providers.register(Provider("acme"))
    with pytest.raises(ValueError, match="cannot be named"):
        providers.register(Provider("unknown"))
    replaced = providers.register(Provider("acme", paths=(("/v3/go", "go"),)), replace=True)
    assert by_name("acme") is replaced and detect("/v3/go", {}) == ("acme", "go")


def test_chat_apis_follow_the_registry(acme: Provider) -> None:
    assert ("acme", "generate") not in CHAT_APIS  # no integration parses its streams
    chatty = Provider("chatty", paths=(("/chat", "chat"),),
                      integration=providers.ChatIntegration("langchain_openai", "ChatOpenAI", ("chat",), "openai"))
    providers.register(chatty)
    try:
        assert ("chatty", "chat") in CHAT_APIS and ("chatty", "other") not in CHAT_APIS
        assert providers.chat_integration("chatty", "chat") is chatty.integration
    finally:
        providers.unregister("chatty")
    assert ("chatty", "chat") not in CHAT_APIS


def test_the_shipped_cassettes_still_load_and_save_byte_identically() -> None:
    shipped = sorted((Path(providers.__file__).parent / "tutorial" / "cassettes").glob("*.json"))
    assert shipped
    for path in shipped:
        assert Cassette.load(path).dumps() == path.read_text("utf-8")
        assert json.loads(path.read_text("utf-8"))["meta"]["format"] == FORMAT_META
