"""A cassette served over HTTP (``replaystream serve``), decided by the replay engine.

The emulator hands each request here; what answers it is what a replay session would
replay: :class:`~replaystream.wire.engine.ReplayEngine` decides, this module only turns
the plan (or the miss) into a :class:`ScriptedResponse` and logs one line per request.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from ..cassette.model import Cassette, Interaction, Request
from ..errors import CassetteExhaustedError, CassetteMissError
from ..wire.advice import Advice
from ..wire.engine import Inject, Record, ReplayEngine
from ..wire.faults import Fault
from ..wire.matching import MatchConfig
from .scripts import Pacing, ScriptedResponse

#: How ``serve`` lets a request repeat (the miss message's fix).
SERVE_REPEAT_HINT = ("Record it that many times, or serve with `replaystream serve --repeat` "
                     "(serve_cassette(..., allow_repeats=True)) to answer repeats with the last recording.")


class CassetteServing:
    """One served cassette: its engine, pacing and request log."""

    def __init__(self, cassette: Cassette, pacing: Pacing = "instant", match: MatchConfig | None = None,
                 faults: Sequence[Fault | str] = (), *, allow_repeats: bool = False,
                 log: Callable[[str], None] | None = None) -> None:
        where = f"cassette {cassette.path or '<in memory>'} (served by replaystream serve)"
        self.engine = ReplayEngine(cassette.interactions, match, faults=faults, allow_repeats=allow_repeats,
                                   where=where, repeat_hint=SERVE_REPEAT_HINT,
                                   advice=Advice(str(cassette.path or "<in memory>")))
        self.pacing = pacing
        self.log = log

    def answer(self, request: Request, queued: Callable[[], ScriptedResponse | None]) -> ScriptedResponse:
        """The response to ``request``: the engine's plan, else a queued one, else the miss as a 500."""
        try:
            plan = self.engine.plan(request)
        except CassetteMissError as error:
            fallback = queued()  # scripted responses answer what the cassette cannot
            if fallback is not None:
                self._note(request, "queued response")
                return fallback
            self._note(request, "already replayed" if isinstance(error, CassetteExhaustedError) else "miss")
            return _error_response(error)
        assert not isinstance(plan, Record)  # the engine is built without recording
        if isinstance(plan, Inject):
            self._note(request, f"injected HTTP {plan.response.status} (fault)")
            return ScriptedResponse.from_interaction(Interaction(request, plan.response))
        self._note(request, f"interaction {plan.interaction}")
        return ScriptedResponse.from_interaction(Interaction(request, plan.response), self.pacing, dict(plan.delays))

    def _note(self, request: Request, answer: str) -> None:
        if self.log is not None:
            self.log(f"{request.method} {request.target} -> {answer}")


def _error_response(error: CassetteMissError) -> ScriptedResponse:
    """A miss as an HTTP 500 whose error message is the replay error's."""
    kind = "replaystream_already_replayed" if isinstance(error, CassetteExhaustedError) else \
        "replaystream_no_recording"
    return ScriptedResponse(500, {"content-type": "application/json"}, body=json.dumps(
        {"error": {"message": f"replaystream serve: {error}", "type": kind}}).encode())
