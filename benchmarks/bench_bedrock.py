"""Bedrock replay cost: a 10,000-frame AWS event-stream through botocore, replaystream against
botocore's own parse floor.

Both go through the real ``boto3`` ``bedrock-runtime`` ``converse_stream`` and consume the
stream to the end, so each number includes botocore's signing, event-stream decoding (CRC
checks) and parsing of every frame; only what feeds the bytes in differs:

- ``floor``: a ``before-send`` event handler answers with the same frames, one read each,
  from memory; nothing is loaded.
- ``replaystream``: ``use_cassette`` (entering it loads the cassette) with a client whose
  endpoint (``127.0.0.1:9``) is never contacted.

The cassette is recorded for real from the emulator on loopback. Rounds are interleaved
and the best of each is kept (:func:`._util.best_of`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3

from replaystream.cassette import Cassette
from replaystream.emulator import ProviderEmulator, ScriptedResponse, bedrock_converse_stream
from replaystream.wire.session import use_cassette

from . import _util

MODEL = "us.amazon.nova-micro-v1:0"
MESSAGES = [{"role": "user", "content": [{"text": "Tell me a very long story about a lighthouse keeper."}]}]
DEAD_ENDPOINT = "http://127.0.0.1:9"  # discard port: nothing listens; replay must not connect
TARGETS = {"replay_vs_floor": 1.15}
_WORDS = (" Once", " upon", " a", " time", ",", " the", " keeper", " watched", " waves", " 🌊", " «quoted»", ".")


def make_frames(n: int) -> list[bytes]:
    """``n`` converse-stream frames: start, ``n - 4`` text deltas, block stop, message stop, metadata."""
    if n < 5:
        raise ValueError("a realistic stream needs at least 5 frames")
    chunks = [_WORDS[k % len(_WORDS)] for k in range(n - 4)]
    return bedrock_converse_stream(chunks).events or []


def expected_text(n: int) -> str:
    return "".join(_WORDS[k % len(_WORDS)] for k in range(n - 4))


class _Frames:
    """What botocore reads of a urllib3 response: one chunk per frame."""

    def __init__(self, frames: list[bytes]) -> None:
        self.frames = frames

    def stream(self, amt: int | None = None, decode_content: bool | None = None) -> Iterator[bytes]:
        yield from self.frames

    def close(self) -> None:
        pass


def client(endpoint: str) -> Any:
    return boto3.session.Session(aws_access_key_id="AKIABENCHMARK0000000", aws_secret_access_key="bench-secret",
                                 region_name="us-east-1").client("bedrock-runtime", endpoint_url=endpoint)


def floor_client(frames: list[bytes]) -> Any:
    """botocore fed from memory by its own ``before-send`` hook."""
    from botocore.awsrequest import AWSResponse

    c = client(DEAD_ENDPOINT)

    def answer(request: Any, **_: Any) -> Any:
        return AWSResponse(request.url, 200, {"content-type": "application/vnd.amazon.eventstream"}, _Frames(frames))

    c.meta.events.register("before-send.bedrock-runtime.ConverseStream", answer)
    return c


def consume(c: Any) -> tuple[str, int]:
    """Stream one answer to the end: (the text, how many events botocore yielded)."""
    parts: list[str] = []
    count = 0
    for event in c.converse_stream(modelId=MODEL, messages=MESSAGES)["stream"]:
        count += 1
        delta = event.get("contentBlockDelta")
        if delta:
            parts.append(delta["delta"]["text"])
    return "".join(parts), count


def record(path: Path, frames: list[bytes]) -> None:
    """Record the stream from the emulator with replaystream itself."""
    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(200, {"content-type": "application/vnd.amazon.eventstream"}, events=frames))
        with use_cassette(path, mode="once"):
            consume(client(emu.base_url))


def run(frames: int = 10_000, rounds: int = 7) -> dict[str, Any]:
    stream = make_frames(frames)
    want = (expected_text(frames), frames)
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bedrock.json"
        record(path, stream)
        assert [e.raw for e in Cassette.load(path).interactions[0].response.events or ()] == stream
        floor = floor_client(stream)
        replay = client(DEAD_ENDPOINT)

        def replayed() -> tuple[str, int]:
            with use_cassette(path, mode="none"):
                return consume(replay)

        def loaded() -> Cassette:
            return Cassette.load(path)

        assert consume(floor) == want and replayed() == want
        best = _util.best_of({"floor": lambda: consume(floor), "replaystream": replayed, "load": loaded}, rounds)
        size = path.stat().st_size
    ratio = best["replaystream"] / best["floor"]
    result = {
        "frames": frames,
        "cassette_bytes": size,
        "floor_ms": _util.ms(best["floor"]),
        "replaystream_load_ms": _util.ms(best["load"]),
        "replaystream_load_replay_ms": _util.ms(best["replaystream"]),
        "replay_vs_floor": _util.target(ratio, TARGETS["replay_vs_floor"]),
        "rounds": rounds,
    }
    result["met"] = result["replay_vs_floor"]["met"]
    return result
