"""The replay decision, once: for each request, replay, inject a fault, record, or miss.

Replay sessions (:mod:`.session`) and ``replaystream serve`` (:mod:`replaystream.emulator`)
both ask a :class:`ReplayEngine`; it is the only code that takes from the match index
and applies the fault plan, so both answer the same request the same way. Faults are
decided here in every mode: a ``status`` fault answers before the cassette is consulted
(:class:`Inject`, recording or not), and a recorded response carries its stream faults
(:class:`Record` ``faults``) for the transport to apply to what the client sees.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Union

from ..cassette.model import Interaction, Request, Response
from ..errors import CassetteExhaustedError, CassetteMissError
from ..providers import UNKNOWN, detect
from .advice import Advice, volatile
from .faults import Fault, FaultPlan
from .matching import MatchConfig, MatchIndex, canonical, closest, request_key
from .scrub import Scrubber
from .secrets import SecretBook

__all__ = ["Inject", "Plan", "Record", "Replay", "ReplayEngine", "REPEAT_HINT"]

#: How a replay session allows a request more often than it was recorded (the library's wording).
REPEAT_HINT = Advice().repeats()


@dataclass(frozen=True)
class Replay:
    """Replay recorded interaction ``interaction`` (its response shaped by faults)."""

    response: Response
    delays: Mapping[int, float] = field(default_factory=dict)  # extra seconds before event n
    interaction: int = 0  # position in the engine's interactions (cassette, then extra ones)


@dataclass(frozen=True)
class Inject:
    """Answer with an injected error (a ``status`` fault) instead of the recording."""

    response: Response

    @property
    def delays(self) -> Mapping[int, float]:
        return {}


@dataclass(frozen=True)
class Record:
    """Nothing to replay and recording is allowed: send the request for real.

    ``faults`` are this response's stream faults (disconnect, malformed, delay): the client
    gets the stream as they shape it while the whole stream is recorded.
    """

    faults: tuple[Fault, ...] = ()


Plan = Union[Replay, Inject, Record]


class ReplayEngine:
    """Owns the match index, the fault plan and the repeat policy of one replay source.

    ``replay``/``record`` say what the record mode allows; ``where`` names the source in
    miss messages (``"cassette x.json (mode 'none')"``), ``existed`` whether its file was
    there; ``advice`` words each fix for the front end (library or pytest), and
    ``repeat_hint``, when given, replaces its fix for repeats (``serve`` has its own).
    """

    def __init__(self, interactions: Sequence[Interaction], match: MatchConfig | None = None, *,
                 faults: Sequence[Fault | str | dict[str, object]] = (), allow_repeats: bool = False,
                 replay: bool = True, record: bool = False, where: str = "the cassette",
                 existed: bool = True, repeat_hint: str | None = None, advice: Advice | None = None,
                 scrubber: Scrubber | None = None, book: SecretBook | None = None) -> None:
        self.index = MatchIndex(interactions, match or MatchConfig())
        # Requests are scrubbed as recordings were before they are matched: a key sent in
        # the query or the body matches its placeholder, and no miss message shows it. The
        # numbers given here are never saved (every placeholder matches any other).
        self.scrubber = scrubber or Scrubber()
        self.book = book if book is not None else self.scrubber.book()
        self.faults = FaultPlan(faults)
        self.allow_repeats = allow_repeats
        self.replay, self.record = replay, record
        self.where, self.existed = where, existed
        self.advice = advice or Advice()
        self._repeat_hint = repeat_hint

    @property
    def repeat_hint(self) -> str:
        """The fix for a repeated request (worded when a repeat happens, not for every session)."""
        return self._repeat_hint if self._repeat_hint is not None else self.advice.repeats()

    @property
    def interactions(self) -> list[Interaction]:
        return self.index.interactions

    def plan(self, request: Request) -> Plan:
        """What to answer ``request`` with; raises the miss when nothing may answer it."""
        request = self.scrubber.request(request, self.book)
        injected = self._injected(request)
        if injected is not None:
            return injected
        if self.replay:
            hit = self.index.take(request, repeat=self.allow_repeats)
            if hit is not None:
                n, interaction = hit
                response, delays = self.faults.shape(interaction.response)
                return Replay(response, delays, n)
        if self.record:
            return Record(self.faults.recording())
        raise self.miss(request)

    def _injected(self, request: Request) -> Inject | None:
        """A ``status`` fault's error for this attempt: the same whether the response would be
        replayed or recorded (it never reaches the provider). Only a provider API request (or
        one the cassette holds) uses a fault up, not a health check."""
        if not self.faults.faults:
            return None
        provider = detect(request.path, request.headers)[0]
        if provider == UNKNOWN and not self.index.was_recorded(request):
            return None
        response = self.faults.intercept(request, provider)
        return None if response is None else Inject(response)

    def miss(self, request: Request) -> CassetteMissError:
        """The error for a request nothing answers: what was recorded, and the one fix."""
        where = self.where
        recorded = self.index.was_recorded(request)
        if recorded:
            key = request_key(request, self.index.config)
            same = [n for n, i in enumerate(self.interactions) if request_key(i.request, self.index.config) == key]
            which = f"interaction {same[0]}" if len(same) == 1 else "interactions " + ", ".join(map(str, same))
            return CassetteExhaustedError(
                f"{request.method} {request.target}: all {recorded} recorded response(s) for this request "
                f"({which}) were already replayed in {where}.\n"
                f"  The code under test sent it more often than when it was recorded. {self.repeat_hint}")
        lines = [f"{request.method} {request.target}: no recorded response in {where}."]
        near = closest(request, self.interactions, self.index.config)
        if near is None:
            fix = ("The cassette does not exist. " + self.advice.record() if not self.existed else
                   "The cassette has no interactions. " + self.advice.rerecord())
        else:
            n, diff = near
            rq = self.interactions[n].request
            lines.append(f"  Closest recorded request: interaction {n} ({rq.method} {rq.target}).")
            lines.append("  Difference (- recorded, + this request):")
            lines += ["    " + line for line in diff.splitlines()]
            fields = volatile(canonical(rq, self.index.config), canonical(request, self.index.config))
            fix = (f"Only volatile fields differ ({', '.join(fields)}). {self.advice.ignore(fields)}" if fields else
                   "The request changed since it was recorded (or is new). " + self.advice.rerecord())
        lines.append("  " + fix)
        return CassetteMissError("\n".join(lines))
