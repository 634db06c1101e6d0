"""Replay without keys: placeholder values for unset key variables, and the check that a
recording is never sent with one.

``openai.OpenAI()`` and ``ChatOpenAI`` refuse to start without a key, and
``anthropic.Anthropic()`` fails at its first request; a replay sends no request anywhere,
so while a session only replays, every unset variable of
:data:`~replaystream.providers.PLACEHOLDER_ENV` holds a placeholder. A recording request
that carries the placeholder (or an empty key) raises :class:`RecordingError` naming the
variable to set.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from .. import providers
from ..cassette.model import Request
from ..errors import RecordingError
from ..providers import PLACEHOLDER_KEY
from .network import is_loopback
from .scrub import credential_headers

__all__ = ["PLACEHOLDER_KEY", "placeholder_keys", "require_real_key"]


class _PlaceholderEnv:
    """Counted per variable, so nested and concurrent replay sessions (and the pytest run)
    share each placeholder, removed when the last holder lets go. Each acquire looks at the
    environment afresh: a variable unset since (by a test's monkeypatch, say) gets one again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders: dict[str, int] = {}
        self._set: dict[str, tuple[str, str | None]] = {}  # variable -> (our value, what it held before)

    def acquire(self) -> list[str]:
        """Fill the unset variables; returns the ones this caller now holds (give them to :meth:`release`)."""
        held = []
        with self._lock:
            for var in providers.placeholder_vars():
                current = os.environ.get(var.name)
                ours = var.name in self._set and current == self._set[var.name][0]
                if not ours:
                    if current or any(os.environ.get(alt) for alt in var.unless):
                        continue  # the user's value (or their alternative variable) wins
                    before = self._set[var.name][1] if var.name in self._set else current
                    self._set[var.name] = (var.value, before)
                    os.environ[var.name] = var.value
                self._holders[var.name] = self._holders.get(var.name, 0) + 1
                held.append(var.name)
        return held

    def release(self, held: list[str]) -> None:
        with self._lock:
            for name in held:
                self._holders[name] -= 1
                if self._holders[name] > 0:
                    continue
                del self._holders[name]
                value, before = self._set.pop(name)
                if os.environ.get(name) != value:
                    continue  # changed since: not ours to undo
                if before is None:
                    del os.environ[name]
                else:
                    os.environ[name] = before


_env = _PlaceholderEnv()


@contextmanager
def placeholder_keys() -> Iterator[None]:
    """Within the block, unset provider key variables hold placeholders.

    >>> import os
    >>> with placeholder_keys():  # doctest: +SKIP
    ...     os.environ["OPENAI_API_KEY"]
    'replaystream-placeholder-key'
    """
    held = _env.acquire()
    try:
        yield
    finally:
        _env.release(held)


def acquire() -> list[str]:
    """Set the placeholders until :func:`release` is given the result (the pytest plugin
    holds them for a whole run in mode ``none``)."""
    return _env.acquire()


def release(held: list[str]) -> None:
    _env.release(held)


def _key_of(name: str, value: str) -> str:
    value = value.strip()
    if name in ("authorization", "proxy-authorization"):
        scheme, _, rest = value.partition(" ")
        return rest.strip() if rest else ("" if scheme.lower() in ("bearer", "basic") else value)
    return value


def require_real_key(request: Request, where: str) -> None:
    """Raise :class:`RecordingError` when a request about to be recorded carries no real key:
    the placeholder, or (to a provider's host: a local server may want none) an empty key."""
    host = request.headers.get("host", "").rsplit(":", 1)[0].strip("[]")
    local = is_loopback(host)
    for name in sorted(credential_headers() - {"cookie", "set-cookie"}):
        if name not in request.headers:
            continue
        key = _key_of(name, request.headers[name])
        if PLACEHOLDER_KEY not in key and (key or local):
            continue
        provider = providers.detect(request.path, request.headers, host or None)[0]
        var = providers.key_variable(provider) or "the provider's API key"
        why = ("replaystream's placeholder key in its {} header: it only lets a client start while replaying"
               if key else "an empty key in its {} header").format(name)
        raise RecordingError(
            f"{var} is not set: recording needs a real key.\n"
            f"  {request.method} {request.target} (to be recorded into {where}) carries {why}.\n"
            f"  Set {var} (or pass the key to the client) and run the recording again; replaying needs no key.")
