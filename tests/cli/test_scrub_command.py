"""``replaystream scrub``: today's rules applied to cassettes already committed."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest

from replaystream import use_cassette
from replaystream.cassette import Cassette, Event, Interaction, Record, Request, Response
from replaystream.cli import main

SECRET = "gw-key/0123456789+abcdef"
SHIPPED = Path(__file__).resolve().parents[2] / "replaystream" / "tutorial" / "cassettes"


def committed(path: Path) -> Path:
    """A cassette written before the name rule: keys left in the query, a body and a tool record."""
    echo = json.dumps({"error": f"bad key {SECRET}", "b64": base64.b64encode(SECRET.encode()).decode()}).encode()
    Cassette([
        Interaction(Request("POST", "/v1/embed", query=f"apikey={SECRET}&v=2",
                            body={"input": "hi", "password": SECRET}),
                    Response(401, {"content-type": "application/json"}, body=echo)),
        Interaction(Request("POST", "/v1/chat/completions", body={"model": "m", "messages": []}),
                    Response(200, {"content-type": "text/event-stream"},
                             events=[Event(f'data: {{"echo": "{SECRET}"}}\n\n'.encode())]), "openai", "chat.completions"),
    ], records=[Record("tool", "search", {"input": {"q": "x", "api_key": SECRET}, "output": "ok"})]).save(path)
    return path


def test_scrub_rewrites_a_committed_cassette_and_replay_still_matches(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = committed(tmp_path / "c.json")
    assert main(["scrub", "--dry-run", str(path)]) == 1  # would change: nothing written
    assert SECRET in path.read_text()
    assert main(["scrub", str(path)]) == 0
    out = capsys.readouterr().out
    assert "c.json: scrubbed" in out and "interactions[0].request.query.apikey" in out and SECRET not in out
    text = path.read_text()
    assert SECRET not in text and base64.b64encode(SECRET.encode()).decode() not in text
    assert json.loads(text)["records"][0]["data"]["input"]["api_key"].startswith("<scrubbed:")
    before = path.read_bytes()
    assert main(["scrub", str(tmp_path)]) == 0  # a folder; nothing left to do: the file is untouched
    assert "c.json: nothing to scrub" in capsys.readouterr().out and path.read_bytes() == before
    # The client still sends the key; the scrubbed recording answers it.
    with httpx.Client(base_url="http://127.0.0.1:9") as client, use_cassette(path, mode="none") as session:
        r = client.post("/v1/embed", params={"apikey": SECRET, "v": "2"}, json={"input": "hi", "password": SECRET})
        with client.stream("POST", "/v1/chat/completions", json={"model": "m", "messages": []}) as s:
            s.read()
    assert r.status_code == 401 and session.unused() == []


def test_scrub_extra_values_and_fields(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    Cassette([Interaction(Request("POST", "/x", body={"pin": "98765432", "note": "ticket T-0042-9999"}),
                          Response(200, body=b"{}"))]).save(path)
    assert main(["scrub", "--field", "pin", "--value", "T-0042-9999", str(path)]) == 0
    body = json.loads(path.read_text())["interactions"][0]["request"]["body"]
    assert body == {"pin": "<scrubbed:1>", "note": "ticket <scrubbed:2>"}


def test_scrub_leaves_the_shipped_cassettes_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scrub", "--dry-run", str(SHIPPED)]) == 0
    assert "to rewrite" in capsys.readouterr().out


def test_scrub_usage_and_damage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scrub", str(tmp_path / "absent.json")]) == 2
    assert "absent.json: no such file or folder" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text('{"replaystream_cassette": 1, "interactions": [')
    assert main(["scrub", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "bad.json" in err and "Traceback" not in err
    (tmp_path / "empty").mkdir()
    assert main(["scrub", str(tmp_path / "empty")]) == 2
