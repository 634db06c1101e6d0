"""Record modes, nothing-lost saving, the decorator forms, decoded storage and pacing."""

from __future__ import annotations

import asyncio
import gzip
import json
from pathlib import Path

import httpx2
import pytest

from replaystream import Cassette, CassetteMissError, use_cassette
from replaystream.emulator import ProviderEmulator, ScriptedResponse, openai_chat_stream
from replaystream.wire.pacing import ManualClock
from replaystream.wire.player import Player, parse_pacing
from replaystream.cassette import Event, Response


def ask(base: str, n: int) -> str:
    return httpx2.post(f"{base}/v1/chat/completions", json={"n": n}).text


def serve(emu: ProviderEmulator, *answers: str) -> None:
    for a in answers:
        emu.enqueue(ScriptedResponse(body=a.encode(), headers={"content-type": "text/plain"}))


def test_once_records_when_missing_then_only_replays(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    with ProviderEmulator() as emu:
        serve(emu, "first")
        with use_cassette(path, mode="once"):
            assert ask(emu.base_url, 1) == "first"
        with use_cassette(path, mode="once"):  # exists now: replay, and a miss is an error
            assert ask(emu.base_url, 1) == "first"
            with pytest.raises(CassetteMissError):
                ask(emu.base_url, 2)
        assert len(emu.requests) == 1


def test_new_episodes_replays_hits_and_appends_misses(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    with ProviderEmulator() as emu:
        serve(emu, "one", "two")
        with use_cassette(path, mode="once"):
            ask(emu.base_url, 1)
        with use_cassette(path, mode="new_episodes"):
            assert ask(emu.base_url, 1) == "one"  # replayed
            assert ask(emu.base_url, 2) == "two"  # recorded
        assert len(emu.requests) == 2
    assert [i.request.body for i in Cassette.load(path).interactions] == [{"n": 1}, {"n": 2}]


def test_all_records_everything_and_keeps_the_old(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    with ProviderEmulator() as emu:
        serve(emu, "old", "new")
        with use_cassette(path, mode="once"):
            ask(emu.base_url, 1)
        with use_cassette(path, mode="all"):
            assert ask(emu.base_url, 1) == "new"
        assert len(emu.requests) == 2
    assert [i.response.body for i in Cassette.load(path).interactions] == [b"old", b"new"]


def test_rewrite_starts_afresh(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    with ProviderEmulator() as emu:
        serve(emu, "old", "new")
        with use_cassette(path, mode="once"):
            ask(emu.base_url, 1)
        with use_cassette(path, mode="rewrite"):
            ask(emu.base_url, 2)
    assert [i.response.body for i in Cassette.load(path).interactions] == [b"new"]


def test_none_mode_on_a_missing_cassette_says_how_to_record(tmp_path: Path) -> None:
    with use_cassette(tmp_path / "absent.json"):
        with pytest.raises(CassetteMissError, match="does not exist"):
            ask("http://127.0.0.1:9", 1)


@pytest.mark.parametrize("exc", [RuntimeError("test body failed"), KeyboardInterrupt()])
def test_an_exception_in_the_block_keeps_the_previous_cassette(tmp_path: Path, exc: BaseException) -> None:
    path = tmp_path / "c.json"
    with ProviderEmulator() as emu:
        serve(emu, "kept", "lost")
        with use_cassette(path, mode="once"):
            ask(emu.base_url, 1)
        before = path.read_bytes()
        with pytest.raises(type(exc)):
            with use_cassette(path, mode="all"):
                ask(emu.base_url, 2)
                raise exc
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.json"]  # no temp file left


def test_decorator_forms_sync_and_async(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    with ProviderEmulator() as emu:
        serve(emu, "a", "b")

        @use_cassette(path, mode="new_episodes")
        def sync_call() -> str:
            return ask(emu.base_url, 1)

        @use_cassette(path, mode="new_episodes")
        async def async_call() -> str:
            async with httpx2.AsyncClient() as client:
                return (await client.post(f"{emu.base_url}/v1/chat/completions", json={"n": 2})).text

        assert sync_call() == "a"
        assert asyncio.run(async_call()) == "b"
        assert sync_call() == "a" and asyncio.run(async_call()) == "b"  # the second time, replayed
        assert len(emu.requests) == 2


def test_gzip_is_stored_decoded(tmp_path: Path) -> None:
    body = json.dumps({"data": [{"embedding": [0.5, 0.25], "index": 0}]}).encode()
    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(body=body, gzip=True, headers={"content-type": "application/json"}))
        with use_cassette(tmp_path / "c.json", mode="once"):
            live = httpx2.post(f"{emu.base_url}/v1/embeddings", json={"input": "x"})
        assert live.headers["content-encoding"] == "gzip"
    inter = Cassette.load(tmp_path / "c.json").interactions[0]
    assert inter.response.body == body and "content-encoding" not in inter.response.headers
    assert inter.provider == "openai" and inter.api == "embeddings"
    with use_cassette(tmp_path / "c.json"):
        assert httpx2.post("http://127.0.0.1:9/v1/embeddings", json={"input": "x"}).json() == json.loads(body)
    assert gzip.decompress(gzip.compress(body)) == body


def test_a_connection_cut_mid_stream_is_recorded_and_replayed_as_the_same_error(tmp_path: Path) -> None:
    events = openai_chat_stream(["a", "b", "c", "d"])
    path = tmp_path / "c.json"

    def read(base: str) -> tuple[list[bytes], type[BaseException] | None]:
        got: list[bytes] = []
        try:
            with httpx2.stream("POST", f"{base}/v1/chat/completions", json={}) as r:
                for chunk in r.iter_raw():
                    got.append(chunk)
        except httpx2.TransportError as exc:
            return got, type(exc)
        return got, None

    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(events=events, close_after=3))
        with use_cassette(path, mode="once"):
            live_bytes, live_error = read(emu.base_url)
    assert live_error is not None
    inter = Cassette.load(path).interactions[0]
    assert inter.response.end == "error" and inter.response.error is not None
    assert [e.raw for e in inter.response.events or []] == events[:3]
    with use_cassette(path):
        replay_bytes, replay_error = read("http://127.0.0.1:9")
    assert replay_error is live_error
    assert b"".join(replay_bytes) == b"".join(live_bytes)


def test_pacing_waits_follow_the_recorded_offsets() -> None:
    clock = ManualClock(at=100.0)
    response = Response(200, events=[Event(b"a\n\n", 0.0), Event(b"b\n\n", 500.0), Event(b"c\n\n", 1500.0)])
    for pacing, expected in [("recorded", [0.0, 0.5, 1.5]), ("2", [0.0, 0.25, 0.75]), ("instant", [0.0, 0.0, 0.0])]:
        waits = [wait for wait, _ in Player(response, parse_pacing(pacing), started=100.0, clock=clock)]
        assert waits == pytest.approx(expected)
    with pytest.raises(Exception, match="pacing 'fast' is not understood"):
        parse_pacing("fast")
    with pytest.raises(Exception, match="positive"):
        parse_pacing("-1")
