"""One options object for a cassette session, and the one resolver that layers it.

Every way of setting an option (``use_cassette(...)``, ``Session(...)``, the pytest ini,
``replay_config``, ``replay`` markers, the command line, ``replaystream serve``) goes through
:func:`resolve_options`, so they accept the same keys, validate them the same way and
report a mistake (an unknown key, a bad value) the same way: naming the key, where it came
from and the closest valid key.

>>> options = resolve_options(Layer("ini", {"mode": "once"}), Layer("marker on test_x", {"pacing": 2}))
>>> options.mode, options.pacing
('once', 2.0)
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, TypedDict, get_args

from . import providers
from .errors import ReplayStreamError, UsageError
from .wire.faults import Fault
from .wire.matching import MatchConfig
from .wire.player import Pacing, parse_pacing
from .wire.scrub import Scrubber

Mode = Literal["none", "once", "new_episodes", "all", "rewrite"]
MODES: tuple[Mode, ...] = get_args(Mode)


class OptionsError(ReplayStreamError):
    """Options that cannot be used: unknown keys or bad values, each named with its source.

    ``problems`` holds one line per mistake, e.g. ``marker on test_a.py::test_x: unknown
    option 'mdoe' (did you mean 'mode'?)``.
    """

    def __init__(self, problems: Sequence[str], valid: Sequence[str] = ()) -> None:
        self.problems = list(problems)
        self.valid = list(valid)
        lines = [f"{len(self.problems)} invalid replaystream options:" if len(self.problems) > 1 else
                 "invalid replaystream option:"]
        lines += ["  " + p for p in self.problems]
        if valid:
            lines.append("  Fix the key(s) above; the options are: " + ", ".join(valid) + ".")
        super().__init__("\n".join(lines))


class SessionKwargs(TypedDict, total=False):
    """The keyword arguments of ``use_cassette`` and ``Session``: see :class:`ReplayOptions`."""

    mode: Mode
    pacing: Pacing | str
    match: MatchConfig | Mapping[str, Any] | None
    ignore_fields: Sequence[str]  # shorthand for match.ignore_fields
    match_headers: Sequence[str]  # shorthand for match.headers
    scrub: Scrubber | Mapping[str, Any] | None
    faults: Sequence[Fault | str | dict[str, object]]
    offline: bool | None
    allow_network: bool  # shorthand: True is offline=False, False is the default (offline=None)
    allow_repeats: bool
    extra: Sequence[str | Path]
    persist: bool
    provider: str | None


class PluginKwargs(SessionKwargs, total=False):
    """Everything a ``replay`` marker or ``replay_config`` takes: the session's keys and the
    plugin's own (cassette names and folder, teardown checks)."""

    cassettes: Sequence[str]
    cassette_dir: str | Path | None
    allow_unused: bool
    strict: bool


SESSION_KEYS: tuple[str, ...] = tuple(SessionKwargs.__annotations__)
PLUGIN_KEYS: tuple[str, ...] = tuple(PluginKwargs.__annotations__)
# Shorthand key -> the field it sets ("match.headers": one field of the nested MatchConfig).
SHORTHANDS = {"ignore_fields": "match.ignore_fields", "match_headers": "match.headers", "allow_network": "offline"}
_NESTED: dict[str, type[MatchConfig] | type[Scrubber]] = {"match": MatchConfig, "scrub": Scrubber}


@dataclass(frozen=True)
class ReplayOptions:
    """How one cassette is recorded and replayed. Frozen; every field is validated.

    ``mode``: ``none`` (default; replay only, a miss is an error), ``once`` (record if the
    file does not exist, else replay), ``new_episodes`` (replay hits, record misses),
    ``all`` (record everything, replay nothing), ``rewrite`` (start afresh, record).
    ``pacing``: ``instant``, ``recorded`` or a speed factor (``2`` plays twice as fast).
    ``match`` decides which requests are the same; ``scrub`` removes secrets before saving.
    ``faults`` are injected on replay (see :mod:`replaystream.faults`). ``offline`` blocks
    non-loopback sockets and DNS (``None``: exactly when nothing may be recorded).
    ``allow_repeats`` replays a response again once all its recordings were used. ``extra``
    names read-only cassettes replayed from too. ``persist=False``: never write the cassette.
    ``provider`` says whose recorded requests are when their path, headers and host do not
    (an emulator on loopback answers OpenAI, Azure and gateways alike): a provider name
    (``"azure-openai"``) or a vendor of OpenAI look-alikes (``"groq"``, ``"mistral"``),
    recorded as ``openai-compatible`` with the vendor in the cassette's ``meta``.

    Read by the pytest plugin only: ``cassettes`` (the marker's names: the first is written,
    the rest replayed read-only), ``cassette_dir``, and the teardown check of interactions
    never replayed (off with ``allow_unused=True`` or ``strict=False``).
    """

    mode: Mode = "none"
    pacing: Pacing = "instant"
    match: MatchConfig = field(default_factory=MatchConfig)
    scrub: Scrubber = field(default_factory=Scrubber)
    faults: tuple[Fault, ...] = ()
    offline: bool | None = None
    allow_repeats: bool = False
    extra: tuple[str | Path, ...] = ()
    persist: bool = True
    provider: str | None = None
    cassettes: tuple[str, ...] = ()
    cassette_dir: str | None = None
    allow_unused: bool = False
    strict: bool = True

    def __post_init__(self) -> None:
        problems = []
        for f in fields(self):
            value = getattr(self, f.name)
            try:
                object.__setattr__(self, f.name, _VALIDATORS[f.name](value))
            except (ReplayStreamError, TypeError, ValueError) as exc:
                problems.append(f"ReplayOptions: {f.name}={value!r}: {exc}")
        if problems:
            raise OptionsError(problems)

    @property
    def blocks_network(self) -> bool:
        """Whether the session blocks the network: ``offline``, else exactly in ``none`` mode."""
        return self.mode == "none" if self.offline is None else self.offline


@dataclass(frozen=True)
class Layer:
    """Options from one place (``source`` names it in errors); ``allowed`` are its valid keys."""

    source: str
    values: Mapping[str, Any]
    allowed: Sequence[str] = PLUGIN_KEYS


def resolve_options(*layers: Layer | ReplayOptions) -> ReplayOptions:
    """The options of layers given lowest first: any key a layer gives (even ``False`` or
    ``"none"``) overrides the layers below. A whole ``MatchConfig`` / ``Scrubber`` replaces
    the one below; a dict of their fields (or a shorthand) changes only those fields.
    Raises :class:`OptionsError` listing every unknown key and bad value of every layer."""
    merged: dict[str, Any] = {}
    problems: list[str] = []
    valid: set[str] = set()  # the keys of layers with an unknown one, to list in the error
    for layer in layers:
        if isinstance(layer, ReplayOptions):
            layer = Layer("options", {f.name: getattr(layer, f.name) for f in fields(layer)})
        elif not isinstance(layer, Layer):  # e.g. Session(path, "once"): the mode is a keyword now
            raise UsageError(f"options must be a ReplayOptions (keywords: mode=..., pacing=...), got {layer!r}")
        if set(layer.values) - set(layer.allowed):
            valid.update(layer.allowed)
        flat = _flatten(layer, problems)
        for key in sorted(flat, key=lambda k: "." in k):  # a whole object, then fields of it
            if "." not in key:
                merged = {k: v for k, v in merged.items() if not k.startswith(key + ".")}
            merged[key] = flat[key]
    if problems:
        raise OptionsError(problems, [k for k in PLUGIN_KEYS if k in valid])
    top = {k: v for k, v in merged.items() if "." not in k}
    for name, cls in _NESTED.items():
        changed = {k.partition(".")[2]: v for k, v in merged.items() if k.startswith(name + ".")}
        if changed:
            top[name] = replace(top.get(name) or cls(), **changed)
    return ReplayOptions(**top)


def _flatten(layer: Layer, problems: list[str]) -> dict[str, Any]:
    """One layer's values, checked, keyed by field (``match.headers`` for a nested one)."""
    flat: dict[str, Any] = {}
    for key, value in layer.values.items():
        if key not in layer.allowed:
            problems.append(f"{layer.source}: {_unknown(key, layer.allowed)}")
            continue
        try:
            if key in _NESTED and isinstance(value, Mapping):
                cls = _NESTED[key]
                names = [f.name for f in fields(cls)]
                for sub, v in value.items():
                    if sub not in names:
                        problems.append(f"{layer.source}: {_unknown(f'{key}.{sub}', [f'{key}.{n}' for n in names])}")
                        continue
                    try:
                        flat[f"{key}.{sub}"] = _nested_value(cls, sub, v)
                    except ReplayStreamError as exc:
                        problems.append(f"{layer.source}: {key}.{sub}={v!r}: {exc}")
            elif key == "allow_network":
                flat["offline"] = False if _bool(value) else None
            elif key in SHORTHANDS:
                flat[SHORTHANDS[key]] = _strings(value)
            else:
                flat[key] = _VALIDATORS[key](value)
        except (ReplayStreamError, TypeError, ValueError) as exc:
            problems.append(f"{layer.source}: {key}={value!r}: {exc}")
    return flat


def _unknown(key: str, valid: Sequence[str]) -> str:
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    if key in PLUGIN_KEYS and key not in valid:
        hint = " (only the pytest plugin reads it: a replay marker or replay_config)"
    return f"unknown option {key!r}{hint}"


# -- values ------------------------------------------------------------------------------
def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ReplayStreamError(f"must be True or False, not {type(value).__name__}")
    return value


def _sequence(value: object) -> tuple[Any, ...]:
    if isinstance(value, (str, bytes, Path)) or not isinstance(value, (Sequence, set, frozenset)):
        raise ReplayStreamError(f"must be a list, e.g. [{value!r}]" if isinstance(value, str) else "must be a list")
    return tuple(value)


def _strings(value: object) -> tuple[str, ...]:
    items = _sequence(value)
    if not all(isinstance(v, str) for v in items):
        raise ReplayStreamError("must be a list of strings")
    return items


def _mode(value: object) -> Mode:
    for mode in MODES:
        if value == mode:
            return mode
    close = difflib.get_close_matches(str(value), MODES, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise ReplayStreamError(f"unknown record mode {value!r}: {hint}use one of {', '.join(MODES)}")


def _pacing(value: object) -> Pacing:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ReplayStreamError("use 'instant', 'recorded' or a speed factor such as 2")
    return parse_pacing(value)


def _faults(value: object) -> tuple[Fault, ...]:
    return tuple(Fault.coerce(f) for f in _sequence(value))


def _nested(cls: type[MatchConfig] | type[Scrubber]) -> Callable[[object], Any]:
    def check(value: object) -> Any:
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, Mapping):  # direct construction: the fields given, checked
            names = [f.name for f in fields(cls)]
            for k in value:
                if k not in names:
                    raise ReplayStreamError(_unknown(k, names))
            return cls(**{k: _nested_value(cls, k, v) for k, v in value.items()})
        raise ReplayStreamError(f"must be a {cls.__name__} or a dict of its fields")
    return check


def _nested_value(cls: type[MatchConfig] | type[Scrubber], name: str, value: object) -> Any:
    (f,) = [f for f in fields(cls) if f.name == name]
    default = f.default_factory() if f.default is MISSING and f.default_factory is not MISSING else f.default
    if isinstance(default, bool):
        return _bool(value)
    items = _sequence(value)
    if name == "hooks":
        if not all(callable(h) for h in items):
            raise ReplayStreamError("hooks must be callables taking an Interaction")
        return items
    return _strings(items)


def _provider(value: object) -> str | None:
    if value is None:
        return None
    known = [n for n in providers.names() if n != providers.UNKNOWN] + sorted(providers.vendor_names())
    if isinstance(value, str) and value in known:
        return value
    close = difflib.get_close_matches(str(value), known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise ReplayStreamError(f"unknown provider {value!r}: {hint}use one of {', '.join(known)}")


def _optional_bool(value: object) -> bool | None:
    return None if value is None else _bool(value)


def _optional_dir(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, (str, Path)):
        raise ReplayStreamError("must be a folder path")
    return str(value)


def _paths(value: object) -> tuple[str | Path, ...]:
    items = _sequence(value)
    if not all(isinstance(v, (str, Path)) for v in items):
        raise ReplayStreamError("must be a list of cassette paths")
    return items


def _names(value: object) -> tuple[str, ...]:
    return tuple(str(p) for p in _paths(value))


_VALIDATORS: dict[str, Callable[[Any], Any]] = {
    "mode": _mode, "pacing": _pacing, "match": _nested(MatchConfig), "scrub": _nested(Scrubber),
    "faults": _faults, "offline": _optional_bool, "allow_repeats": _bool, "extra": _paths, "persist": _bool,
    "provider": _provider,
    "cassettes": _names, "cassette_dir": _optional_dir, "allow_unused": _bool, "strict": _bool,
}

__all__ = ["MODES", "Layer", "Mode", "OptionsError", "PluginKwargs", "ReplayOptions", "SessionKwargs",
           "resolve_options"]
