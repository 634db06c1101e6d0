"""What secret scrubbing costs recording and replay, through the real ``openai`` SDK.

With a key in the environment, one sent in a gateway header and one in the query (so
every learned value is searched for in every event), the same loopback server as the wire
benchmark serves a long stream and many small answers:

- ``record_stream`` / ``record_calls``: ``use_cassette(mode="all")`` records them (each
  recorded interaction scrubbed, the whole cassette masked once more at the end, saved);
- ``replay_stream`` / ``replay_calls``: ``use_cassette()`` replays them (each request
  scrubbed before it is matched).

Times are absolute (best of ``rounds``, interleaved). Only public API is used, so the
module runs unchanged against an older checkout: to compare two versions, run it under
each in turn (``PYTHONPATH=/path/to/checkout``, from a folder holding only ``benchmarks``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai

from replaystream.wire.session import use_cassette

from . import _util
from .bench_wire import DEAD_BASE_URL, _server, consume, expected_text, make_events, small_question

KEY = "sk-proj-BenchKey0123456789abcdefghijklmnop"
GATEWAY_KEY = "gw-BenchGatewayKey-0123456789"


def _client(base: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=base, api_key=KEY, max_retries=0,
                         default_headers={"x-portkey-api-key": GATEWAY_KEY},
                         default_query={"api-version": "2024-10-21", "subscription-key": GATEWAY_KEY})


def run(events: int = 10_000, calls: int = 300, rounds: int = 5) -> dict[str, Any]:
    """Record and replay times (ms) of one ``events``-event stream and of ``calls`` small calls."""
    stream = make_events(events)
    text = expected_text(events)
    before = os.environ.get("OPENAI_API_KEY")
    os.environ["OPENAI_API_KEY"] = KEY
    try:
        with tempfile.TemporaryDirectory(prefix="replaystream-bench-scrub-") as tmp, \
                _util.loopback_server(_server(stream)) as root:
            live, dead = _client(root + "/v1"), _client(DEAD_BASE_URL)
            folder = Path(tmp)

            def record_stream() -> None:
                with use_cassette(folder / "stream.json", mode="all"):
                    got = consume(live)
                assert got[0] == text, "the stream was not recorded whole"

            def record_calls() -> None:
                with use_cassette(folder / "calls.json", mode="all"):
                    for i in range(calls):
                        small_question(live, i)

            def replay_stream() -> None:
                with use_cassette(folder / "stream.json"):
                    got = consume(dead)
                assert got[0] == text, "the stream did not replay whole"

            def replay_calls() -> None:
                with use_cassette(folder / "calls.json"):
                    for i in range(calls):
                        small_question(dead, i)

            contenders: dict[str, Callable[[], Any]] = {
                "record_stream": record_stream, "record_calls": record_calls,
                "replay_stream": replay_stream, "replay_calls": replay_calls}
            record_stream(), record_calls()  # the files the replays read
            best = _util.best_of(contenders, rounds)
            steps = _util.best_of(_scrub_steps(folder / "stream.json"), rounds)
            saved = (folder / "stream.json").read_text("utf-8") + (folder / "calls.json").read_text("utf-8")
            leaked = KEY in saved or GATEWAY_KEY in saved
            live.close(), dead.close()
    finally:
        if before is None:
            os.environ.pop("OPENAI_API_KEY", None)
        else:
            os.environ["OPENAI_API_KEY"] = before
    return {"events": events, "calls": calls, "rounds": rounds, "key_written": leaked,
            **{f"{name}_ms": _util.ms(seconds) for name, seconds in {**best, **steps}.items()}}


def _scrub_steps(path: Path) -> dict[str, Callable[[], Any]]:
    """The scrub step alone, on the recorded stream's interaction (the key and the gateway
    key back in its request): what recording pays per interaction, and at the end."""
    from replaystream.cassette import Cassette
    from replaystream.wire.scrub import Scrubber

    inter = Cassette.load(path).interactions[0]
    inter.request.headers.update({"authorization": f"Bearer {KEY}", "x-portkey-api-key": GATEWAY_KEY})
    scrubber = Scrubber()
    steps: dict[str, Callable[[], Any]] = {"scrub_interaction": lambda: scrubber(inter)}
    if hasattr(scrubber, "finish"):  # the whole-cassette pass, where it exists
        def scrub_and_finish() -> None:
            book = scrubber.book()
            cassette = Cassette([scrubber(inter, book)])
            cassette.interactions[0] = inter  # as an older interaction would be: masked again
            scrubber.finish(cassette, book)
        steps["scrub_interaction_and_cassette"] = scrub_and_finish
    return steps
