"""The credential-name rule, what it leaves alone (model content), the forms a learned value
is searched in, and the real corpus streams, which scrubbing must not change."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from replaystream.cassette import Event, Interaction, Request, Response
from replaystream.importers import import_file
from replaystream.wire.scrub import Scrubber
from replaystream.wire.secrets import PROVIDER_KEY_PATTERN, SecretBook, is_credential_name, looks_random

SECRET = "k3y-0123456789-abcdef"


@pytest.mark.parametrize("name, where", [
    ("x-portkey-api-key", "header"), ("ocp-apim-subscription-key", "header"), ("helicone-auth", "header"),
    ("cf-aig-authorization", "header"), ("x-auth-token", "header"), ("X-Amz-Security-Token", "header"),
    ("apikey", "query"), ("token", "query"), ("subscription-key", "query"), ("sig", "query"), ("code", "query"),
    ("X-Amz-Signature", "query"), ("client_secret", "query"), ("api_key", "json"), ("apiKey", "json"),
    ("password", "json"), ("accessToken", "json"), ("refresh_token", "json"), ("session_id", "json"),
])
def test_credential_names(name: str, where: str) -> None:
    assert is_credential_name(name, where)  # type: ignore[arg-type]


@pytest.mark.parametrize("name, where", [
    ("max_tokens", "json"), ("input_tokens", "json"), ("maxOutputTokens", "json"), ("budget_tokens", "json"),
    ("prompt_cache_key", "json"), ("idempotency-key", "header"), ("token_type", "json"), ("signature", "json"),
    ("thoughtSignature", "json"), ("code", "json"), ("x-ratelimit-remaining-tokens", "header"),
    ("www-authenticate", "header"), ("author", "json"), ("monkey", "json"), ("public_key", "json"),
    ("anthropic-ratelimit-input-tokens-limit", "header"), ("token_count", "json"),
])
def test_names_that_are_not_credentials(name: str, where: str) -> None:
    assert not is_credential_name(name, where)  # type: ignore[arg-type]


def model_interaction() -> Interaction:
    """Model requests full of credential-looking names that are model content."""
    body = {
        "model": "claude-sonnet-4", "max_tokens": 1024, "prompt_cache_key": "cache-abcdefgh-1234",
        "thinking": {"type": "enabled", "budget_tokens": 512},
        "messages": [{"role": "assistant", "content": [
            {"type": "thinking", "thinking": "hmm", "signature": "EqQBCkgIARABGAIiQL" * 4},
            {"type": "tool_use", "id": "t1", "name": "login", "input": {"password": "hunter2-long-enough"}}]}],
        "contents": [{"parts": [{"text": "hi", "thoughtSignature": "CiQBVKhc7" * 6}]}],
        "tools": [{"name": "login", "input_schema": {"type": "object", "properties": {
            "password": {"type": "string"}, "api_key": {"type": "string", "description": "the key"}},
            "required": ["password"]}}],
    }
    events = [Event(b'event: content_block_delta\ndata: {"type":"signature_delta","signature":"EqQBCkgIARAB"}\n\n'),
              Event(b'data: {"usage":{"input_tokens":10,"output_tokens":3,"cache_read_input_tokens":0}}\n\n')]
    return Interaction(Request("POST", "/v1/messages", headers={"content-type": "application/json",
                                                               "idempotency-key": "stainless-retry-0123456789"},
                               body=body),
                       Response(200, {"content-type": "text/event-stream",
                                      "anthropic-ratelimit-tokens-remaining": "1000"}, events=events),
                       "anthropic", "messages")


def test_model_content_is_never_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    inter = model_interaction()
    out = Scrubber()(copy.deepcopy(inter))
    assert out is not None
    assert out.request.body == inter.request.body
    assert out.response.events == inter.response.events
    assert out.request.headers == inter.request.headers and out.response.headers == inter.response.headers
    assert out.scrubbed == []


def test_user_additions_and_exclusions() -> None:
    inter = Interaction(Request("POST", "/acme", query="pin=12345678&session=keep-me-please",
                                body={"pin": "87654321", "session": "keep-me-please"}), Response(200, body=b"{}"))
    out = Scrubber(extra_fields=["pin"], keep_fields=["session"], env_vars=())(inter)
    assert out is not None
    assert out.request.query == "pin=<scrubbed:1>&session=keep-me-please"
    assert out.request.body == {"pin": "<scrubbed:2>", "session": "keep-me-please"}


def test_basic_auth_reveals_the_password_which_is_masked_everywhere() -> None:
    basic = base64.b64encode(f"ada:{SECRET}".encode()).decode()
    inter = Interaction(Request("GET", "/x", headers={"authorization": f"Basic {basic}"}),
                        Response(200, body=f'{{"hello": "{SECRET}"}}'.encode()))
    out = Scrubber(env_vars=())(inter)
    assert out is not None and SECRET.encode() not in (out.response.body or b"")


def test_every_form_of_a_value_is_masked_by_its_own_placeholder() -> None:
    book = SecretBook()
    slashed = "s3cr/t+value=0123 x"
    quoted = slashed.replace("/", '"')
    book.learn_all([SECRET, "another-secret-value", slashed, quoted])
    raw = SECRET.encode()
    blobs = [base64.b64encode(lead + raw + b"tail").decode() for lead in (b"", b"a", b"ab")]
    for blob in blobs + [base64.urlsafe_b64encode(raw).decode(), quote(slashed, safe=""), quote_plus(slashed),
                         json.dumps(quoted)[1:-1]]:
        masked = book.mask_text(f"x {blob} y")
        assert "<scrubbed:" in masked, blob
    assert book.mask_text(f"{SECRET} another-secret-value {SECRET}") == "<scrubbed:1> <scrubbed:4> <scrubbed:1>"  # numbered as met
    assert book.mask_bytes(SECRET.encode()) == b"<scrubbed:1>"
    assert book.mask_text("<scrubbed:1>") == "<scrubbed:1>"  # placeholders are never learned again


def test_numbers_continue_after_the_cassettes_own() -> None:
    book = SecretBook(start=lambda: 7)
    assert book.placeholder_for(SECRET) == "<scrubbed:8>"


def test_check_patterns() -> None:
    for key in ("sk-proj-abcdefghijklmnopqrstuvwx", "sk-ant-api03-abcdefghijklmnopqrstuvwxyz", "AKIAABCDEFGHIJKLMNOP",
                "AIza" + "A" * 35, "ghp_" + "a1" * 18, "xoxb-1234567890-abcdef"):
        assert PROVIDER_KEY_PATTERN.search(f"x {key} y"), key
    assert looks_random("9f8e7d6c5b4a39281706f5e4d3c2b1a0") and not looks_random("hello-world-hello-world")
    assert not looks_random("<scrubbed:3>-padding-padding")


# -- the real corpus: scrubbing changes nothing in a model's stream --------------------------------
DATA = Path(__file__).resolve().parents[1] / "data"
CORPUS = sorted(p for folder in ("corpus", "corpus-providers") for p in (DATA / folder).rglob("*")
                if p.is_file() and p.name not in ("README.md", "MANIFEST.tsv"))


def test_the_corpus_is_all_here() -> None:
    assert len(CORPUS) >= 16


@pytest.mark.parametrize("src", CORPUS, ids=lambda p: f"{p.parent.parent.name}/{p.name[:40]}")
def test_scrubbing_leaves_corpus_streams_byte_identical(src: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-NotInTheCorpus0123456789")
    scrubbed = import_file(src)
    unscrubbed = import_file(src, scrub=lambda i: i)  # type: ignore[arg-type]
    assert len(scrubbed.interactions) == len(unscrubbed.interactions) > 0
    for got, want in zip(scrubbed.interactions, unscrubbed.interactions):
        assert got.response.events == want.response.events
        assert got.response.body == want.response.body
        assert got.request.body == want.request.body  # model requests: nothing looked like a credential
        assert got.request.query == want.request.query


def test_the_engine_scrubs_before_matching_for_every_front_end() -> None:
    """``replaystream serve`` asks the engine directly: a request with the real key matches
    the scrubbed recording (even one that dropped the key, as older versions did)."""
    from replaystream.errors import CassetteMissError
    from replaystream.wire.engine import Replay, ReplayEngine

    recorded = [Interaction(Request("GET", "/v1/models", query="apikey=<scrubbed:4>&page=2"), Response(200, body=b"a")),
                Interaction(Request("GET", "/v1/files", query="page=2"), Response(200, body=b"b"))]
    engine = ReplayEngine(recorded)
    assert isinstance(engine.plan(Request("GET", "/v1/models", query=f"apikey={SECRET}&page=2")), Replay)
    assert isinstance(engine.plan(Request("GET", "/v1/files", query=f"key={SECRET}&page=2")), Replay)
    with pytest.raises(CassetteMissError) as info:
        engine.plan(Request("GET", "/v1/models", query=f"apikey={SECRET}&page=3"))
    assert SECRET not in str(info.value) and "page" in str(info.value)
