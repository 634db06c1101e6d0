"""Concurrent replay: a burst of async streams and a pool of threads through one patched
transport each get their own recorded stream, whole and in order."""

import asyncio
import threading
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest

from replaystream import use_cassette
from replaystream.cassette import Cassette, Event, Interaction, Request, Response

pytestmark = pytest.mark.outcome("each stream to its own caller")

N = 64
EVENTS = 20


def stream_cassette(path: Path) -> Path:
    inters = []
    for i in range(N):
        events = [Event(f"data: {{\"stream\": {i}, \"n\": {k}}}\n\n".encode(), float(k)) for k in range(EVENTS)]
        inters.append(Interaction(Request("POST", "/v1/chat/completions", body={"stream": True, "i": i}),
                                  Response(200, {"content-type": "text/event-stream"}, events=events),
                                  "openai", "chat.completions"))
    Cassette(inters).save(path)
    return path


def expected(i: int) -> list[str]:
    return [f"data: {{\"stream\": {i}, \"n\": {k}}}\n\n" for k in range(EVENTS)]


async def test_burst_of_async_streams_each_reaches_its_caller(tmp_path: Path, record_property: Any) -> None:
    path = stream_cassette(tmp_path / "c.json")

    async def one(client: httpx2.AsyncClient, i: int) -> list[str]:
        async with client.stream("POST", "http://127.0.0.1:9/v1/chat/completions", json={"stream": True, "i": i}) as r:
            reads = []
            async for chunk in r.aiter_raw():
                reads.append(chunk.decode())
                await asyncio.sleep(0)  # let the other streams interleave
            return reads

    async with use_cassette(path) as session:
        async with httpx2.AsyncClient() as client:
            results = await asyncio.gather(*(one(client, i) for i in range(N)))
    assert results == [expected(i) for i in range(N)]
    assert session.unused() == []
    record_property("streams", len(results))


def test_threads_share_one_cassette_without_mixing(tmp_path: Path, record_property: Any) -> None:
    path = stream_cassette(tmp_path / "c.json")
    results: dict[int, list[str]] = {}
    errors: list[BaseException] = []

    def worker(ids: list[int]) -> None:
        try:
            with httpx.Client() as client:  # plain httpx is intercepted too
                for i in ids:
                    with client.stream("POST", "http://127.0.0.1:9/v1/chat/completions",
                                       json={"stream": True, "i": i}) as r:
                        results[i] = [c.decode() for c in r.iter_raw()]
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    with use_cassette(path) as session:
        threads = [threading.Thread(target=worker, args=(list(range(t, N, 8)),)) for t in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors
    assert results == {i: expected(i) for i in range(N)}
    assert session.unused() == []
    record_property("streams", len(results))
    record_property("threads", len(threads))


async def test_identical_concurrent_requests_take_distinct_responses(tmp_path: Path) -> None:
    inters = [Interaction(Request("POST", "/v1/x", body={"same": True}), Response(200, body=f"r{i}".encode()))
              for i in range(N)]
    Cassette(inters).save(tmp_path / "c.json")
    async with use_cassette(tmp_path / "c.json"):
        async with httpx2.AsyncClient() as client:
            bodies = await asyncio.gather(*(client.post("http://127.0.0.1:9/v1/x", json={"same": True}) for _ in range(N)))
    assert sorted(b.text for b in bodies) == sorted(f"r{i}" for i in range(N))
