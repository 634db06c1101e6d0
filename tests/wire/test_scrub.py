"""Secrets are dropped or masked before anything is written, and the cassette says so."""

import pytest

from replaystream.cassette import Event, Interaction, Request, Response
from replaystream.wire.scrub import Scrubber


def interaction() -> Interaction:
    return Interaction(
        Request("POST", "/v1/chat/completions", query="api-key=abc&x=1",
                headers={"authorization": "Bearer sk-live-0123456789abcdef", "x-api-key": "k", "cookie": "c=1",
                         "anthropic-beta": "tools", "user-agent": "OpenAI/Python 3.57", "x-stainless-os": "Linux"},
                body={"messages": [{"content": "my key is sk-live-0123456789abcdef"}]}),
        Response(200, {"set-cookie": "s=1", "openai-organization": "org-1", "openai-project": "p",
                       "anthropic-organization-id": "o", "x-request-id": "req_1", "request-id": "req_2",
                       "content-type": "text/event-stream"},
                 events=[Event(b'data: {"echo": "sk-live-0123456789abcdef"}\n\n', 1.0)]),
        "openai", "chat.completions")


def test_default_scrub_drops_secret_headers_values_and_query(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live-0123456789abcdef")
    out = Scrubber()(interaction())
    assert out is not None
    assert out.request.headers == {"anthropic-beta": "tools"}
    assert set(out.response.headers) == {"content-type"}
    assert out.request.query == "api-key=<scrubbed:1>&x=1"  # masked in place, numbered as met
    assert out.request.body == {"messages": [{"content": f"my key is <scrubbed:2>"}]}
    assert out.response.events is not None and b"<scrubbed:2>" in out.response.events[0].raw
    assert "sk-live" not in repr(out)
    assert {"request.headers.authorization", "request.headers.cookie", "response.headers.set-cookie",
            "response.headers.openai-organization", "request.query.api-key",
            "request.body.messages[0].content", "response.events[0]"} <= set(out.scrubbed)


def test_hooks_can_change_or_skip() -> None:
    def redact(i: Interaction) -> Interaction:
        i.request.body = {"messages": "<pii removed>"}
        return i

    assert Scrubber(hooks=[redact])(interaction()).request.body == {"messages": "<pii removed>"}  # type: ignore[union-attr]
    assert Scrubber(hooks=[lambda i: None])(interaction()) is None


def test_extra_headers_and_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    i = interaction()
    i.request.headers["x-my-token"] = "t"
    out = Scrubber(extra_headers=["X-My-Token"], extra_values=["0123456789abcdef"])(i)
    assert out is not None and "x-my-token" not in out.request.headers
    assert "0123456789abcdef" not in repr(out)
