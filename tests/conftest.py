"""Shared fixtures for the test suite."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpcore2  # noqa: F401  (see below)
import pytest

from replaystream.emulator import ProviderEmulator

# httpx2 imports httpcore2 lazily, when the first client is built. If that first client is
# built inside a pytester in-process run, pytester's sys.modules restore drops httpcore2;
# later clients then raise httpcore2 errors that httpx2 and the SDKs no longer recognise
# (openai raises a raw httpcore2.RemoteProtocolError instead of APIConnectionError).


@pytest.fixture
def emulator() -> Iterator[ProviderEmulator]:
    """A loopback provider emulator; short hold-back timeout so a buffering client fails fast."""
    with ProviderEmulator(hold_back_timeout=0.5) as emu:
        yield emu


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """The real socket layer refuses and records every connect: replay must never reach it,
    and nothing can leave this machine even if replay were broken."""
    attempts: list[object] = []

    def connect(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise ConnectionRefusedError(f"test forbids connecting to {address}")

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect)
    yield attempts
    assert attempts == [], f"replay touched the network: {attempts}"
