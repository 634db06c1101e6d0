"""Blocking the network while replaying: connections, datagrams and name look-ups to
anything but loopback raise :class:`NetworkBlockedError` before they happen.

The guard is an audit hook (PEP 578), not a patch of the ``socket`` module: CPython raises
the ``socket.*`` audit events in C, so calls through ``_socket`` directly, ``sendto`` /
``sendmsg`` (UDP, TCP fast open) and every resolver function are covered, whoever imported
them first. An audit hook cannot be removed, so one is installed per process and switched
on and off by a counter; while it is off it returns at once.

DNS is blocked too (pytest-recording #131): a look-up of an outside name is itself
traffic, and would leak the host a test tried to reach.

What it cannot cover: a connection opened before the block (a keep-alive socket of a
client built earlier sends without a new ``connect``), and event loops that do their I/O
outside Python's socket calls (uvloop: libuv connects in C). :func:`block_network`
refuses to start under such a loop policy rather than promise what it cannot keep.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import sys
import threading
from collections.abc import Iterator
from typing import Any

from ..errors import NetworkBlockedError
from .advice import Advice, blocked_host_advice

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_INET = (socket.AF_INET, socket.AF_INET6)

_lock = threading.Lock()
_active = 0  # open block_network() blocks, in any thread
_installed = False
_advice: list[Advice] = []  # the innermost block's wording of the fix


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
    return address


def _check_socket(what: str, sock: Any, address: object) -> None:
    # AF_UNIX (a path) and other families are local; an unconnected sendmsg has no address.
    if address is None or getattr(sock, "family", None) not in _INET:
        return
    if not is_loopback(_address_host(address)):
        raise _blocked(what, address, _address_host(address))


def _check_name(what: str, host: object) -> None:
    if host is not None and not is_loopback(host):
        raise _blocked(what, host, host)


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not _active or not event.startswith("socket."):
        return  # the common case: every audit event of the process passes here
    if event == "socket.connect":
        _check_socket("a connection to", args[0], args[1])
    elif event == "socket.sendto":
        _check_socket("a datagram (sendto) to", args[0], args[1])
    elif event == "socket.sendmsg":
        _check_socket("a message (sendmsg) to", args[0], args[1])
    elif event == "socket.getaddrinfo":
        _check_name("a DNS look-up of", args[0])
    elif event == "socket.gethostbyname":
        _check_name("a DNS look-up of", args[0])
    elif event == "socket.gethostbyaddr":
        _check_name("a reverse DNS look-up of", args[0])
    elif event == "socket.getnameinfo":
        _check_name("a reverse DNS look-up of", _address_host(args[0]))


def install_guard() -> None:
    """Install the audit hook (once per process; it stays, switched off, when unused)."""
    global _installed
    with _lock:
        if not _installed:
            sys.addaudithook(_audit)
            _installed = True


def _refuse_foreign_loops() -> None:
    asyncio = sys.modules.get("asyncio")  # not imported (~30 ms): no event loop policy can be set yet
    if asyncio is None:
        return
    policy = type(asyncio.get_event_loop_policy())
    if policy.__module__.split(".", 1)[0] == "uvloop":
        raise NetworkBlockedError(
            "replaystream cannot block the network under uvloop: libuv opens connections without "
            "Python's socket calls, so nothing would be caught.\n"
            "  Run the replaying tests on asyncio's own event loop (do not install uvloop's policy in them).")


@contextlib.contextmanager
def block_network(advice: Advice | None = None) -> Iterator[None]:
    """Within the block (in every thread), only loopback and local sockets are allowed;
    ``advice`` words the fix in the error (the library's by default, the plugin passes its own).

    >>> with block_network():  # doctest: +SKIP
    ...     socket.create_connection(("example.com", 443))  # raises NetworkBlockedError
    """
    global _active
    _refuse_foreign_loops()
    install_guard()
    entry = advice or Advice()
    with _lock:
        _active += 1
        _advice.append(entry)
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            _advice.remove(entry)


def is_blocking() -> bool:
    """Whether a :func:`block_network` block is open now."""
    return _active > 0
