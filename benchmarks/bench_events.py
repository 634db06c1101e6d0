"""Cost of normalising + serialising an ``astream_events`` run, against the run itself.

A native-``_astream`` chat model yields ``n_chunks`` pre-built chunks into
``StrOutputParser``; the run's events are collected once per round, then
``normalize_events`` and ``render_events`` (what a snapshot assertion does) are timed on
them. Target: snapshotting costs at most 0.1x the run. Best of three, interleaved.

``python -m benchmarks.bench_events`` prints the result as JSON.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from replaystream.langchain.events import normalize_events
from replaystream.langchain.snapshot import render_events

from ._util import best_of, ms, target


class _PrebuiltModel(BaseChatModel):
    texts: list[str]

    @property
    def _llm_type(self) -> str:
        return "prebuilt"

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content="".join(self.texts)))])

    async def _astream(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None,
                       **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
        # Fresh message objects: astream stamps ids and metadata onto what it is given.
        for text in self.texts:
            yield ChatGenerationChunk(message=AIMessageChunk(content=text))


def run(n_chunks: int = 10000, rounds: int = 3) -> dict[str, Any]:
    chain = _PrebuiltModel(texts=[f"tok{i} " for i in range(n_chunks)]) | StrOutputParser()
    holder: dict[str, list[Any]] = {}

    async def collect() -> list[Any]:
        return [e async for e in chain.astream_events("go", version="v2")]

    def run_chain() -> None:
        holder["events"] = asyncio.run(collect())

    run_chain()
    events = holder["events"]

    def normalise() -> None:
        normalize_events(events)

    def snapshot_text() -> None:
        render_events(events)  # normalises, then one line per event

    best = best_of({"run": run_chain, "normalise": normalise, "normalise+serialise": snapshot_text},
                   rounds=rounds, warmup=0)
    n_events = len(events)
    return {
        "n_chunks": n_chunks,
        "n_events": n_events,
        "run_ms": ms(best["run"]),
        "normalise_ms": ms(best["normalise"]),
        "normalise_serialise_ms": ms(best["normalise+serialise"]),
        "us_per_event": round(best["normalise+serialise"] / n_events * 1e6, 2),
        "ratio_to_run": target(best["normalise+serialise"] / best["run"], 0.1),
        "snapshot_bytes": len(render_events(events).encode()),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
