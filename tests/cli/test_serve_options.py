"""``replaystream serve`` builds its options (pacing, faults, matching) through ReplayOptions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from replaystream import Cassette, Interaction, MatchConfig, Request, Response
from replaystream.cli import EXIT_OK, EXIT_USAGE, main
from replaystream.emulator import ProviderEmulator
from replaystream.wire.faults import Fault


@pytest.fixture
def cassette(tmp_path: Path) -> str:
    path = tmp_path / "c.json"
    Cassette([Interaction(Request("GET", "/x"), Response(200, body=b"ok"))]).save(path)
    return str(path)


def test_serve_options_reach_the_emulator(cassette: str, monkeypatch: pytest.MonkeyPatch) -> None:
    served: dict[str, Any] = {}
    monkeypatch.setattr(ProviderEmulator, "serve_cassette", lambda self, c, **kw: served.update(kw))
    monkeypatch.setattr(ProviderEmulator, "wait", lambda self: None)
    assert main(["serve", cassette, "--pacing", "2", "--fault", "disconnect:after=1",
                 "--ignore-field", "metadata.user_id", "--match-header", "anthropic-beta"]) == EXIT_OK
    assert served == {"pacing": 2.0, "faults": (Fault("disconnect", at=1),),
                      "match": MatchConfig(ignore_fields=("metadata.user_id",), headers=("anthropic-beta",)),
                      "allow_repeats": False, "log": None}


def test_bad_serve_options_are_a_usage_error_naming_each_flag(cassette: str,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", cassette, "--pacing", "fast", "--fault", "explode"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "replaystream serve: 2 invalid replaystream options:" in err
    assert "--pacing: pacing='fast': pacing 'fast' is not understood" in err
    assert "--fault: faults=['explode']: unknown fault kind 'explode'" in err
