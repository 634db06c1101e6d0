"""Wire-level replay cost: replaystream against the SDK's own parse floor and against vcrpy.

Everything goes through the real ``openai.OpenAI(...).chat.completions.create(stream=True)``
and is consumed to the end, so each number includes the SDK's SSE decoding and pydantic
parsing of every chunk; only what feeds the bytes in differs:

- ``floor``: ``httpx2.MockTransport`` hands the events over one read each; nothing is loaded.
- ``replaystream``: ``use_cassette`` (entering it loads the cassette) and a normal client
  whose base URL (``127.0.0.1:9``) is never contacted.
- ``vcrpy``: the same stream recorded by vcrpy itself from a loopback server, replayed by
  vcrpy (which hands the body over in one read).

Both cassettes are recorded for real, by the tools themselves, from the same loopback server.
Scaling replays every interaction of a large and a small cassette once each, in a shuffled
order, and compares the times.
"""

from __future__ import annotations

import json
import random
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2
import openai
from openai.types.chat import ChatCompletionMessageParam

from replaystream.cassette import Cassette
from replaystream.wire.session import use_cassette

from . import _util

MODEL = "gpt-4o-mini"
PROMPT: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": "Tell me a very long story about a lighthouse keeper."}]
DEAD_BASE_URL = "http://127.0.0.1:9/v1"  # discard port: nothing listens; replay must not connect
CREATED = 1764300000
SSE_HEADERS = {"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"}

TARGETS = {"replay_vs_floor": 1.15, "replay_vs_vcrpy": 1.0, "scaling": 12.0}

_WORDS = (" Once", " upon", " a", " time", ",", " the", " keeper", " of", " an", " old", " lighthouse",
          " watched", " waves", " break", " against", " rocks", ".", "\n\n", " She", " counted",
          " ships", " by", " their", " lights", ";", " none", " came", " close", " enough", " to", " wave",
          " 🌊", " «", "quoted", "»", " and", " \"escaped\"", " text", "!")


# -- the stream -------------------------------------------------------------------------
def _chunk(cid: str, choices: list[dict[str, Any]], **extra: Any) -> bytes:
    obj = {"id": cid, "object": "chat.completion.chunk", "created": CREATED, "model": MODEL,
           "system_fingerprint": "fp_560af6e559", "choices": choices, **extra}
    return b"data: " + json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n\n"


def make_events(n: int) -> list[bytes]:
    """``n`` SSE events shaped like OpenAI's: role chunk, content chunks, finish, usage, ``[DONE]``."""
    if n < 5:
        raise ValueError("a realistic stream needs at least 5 events")
    cid = "chatcmpl-AbC123dEf456GhI789jKl012MnO"
    content = n - 4
    events = [_chunk(cid, [{"index": 0, "delta": {"role": "assistant", "content": "", "refusal": None},
                            "logprobs": None, "finish_reason": None}])]
    for k in range(content):
        events.append(_chunk(cid, [{"index": 0, "delta": {"content": _WORDS[k % len(_WORDS)]},
                                    "logprobs": None, "finish_reason": None}]))
    events.append(_chunk(cid, [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]))
    events.append(_chunk(cid, [], usage={"prompt_tokens": 17, "completion_tokens": content,
                                         "total_tokens": 17 + content}))
    events.append(b"data: [DONE]\n\n")
    return events


def expected_text(n: int) -> str:
    return "".join(_WORDS[k % len(_WORDS)] for k in range(n - 4))


def consume(client: openai.OpenAI) -> tuple[str, int]:
    """Stream one completion to the end: (the text, how many chunks the SDK yielded)."""
    stream = client.chat.completions.create(model=MODEL, messages=PROMPT, stream=True,
                                            stream_options={"include_usage": True})
    parts: list[str] = []
    chunks = 0
    for chunk in stream:
        chunks += 1
        if chunk.choices and chunk.choices[0].delta.content:
            parts.append(chunk.choices[0].delta.content)
    return "".join(parts), chunks


def small_question(client: openai.OpenAI, i: int) -> str:
    reply = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": f"What is {i} + {i}?"}])
    return reply.choices[0].message.content or ""


def _small_answer(body: bytes) -> bytes:
    asked = json.loads(body)["messages"][0]["content"]
    n = int(asked.split()[2])
    return json.dumps({
        "id": f"chatcmpl-{n:08d}", "object": "chat.completion", "created": CREATED, "model": MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": str(2 * n), "refusal": None},
                     "logprobs": None, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 14, "completion_tokens": 1, "total_tokens": 15},
    }).encode()


# -- the floor: the SDK fed from memory ---------------------------------------------------
class _Events(httpx2.SyncByteStream):
    def __init__(self, events: list[bytes]) -> None:
        self.events = events

    def __iter__(self) -> Iterator[bytes]:
        yield from self.events  # one read per event, as a replay should give


def floor_client(events: list[bytes], one_read: bool = False) -> openai.OpenAI:
    """The SDK fed from memory; ``one_read`` joins the events first, as vcrpy's replay does."""
    chunks = [b"".join(events)] if one_read else events

    def handler(request: httpx2.Request) -> httpx2.Response:
        request.read()
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, stream=_Events(chunks))

    return openai.OpenAI(http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
                         base_url=DEAD_BASE_URL, api_key="x", max_retries=0)


# -- recording both cassettes from one loopback server -------------------------------------
def _server(events: list[bytes]) -> _util.Handler:
    def respond(h: Any) -> None:
        body = _util.read_body(h)
        if json.loads(body).get("stream"):
            h.send_response(200)
            for k, v in SSE_HEADERS.items():
                h.send_header(k, v)
            h.send_header("transfer-encoding", "chunked")
            h.end_headers()
            for ev in events:  # one write per event, like a provider flushing each chunk
                h.wfile.write(b"%x\r\n%s\r\n" % (len(ev), ev))
            h.wfile.write(b"0\r\n\r\n")
        else:
            payload = _small_answer(body)
            h.send_response(200)
            h.send_header("content-type", "application/json")
            h.send_header("content-length", str(len(payload)))
            h.end_headers()
            h.wfile.write(payload)
        h.wfile.flush()

    return respond


def _client(base: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=base, api_key="x", max_retries=0)


def _vcr(match_body: bool = False) -> Any:
    import vcr

    match_on = ["method", "scheme", "host", "port", "path", "query"] + (["body"] if match_body else [])
    return vcr.VCR(match_on=match_on, filter_headers=["authorization"])


def _record(folder: Path, events: list[bytes], sizes: list[int], vcr_sizes: list[int]) -> tuple[str, dict[str, Path]]:
    """Record every cassette the benchmark replays; returns the recording base URL and the paths."""
    paths: dict[str, Path] = {}
    with _util.loopback_server(_server(events)) as root:
        base = root + "/v1"
        client = _client(base)
        paths["rs_stream"] = folder / "rs_stream.json"
        with use_cassette(paths["rs_stream"], mode="all"):
            consume(client)
        paths["vcr_stream"] = folder / "vcr_stream.yaml"
        with _vcr().use_cassette(str(paths["vcr_stream"]), record_mode="all"):
            consume(client)
        for n in sizes:
            paths[f"rs_{n}"] = folder / f"rs_{n}.json"
            with use_cassette(paths[f"rs_{n}"], mode="all"):
                for i in range(n):
                    small_question(client, i)
        for n in vcr_sizes:
            paths[f"vcr_{n}"] = folder / f"vcr_{n}.yaml"
            with _vcr(match_body=True).use_cassette(str(paths[f"vcr_{n}"]), record_mode="all"):
                for i in range(n):
                    small_question(client, i)
        client.close()
    return base, paths


# -- replays ---------------------------------------------------------------------------------
def _rs_replay(path: Path, client: openai.OpenAI) -> Callable[[], tuple[str, int]]:
    def run() -> tuple[str, int]:
        with use_cassette(path):
            return consume(client)
    return run


def _vcr_replay(path: Path, client: openai.OpenAI) -> Callable[[], tuple[str, int]]:
    cassettes = _vcr()

    def run() -> tuple[str, int]:
        with cassettes.use_cassette(str(path), record_mode="none"):
            return consume(client)
    return run


def _vcr_load(path: Path) -> Callable[[], None]:
    cassettes = _vcr()

    def run() -> None:
        with cassettes.use_cassette(str(path), record_mode="none"):
            pass  # entering loads the cassette (and patches); nothing is requested
    return run


def _replay_all(n: int, order: list[int], client: openai.OpenAI, path: Path, vcrpy: bool) -> Callable[[], None]:
    cm: Callable[[], Any]
    if vcrpy:
        cassettes = _vcr(match_body=True)
        cm = lambda: cassettes.use_cassette(str(path), record_mode="none")
    else:
        cm = lambda: use_cassette(path)

    def run() -> None:
        with cm():
            for i in order:
                answer = small_question(client, i)
                if answer != str(2 * i):
                    raise AssertionError(f"interaction {i} replayed {answer!r}")
    return run


def _check(label: str, got: tuple[str, int], text: str, events: int) -> None:
    if got[0] != text:
        raise AssertionError(f"{label}: the streamed text differs from what was served")
    if got[1] != events - 1:  # every event but [DONE] is a chunk
        raise AssertionError(f"{label}: the SDK yielded {got[1]} chunks for {events} events")


def _reads(fn: Callable[[], Any]) -> list[int]:
    with _util.count_reads(httpx2) as counts:
        fn()
    return counts


def run(events: int = 10_000, large: int = 5_000, small: int = 500, rounds: int = 5,
        vcr_sizes: tuple[int, int] | None = (300, 60), scaling_rounds: int = 3) -> dict[str, Any]:
    """Run the wire benchmark and return its results (times in ms) with targets."""
    stream = make_events(events)
    text = expected_text(events)
    rng = random.Random(20261128)
    with tempfile.TemporaryDirectory(prefix="replaystream-bench-") as tmp:
        base, paths = _record(Path(tmp), stream, [large, small], list(vcr_sizes or ()))
        recorded = Cassette.load(paths["rs_stream"]).interactions[0].response.events or []
        if [e.raw for e in recorded] != stream:
            raise AssertionError("replaystream did not record the served events one for one")

        floor = floor_client(stream)
        one_read = floor_client(stream, one_read=True)
        rs_client = _client(DEAD_BASE_URL)
        vcr_client = _client(base)  # vcrpy matches on host and port; the server is gone by now
        contenders: dict[str, Callable[[], Any]] = {
            "floor": lambda: consume(floor),
            "floor_one_read": lambda: consume(one_read),
            "replaystream_load": lambda: Cassette.load(paths["rs_stream"]),
            "replaystream": _rs_replay(paths["rs_stream"], rs_client),
            "vcrpy_load": _vcr_load(paths["vcr_stream"]),
            "vcrpy": _vcr_replay(paths["vcr_stream"], vcr_client),
        }
        for name in ("floor", "floor_one_read", "replaystream", "vcrpy"):
            _check(name, contenders[name](), text, events)
        reads = {name: _reads(contenders[name]) for name in ("floor", "floor_one_read", "replaystream", "vcrpy")}
        best = _util.best_of(contenders, rounds)

        order_large = rng.sample(range(large), large)
        order_small = rng.sample(range(small), small)
        scale = {
            "large": _replay_all(large, order_large, rs_client, paths[f"rs_{large}"], vcrpy=False),
            "small": _replay_all(small, order_small, rs_client, paths[f"rs_{small}"], vcrpy=False),
        }
        scaled = _util.best_of(scale, scaling_rounds, warmup=0)
        if vcr_sizes:  # vcrpy scans every recorded request per request: kept small, two rounds
            vl, vs = vcr_sizes
            scaled.update(_util.best_of({
                "vcrpy_large": _replay_all(vl, rng.sample(range(vl), vl), vcr_client, paths[f"vcr_{vl}"], True),
                "vcrpy_small": _replay_all(vs, rng.sample(range(vs), vs), vcr_client, paths[f"vcr_{vs}"], True),
            }, 2, warmup=0))
        for c in (floor, one_read, rs_client, vcr_client):
            c.close()

    replay_vs_floor = best["replaystream"] / best["floor"]
    replay_vs_vcrpy = best["replaystream"] / best["vcrpy"]
    scaling_ratio = scaled["large"] / scaled["small"]
    boundaries = {
        "events": events,
        "floor_reads": reads["floor"],
        "floor_one_read_reads": reads["floor_one_read"],
        "replaystream_reads": reads["replaystream"],
        "vcrpy_reads": reads["vcrpy"],
        "kept": reads["replaystream"] == [events] and reads["floor"] == [events],
    }
    result: dict[str, Any] = {
        "stream": {
            "events": events,
            "bytes": sum(map(len, stream)),
            "rounds": rounds,
            "floor_ms": _util.ms(best["floor"]),
            # The same bytes in one read: what the SDK saves when boundaries are dropped.
            "floor_one_read_ms": _util.ms(best["floor_one_read"]),
            "replaystream_load_ms": _util.ms(best["replaystream_load"]),
            "replaystream_load_replay_ms": _util.ms(best["replaystream"]),
            "vcrpy_load_ms": _util.ms(best["vcrpy_load"]),
            "vcrpy_load_replay_ms": _util.ms(best["vcrpy"]),
            "replay_vs_floor": _util.target(replay_vs_floor, TARGETS["replay_vs_floor"]),
            "replay_vs_vcrpy": _util.target(replay_vs_vcrpy, TARGETS["replay_vs_vcrpy"]),
            "floor_vs_vcrpy": round(best["floor"] / best["vcrpy"], 3),
            "floor_vs_one_read": round(best["floor"] / best["floor_one_read"], 3),
        },
        "boundaries": boundaries,
        "scaling": {
            "interactions": [large, small],
            "rounds": scaling_rounds,
            "large_ms": _util.ms(scaled["large"]),
            "small_ms": _util.ms(scaled["small"]),
            "size_ratio": round(large / small, 2),
            "time_ratio": _util.target(scaling_ratio, TARGETS["scaling"]),
        },
    }
    if vcr_sizes:
        vl, vs = vcr_sizes
        result["scaling"]["vcrpy"] = {
            "interactions": [vl, vs],
            "match_on": "method, scheme, host, port, path, query, body",
            "large_ms": _util.ms(scaled["vcrpy_large"]),
            "small_ms": _util.ms(scaled["vcrpy_small"]),
            "size_ratio": round(vl / vs, 2),
            "time_ratio": round(scaled["vcrpy_large"] / scaled["vcrpy_small"], 3),
        }
    result["met"] = all(t["met"] for t in (result["stream"]["replay_vs_floor"], result["stream"]["replay_vs_vcrpy"],
                                           result["scaling"]["time_ratio"])) and boundaries["kept"]
    return result
