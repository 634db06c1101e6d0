"""Reference-counted patching of class (or module) attributes.

Cassettes nest and run in several threads at once, yet the transports and the socket
layer must be patched exactly once and put back exactly as they were when the last
user leaves. :class:`Patcher` is that bookkeeping, written once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from ..errors import ReplayStreamError

#: ``(owner, attribute name, replacement)``: ``owner`` is a class or a module.
Patch = tuple[object, str, Any]

_MISSING = object()


class Patcher:
    """Applies ``build()``'s patches on the first :meth:`acquire` and restores the
    originals on the matching last :meth:`release`; nested and concurrent users share
    one set of patches. Also a context manager.

    ``build`` runs under the lock, once per outermost acquire, so it can read the
    attributes it replaces and close over them.

    >>> import math
    >>> p = Patcher(lambda: [(math, "pi", 3.0)])
    >>> with p, p:
    ...     math.pi
    3.0
    >>> round(math.pi, 2)
    3.14
    """

    def __init__(self, build: Callable[[], Iterable[Patch]]) -> None:
        self._build = build
        self._lock = threading.Lock()
        self._depth = 0
        # Each owner's own attribute as it was (or _MISSING when it was inherited), so
        # restoring puts back the exact descriptor, never a copy bound from a base class.
        self._saved: list[tuple[object, str, Any]] = []

    @property
    def active(self) -> bool:
        return self._depth > 0

    def acquire(self) -> None:
        with self._lock:
            if self._depth == 0:
                patches = list(self._build())
                try:
                    for owner, name, replacement in patches:
                        original = vars(owner).get(name, _MISSING)
                        setattr(owner, name, replacement)
                        self._saved.append((owner, name, original))
                except BaseException:  # half-patched is worse than unpatched
                    self._restore()
                    raise
            self._depth += 1

    def release(self) -> None:
        with self._lock:
            if self._depth == 0:
                raise ReplayStreamError("Patcher.release() without a matching acquire(): a bug in replaystream")
            self._depth -= 1
            if self._depth == 0:
                self._restore()

    def _restore(self) -> None:
        while self._saved:  # last patched, first restored
            owner, name, original = self._saved.pop()
            if original is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, original)

    def __enter__(self) -> Patcher:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
