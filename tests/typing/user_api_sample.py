"""A user's code: every name in ``replaystream.__all__``, used through ``import replaystream``.

``test_public_api.py`` type-checks this file with ``mypy --strict`` (a public name typed
``object`` fails it), checks that it names everything in ``__all__``, and runs :func:`main`.
The file name has no ``test_`` prefix: pytest does not collect it.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

from langchain_core.documents import Document
from langchain_core.messages import BaseMessage
from langchain_core.runnables import Runnable, RunnableLambda
from langchain_core.tools import BaseTool, tool

import replaystream
from replaystream.cassette import EndState
from replaystream.faults import FaultKind

#: Everything a caller may want to catch, typed as the base class (mypy checks the claim).
REPLAY_FAILURES: tuple[type[replaystream.ReplayStreamError], ...] = (
    replaystream.CassetteError,
    replaystream.CassetteVersionError,
    replaystream.CassetteMissError,
    replaystream.CassetteExhaustedError,
    replaystream.NetworkBlockedError,
    replaystream.NoCassetteContextError,
    replaystream.RecordingError,
    replaystream.StrictMismatchError,
    replaystream.OptionsError,
    replaystream.ReplayExhaustedError,
    replaystream.EmbeddingMissError,
    replaystream.ToolReplayMissError,
    replaystream.ChunkFormatError,
    replaystream.PropagationError,
)


# -- the cassette format ---------------------------------------------------------------------
def write_cassette(folder: Path) -> Path:
    body = b'data: {"choices": []}\n\ndata: [DONE]\n\n'
    framer: replaystream.SSEFramer = replaystream.SSEFramer()
    raw_events: list[bytes] = framer.feed(body) + framer.finish()
    assert raw_events == replaystream.split_events(body)
    first: replaystream.SSEEvent = replaystream.parse_event(raw_events[0])
    assert first.data == '{"choices": []}'
    end: EndState = "complete"
    events: list[replaystream.Event] = [replaystream.Event(raw, ms=10.0 * n) for n, raw in enumerate(raw_events)]
    response = replaystream.Response(200, {"content-type": "text/event-stream"}, events=events, end=end)
    request = replaystream.Request("POST", "/v1/chat/completions", body={"model": "gpt-4o-mini", "stream": True})
    interaction: replaystream.Interaction = replaystream.Interaction(request, response, provider="openai",
                                                                     api="chat.completions")
    note: replaystream.Record = replaystream.Record("note", "greeting", {"text": "hello"})
    cassette = replaystream.Cassette([interaction], [note], meta={"source": "user_api_sample"})
    return cassette.save(folder / "chat.json")


def load_or_explain(path: Path) -> replaystream.Cassette | None:
    try:
        return replaystream.Cassette.load(path)
    except replaystream.CassetteVersionError as exc:
        print(f"{exc.path}: written by a newer replaystream")
    except replaystream.CassetteError as exc:
        print(f"damaged at {exc.position}: {exc.problem} ({exc.hint})")
    return None


# -- the wire: sessions, matching, scrubbing, the network guard ------------------------------
def replay_session(path: Path) -> list[int]:
    match = replaystream.MatchConfig(ignore_fields=("stream",), headers=("x-tenant",))
    scrub = replaystream.Scrubber(extra_headers=("x-trace-id",), extra_fields=("pin",), keep_fields=("session",))
    faults: list[str] = ["disconnect:after=0"]
    kind: FaultKind = "disconnect"
    assert faults[0].startswith(kind)
    options = replaystream.ReplayOptions(mode="none", match=match, scrub=scrub)
    context: replaystream.CassetteContext = replaystream.use_cassette(path, options, faults=faults)
    with context as session:
        active: replaystream.Session = session
    # Whose requests are, where an emulator on loopback answers for every OpenAI look-alike.
    with replaystream.use_cassette(path, mode="once", provider="groq"):
        pass
    return active.unused()


def network_is_blocked() -> bool:
    with replaystream.block_network():
        try:
            socket.create_connection(("203.0.113.1", 443), timeout=1)
        except replaystream.NetworkBlockedError:
            return True
    return False


# -- message-level fakes ---------------------------------------------------------------------
@tool
def search(query: str) -> str:
    """Look something up."""
    return f"results for {query}"


def fakes() -> tuple[str, list[Document], Any]:
    model: replaystream.ReplayChatModel = replaystream.ReplayChatModel.from_text("Polar bears| are| white.")
    message: BaseMessage = model.invoke("What color is a polar bear?")
    recorded: replaystream.RecordedResponse = replaystream.RecordedResponse.build([{"content": "Hi"}, {"content": "!"}])
    streamed = "".join(str(c.content) for c in replaystream.ReplayChatModel(responses=[recorded]).stream("hi"))
    assert streamed == "Hi!"
    agent_model: replaystream.ReplayChatModel = replaystream.ReplayChatModel.from_turns(
        [{"text": "Looking.", "tool_calls": [{"name": "search", "args": {"query": "bears"}}]}, "Found| it."])
    assert agent_model.invoke("find bears").tool_calls[0]["id"] == "call_0_0"

    embeddings: replaystream.ReplayEmbeddings = replaystream.ReplayEmbeddings.from_vectors(
        {"harrison worked at langchain": [1.0, 0.0], "harrison likes spicy food": [0.0, 1.0]})
    retriever: replaystream.FaissRetriever = replaystream.FaissRetriever.from_texts(
        ["harrison worked at langchain", "harrison likes spicy food"], embeddings, k=1)
    documents: list[Document] = retriever.invoke("harrison worked at langchain")

    wrapped: BaseTool = search
    recorder: replaystream.ReplayTool = replaystream.ReplayTool.wrap(wrapped, replaystream.Cassette(), mode="record")
    found: Any = recorder.invoke({"query": "polar bears"})
    return str(message.content), documents, found


# -- events, snapshots, propagation ----------------------------------------------------------
async def events() -> replaystream.RunTree:
    shout: Runnable[str, str] = RunnableLambda(lambda s: s.upper()).with_config(run_name="shout")
    collected: list[dict[str, Any]] = await replaystream.collect_events(shout, "hi")
    kept = replaystream.filter_events(collected, include_names=["shout"])
    normalized: list[dict[str, Any]] = replaystream.normalize_events(kept)
    plain: Any = replaystream.to_plain(normalized)
    assert isinstance(plain, list)
    text: str = replaystream.render_events(normalized)
    assert "shout" in text
    tree: replaystream.RunTree = replaystream.run_tree(collected)
    parts: list[dict[str, Any]] = replaystream.normalize_graph_stream([((), "custom", {"n": 1})])
    graph_text: str = replaystream.render_graph_stream(parts, metadata=True)
    assert graph_text.startswith("custom")
    try:
        return replaystream.assert_propagated(collected, expect_children={"shout": []})
    except replaystream.PropagationError:
        return tree


def check_events_snapshot(snapshot: Any, collected: list[dict[str, Any]]) -> None:
    """What a test with syrupy's ``snapshot`` fixture writes (not run by ``main``)."""
    assert replaystream.event_snapshot(snapshot) == collected
    assert snapshot.use_extension(replaystream.EventSnapshotExtension) == collected


def main(folder: Path) -> None:
    path = write_cassette(folder)
    assert load_or_explain(path) is not None
    assert replay_session(path) == [0]  # nothing asked for the recorded response
    assert network_is_blocked()
    text, documents, found = fakes()
    assert text == "Polar bears are white." and documents[0].page_content == "harrison worked at langchain"
    assert found == "results for polar bears"
    assert [n.name for n in asyncio.run(events()).detached] == ["shout"]
    failure: type[Exception] = REPLAY_FAILURES[0]
    assert issubclass(failure, replaystream.ReplayStreamError)
    assert replaystream.__version__
