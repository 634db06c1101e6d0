"""Offline means offline: non-loopback connects and DNS look-ups fail with our error.

The real socket functions are replaced by a sentinel *first*, so nothing can leave
this machine even if the block were broken: the test then sees the sentinel instead.
"""

import socket
from collections.abc import Iterator

import pytest

from replaystream.errors import NetworkBlockedError
from replaystream.wire.network import block_network, is_loopback


class Escaped(Exception):
    """The call got past the block to the (patched) real socket layer."""


@pytest.fixture
def sentinel_sockets(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def connect(self: socket.socket, address: object) -> None:
        raise Escaped(f"connect {address}")

    def getaddrinfo(host: object, *a: object, **k: object) -> object:
        raise Escaped(f"getaddrinfo {host}")

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield


def test_create_connection_and_dns_to_outside_names_are_blocked(sentinel_sockets: None) -> None:
    with block_network():
        with pytest.raises(NetworkBlockedError, match="DNS look-up of 'api.openai.com'"):
            socket.create_connection(("api.openai.com", 443))
        with pytest.raises(NetworkBlockedError, match="DNS look-up"):
            socket.getaddrinfo("example.invalid", 80)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            with pytest.raises(NetworkBlockedError, match="connection to"):
                s.connect(("198.51.100.7", 443))  # TEST-NET-2: never routed, and never reached here
            with pytest.raises(NetworkBlockedError):
                s.connect_ex(("198.51.100.7", 443))
        finally:
            s.close()


def test_loopback_passes_through_to_the_real_layer(sentinel_sockets: None) -> None:
    with block_network():
        with pytest.raises(Escaped):
            socket.getaddrinfo("localhost", 80)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            with pytest.raises(Escaped):
                s.connect(("127.0.0.1", 9))
        finally:
            s.close()


def test_unblocked_after_the_block_and_nesting(sentinel_sockets: None) -> None:
    with block_network():
        with block_network():
            pass
        with pytest.raises(NetworkBlockedError):
            socket.getaddrinfo("example.invalid", 80)
    with pytest.raises(Escaped):
        socket.getaddrinfo("example.invalid", 80)


@pytest.mark.parametrize("host,expected", [("127.0.0.1", True), ("127.3.2.1", True), ("::1", True),
                                           ("localhost", True), (b"localhost", True), ("10.0.0.1", False),
                                           ("api.anthropic.com", False), (None, False)])
def test_is_loopback(host: object, expected: bool) -> None:
    assert is_loopback(host) is expected
