"""Conformance for the providers beyond OpenAI and Anthropic: every real Gemini stream in
``tests/data/corpus-providers`` is imported, saved, read back and replayed through the real
``google-genai`` SDK with nothing on the network; the SDK sees the same responses, in the
same order, as when it is fed the file's original bytes through ``httpx2.MockTransport``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2
import pytest
import yaml
from google import genai
from google.genai import types as genai_types

from replaystream import Cassette
from replaystream.cassette.sse import parse_event
from replaystream.importers import import_file
from replaystream.providers import event_text
from replaystream.wire.session import use_cassette

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus-providers"  # see its MANIFEST.tsv
GEMINI_FILES = sorted(CORPUS.rglob("test_google_*.yaml"))
ROUTE = "/v1beta/models/"


def test_every_gemini_file_is_found() -> None:
    assert [p.name for p in GEMINI_FILES] == ["test_google_model_stream.yaml",
                                               "test_google_model_web_search_tool_stream.yaml"]


def original_bodies(path: Path) -> list[bytes]:
    """The response bodies exactly as the file holds them."""
    doc = yaml.safe_load(path.read_text())
    out = []
    for item in doc["interactions"]:
        response = item["response"]
        out.append(json.dumps(response["parsed_body"]).encode() if "parsed_body" in response
                   else response["body"]["string"].encode())
    return out


def call(client: genai.Client, inter_path: str, stream: bool) -> list[dict[str, Any]]:
    """What the SDK hands the caller for one recorded route (the model is in the path)."""
    model = inter_path.split("/models/", 1)[1].split(":", 1)[0]
    if stream:
        chunks = list(client.models.generate_content_stream(model=model, contents="replayed"))
    else:
        chunks = [client.models.generate_content(model=model, contents="replayed")]
    return [c.model_dump(exclude_none=True, exclude={"sdk_http_response"}) for c in chunks]


def client_for(base: str, transport: httpx2.MockTransport | None = None) -> genai.Client:
    options = genai_types.HttpOptions(base_url=base, api_version="v1beta",
                                      httpx_client=httpx2.Client(transport=transport) if transport else None)
    return genai.Client(api_key="AIza-corpus-replay", http_options=options)


@pytest.mark.parametrize("path", GEMINI_FILES, ids=lambda p: p.name)
def test_gemini_file_imports_and_replays_through_the_sdk(path: Path, tmp_path: Path,
                                                         no_sockets: list[object]) -> None:
    imported = import_file(path)
    saved = imported.save(tmp_path / "c.json")
    cassette = Cassette.load(saved)
    assert [i.provider for i in cassette.interactions] == ["google"] * len(cassette.interactions)
    bodies = original_bodies(path)
    for inter, body in zip(cassette.interactions, bodies, strict=True):
        stream = inter.api == "streamGenerateContent"
        assert (inter.response.events is not None) == stream
        assert inter.response.content() == body  # every byte, CRLF framing included
        # The SDK fed the original bytes (no replaystream) is the reference.
        served = iter([body])
        reference = call(client_for("http://corpus.invalid", httpx2.MockTransport(
            lambda request: httpx2.Response(200, headers=inter.response.headers, content=next(served)))),
            inter.request.path, stream)
        with use_cassette(saved, match={"body": False}) as session:  # the corpus's prompts are not ours
            replayed = call(client_for("http://127.0.0.1:9"), inter.request.path, stream)
        assert replayed == reference
        assert session.unused() == [n for n in range(len(cassette.interactions)) if cassette.interactions[n] is not inter]
        if stream:
            events = inter.response.events or []
            assert len(replayed) == len(events)
            texts = [event_text("google", inter.api, parse_event(e.raw).json()) for e in events]
            assert texts == ["".join(p.get("text", "") for p in (r["candidates"][0].get("content") or {}).get("parts", [])
                                     if not p.get("thought")) for r in replayed]
            assert [r["response_id"] for r in replayed] == [parse_event(e.raw).json()["responseId"] for e in events]
