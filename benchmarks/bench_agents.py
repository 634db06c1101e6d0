"""What one streamed chunk costs in an agent's ``stream_mode="messages"``: replay vs the floor.

    python -m benchmarks --json --only agents

The same graph (``langchain``'s ``create_agent``, no tools: one model turn) streams a
10,000-chunk turn in ``messages`` mode around two chat models:

- ``replay``: :class:`ReplayChatModel` replaying the recorded turn (fresh chunk copies,
  deterministic ids), as an agent test runs it;
- ``floor``: a ``BaseChatModel`` whose ``_astream`` only wraps pre-built chunks in
  ``ChatGenerationChunk``: what LangChain and LangGraph themselves cost per chunk.

Rounds are interleaved (each round runs both, in a rotating order) and each keeps its
best round, so a slow moment of the shared machine hurts both alike. Target: replay
costs at most 1.2x the floor per chunk.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessageChunk

from replaystream.langchain.fakes import ReplayChatModel

try:
    from ._util import target
    from .bench_fakes import FloorChatModel
except ImportError:  # run as a script: python benchmarks/bench_agents.py
    from _util import target  # type: ignore[no-redef]
    from bench_fakes import FloorChatModel  # type: ignore[no-redef]

N_CHUNKS = 10_000
ROUNDS = 5
TARGET_VS_FLOOR = 1.2
QUESTION = {"messages": [{"role": "user", "content": "hello"}]}


def _agent(model: BaseChatModel) -> Any:
    from langchain.agents import create_agent

    return create_agent(model, [])


async def _stream_messages(graph: Any) -> tuple[float, int]:
    streamed = 0
    start = time.perf_counter()
    async for message, _meta in graph.astream(QUESTION, stream_mode="messages"):
        if isinstance(message, AIMessageChunk):
            streamed += 1
    return time.perf_counter() - start, streamed


def _time_messages(graph: Any) -> tuple[float, int]:
    """One run of ``graph.astream(..., stream_mode="messages")``: its seconds and model chunks.

    ``astream`` runs the graph on the event loop of this thread; the sync ``stream`` hands
    every part over from a worker thread, and on a shared machine that hand-over, not
    the chunks, dominates and varies."""
    return asyncio.run(_stream_messages(graph))


def _graphs(n: int) -> dict[str, Callable[[], Any]]:
    chunk_dicts: list[dict[str, Any]] = [{"content": "w "} for _ in range(n)]
    chunk_dicts[-1]["chunk_position"] = "last"
    replay = ReplayChatModel.from_chunks(chunk_dicts, cycle=True)
    floor_chunks = [AIMessageChunk(content="w ", id="floor") for _ in range(n)]
    floor_chunks[-1] = AIMessageChunk(content="w ", id="floor", chunk_position="last")
    replay_graph, floor_graph = _agent(replay), _agent(FloorChatModel(floor_chunks))
    return {"replay": lambda: replay_graph, "floor": lambda: floor_graph}


def run(n: int = N_CHUNKS, rounds: int = ROUNDS) -> dict[str, Any]:
    """Measure and return the per-chunk costs and their ratio (see the module docstring)."""
    graphs = _graphs(n)
    names = list(graphs)
    for name in names:  # warm-up: imports, first-call caches
        _time_messages(graphs[name]())
    best: dict[str, float] = {}
    counts: dict[str, int] = {}
    for r in range(rounds):
        for k in range(len(names)):
            name = names[(r + k) % len(names)]
            seconds, streamed = _time_messages(graphs[name]())
            counts[name] = streamed
            best[name] = min(best.get(name, float("inf")), seconds / streamed)
    ratio = best["replay"] / best["floor"]
    verdict = target(ratio, TARGET_VS_FLOOR)
    return {"chunks": counts, "rounds": rounds, "stream_mode": "messages",
            "us_per_chunk": {k: round(v * 1e6, 2) for k, v in best.items()},
            "replay_vs_floor": verdict, "met": verdict["met"]}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
