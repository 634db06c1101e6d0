"""``use_cassette``: the library entry point, and the session behind one cassette.

>>> import replaystream
>>> with replaystream.use_cassette("tests/cassettes/hello.json", mode="once"):  # doctest: +SKIP
...     client.chat.completions.create(model="gpt-4o-mini", messages=[...], stream=True)
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar, Unpack

from . import transport
from ..cassette.model import Cassette, Interaction, Request, Response
from ..cassette.store import save_merged
from ..errors import CassetteMissError, NoCassetteContextError, RecordingError
from ..options import MODES as MODES, Mode as Mode  # re-exported: their home before options.py
from ..options import SESSION_KEYS, Layer, ReplayOptions, SessionKwargs, resolve_options
from . import keys
from .advice import Advice
from .engine import Inject, Plan, Record, Replay, ReplayEngine
from .matching import MatchIndex
from .network import block_network
from .pacing import REAL_CLOCK, Clock
from .player import Player
from ..providers import decide
from .recorder import StreamRecorder
from .scrub import highest_in

F = TypeVar("F", bound=Callable[..., Any])

_current: contextvars.ContextVar[Session | None] = contextvars.ContextVar("replaystream_session", default=None)
# Threads started without copying the context still belong to the innermost cassette.
_stack: list[Session] = []
_stack_lock = threading.Lock()


def active_session() -> Session | None:
    """The session requests made here go to: this context's, else the one open cassette.

    A thread started without the caller's context (a ``ThreadPoolExecutor``) has no session
    of its own: with one cassette open it is that one's; with several, guessing could write
    its request into another test's cassette, so it is an error naming them."""
    session = _current.get()
    if session is not None and session.open:
        return session
    with _stack_lock:
        if len(_stack) <= 1:
            return _stack[-1] if _stack else None
        names = ", ".join(str(s.path) for s in _stack)
    raise NoCassetteContextError(
        f"a request from a thread that belongs to no cassette, while {len(_stack)} are open: {names}.\n"
        "  Start the thread with the caller's context so its requests go to that cassette: "
        "contextvars.copy_context().run(fn, ...) (or executor.submit(contextvars.copy_context().run, fn, ...)).")


class Session:
    """One open cassette: decides replay vs record per request, and saves at the end.

    ``advice`` words the fix in its errors (the library's by default; the pytest plugin
    passes one naming the test). While it only replays, unset provider key variables hold
    placeholders (:mod:`.keys`), so clients that demand a key start.
    """

    def __init__(self, path: str | Path, options: ReplayOptions | None = None, *,
                 cassette: Cassette | None = None, clock: Clock = REAL_CLOCK, advice: Advice | None = None,
                 recorded_by: str | None = None, run: str | None = None,
                 **kwargs: Unpack[SessionKwargs]) -> None:
        if kwargs or not isinstance(options, ReplayOptions):  # keywords: checked like any other source
            options = resolve_options(options or ReplayOptions(), Layer("Session()", kwargs, SESSION_KEYS))
        self.options = options
        mode = options.mode
        self.path = Path(path)
        self.recorded_by = recorded_by  # written into each new interaction (the plugin: the test id)
        self.run = run  # a test run's id: ``rewrite`` empties the file once per run (see cassette.store)
        self.advice = advice or Advice(str(path))
        self.mode = mode
        self.match = options.match
        self.pacing = options.pacing
        self.scrubber = options.scrub
        # The secrets this session learns, each with its placeholder (numbered after the cassette's).
        self.book = self.scrubber.book(start=lambda: highest_in(self.cassette))
        self.allow_repeats = options.allow_repeats
        self.clock = clock  # everything this session times or waits for reads it
        self.players: list[Player] = []  # one per replayed response, in order (position: progress)
        # Offline by default when nothing may be recorded: other HTTP stacks are blocked too.
        self.offline = options.blocks_network
        self._exits = contextlib.ExitStack()
        # ``cassette`` replays one already in memory (the message-level fakes use it).
        self.existed = cassette is not None or self.path.exists()
        # A damaged cassette raises here, in every mode: it is never treated as empty.
        if cassette is None:
            cassette = Cassette.load(self.path) if self.existed else Cassette(path=self.path)
        self.cassette = cassette
        if mode == "rewrite":
            self.cassette = Cassette(records=self.cassette.records, meta=self.cassette.meta, path=self.path)
        self.can_replay = mode in ("none", "once", "new_episodes")
        self.can_record = mode in ("new_episodes", "all", "rewrite") or (mode == "once" and not self.existed)
        # Extra cassettes are read-only sources: replayed from, never written.
        self.extra = [Cassette.load(p) for p in options.extra]
        replayable = self.cassette.interactions + [i for c in self.extra for i in c.interactions]
        self.engine = ReplayEngine(replayable, self.match, faults=options.faults, allow_repeats=self.allow_repeats,
                                   replay=self.can_replay, record=self.can_record,
                                   where=f"cassette {self.path} (mode {self.mode!r})", existed=self.existed,
                                   advice=self.advice, scrubber=self.scrubber)
        self.new: list[Interaction] = []
        # Typed records (a ReplayTool's calls, ...) are written into ``cassette.records``
        # directly; the cassette is saved when they changed, as for new interactions.
        self._records_before = list(self.cassette.records)
        self.misses: list[CassetteMissError] = []
        self.open = False
        self.saved = False  # written to the file: a second save() does nothing
        self._recorders: list[StreamRecorder] = []
        self._lock = threading.Lock()

    @property
    def index(self) -> MatchIndex:
        return self.engine.index

    # -- called by the transports -----------------------------------------------------
    def plan(self, request: Request) -> Plan:
        """What to answer ``request`` with (see :class:`.engine.ReplayEngine`); raises on a forbidden miss."""
        try:
            planned = self.engine.plan(request)
        except CassetteMissError as error:
            self.misses.append(error)
            raise
        if isinstance(planned, Record):
            keys.require_real_key(request, f"cassette {self.path}")
        return planned

    def play(self, plan: Replay | Inject) -> Player:
        """The player of a planned response, paced as this session says; kept in :attr:`players`."""
        player = Player(plan.response, self.pacing, delays=dict(plan.delays), clock=self.clock)
        self.players.append(player)
        return player

    def track(self, recorder: StreamRecorder) -> None:
        with self._lock:
            self._recorders.append(recorder)

    def on_recorded(self, request: Request, response: Response) -> None:
        # Path and headers first, then the host it really went to, then the provider= option.
        host = request.headers.get("host", "").rsplit(":", 1)[0].strip("[]") or None
        found = decide(request.path, request.headers, host, self.options.provider)
        interaction = self.scrubber(Interaction(request, response, found.provider, found.api), self.book)
        if interaction is not None:
            interaction.test = self.recorded_by
            with self._lock:
                self.new.append(interaction)
                if found.vendor is not None:  # a look-alike's vendor lives in the cassette's meta
                    vendors = self.cassette.meta.setdefault("vendors", {})
                    vendors.setdefault(found.provider, [])
                    if found.vendor not in vendors[found.provider]:
                        vendors[found.provider].append(found.vendor)

    # -- lifecycle ------------------------------------------------------------------
    def start(self) -> contextvars.Token[Session | None]:
        self.open = True
        if self.offline:
            self._exits.enter_context(block_network(self.advice))
        if not self.can_record:
            self._exits.enter_context(keys.placeholder_keys())
        transport.install(active_session)
        with _stack_lock:
            _stack.append(self)
        return _current.set(self)

    def finish(self, token: contextvars.Token[Session | None] | None, failed: bool = False,
               save: bool = True) -> None:
        """Close the session; write the cassette unless the block failed (then keep the old file)
        or the options say ``persist=False``. With ``save=False`` the caller decides later
        (the pytest plugin: once the test's teardown passed) by calling :meth:`save`."""
        try:
            for recorder in list(self._recorders):
                recorder.close()  # a stream nobody closed: keep what arrived, marked client_closed
        finally:
            self.open = False
            with _stack_lock:
                if self in _stack:
                    _stack.remove(self)
            if token is not None:
                try:
                    _current.reset(token)
                except ValueError:  # exited in another context (e.g. an async generator's)
                    _current.set(None)
            transport.uninstall()
            self._exits.close()
        if save and not failed:
            self.save()

    def save(self) -> None:
        """Add what this session recorded to the cassette file as it is now (under its lock:
        other sessions may be saving into it too; see :mod:`replaystream.cassette.store`)."""
        records = self.cassette.records != self._records_before
        if (self.new or records) and self.options.persist and not self.saved:
            try:
                self.cassette = save_merged(self.path, self.cassette, self.new, self._records_before,
                                            rewrite=self.mode == "rewrite", run=self.run,
                                            prepare=lambda merged: self.scrubber.finish(merged, self.book))
            except OSError as exc:  # disk full, read-only, permissions: the old file is still there
                what = f"{len(self.new)} new interaction(s)" + (" and changed records" if records else "")
                raise RecordingError(
                    f"could not save {what} to cassette {self.path}: "
                    f"{exc.strerror or exc} (errno {exc.errno}).\n"
                    "  Nothing was written: the previous cassette is untouched. Free the space (or fix the "
                    "permissions) and run the recording again.") from exc
            self.saved = True

    def unused(self) -> list[int]:
        """Indexes of this cassette's recorded interactions that were not replayed."""
        if not self.can_replay:
            return []
        return [n for n in self.index.unused() if n < len(self.cassette.interactions)]

    def unexplained_unused(self) -> list[int]:
        """:meth:`unused`, less those a declared fault explains: from the first request a fault
        changed on, the code under test may stop (see :meth:`.faults.FaultPlan.explains_unused`)."""
        return [n for n in self.unused() if not self.engine.faults.explains_unused(n)]


class CassetteContext:
    """What :func:`use_cassette` returns: a context manager (sync and async) and a decorator."""

    def __init__(self, path: str | Path, options: ReplayOptions | None = None,
                 **kwargs: Unpack[SessionKwargs]) -> None:
        self.path = Path(path)
        # Checked now, so a bad option fails where it is written, not where the block is entered.
        self.options = resolve_options(options or ReplayOptions(), Layer("use_cassette()", kwargs, SESSION_KEYS))
        self._open: list[tuple[Session, contextvars.Token[Session | None]]] = []

    def __enter__(self) -> Session:
        session = Session(self.path, self.options)
        self._open.append((session, session.start()))
        return session

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        session, token = self._open.pop()
        session.finish(token, failed=exc_type is not None)

    async def __aenter__(self) -> Session:
        return self.__enter__()

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self.__exit__(exc_type, exc, tb)

    def __call__(self, fn: F) -> F:
        if inspect.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                async with self:
                    return await fn(*args, **kwargs)
            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return fn(*args, **kwargs)
        return wrapper  # type: ignore[return-value]


def use_cassette(path: str | Path, options: ReplayOptions | None = None,
                 **kwargs: Unpack[SessionKwargs]) -> CassetteContext:
    """Record or replay every httpx / httpx2 request made inside the block.

    The keywords are the fields of :class:`~replaystream.ReplayOptions` (``mode``, ``pacing``,
    ``match``, ``scrub``, ``faults``, ``offline``, ...; an unknown one raises
    :class:`~replaystream.options.OptionsError` naming the closest); given with ``options``,
    they override it. Usable as ``with``, ``async with`` and as a decorator of sync and
    ``async def`` functions.
    """
    return CassetteContext(path, options, **kwargs)
