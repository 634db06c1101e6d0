"""What one streamed chunk costs under ``astream_events``: ReplayChatModel vs the rest.

    python -m benchmarks.bench_fakes

Three models stream about 10,000 chunks each through ``astream_events(version="v2")``:

- ``replay``: :class:`ReplayChatModel` (fresh chunk copies, deterministic ids);
- ``generic``: langchain-core's ``GenericFakeChatModel`` (whitespace-split text,
  one executor hop per chunk because it has no ``_astream``);
- ``floor``: a ``BaseChatModel`` whose ``_astream`` only wraps pre-built chunks in
  ``ChatGenerationChunk`` — what LangChain itself costs per chunk.

The three are run interleaved, three rounds, and each keeps its best round, so a
slow moment of the machine hurts all of them alike.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr

from replaystream.langchain.fakes import ReplayChatModel

N_CHUNKS = 10_000
ROUNDS = 3
TARGET_VS_GENERIC = 0.25
TARGET_VS_FLOOR = 1.2


class FloorChatModel(BaseChatModel):
    """The least a chat model can do per streamed chunk."""

    _chunks: list[AIMessageChunk] = PrivateAttr(default_factory=list)

    def __init__(self, chunks: list[AIMessageChunk], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._chunks = chunks

    @property
    def _llm_type(self) -> str:
        return "floor"

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: Any = None, **kwargs: Any) -> ChatResult:
        raise NotImplementedError

    async def _astream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                       run_manager: Any = None, **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
        for c in self._chunks:
            yield ChatGenerationChunk(message=c)


async def _time_events(model: BaseChatModel) -> tuple[float, int]:
    streamed = 0
    start = time.perf_counter()
    async for event in model.astream_events("hello", version="v2"):
        if event["event"] == "on_chat_model_stream":
            streamed += 1
    return time.perf_counter() - start, streamed


def _makers(n: int) -> dict[str, Callable[[], BaseChatModel]]:
    chunk_dicts: list[dict[str, Any]] = [{"content": "w "} for _ in range(n)]
    chunk_dicts[-1]["chunk_position"] = "last"
    replay = ReplayChatModel.from_chunks(chunk_dicts, cycle=True)
    text = " ".join(["w"] * (n // 2 + 1))  # split on whitespace into ~n chunks
    floor_chunks = [AIMessageChunk(content="w ") for _ in range(n)]
    return {
        "replay": lambda: replay,
        "generic": lambda: GenericFakeChatModel(messages=iter([AIMessage(content=text)])),
        "floor": lambda: FloorChatModel(floor_chunks),
    }


async def _run(n: int, rounds: int) -> dict[str, Any]:
    makers = _makers(n)
    best: dict[str, float] = {}
    counts: dict[str, int] = {}
    for _ in range(rounds):
        for name, make in makers.items():  # interleaved: every round runs all three
            seconds, streamed = await _time_events(make())
            per_chunk = seconds / streamed
            counts[name] = streamed
            best[name] = min(best.get(name, per_chunk), per_chunk)
    result: dict[str, Any] = {
        "chunks": counts,
        "rounds": rounds,
        "us_per_chunk": {k: round(v * 1e6, 2) for k, v in best.items()},
        "replay_vs_generic": round(best["replay"] / best["generic"], 3),
        "replay_vs_floor": round(best["replay"] / best["floor"], 3),
        # The floor bounds what any chat model can reach: replay_vs_generic cannot go
        # below this, whatever replay does.
        "floor_vs_generic": round(best["floor"] / best["generic"], 3),
        "target_vs_generic": TARGET_VS_GENERIC,
        "target_vs_floor": TARGET_VS_FLOOR,
    }
    result["meets_targets"] = (result["replay_vs_generic"] <= TARGET_VS_GENERIC
                               and result["replay_vs_floor"] <= TARGET_VS_FLOOR)
    return result


def run(n: int = N_CHUNKS, rounds: int = ROUNDS) -> dict[str, Any]:
    """Measure and return the per-chunk costs and ratios (see the module docstring)."""
    return asyncio.run(_run(n, rounds))


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
