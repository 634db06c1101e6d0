"""``replaystream check``: random values in credential fields, provider-key shapes anywhere,
and an allowlist for the false positives."""

from __future__ import annotations

from pathlib import Path

import pytest

from replaystream.cassette import Cassette, Interaction, Record, Request, Response
from replaystream.cli import main
from replaystream.review.checks import check_file

RANDOM = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
SHIPPED = Path(__file__).resolve().parents[2] / "replaystream" / "tutorial" / "cassettes"


def cassette(path: Path, body: dict[str, object], query: str = "", reply: bytes = b"{}") -> Path:
    Cassette([Interaction(Request("POST", "/oauth/token", query=query, body=body),
                          Response(200, {"content-type": "application/json"}, body=reply))],
             records=[Record("tool", "t", {"input": {"api_key": "<scrubbed:1>"}, "output": "ok"})]).save(path)
    return path


def test_random_values_in_credential_fields_are_found(tmp_path: Path) -> None:
    path = cassette(tmp_path / "c.json", {"client_secret": RANDOM, "grant_type": "client_credentials"},
                    query=f"sig={RANDOM}&page=2", reply=b'{"access_token": "' + RANDOM.encode() + b'"}')
    where = sorted(f.where for f in check_file(path) if "random-looking" in f.problem)
    assert where == ["interactions[0].request.body.client_secret", "interactions[0].request.query.sig",
                     "interactions[0].response.body.access_token"]
    assert all(RANDOM not in str(f) for f in check_file(path))  # a finding never prints the value whole


def test_placeholders_words_and_model_content_are_not_findings(tmp_path: Path) -> None:
    path = cassette(tmp_path / "c.json", {"client_secret": "<scrubbed:1>", "password": "correct horse battery",
                                          "messages": [{"content": RANDOM, "token": RANDOM}]})
    assert check_file(path) == []


def test_provider_keys_anywhere_and_the_allowlist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = cassette(tmp_path / "c.json", {"note": "use AKIAABCDEFGHIJKLMNOP please"})
    assert main(["check", str(path)]) == 1
    assert "token-shaped string 'AKIAABCDEFGH..." in capsys.readouterr().out
    assert main(["check", "--allow", "^AKIAABCDEFGHIJKLMNOP$", str(path)]) == 0
    allow = tmp_path / ".replaystream-allow"
    allow.write_text("# documented example keys\nAKIA[A-Z]{16}\n")
    assert main(["check", "--allow-file", str(allow), str(path)]) == 0
    assert main(["check", "--allow", "(", str(path)]) == 2
    assert "not a regular expression" in capsys.readouterr().err


def test_the_shipped_cassettes_pass() -> None:
    assert main(["check", str(SHIPPED)]) == 0
