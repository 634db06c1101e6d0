"""What the pytest plugin does around a test's phases: the offline guard over setup, call
and teardown, saving only a test that passed, and the leftovers of shared cassettes.

- **Offline guard.** A test whose cassette replays offline (``none`` mode) has the network
  blocked from the start of its setup to the end of its teardown (not only while its
  cassette is open), and the proxy variables (``HTTP_PROXY``, ``HTTPS_PROXY``,
  ``ALL_PROXY``, either case) are unset for it: a proxy on loopback would carry requests
  out. The mode is read from the command line, ini and markers; a ``replay_config``
  fixture that turns recording on is only known once the cassette opens, which then lifts
  the guard.
- **Saved only when passed.** The cassette is written after the teardown, when setup, call
  and teardown all passed: not on an interrupt (Ctrl-C), skip, xfail, xpass or error.
- **Shared cassettes.** Each test answers for the interactions it recorded; the ones no
  test of the run replayed are listed once, at the end of the session.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from .wire.advice import Advice
from .wire.network import block_network

if TYPE_CHECKING:  # the session stack loads with the first cassette, not at pytest's start-up
    from .wire.session import Session

PROXY_VARIABLES = tuple(v for name in ("http_proxy", "https_proxy", "all_proxy") for v in (name.upper(), name))

guard_key = pytest.StashKey[contextlib.ExitStack]()
pending_key = pytest.StashKey[list[Callable[[], None]]]()


def start_guard(item: pytest.Item, advice: Advice) -> None:
    """Block the network and unset the proxies until :func:`stop_guard` (after the teardown)."""
    stack = contextlib.ExitStack()
    if any(name in os.environ for name in PROXY_VARIABLES):  # most runs set none: nothing to undo
        patch = stack.enter_context(pytest.MonkeyPatch.context())
        for name in PROXY_VARIABLES:
            patch.delenv(name, raising=False)
    try:
        stack.enter_context(block_network(advice))
    except BaseException:
        stack.close()
        raise
    item.stash[guard_key] = stack


def stop_guard(item: pytest.Item) -> None:
    stack = item.stash.get(guard_key, None)
    if stack is not None:
        del item.stash[guard_key]
        stack.close()


def passed(reports: dict[str, pytest.TestReport]) -> bool:
    """Setup and call passed (teardown is known by the caller): not skipped, xfailed or xpassed."""
    return all(w in reports and reports[w].passed and not hasattr(reports[w], "wasxfail") for w in ("setup", "call"))


def save_later(item: pytest.Item, save: Callable[[], None]) -> None:
    item.stash.setdefault(pending_key, []).append(save)


def take_saves(item: pytest.Item) -> list[Callable[[], None]]:
    saves = item.stash.get(pending_key, [])
    item.stash[pending_key] = []
    return saves


@dataclass
class SharedUse:
    """What the tests of a run replayed from one shared cassette."""

    described: list[str] = field(default_factory=list)  # "#n METHOD target", one per interaction
    tags: list[str | None] = field(default_factory=list)  # the test that recorded each
    used: set[int] = field(default_factory=set)
    ran: set[str] = field(default_factory=set)  # tests whose own check ran (their interactions are theirs)

    def add(self, test: str, session: Session, described: list[str]) -> list[int]:
        """Note what ``test`` replayed; returns the unused interactions it answers for (it recorded them)."""
        inters = session.cassette.interactions
        self.described, self.tags = described, [i.test for i in inters]
        self.used.update(set(range(len(inters))) - set(session.unused()))
        self.ran.add(test)
        return [n for n in session.unexplained_unused() if inters[n].test == test]

    def leftovers(self) -> list[str]:
        return [d for n, (d, tag) in enumerate(zip(self.described, self.tags))
                if n not in self.used and (tag is None or tag not in self.ran)]

    def dump(self) -> dict[str, Any]:
        return {"described": self.described, "tags": self.tags, "used": sorted(self.used), "ran": sorted(self.ran)}

    def merge(self, data: dict[str, Any]) -> None:
        """Add a worker's (xdist) findings."""
        self.described = self.described or list(data["described"])
        self.tags = self.tags or list(data["tags"])
        self.used.update(data["used"])
        self.ran.update(data["ran"])


def report_leftovers(terminalreporter: Any, shared: dict[str, SharedUse]) -> None:
    lines = [(path, left) for path, use in sorted(shared.items()) if (left := use.leftovers())]
    if not lines:
        return
    terminalreporter.section("replaystream: shared cassettes with interactions no test replayed")
    for path, left in lines:
        terminalreporter.write_line(f"{path}: {', '.join(left[:10])}{' ...' if len(left) > 10 else ''}")
    terminalreporter.write_line(
        "  The tests that share these cassettes made fewer requests than were recorded: re-record them "
        "(--replay-mode=rewrite), or delete the interactions no test needs.")
