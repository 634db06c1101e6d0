"""Every real Bedrock stream of the provider corpus, imported with ``replaystream import`` and
replayed through botocore: the same frames, in the same order, byte for byte."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.eventstream import EventStreamBuffer

from replaystream import use_cassette
from replaystream.cassette.model import Cassette
from replaystream.cli import main

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus-providers" / "pydantic-ai"
FILES = sorted(CORPUS.glob("test_bedrock_*.yaml"))


def recorded_bodies(path: Path) -> list[bytes]:
    doc = yaml.safe_load(path.read_text("utf-8"))
    return [item["response"]["body"]["string"] for item in doc["interactions"]]


def test_the_corpus_has_bedrock_streams() -> None:
    assert len(FILES) == 2 and all(isinstance(b, bytes) for f in FILES for b in recorded_bodies(f))


@pytest.mark.parametrize("source", FILES, ids=lambda p: p.stem)
def test_imported_bedrock_streams_replay_through_botocore_frame_by_frame(
        source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_sockets: list[object]) -> None:
    dest = tmp_path / f"{source.stem}.json"
    assert main(["import", str(source), str(dest)]) == 0
    assert main(["check", str(dest)]) == 0
    cassette = Cassette.load(dest)
    bodies = recorded_bodies(source)
    assert [i.response.framing for i in cassette.interactions] == ["eventstream"] * len(bodies)

    reads: list[bytes] = []
    original = EventStreamBuffer.add_data

    def add_data(self: EventStreamBuffer, data: bytes) -> None:
        reads.append(bytes(data))
        original(self, data)

    monkeypatch.setattr(EventStreamBuffer, "add_data", add_data)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    with use_cassette(dest, mode="none"):
        client = boto3.session.Session().client("bedrock-runtime", region_name="us-east-1")
        for interaction, body in zip(cassette.interactions, bodies):
            reads.clear()
            request: dict[str, Any] = dict(interaction.request.body)
            model = interaction.request.path.split("/")[2].replace("%3A", ":")
            events = list(client.converse_stream(modelId=model, **request)["stream"])
            assert b"".join(reads) == body  # every byte, in order
            assert reads == [e.raw for e in interaction.response.events or ()]  # one read per frame
            buf = EventStreamBuffer()
            buf.add_data(body)
            assert [next(iter(e)) for e in events] == [m.headers[":event-type"] for m in buf]


def test_inspect_shows_the_frames_decoded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "c.json"
    assert main(["import", str(FILES[0]), str(dest)]) == 0
    text = dest.read_text("utf-8")
    assert '"raw_b64"' in text and '"framing": "eventstream"' in text
    capsys.readouterr()
    assert main(["inspect", "--limit", "0", str(dest)]) == 0
    out = capsys.readouterr().out
    assert "framing: eventstream (binary frames, shown decoded)" in out
    assert "tool call get_temperature" in out and "contentBlockDelta  ' capital of France,'" in out
    first = base64.b64decode(text.split('"raw_b64": "')[1].split('"')[0])
    assert first.startswith(b"\x00\x00\x00") and b"messageStart" in first
