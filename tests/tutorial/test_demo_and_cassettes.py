"""``replaystream demo`` and the shipped tutorial cassettes themselves."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from replaystream.cassette import Cassette
from replaystream.cli import main
from replaystream.tutorial.runner import SECTIONS, default_cassette_dir

from ._tutorial import CASSETTES, ROOT, SEED_PRINTED

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_demo_prints_the_seeds_polar_bear_boundaries(capsys: pytest.CaptureFixture[str],
                                                     no_sockets: list[object]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "== polar_bear_sync: Using Stream > LLMs and Chat Models: model.stream =="
    assert lines[2] == SEED_PRINTED["polar_bear_sync"]
    assert SEED_PRINTED["polar_bear_async"] in lines
    for sec in SECTIONS:
        assert f"== {sec.name}: " in out
    # no_sockets: the demo never connected anywhere, not even to 127.0.0.1


def _edit_first_delta(path: Path, old: str, new: str) -> None:
    """Change one text_delta in a cassette copy, keeping it valid JSON and valid SSE."""
    doc = json.loads(path.read_text("utf-8"))
    for event in doc["interactions"][0]["response"]["events"]:
        head, _, data = event["raw"].partition("\ndata: ")
        payload = json.loads(data)
        if head == "event: content_block_delta" and payload["delta"].get("text") == old:
            payload["delta"]["text"] = new
            event["raw"] = f"{head}\ndata: {json.dumps(payload, separators=(',', ':'))}\n\n"
            break
    else:
        raise AssertionError(f"no text_delta {old!r} in {path}")
    path.write_text(json.dumps(doc, indent=2), "utf-8")


def test_demo_replays_the_cassette_it_is_given(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "tutorial"
    shutil.copytree(CASSETTES, copy)
    _edit_first_delta(copy / "polar_bear_sync.json", "Polar bears actually", "Polar bears, it turns out,")
    Cassette.load(copy / "polar_bear_sync.json")  # still a valid cassette
    assert main(["demo", "--cassettes", str(copy), "--section", "polar_bear_sync"]) == 0
    out = capsys.readouterr().out
    expected = SEED_PRINTED["polar_bear_sync"].replace("|Polar bears actually|", "|Polar bears, it turns out,|")
    assert expected in out.splitlines()
    assert SEED_PRINTED["polar_bear_sync"] not in out
    assert "== polar_bear_async" not in out  # only the section asked for


def test_demo_reports_a_missing_cassette(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--cassettes", str(tmp_path), "--section", "joke_chain"]) == 1
    assert "no such cassette" in capsys.readouterr().out


def test_demo_rejects_an_unknown_section(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--section", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("replaystream demo: no tutorial section 'nope'; sections: polar_bear_sync")


def test_default_cassettes_are_the_shipped_ones() -> None:
    assert default_cassette_dir() == CASSETTES


def test_check_passes_on_the_tutorial_cassettes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(CASSETTES)]) == 0
    assert "0 finding(s)" in capsys.readouterr().out


def test_one_cassette_per_model_section_and_no_other() -> None:
    from replaystream.tutorial.agents import AGENT_SECTIONS

    expected = {s.cassette for s in SECTIONS if s.cassette} | {s.cassette for s in AGENT_SECTIONS}
    assert {p.name for p in CASSETTES.glob("*.json")} == expected


@pytest.mark.parametrize("sec", [s for s in SECTIONS if s.cassette], ids=lambda s: s.name)
def test_cassettes_say_how_they_were_made(sec: object) -> None:
    from replaystream.tutorial.runner import RECORDING_KEY, Section, Stream

    assert isinstance(sec, Section) and sec.cassette
    raw = (CASSETTES / sec.cassette).read_text("utf-8")
    assert RECORDING_KEY not in raw  # the placeholder key sent while recording
    cassette = Cassette.load(CASSETTES / sec.cassette)
    assert "emulator" in cassette.meta["source"] and "not a live provider" in cassette.meta["source"]
    assert cassette.meta["seed_section"] == sec.seed_section
    assert len(cassette.interactions) == len(sec.served)
    for inter, served in zip(cassette.interactions, sec.served):
        assert inter.note
        assert "authorization" in " ".join(inter.scrubbed)
        if isinstance(served, Stream) and served.seed_shows == "prefix":
            assert "written by us" in inter.note
        if isinstance(served, Stream) and served.seed_shows == "none":
            assert "chosen by us" in inter.note


def test_an_installed_package_uses_its_own_cassettes(tmp_path: Path) -> None:
    """The cassettes are package data: a copy of the package alone (as a wheel lays it out)
    replays the demo from the cassettes inside it."""
    import subprocess
    import sys

    site = tmp_path / "site"
    shutil.copytree(ROOT / "replaystream", site / "replaystream", ignore=shutil.ignore_patterns("__pycache__"))
    code = ("from replaystream.cli import main; from replaystream.tutorial.runner import default_cassette_dir; "
            "print(default_cassette_dir()); raise SystemExit(main(['demo', '--section', 'polar_bear_sync']))")
    done = subprocess.run([sys.executable, "-c", code], check=False, cwd=tmp_path, capture_output=True, text=True,
                          timeout=60,
                          env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == str(site / "replaystream" / "tutorial" / "cassettes")
    assert SEED_PRINTED["polar_bear_sync"] in lines
