"""Cassette files: a save keeps the file's mode (a new one follows the umask), writes a
symlink's target, shortens an over-long name with a stable hash (the full id kept in the
cassette), and never puts a secret known at test start into a file name."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from replaystream import Cassette, use_cassette
from replaystream.emulator import ProviderEmulator, ScriptedResponse
from replaystream.pytest_paths import MAX_NAME_BYTES


def _record(emu: ProviderEmulator, path: Path, n: int) -> None:
    emu.enqueue(ScriptedResponse(body=f"item {n}".encode(), headers={"content-type": "text/plain"}))
    with use_cassette(path, mode="new_episodes"):
        assert httpx2.get(f"{emu.base_url}/item/{n}").text == f"item {n}"


@pytest.fixture
def umask() -> Iterator[None]:
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_save_keeps_the_mode_of_the_file_it_replaces(tmp_path: Path, emulator: ProviderEmulator,
                                                       umask: None) -> None:
    path = tmp_path / "c.json"
    _record(emulator, path, 0)
    assert _mode(path) == 0o644  # a new file: 0o666 less the umask, like any file the user writes
    path.chmod(0o664)
    _record(emulator, path, 1)
    assert _mode(path) == 0o664 and len(Cassette.load(path).interactions) == 2
    os.umask(0o077)
    _record(emulator, tmp_path / "private.json", 2)
    assert _mode(tmp_path / "private.json") == 0o600


def test_a_symlinked_cassette_updates_its_target(tmp_path: Path, emulator: ProviderEmulator) -> None:
    target = tmp_path / "shared" / "real.json"
    _record(emulator, target, 0)
    link = tmp_path / "tests" / "c.json"
    link.parent.mkdir()
    link.symlink_to(Path("..") / "shared" / "real.json")
    _record(emulator, link, 1)
    assert link.is_symlink() and os.readlink(link) == str(Path("..") / "shared" / "real.json")
    assert [i.request.path for i in Cassette.load(target).interactions] == ["/item/0", "/item/1"]
    assert sorted(p.name for p in link.parent.iterdir()) == ["c.json"]


LONG = """
import httpx2, pytest
from replaystream.emulator import ProviderEmulator, ScriptedResponse

@pytest.mark.replay
@pytest.mark.parametrize("text", ["é" * 150, "é" * 149 + "è"], ids=lambda text: text)
def test_long(text):
    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(body=text.encode(), headers={"content-type": "text/plain"}))
        assert httpx2.post(f"{emu.base_url}/echo", content=text.encode()).text == text
"""


def test_an_over_long_name_is_shortened_stably_and_keeps_the_test_id(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_n=LONG)
    pytester.runpytest_inprocess("-p", "no:cacheprovider", "--replay-mode=once").assert_outcomes(passed=2)
    files = sorted((pytester.path / "cassettes" / "test_n").iterdir())
    assert len(files) == 2  # two ids, two files: the hash tells them apart
    for f in files:
        assert len(f.name.encode()) <= MAX_NAME_BYTES and f.name.startswith("test_long[")
        cassette = Cassette.load(f)
        test_id = cassette.meta["test_id"]  # the full id: the name is reversible through the file
        assert test_id.startswith("test_n.py::test_long[") and cassette.interactions[0].test == test_id
        assert len(test_id) > MAX_NAME_BYTES and cassette.interactions[0].request.body_text.startswith("é" * 149)
    # The same names again (the hash is stable): offline replay finds them.
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)


SECRET_PARAM = """
import os, httpx2, pytest
from replaystream.emulator import ProviderEmulator, ScriptedResponse

def ping():
    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(body=b"ok", headers={"content-type": "text/plain"}))
        assert httpx2.get(f"{emu.base_url}/ping").text == "ok"

@pytest.mark.replay
@pytest.mark.parametrize("key", [os.environ["GATEWAY_API_KEY"]])
def test_key(key):
    ping()

@pytest.mark.replay
@pytest.mark.parametrize("token", ["registered-token-98765"])
def test_token(token):
    ping()
"""
SECRET_CONFTEST = """
import pytest
from replaystream import Scrubber

@pytest.fixture
def replay_config():
    return {"scrub": Scrubber(extra_values=["registered-token-98765"])}
"""


def test_a_secret_passed_as_a_parameter_stays_out_of_the_file_name(pytester: pytest.Pytester,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    key = "gw-live-6f2b9c1d4e5a7788"
    monkeypatch.setenv("GATEWAY_API_KEY", key)
    pytester.makeconftest(SECRET_CONFTEST)
    pytester.makepyfile(test_k=SECRET_PARAM)
    pytester.runpytest_inprocess("-p", "no:cacheprovider", "--replay-mode=once").assert_outcomes(passed=2)
    folder = pytester.path / "cassettes" / "test_k"
    names = sorted(p.name for p in folder.iterdir())
    # An environment key and a registered secret, both replaced (in the name and in the file)
    assert names == ["test_key[SECRET].json", "test_token[SECRET].json"]
    for name in names:
        text = (folder / name).read_text()
        assert key not in text and "registered-token-98765" not in text
        assert f'"test": "test_k.py::{name[:-5]}"' in text
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)
