"""Cassette format v1: round trip, diff-friendly layout, and typed errors for damage."""

import json
from pathlib import Path

import pytest

from replaystream.cassette import FORMAT_VERSION, Cassette, Event, Interaction, Record, Request, Response, atomic_write
from replaystream.errors import CassetteError, CassetteVersionError


def sample() -> Cassette:
    stream = Response(200, {"content-type": "text/event-stream"},
                      events=[Event(b'event: ping\ndata: {"type": "ping"}\n\n', 1.25), Event(b"\xff\xfe\n\n", 2.0)])
    plain = Response(200, {"content-type": "application/json"}, body=b'{"data": [0.5, 0.25]}', body_ms=3.0)
    return Cassette(
        [Interaction(Request("POST", "/v1/messages", headers={"anthropic-version": "2023-06-01"},
                             body={"model": "claude", "stream": True}), stream, "anthropic", "messages"),
         Interaction(Request("POST", "/v1/embeddings", query="a=1", body={"input": ["x"]}), plain,
                     "openai", "embeddings", scrubbed=["request.headers.authorization"])],
        [Record("tool", "reverse", {"input": "hello", "output": "olleh"})],
        {"note": "test"},
    )


def test_round_trip_keeps_bytes_offsets_and_records(tmp_path: Path) -> None:
    c = sample()
    path = c.save(tmp_path / "c.json")
    back = Cassette.load(path)
    assert back.to_document() == c.to_document()
    assert back.interactions[0].response.events is not None
    assert [e.raw for e in back.interactions[0].response.events] == [e.raw for e in c.interactions[0].response.events]  # type: ignore[union-attr]
    assert back.interactions[1].response.body == b'{"data": [0.5, 0.25]}'
    assert back.records[0].data == {"input": "hello", "output": "olleh"}


def test_one_event_per_line_and_non_utf8_as_base64(tmp_path: Path) -> None:
    text = sample().dumps()
    lines = text.splitlines()
    assert '          {"ms": 1.2, "raw": "event: ping\\ndata: {\\"type\\": \\"ping\\"}\\n\\n"},' in lines
    assert any('"raw_b64": "//4KCg=="' in line for line in lines)
    assert json.loads(text)["replaystream_cassette"] == FORMAT_VERSION == 2


def test_atomic_write_leaves_no_temp_file_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "c.json"
    atomic_write(target, b"one")
    atomic_write(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["c.json"]


def test_failed_write_keeps_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "c.json"
    sample().save(target)
    before = target.read_bytes()
    import errno
    import os

    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(OSError):
        Cassette().save(target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.json"]


DAMAGE = {
    "empty": ("", "is empty"),
    "truncated": (None, "not valid JSON"),
    "not-an-object": ("[]", "expected a JSON object"),
    "no-version": ('{"interactions": []}', "no format version"),
    "future-version": ('{"replaystream_cassette": 99, "interactions": []}', "format version 99"),
    "missing-interactions": ('{"replaystream_cassette": 1}', "$.interactions"),
    "status-as-string": (
        '{"replaystream_cassette": 1, "interactions": [{"request": {"method": "GET", "path": "/"},'
        ' "response": {"status": "200", "body": ""}}]}', "$.interactions[0].response.status"),
    "event-not-object": (
        '{"replaystream_cassette": 1, "interactions": [{"request": {"method": "GET", "path": "/"},'
        ' "response": {"status": 200, "events": [1]}}]}', "$.interactions[0].response.events[0]"),
    "bad-base64": (
        '{"replaystream_cassette": 1, "interactions": [{"request": {"method": "GET", "path": "/"},'
        ' "response": {"status": 200, "events": [{"ms": 0, "raw_b64": "!!"}]}}]}', "raw_b64"),
    "unknown-provider": (
        '{"replaystream_cassette": 1, "interactions": [{"provider": "acme", "request": {"method": "GET", "path": "/"},'
        ' "response": {"status": 200, "body": ""}}]}', "unknown provider 'acme'"),
    "no-body": (
        '{"replaystream_cassette": 1, "interactions": [{"request": {"method": "GET", "path": "/"},'
        ' "response": {"status": 200}}]}', "needs either 'events'"),
    "not-utf8": (b"\xff\xfe{}", "not UTF-8"),
}


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_damaged_cassettes_raise_typed_errors_with_path_and_position(tmp_path: Path, case: str) -> None:
    content, expected = DAMAGE[case]
    path = tmp_path / f"{case}.json"
    if content is None:
        content = sample().dumps()[:-40]
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(CassetteError) as info:
        Cassette.load(path)
    assert str(path) in str(info.value)
    assert expected in str(info.value)
    assert "hint:" in str(info.value)
    if case in ("future-version", "no-version"):
        assert isinstance(info.value, CassetteVersionError)


def test_truncated_file_reports_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(sample().dumps()[:200])
    with pytest.raises(CassetteError, match=r"line \d+, column \d+"):
        Cassette.load(path)


def test_directory_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CassetteError, match="is a directory"):
        Cassette.load(tmp_path)
    with pytest.raises(CassetteError, match="no such cassette"):
        Cassette.load(tmp_path / "absent.json")
