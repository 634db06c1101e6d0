"""Per-test work the pytest plugin does once: each marked test's plan (options, cassette
folder, name, secrets), worked out at collection and shared by tests with the same
markers; resolved paths and session options, once a run; and whether a test overrides
one of the fixtures the plan stands in for. Only speed: a test gets what its fixtures
would have given it."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from .options import Mode, ReplayOptions
from .pytest_paths import known_secrets

__all__ = ["Overrides", "Plan", "Resolved", "SessionOptions", "marks_key", "plan_key", "secrets_of"]


@dataclass(frozen=True)
class Plan:
    """What collection worked out for a marked test; the fixtures reuse it while
    ``replay_config`` adds nothing (the common case), so a test resolves nothing again."""

    options: ReplayOptions
    directory: Path
    name: str
    secrets: tuple[str, ...]  # known_secrets(options), longest first


plan_key = pytest.StashKey[Plan]()

_PLAIN = (str, bool, int, float, type(None))


def _plain(value: Any) -> Hashable | None:
    """``value`` as part of a key, or None when it is not plain data."""
    if type(value) in _PLAIN:
        return type(value), value  # the type too: True == 1, but only one is a valid bool option
    if type(value) in (list, tuple) and all(type(v) is str for v in value):
        return type(value), tuple(value)
    return None


def marks_key(item: pytest.Item) -> Hashable | None:
    """The item's ``replay`` markers as a key (closest last), or None when a value is not
    plain data (a MatchConfig, a hook): those are resolved for each test."""
    key = []
    for mark in reversed(list(item.iter_markers("replay"))):
        args = tuple(_plain(a) for a in mark.args)
        kwargs = tuple((k, _plain(v)) for k, v in sorted(mark.kwargs.items()))
        if None in args or any(v is None for _, v in kwargs):
            return None
        key.append((args, kwargs))
    return tuple(key)


def secrets_of(item: pytest.Item, options: ReplayOptions) -> tuple[str, ...]:
    """``known_secrets(options)``, from the test's plan when it is for these options."""
    plan = item.stash.get(plan_key, None)
    return plan.secrets if plan is not None and plan.options is options else tuple(known_secrets(options))


class Resolved:
    """``str(path.resolve())``, once per path a run: a resolve is several system calls."""

    def __init__(self) -> None:
        self._known: dict[Path, str] = {}

    def __call__(self, path: Path) -> str:
        found = self._known.get(path)
        if found is None:
            found = self._known[path] = str(path.resolve())
        return found


class SessionOptions:
    """A test's session options: its options plus the conftest scrub ``hook``, the extra
    cassettes and the mode. Tests with the same options share one (validated once)."""

    def __init__(self, hook: Callable[..., Any]) -> None:
        self._hook = hook
        # keyed by id: the options object is kept in the value, so its id stays its own
        self._made: dict[tuple[int, tuple[Path, ...], str], tuple[ReplayOptions, ReplayOptions]] = {}

    def __call__(self, options: ReplayOptions, extra: tuple[Path, ...], mode: Mode) -> ReplayOptions:
        key = (id(options), extra, mode)
        made = self._made.get(key)
        if made is None:
            # The user's scrub hooks run first, then the conftest hook pytest_replaystream_before_record.
            scrub = replace(options.scrub, hooks=(*options.scrub.hooks, self._hook))
            made = self._made[key] = (options, replace(options, scrub=scrub, extra=extra, mode=mode))
        return made[1]


def _unwrapped(fixture: Any) -> Any:
    """The function under a ``@pytest.fixture`` decoration (pytest 8.4+ wraps it)."""
    inner = getattr(fixture, "_get_wrapped_function", None)
    return inner() if inner is not None else getattr(fixture, "__wrapped__", fixture)


class Overrides:
    """Whether a test sees another definition of one of ``own`` (name -> the plugin's
    fixture), or parametrizes one. Asked once per module or class: its tests see the same
    definitions."""

    def __init__(self, own: Mapping[str, Any]) -> None:
        self._own = {name: _unwrapped(fixture) for name, fixture in own.items()}
        self._known: dict[str, bool] = {}  # a module's or class's node id -> the answer

    def __call__(self, item: pytest.Item) -> bool:
        if any(name in self._own for name in getattr(getattr(item, "callspec", None), "params", ())):
            return True
        where = item.parent.nodeid if item.parent is not None else ""
        if where not in self._known:
            try:
                manager = item.session._fixturemanager
                self._known[where] = any(not (defs := manager.getfixturedefs(name, item)) or
                                         getattr(defs[-1].func, "__wrapped__", defs[-1].func) is not own
                                         for name, own in self._own.items())
            except Exception:  # another pytest inside: take the fixtures' own (slower) way
                self._known[where] = True
        return self._known[where]
