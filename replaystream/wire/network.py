"""Blocking the network while replaying: socket connects and DNS look-ups to anything
but loopback raise :class:`NetworkBlockedError` before they happen.

DNS is blocked too (pytest-recording #131): a look-up of an outside name is itself
traffic, and would leak the host a test tried to reach.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

from ..errors import NetworkBlockedError
from .advice import Advice, blocked_host_advice
from .patching import Patch, Patcher

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


def is_loopback(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", errors="replace")
    if not isinstance(host, str):
        return False
    if host.lower().rstrip(".") in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _blocked(what: str, target: object, host: object) -> NetworkBlockedError:
    advice = _advice[-1] if _advice else Advice()
    return NetworkBlockedError(
        f"replaystream blocked {what} {target!r}: the cassette replays offline and only loopback is allowed.\n"
        f"  {blocked_host_advice(host, advice)}")


def _address_host(address: object) -> object:
    if isinstance(address, tuple) and address:
        return address[0]
    return address  # AF_UNIX paths are local


def _socket_patches() -> list[Patch]:
    orig_connect = socket.socket.connect
    orig_connect_ex = socket.socket.connect_ex
    orig_getaddrinfo = socket.getaddrinfo

    def check(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(_address_host(address)):
            raise _blocked("a connection to", address, _address_host(address))

    def connect(self: socket.socket, address: Any) -> None:
        check(self, address)
        return orig_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(self, address)
        return orig_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not is_loopback(host):
            raise _blocked("a DNS look-up of", host, host)
        return orig_getaddrinfo(host, *args, **kwargs)

    return [(socket.socket, "connect", connect), (socket.socket, "connect_ex", connect_ex),
            (socket, "getaddrinfo", getaddrinfo)]


_patcher = Patcher(_socket_patches)
_advice: list[Advice] = []  # the innermost block's wording of the fix


@contextlib.contextmanager
def block_network(advice: Advice | None = None) -> Iterator[None]:
    """Within the block, only loopback connections and look-ups are allowed; ``advice``
    words the fix in the error (the library's by default, the plugin passes its own).

    >>> with block_network():  # doctest: +SKIP
    ...     socket.create_connection(("example.com", 443))  # raises NetworkBlockedError
    """
    entry = advice or Advice()
    _advice.append(entry)
    try:
        with _patcher:
            yield
    finally:
        _advice.remove(entry)
