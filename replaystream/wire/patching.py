"""Reference-counted patching of class (or module) attributes.

Cassettes nest and run in several threads at once, yet the transports and the socket
layer must be patched exactly once and put back exactly as they were when the last
user leaves. :class:`Patcher` is that bookkeeping, written once.

A package that is not imported yet is not imported to be patched (httpx, botocore: a
tenth of a second each, for users who never touch them): a patcher patches it the moment
the code under test imports it, while the patcher is active (see :class:`_ImportWatch`).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import ModuleType, TracebackType
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

    def __init__(self, build: Callable[[], Iterable[Patch]], *,
                 on_import: Mapping[str, Callable[[ModuleType], Iterable[Patch]]] | None = None) -> None:
        """``on_import``: module name -> the patches of that module, applied when it is
        imported while this patcher is active (``build`` patches it when it was imported before)."""
        self._build = build
        self._on_import = dict(on_import or {})
        self._lock = threading.RLock()  # re-entered when building imports a watched module
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
                if self._on_import:
                    _watch.add(self, self._on_import)
                try:
                    self._apply(self._build())
                except BaseException:  # half-patched is worse than unpatched
                    self._restore()
                    raise
            self._depth += 1

    def _apply(self, patches: Iterable[Patch]) -> None:
        for owner, name, replacement in list(patches):
            original = vars(owner).get(name, _MISSING)
            setattr(owner, name, replacement)
            self._saved.append((owner, name, original))

    def imported(self, name: str, module: ModuleType) -> None:
        """``module`` (watched as ``name``) has just run its body: patch it if active."""
        with self._lock:
            if self._depth > 0:
                self._apply(self._on_import[name](module))

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


def imported(name: str, attribute: str) -> ModuleType | None:
    """Module ``name`` if it is imported (not importing it otherwise). One another thread is
    still running the body of is waited for, as an import would wait: patched half-made, its
    classes would be missing; left alone, it would run unpatched (it began before the watch)."""
    module = sys.modules.get(name)
    if module is not None and not hasattr(module, attribute):
        module = importlib.import_module(name)  # blocks on the module's import lock until it is done
    return module if module is not None and hasattr(module, attribute) else None


class _AfterExec(importlib.abc.Loader):
    """A module's own loader, which then tells the watching patchers."""

    def __init__(self, loader: importlib.abc.Loader, done: Callable[[ModuleType], None]) -> None:
        self._loader = loader
        self._done = done

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        try:
            self._loader.exec_module(module)
        finally:  # the module keeps its real loader, as if nobody had watched
            module.__loader__ = self._loader
            if module.__spec__ is not None:
                module.__spec__.loader = self._loader
        self._done(module)

    def __getattr__(self, name: str) -> Any:  # get_data, is_package, resource readers, ...
        return getattr(self._loader, name)


class _ImportWatch(importlib.abc.MetaPathFinder):
    """First on ``sys.meta_path`` once a patcher watches a module; it finds nothing itself.
    For a watched name while a watcher is active, it asks the finders after it and wraps the
    loader found, so the module is patched as soon as its body has run."""

    def __init__(self) -> None:
        self._watchers: dict[str, list[Patcher]] = {}
        self._lock = threading.Lock()

    def add(self, patcher: Patcher, names: Iterable[str]) -> None:
        with self._lock:
            for name in names:
                if patcher not in self._watchers.setdefault(name, []):
                    self._watchers[name].append(patcher)
            if self not in sys.meta_path:
                sys.meta_path.insert(0, self)

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        watchers = [p for p in self._watchers.get(fullname, ()) if p.active]
        if not watchers:
            return None  # the common case: any other import passes straight through
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec: importlib.machinery.ModuleSpec | None = find(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
            def done(module: ModuleType) -> None:
                for patcher in watchers:
                    patcher.imported(fullname, module)
            spec.loader = _AfterExec(spec.loader, done)
        return spec


_watch = _ImportWatch()
