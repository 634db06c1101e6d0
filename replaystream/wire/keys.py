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
from .scrub import credential_headers

__all__ = ["PLACEHOLDER_KEY", "placeholder_keys", "require_real_key"]


class _PlaceholderEnv:
    """Reference counted, so nested and concurrent replay sessions (and the pytest run)
    share one set of placeholders, removed when the last of them ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0
        self._previous: dict[str, str | None] = {}  # what each variable we set held before

    def acquire(self) -> None:
        with self._lock:
            self._count += 1
            if self._count > 1:
                return
            for var in providers.placeholder_vars():
                if os.environ.get(var.name) or any(os.environ.get(alt) for alt in var.unless):
                    continue  # the user's value (or their alternative variable) wins
                self._previous[var.name] = os.environ.get(var.name)
                os.environ[var.name] = var.value

    def release(self) -> None:
        with self._lock:
            self._count -= 1
            if self._count > 0:
                return
            self._count = 0
            placed = {var.name: var.value for var in providers.placeholder_vars()}
            for name, before in self._previous.items():
                if os.environ.get(name) != placed.get(name):
                    continue  # changed since: not ours to undo
                if before is None:
                    del os.environ[name]
                else:
                    os.environ[name] = before
            self._previous.clear()


_env = _PlaceholderEnv()


@contextmanager
def placeholder_keys() -> Iterator[None]:
    """Within the block, unset provider key variables hold placeholders.

    >>> import os
    >>> with placeholder_keys():  # doctest: +SKIP
    ...     os.environ["OPENAI_API_KEY"]
    'replaystream-placeholder-key'
    """
    _env.acquire()
    try:
        yield
    finally:
        _env.release()


def acquire() -> None:
    """Set the placeholders until :func:`release` (the pytest plugin holds them for a run)."""
    _env.acquire()


def release() -> None:
    _env.release()


def _key_of(name: str, value: str) -> str:
    value = value.strip()
    if name in ("authorization", "proxy-authorization"):
        scheme, _, rest = value.partition(" ")
        return rest.strip() if rest else ("" if scheme.lower() in ("bearer", "basic") else value)
    return value


def require_real_key(request: Request, where: str) -> None:
    """Raise :class:`RecordingError` when a request about to be recorded carries no real key:
    the placeholder, or an empty credential header."""
    for name in credential_headers() - {"cookie", "set-cookie"}:
        if name not in request.headers:
            continue
        key = _key_of(name, request.headers[name])
        if key and PLACEHOLDER_KEY not in key:
            continue
        provider = providers.detect(request.path, request.headers)[0]
        var = providers.key_variable(provider)
        sent = "replaystream's placeholder key" if key else "an empty key"
        raise RecordingError(
            f"{var or 'the API key'} is not set: recording needs a real key.\n"
            f"  {request.method} {request.target} (to be recorded into {where}) carries {sent} in its "
            f"{name} header; the placeholder only lets a client start while replaying.\n"
            f"  Set {var or 'the key variable'} (or pass the key to the client) and run the recording again; "
            "replaying needs no key.")
