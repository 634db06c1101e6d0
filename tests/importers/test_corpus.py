"""Conformance: every real provider stream in the shared corpus survives import and replay.

Each file is imported, written with ``Cassette.save``, read back, and replayed through
the real ``openai`` / ``anthropic`` SDK with ``use_cassette(mode="none")``. The SDK must
see the same events, in the same order, as the source file holds; the mid-stream
error streams must make it raise what it raises against the original bytes (fed to it
through ``httpx2.MockTransport``). Nothing may touch a socket.
"""

from __future__ import annotations

import csv
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import anthropic
import httpx2
import openai
import pytest
import yaml

from replaystream import Cassette
from replaystream.importers import import_file
from replaystream.wire.session import use_cassette
from replaystream.cassette.sse import parse_event, split_events

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"  # vendored: see its MANIFEST.tsv
NOT_RECORDINGS = {"README.md", "MANIFEST.tsv"}
FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name not in NOT_RECORDINGS)
SECRET_NAMES = ("cookie", "set-cookie", "openai-organization", "openai-project", "x-request-id")
#: Files with interactions whose stream carries a provider error, and how many.
ERROR_STREAMS = {"test_tool_use_failed_error_streaming.yaml": 1, "test_openrouter_stream_error.yaml": 1}

pytestmark = [
    # Recorded model names age: the SDK warns about retired models; that is not our concern.
    pytest.mark.filterwarnings("ignore:The model .* is deprecated:DeprecationWarning"),
]


def _id(p: Path) -> str:
    return f"{p.parent.name}/{p.name[:40]}"


# -- the source, read independently of the importer ------------------------------------
@dataclass
class SourceInteraction:
    method: str
    path: str
    query: str
    body: Any  # the JSON request body (synthesized for raw SSE files)
    response: bytes  # the response body exactly as the file holds it


def source_interactions(src: Path, imported: Cassette) -> list[SourceInteraction]:
    if src.suffix == ".bin":
        req = imported.interactions[0].request  # a raw body has no request: use the synthesized one
        return [SourceInteraction(req.method, req.path, req.query, req.body, src.read_bytes())]
    out = []
    for item in yaml.safe_load(src.read_text("utf-8"))["interactions"]:
        rq, rs = item["request"], item["response"]
        _, _, rest = rq["uri"].partition("://")
        path = "/" + rest.partition("/")[2]
        path, _, query = path.partition("?")
        out.append(SourceInteraction(rq["method"], path, query, rq["parsed_body"], rs["body"]["string"].encode()))
    return out


def data_payloads(body: bytes) -> list[Any]:
    """The JSON of every event the SDKs hand on: ``data:`` present, not ``[DONE]``, not a ping."""
    out = []
    for raw in split_events(body):
        ev = parse_event(raw)
        if not ev.data or ev.data.startswith("[DONE]") or ev.event == "ping":
            continue
        out.append(ev.json())
    return out


# -- driving the real SDKs -----------------------------------------------------------------
def _call_with(fn: Callable[..., Any], inter: SourceInteraction) -> Any:
    """Call a typed SDK method with the recorded request.

    Body fields the typed method does not know go through ``extra_body``, the query
    (e.g. anthropic's ``beta=true``, which current SDKs no longer add) through ``extra_query``.
    """
    params = inspect.signature(fn).parameters
    known = {k: v for k, v in inter.body.items() if k in params}
    extra = {k: v for k, v in inter.body.items() if k not in params}
    query = dict(parse_qsl(inter.query, keep_blank_values=True))
    return fn(**known, extra_body=extra or None, extra_query=query or None)


def _base(path: str, suffix: str) -> str:
    assert path.endswith(suffix), path
    return "http://127.0.0.1:9" + path[: -len(suffix)]


def run_sdk(inter: SourceInteraction, http_client: Any = None) -> tuple[list[Any], BaseException | None]:
    """One streamed call through the SDK: the events it yields (as JSON), and what it raised."""
    events: list[Any] = []
    kw: dict[str, Any] = {"api_key": "sk-test", "max_retries": 0}
    if http_client is not None:
        kw["http_client"] = http_client
    try:
        if inter.path.endswith("/messages"):
            ac = anthropic.Anthropic(base_url=_base(inter.path, "/v1/messages"), **kw)
            create = ac.beta.messages.create if "beta=true" in inter.query else ac.messages.create
            stream = _call_with(create, inter)
        elif inter.path.endswith("/responses"):
            oc = openai.OpenAI(base_url=_base(inter.path, "/responses"), **kw)
            stream = _call_with(oc.responses.create, inter)
        else:
            oc = openai.OpenAI(base_url=_base(inter.path, "/chat/completions"), **kw)
            stream = _call_with(oc.chat.completions.create, inter)
        with stream:
            for event in stream:
                events.append(event.model_dump(mode="json", exclude_unset=True))
    except (openai.OpenAIError, anthropic.AnthropicError) as exc:
        return events, exc
    return events, None


def baseline(inters: list[SourceInteraction]) -> list[tuple[list[Any], BaseException | None]]:
    """What the SDK makes of the original bytes, served by ``httpx2.MockTransport``."""
    results = []
    for inter in inters:
        def handler(request: httpx2.Request, body: bytes = inter.response) -> httpx2.Response:
            return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body)

        with httpx2.Client(transport=httpx2.MockTransport(handler)) as client:
            results.append(run_sdk(inter, client))
    return results


@pytest.fixture
def imported(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, Path, Cassette]:
    src: Path = request.param
    dest = tmp_path / (src.stem + ".json")
    import_file(src).save(dest)
    return src, dest, Cassette.load(dest)


# -- tests -------------------------------------------------------------------------------
def test_manifest_lists_exactly_the_files_present() -> None:
    with (CORPUS / "MANIFEST.tsv").open(newline="") as fh:
        listed = {row["local_path"] for row in csv.DictReader(fh, delimiter="\t")}
    assert listed == {str(p.relative_to(CORPUS)) for p in FILES}


@pytest.mark.parametrize("imported", FILES, ids=_id, indirect=True)
def test_import_is_byte_exact_and_scrubbed(imported: tuple[Path, Path, Cassette]) -> None:
    src, dest, cassette = imported
    inters = source_interactions(src, cassette)
    assert len(cassette.interactions) == len(inters)
    for n, (got, want) in enumerate(zip(cassette.interactions, inters)):
        assert got.response.events is not None, f"interaction {n} was not imported as a stream"
        assert b"".join(e.raw for e in got.response.events) == want.response, f"interaction {n}"
        assert all(e.ms == 0.0 for e in got.response.events)
        assert got.note and "timing was not recorded" in got.note
        assert (got.request.method, got.request.path, got.request.query) == (want.method, want.path, want.query)
        assert got.request.body == want.body and got.request.body["stream"] is True
    text = dest.read_text("utf-8").lower()
    for name in SECRET_NAMES:
        assert f'"{name}"' not in text and f"{name}:" not in text, f"{name} left in {dest.name}"
    assert "placeholder-cookie-value" not in text
    assert cassette.meta["source"] == src.name
    assert "imported from" in cassette.meta["note"]


@pytest.mark.parametrize("imported", FILES, ids=_id, indirect=True)
def test_replay_through_the_real_sdk(imported: tuple[Path, Path, Cassette], no_sockets: list[object]) -> None:
    src, dest, cassette = imported
    inters = source_interactions(src, cassette)
    expected = baseline(inters)
    with use_cassette(dest, mode="none") as session:
        replayed = [run_sdk(inter) for inter in inters]
    assert session.unused() == [], "every recorded interaction must be requested and replayed"
    errors = 0
    for n, (inter, (want_events, want_exc), (got_events, got_exc)) in enumerate(zip(inters, expected, replayed)):
        # The SDK saw the events the file holds, in order (an error event ends the stream).
        payloads = data_payloads(inter.response)
        assert got_events == payloads[: len(got_events)], f"interaction {n}"
        assert got_events == want_events, f"interaction {n}: replay differs from the original bytes"
        assert type(got_exc) is type(want_exc), f"interaction {n}: {got_exc!r} vs {want_exc!r}"
        if want_exc is None:
            assert len(got_events) == len(payloads), f"interaction {n}: the stream was cut short"
        else:
            errors += 1
            assert str(got_exc) == str(want_exc)
            assert len(got_events) == len(payloads) - 1  # all but the event that carried the error
    assert errors == ERROR_STREAMS.get(src.name, 0)


def test_error_streams_raise_the_sdk_api_error(tmp_path: Path, no_sockets: list[object]) -> None:
    """The two mid-stream errors, named: an ``event: error`` frame and an ``error`` chunk."""
    for name, message in [("test_tool_use_failed_error_streaming.yaml", "Tool call validation failed"),
                          ("test_openrouter_stream_error.yaml", "Token limit reached")]:
        src = CORPUS / "pydantic-ai" / name
        dest = tmp_path / f"{name}.json"
        import_file(src).save(dest)
        inter = source_interactions(src, Cassette.load(dest))[0]
        with use_cassette(dest, mode="none", allow_repeats=True):
            _, exc = run_sdk(inter)
        assert isinstance(exc, openai.APIError) and not isinstance(exc, openai.APIStatusError)
        assert message in str(exc)
        assert json.dumps(exc.body)  # the provider's error object is kept as the exception body
