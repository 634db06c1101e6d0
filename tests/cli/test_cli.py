"""The replaystream command line: inspect, check, upgrade; exit codes scripts rely on."""

import json
from pathlib import Path

import pytest

from replaystream.cassette import Cassette, Event, Interaction, Request, Response
from replaystream.cli import main


def anthropic_cassette(path: Path) -> Path:
    events = [
        Event(b'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":14}}}\n\n', 300.0),
        Event(b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
              b'"delta":{"type":"text_delta","text":"Polar bears"}}\n\n', 350.5),
        Event(b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
              b'"delta":{"type":"text_delta","text":" are white"}}\n\n', 410.0),
        Event(b'event: message_stop\ndata: {"type":"message_stop"}\n\n', 420.0),
    ]
    Cassette([Interaction(Request("POST", "/v1/messages", body={"model": "claude-3-5-sonnet-latest"}),
                          Response(200, {"content-type": "text/event-stream"}, events=events),
                          "anthropic", "messages")]).save(path)
    return path


def test_inspect_prints_timeline_gaps_and_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = anthropic_cassette(tmp_path / "c.json")
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert "#0 anthropic/messages  POST /v1/messages  model=claude-3-5-sonnet-latest  -> 200" in out
    assert "4 events; first at 300.0 ms; last at 420.0 ms" in out
    assert "59.5" in out  # the gap before " are white"
    assert "assembled text: 'Polar bears are white'" in out


def test_inspect_plot_writes_a_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    path = anthropic_cassette(tmp_path / "c.json")
    assert main(["inspect", str(path), "--plot", str(tmp_path / "t.png")]) == 0
    assert (tmp_path / "t.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_check_passes_clean_and_fails_on_planted_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clean = anthropic_cassette(tmp_path / "clean.json")
    assert main(["check", str(clean)]) == 0
    dirty = tmp_path / "dirty.json"
    dirty.write_text(clean.read_text().replace("Polar bears", "sk-proj-" + "A1b2C3d4" * 4))
    assert main(["check", str(dirty)]) == 1
    assert "token-shaped string 'sk-proj-A1b2" in capsys.readouterr().out


def test_check_reports_secret_headers_and_damage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = anthropic_cassette(tmp_path / "h.json")
    doc = json.loads(path.read_text())
    doc["interactions"][0]["response"]["headers"]["set-cookie"] = "a=b"
    path.write_text(json.dumps(doc))
    (tmp_path / "broken.json").write_text('{"replaystream_cassette": 1, "interactions": [')
    assert main(["check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "response.headers.set-cookie: secret header present" in out
    assert "broken.json: line 1" in out


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert main(["inspect", str(tmp_path / "absent.json")]) == 2
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2


def test_damaged_cassette_exits_1_with_position(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"replaystream_cassette": 1}')
    assert main(["inspect", str(bad)]) == 1
    assert "$.interactions" in capsys.readouterr().err


def test_upgrade_is_a_no_op_on_current_version(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = anthropic_cassette(tmp_path / "c.json")
    before = path.read_bytes()
    assert main(["upgrade", str(path)]) == 0
    assert "already version 2" in capsys.readouterr().out
    assert path.read_bytes() == before


CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"  # vendored: see its MANIFEST.tsv


def test_import_every_corpus_file_then_check_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sources = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".yaml", ".bin"))
    assert len(sources) == 12
    out_dir = tmp_path / "imported"
    out_dir.mkdir()
    assert main(["import", *map(str, sources), str(out_dir)]) == 0
    written = sorted(out_dir.glob("*.json"))
    assert len(written) == len(sources)
    assert main(["check", str(out_dir)]) == 0, capsys.readouterr().out
    text = "".join(p.read_text() for p in written)
    for leaked in ("placeholder-cookie-value-for-tests", '"openai-organization"', '"set-cookie"', '"x-request-id"'):
        assert leaked not in text
    # each imported cassette replays through the real SDK: tests/test_corpus.py does that per file


def test_import_a_single_file_and_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("interactions: [\n")
    assert main(["import", str(bad), str(tmp_path / "out.json")]) == 1
    assert "bad.yaml" in capsys.readouterr().err
    assert not (tmp_path / "out.json").exists()


def test_upgrade_lifts_an_older_version_with_its_kept_reader(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    # A format v1 file (as replaystream 0.x wrote it: no framing, every stream SSE) is lifted to v2.
    path = anthropic_cassette(tmp_path / "c.json")
    v2 = json.loads(path.read_text())
    v1 = json.loads(path.read_text())
    v1["replaystream_cassette"] = 1
    del v1["interactions"][0]["response"]["framing"]
    path.write_text(json.dumps(v1))
    assert main(["upgrade", str(path)]) == 0
    assert "version 1 -> 2" in capsys.readouterr().out
    doc = json.loads(path.read_text())
    assert doc == v2 and doc["interactions"][0]["response"]["framing"] == "sse"
    assert main(["upgrade", str(path)]) == 0
    assert "already version 2" in capsys.readouterr().out
