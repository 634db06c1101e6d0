"""Installing the transports patches the packages as imported now, and looks each up
without going through the import machinery on every cassette."""

from __future__ import annotations

import importlib
import sys
import types

import httpx2
import pytest

from replaystream.wire import transport


def test_the_installed_packages_are_found() -> None:
    assert [m.__name__ for m in transport.available_modules()] == ["httpx", "httpx2"]


def test_a_package_imported_again_is_the_one_patched(monkeypatch: pytest.MonkeyPatch) -> None:
    # pytester restores sys.modules after an in-process run: a later import is a new module.
    again = types.ModuleType("httpx2")
    monkeypatch.setitem(sys.modules, "httpx2", again)
    assert transport.available_modules()[-1] is again


def test_an_imported_package_is_not_imported_again(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_import(name: str, package: str | None = None) -> types.ModuleType:
        raise AssertionError(f"import_module({name!r}) on an install")

    monkeypatch.setattr(importlib, "import_module", no_import)
    assert transport.available_modules()[-1] is httpx2


def test_a_missing_package_is_looked_for_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def missing(name: str, package: str | None = None) -> types.ModuleType:
        calls.append(name)
        raise ImportError(name)

    monkeypatch.setattr(transport, "PACKAGES", ("replaystream_no_such_http_package", "httpx2"))
    monkeypatch.setattr(transport, "_absent", set())
    monkeypatch.setattr(importlib, "import_module", missing)
    assert transport.available_modules() == [httpx2]
    assert transport.available_modules() == [httpx2]
    assert calls == ["replaystream_no_such_http_package"]
