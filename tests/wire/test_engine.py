"""The replay engine: one decision (replay, inject, record, miss) for sessions and ``serve``."""

from __future__ import annotations

import re
from pathlib import Path

import httpx2
import pytest

import replaystream
from replaystream import Cassette, use_cassette
from replaystream.cassette.model import Event, Interaction, Request, Response
from replaystream.errors import CassetteExhaustedError, CassetteMissError
from replaystream.wire import transport
from replaystream.wire.advice import Advice
from replaystream.wire.engine import Inject, Record, Replay, ReplayEngine
from replaystream.wire.faults import Fault
from replaystream.wire.session import Session

PACKAGE = Path(replaystream.__file__).parent


def chat(content: str) -> Request:
    return Request("POST", "/v1/chat/completions", body={"model": "m", "messages": [{"role": "user",
                                                                                   "content": content}]})


def stream(*texts: str) -> Response:
    return Response(200, {"content-type": "text/event-stream"},
                    events=[Event(f"data: {t}\n\n".encode(), 10.0 * n) for n, t in enumerate(texts)])


def interactions() -> list[Interaction]:
    return [Interaction(chat("a"), stream("a1")), Interaction(chat("b"), stream("b")),
            Interaction(chat("a"), stream("a2"))]


def test_only_the_engine_takes_from_the_index_or_applies_faults() -> None:
    calls = re.compile(r"index\.take\(|\.intercept\(|\.shape\(|MatchIndex\(|FaultPlan\(")
    allowed = {PACKAGE / "wire" / "engine.py", PACKAGE / "wire" / "faults.py", PACKAGE / "wire" / "matching.py"}
    found = [f"{path.relative_to(PACKAGE)}:{n}: {line.strip()}"
             for path in sorted(PACKAGE.rglob("*.py")) if path not in allowed
             for n, line in enumerate(path.read_text("utf-8").splitlines(), 1) if calls.search(line)]
    assert found == [], "replay decisions outside wire/engine.py:\n" + "\n".join(found)


def test_plans_are_typed_and_name_the_interaction() -> None:
    engine = ReplayEngine(interactions())
    first, second = engine.plan(chat("a")), engine.plan(chat("a"))
    assert isinstance(first, Replay) and isinstance(second, Replay)
    assert (first.interaction, second.interaction) == (0, 2)  # identical requests: recorded order
    assert first.response.events == stream("a1").events and first.delays == {}
    recording = ReplayEngine(interactions(), record=True)
    assert isinstance(recording.plan(chat("new")), Record)
    assert isinstance(ReplayEngine(interactions(), replay=False, record=True).plan(chat("a")), Record)


def test_faults_shape_and_inject() -> None:
    engine = ReplayEngine(interactions(), faults=["status:429", "delay:at=0:seconds=2"])
    injected = engine.plan(chat("b"))
    assert isinstance(injected, Inject) and injected.response.status == 429 and injected.delays == {}
    replayed = engine.plan(chat("b"))  # the retry gets the recording, with its delay fault
    assert isinstance(replayed, Replay) and replayed.interaction == 1 and replayed.delays == {0: 2.0}


def test_exhausted_names_the_interactions_and_the_fix() -> None:
    engine = ReplayEngine(interactions(), where="cassette x.json (mode 'none')", advice=Advice("x.json"))
    engine.plan(chat("a"))
    engine.plan(chat("a"))
    with pytest.raises(CassetteExhaustedError) as info:
        engine.plan(chat("a"))
    assert str(info.value) == (
        "POST /v1/chat/completions: all 2 recorded response(s) for this request (interactions 0, 2) were already "
        "replayed in cassette x.json (mode 'none').\n  The code under test sent it more often than when it was "
        "recorded. Record it again, replacing the stale recordings (needs a real key):\n"
        '    use_cassette("x.json", mode="rewrite")\n'
        "  or, if the repeat should get the same answer again:\n"
        '    use_cassette("x.json", allow_repeats=True)')
    repeating = ReplayEngine(interactions(), allow_repeats=True)
    plans = [repeating.plan(chat("b")) for _ in range(3)]
    assert [p.interaction for p in plans if isinstance(p, Replay)] == [1, 1, 1]  # the last one, again


def test_a_miss_shows_the_closest_request() -> None:
    with pytest.raises(CassetteMissError) as info:
        ReplayEngine(interactions(), where="cassette x.json").plan(chat("c"))
    message = str(info.value)
    assert not isinstance(info.value, CassetteExhaustedError)
    assert message.startswith("POST /v1/chat/completions: no recorded response in cassette x.json.")
    assert "Closest recorded request: interaction 0" in message and '+        "content": "c"' in message
    with pytest.raises(CassetteMissError, match="The cassette does not exist"):
        ReplayEngine([], existed=False).plan(chat("c"))


def test_session_hands_the_transport_a_player_and_keeps_it(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    Cassette(interactions(), path=path).save(path)
    with use_cassette(path) as session:
        assert session.players == []
        with httpx2.stream("POST", "http://127.0.0.1:9/v1/chat/completions", json=chat("b").body) as response:
            chunks = list(response.iter_raw())
            player = session.players[-1]
            assert player.position == 1 and player.response.events == stream("b").events
        with pytest.raises(CassetteExhaustedError, match=r"\(interaction 1\) were already replayed in cassette"):
            httpx2.post("http://127.0.0.1:9/v1/chat/completions", json=chat("b").body)
    assert chunks == [b"data: b\n\n"] and len(session.misses) == 1
    assert session.unused() == [0, 2]


def test_stream_classes_are_named() -> None:
    streams = transport._streams(httpx2)
    assert issubclass(streams.replay, httpx2.SyncByteStream)
    assert issubclass(streams.async_replay, httpx2.AsyncByteStream)
    assert issubclass(streams.recording, httpx2.SyncByteStream)
    assert issubclass(streams.async_recording, httpx2.AsyncByteStream)


def test_a_session_records_when_its_mode_allows(tmp_path: Path) -> None:
    session = Session(tmp_path / "new.json", mode="once")
    assert isinstance(session.plan(chat("a")), Record) and session.misses == []


def test_faults_are_planned_while_recording_too() -> None:
    engine = ReplayEngine([], replay=False, record=True, faults=["status:429", "disconnect:after=2",
                                                                "malformed:at=1:request=1"])
    injected = engine.plan(chat("a"))
    assert isinstance(injected, Inject) and injected.response.status == 429  # never sent upstream
    # the retry goes upstream, with the stream faults the client must see
    assert engine.plan(chat("a")) == Record((Fault("disconnect", at=2),))
    assert engine.plan(chat("b")) == Record((Fault("malformed", at=1, request=1),))
    assert engine.plan(chat("c")) == Record()
    assert engine.faults.fired == 0 and engine.faults.explains_unused(0)


def test_a_status_fault_answers_an_unrecorded_provider_request_in_replay() -> None:
    # Decided before the cassette is consulted, as while recording: no recording is needed.
    engine = ReplayEngine([], faults=["status:500"], existed=False)
    with pytest.raises(CassetteMissError):  # not a provider API call (a health check): no fault used up
        engine.plan(Request("GET", "/"))
    plan = engine.plan(chat("never recorded"))
    assert isinstance(plan, Inject) and plan.response.status == 500
    with pytest.raises(CassetteMissError, match="The cassette does not exist"):
        engine.plan(chat("never recorded"))  # the fault is used up: the retry misses


def test_only_a_fault_that_changed_a_stream_explains_unused_interactions() -> None:
    engine = ReplayEngine(interactions(), faults=["disconnect:after=5"])  # beyond the one-event stream
    assert isinstance(engine.plan(chat("a")), Replay)
    assert engine.faults.fired is None and not engine.faults.explains_unused(1)
    cut = ReplayEngine(interactions(), faults=["disconnect:after=0:request=1"])
    cut.plan(chat("a"))
    replayed = cut.plan(chat("b"))
    assert isinstance(replayed, Replay) and replayed.response.events == [] and replayed.response.end == "error"
    assert cut.faults.fired == 1 and [cut.faults.explains_unused(n) for n in range(3)] == [False, True, True]
