"""Stream framings: every framing splits a body into units that join back to the same bytes."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
import yaml

from replaystream.cassette import eventstream
from replaystream.cassette.framing import EVENTSTREAM, NDJSON, SSE, by_content_type, by_name

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus-providers" / "pydantic-ai"


def bedrock_bodies() -> list[bytes]:
    bodies = []
    for path in sorted(CORPUS.glob("test_bedrock_*.yaml")):
        doc = yaml.load(path.read_text("utf-8"), Loader=yaml.SafeLoader)
        for item in doc["interactions"]:
            body = item["response"]["body"]["string"]
            bodies.append(body if isinstance(body, bytes) else base64.b64decode(body))
    return bodies


@pytest.mark.parametrize("content_type, name", [
    ("text/event-stream; charset=utf-8", "sse"), ("application/x-ndjson", "ndjson"),
    ("application/vnd.amazon.eventstream", "eventstream"), ("application/json", None), (None, None)])
def test_framing_is_chosen_by_content_type(content_type: str | None, name: str | None) -> None:
    found = by_content_type(content_type)
    assert (found.name if found else None) == name


def test_real_bedrock_streams_split_into_valid_frames_that_join_back() -> None:
    bodies = bedrock_bodies()
    assert bodies
    for body in bodies:
        frames = EVENTSTREAM.split(body)
        assert b"".join(frames) == body and len(frames) > 3
        views = [EVENTSTREAM.view(f) for f in frames]
        assert all(v.ok for v in views)
        assert views[0].name == "messageStart" and views[-1].name == "metadata"
        assert "usage" in views[-1].data


@pytest.mark.parametrize("size", [1, 3, 17, 1000])
def test_eventstream_framer_fed_in_pieces_gives_the_same_frames(size: int) -> None:
    body = bedrock_bodies()[0]
    framer = EVENTSTREAM.new_framer()
    got: list[bytes] = []
    for pos in range(0, len(body), size):
        got += framer.feed(body[pos:pos + size])
    got += framer.finish()
    assert got == EVENTSTREAM.split(body)


def test_eventstream_keeps_bytes_that_are_not_frames() -> None:
    frame = eventstream.encode_frame({":event-type": "x"}, b"{}")
    body = frame + b"\x00\x00\x00\x01garbage"
    units = EVENTSTREAM.split(body)
    assert units == [frame, b"\x00\x00\x00\x01garbage"]
    assert not EVENTSTREAM.view(units[1]).ok


def test_rewriting_a_frame_payload_recomputes_lengths_and_crcs() -> None:
    frame = EVENTSTREAM.split(bedrock_bodies()[0])[1]
    new = EVENTSTREAM.rewrite(frame, lambda p: re.sub(rb'"text":"[^"]*"', b'"text":"A longer text"', p))
    view = EVENTSTREAM.view(new)
    assert view.ok and view.data["delta"]["text"] == "A longer text"
    assert view.headers == EVENTSTREAM.view(frame).headers
    assert EVENTSTREAM.rewrite(frame, lambda p: p) is frame


def test_botocore_reads_our_frames_and_rejects_a_malformed_one() -> None:
    from botocore.eventstream import ChecksumMismatch, EventStreamBuffer

    frames = EVENTSTREAM.split(bedrock_bodies()[0])
    rewritten = EVENTSTREAM.rewrite(frames[1], lambda p: p.replace(b'"text":"', b'"text":"Those'))
    buf = EventStreamBuffer()
    buf.add_data(rewritten)
    message = next(iter(buf))
    assert b"Those" in message.payload and message.headers[":event-type"] == "contentBlockDelta"
    buf = EventStreamBuffer()
    buf.add_data(EVENTSTREAM.malform(frames[1]))
    with pytest.raises(ChecksumMismatch):
        next(iter(buf))


def test_ndjson_lines_keep_their_terminators() -> None:
    body = b'{"a":1}\n{"b":2}\r\n{"c":3}'
    framer = NDJSON.new_framer()
    units = framer.feed(body[:5]) + framer.feed(body[5:]) + framer.finish()
    assert units == [b'{"a":1}\n', b'{"b":2}\r\n', b'{"c":3}']
    assert NDJSON.view(units[1]).data == {"b": 2}
    bad = NDJSON.malform(units[0])
    assert bad.endswith(b"\n") and NDJSON.view(bad).data is None


def test_sse_is_the_default_framing_of_format_v1_streams() -> None:
    assert by_name(None) is SSE
    assert SSE.split(b"data: a\n\ndata: b\n\n") == [b"data: a\n\n", b"data: b\n\n"]
    assert SSE.view(b'event: x\ndata: {"k": 1}\n\n').data == {"k": 1}
