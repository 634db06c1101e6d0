"""One pacing schedule and one injectable clock, used by the transport, the emulator and the fakes."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import httpx2
import pytest

import replaystream
from replaystream import Cassette
from replaystream.cassette.model import Event, Interaction, Request, Response
from replaystream.emulator import ProviderEmulator, ScriptedResponse
from replaystream.errors import ReplayStreamError
from replaystream.wire.pacing import ManualClock, PacingError, parse_pacing, schedule, speed
from replaystream.wire.player import Player
from replaystream.wire.recorder import StreamRecorder
from replaystream.wire.session import Session

PACKAGE = Path(replaystream.__file__).parent
TESTS = Path(__file__).parents[1]


def test_only_pacing_reads_the_clock_or_sleeps() -> None:
    clock_use = re.compile(r"\btime\.(perf_counter|monotonic|time|sleep)\b|\basyncio\.sleep\b"
                           r"|from time import|from asyncio import .*\bsleep\b")
    found = [f"{path.relative_to(PACKAGE)}:{n}: {line.strip()}"
             for path in sorted(PACKAGE.rglob("*.py")) if path != PACKAGE / "wire" / "pacing.py"
             for n, line in enumerate(path.read_text("utf-8").splitlines(), 1) if clock_use.search(line)]
    assert found == [], "clock reads or sleeps outside wire/pacing.py (use a Clock):\n" + "\n".join(found)


def test_no_test_patches_the_process_clock() -> None:
    patch = re.compile(r"setattr\([^)]*(\btime\b|_pacing)")
    found = [f"{path.relative_to(TESTS)}:{n}" for path in sorted(TESTS.rglob("*.py"))
             if path != Path(__file__) and "data" not in path.relative_to(TESTS).parts
             for n, line in enumerate(path.read_text("utf-8").splitlines(), 1) if patch.search(line)]
    assert found == [], "inject a ManualClock instead of patching time: " + ", ".join(found)


def test_schedule_counts_from_the_first_request_and_keeps_consumer_time() -> None:
    clock = ManualClock(at=50.0)
    waits = schedule([0.0, 100.0, 300.0], "recorded", clock)
    clock.advance(7.0)  # nothing is read before the first unit is asked for
    assert next(waits) == 0.0
    clock.advance(0.25)  # the consumer took longer than the gap: unit 1 is already due
    assert next(waits) == 0.0
    assert next(waits) == pytest.approx(0.05)
    assert list(schedule([0.0, 100.0], 4, ManualClock())) == pytest.approx([0.0, 0.025])
    assert list(schedule([10.0, 20.0], 2, ManualClock(at=5.0), started=4.0)) == pytest.approx([0.0, 0.0])


def test_instant_never_reads_the_clock_and_extra_delays_add() -> None:
    class NoClock(ManualClock):
        def now(self) -> float:
            raise AssertionError("instant pacing read the clock")

    assert list(schedule([0.0, 500.0, 900.0], "instant", NoClock(), extra={1: 2.0})) == [0.0, 2.0, 0.0]
    assert list(schedule([0.0, 500.0], "recorded", ManualClock(), extra={0: 1.0})) == pytest.approx([1.0, 0.5])


def test_pacing_values() -> None:
    assert [parse_pacing(v) for v in (None, "instant", "recorded", "1", 2, "0.5")] == [
        "instant", "instant", "recorded", "recorded", 2.0, 0.5]
    assert [speed(p) for p in ("instant", "recorded", 3.0)] == [0.0, 1.0, 3.0]
    for bad in (0, -1.0, True):
        with pytest.raises(PacingError, match="pacing"):
            speed(bad)  # type: ignore[arg-type]
    with pytest.raises(ReplayStreamError, match="not understood"):
        parse_pacing("fast")
    assert issubclass(PacingError, ValueError)


def test_player_sleeps_on_its_clock() -> None:
    clock = ManualClock()
    body = Player(Response(200, body=b"{}", body_ms=200.0), "recorded", clock=clock)
    assert list(body) == [(pytest.approx(0.2), b"{}")]
    events = Response(200, events=[Event(b"a", 0.0), Event(b"b", 100.0)])
    assert [w for w, _ in Player(events, "instant", delays={1: 0.5}, clock=clock)] == [0.0, 0.5]


def recorded_stream() -> Cassette:
    events = [Event(b"data: %d\n\n" % n, 100.0 + 40.0 * n) for n in range(4)]
    return Cassette([Interaction(Request("GET", "/stream"), Response(200, {"content-type": "text/event-stream"},
                                                                     events=events))])


def test_transport_replay_sleeps_on_the_session_clock(tmp_path: Path) -> None:
    clock = ManualClock()
    session = Session(tmp_path / "c.json", cassette=recorded_stream(), pacing="recorded", clock=clock, offline=False)
    token = session.start()
    try:
        with httpx2.stream("GET", "http://127.0.0.1:9/stream") as response:
            assert len(list(response.iter_raw())) == 4
    finally:
        session.finish(token, failed=True)
    assert clock.sleeps == pytest.approx([0.1, 0.04, 0.04, 0.04])  # the recorded offsets, no real waiting


def test_recorder_stamps_events_from_its_clock() -> None:
    clock, done = ManualClock(at=10.0), []
    recorder = StreamRecorder(200, {}, stream=True, started=10.0, on_done=done.append, clock=clock)
    clock.advance(0.25)
    recorder.feed(b"data: a\n\n")
    clock.advance(0.5)
    recorder.feed(b"data: b\n\n")
    recorder.complete()
    assert [e.ms for e in done[0].events] == pytest.approx([250.0, 750.0])


def test_emulator_writes_follow_the_schedule_on_its_clock() -> None:
    clock = ManualClock()
    with ProviderEmulator(clock=clock) as emu:
        emu.serve_cassette(recorded_stream(), pacing=2.0)
        with httpx.Client() as client, client.stream("GET", emu.base_url + "/stream") as response:
            assert len(b"".join(response.iter_raw()).split(b"\n\n")) == 5
        emu.enqueue(ScriptedResponse(body=b"{}", gaps_ms=30.0))
        httpx.get(emu.base_url + "/body")
    assert clock.sleeps == pytest.approx([0.05, 0.02, 0.02, 0.02, 0.03])  # halved gaps, then the body's wait
