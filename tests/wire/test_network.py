"""Offline means offline: every way out of the machine fails with our error, before it leaves.

A sentinel audit hook is installed *after* replaystream's: audit hooks run in order and the
first that raises stops the operation, so the sentinel sees only what got past the guard,
and raises before the operation happens. Nothing can leave this machine even if the guard
were broken: the test then sees the sentinel's ``Escaped`` instead of our error.
Targets are TEST-NET addresses (never routed) and ``.invalid`` names.
"""

from __future__ import annotations

import _socket
import asyncio
import socket
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from replaystream.errors import NetworkBlockedError
from replaystream.wire import network
from replaystream.wire.network import block_network, is_loopback

OUTSIDE_V4 = ("198.51.100.7", 443)  # TEST-NET-2
OUTSIDE_V6 = ("2001:db8::7", 443, 0, 0)  # documentation prefix


class Escaped(Exception):
    """A socket operation to a non-loopback target got past the guard."""


_sentinel_on = False


def _sentinel(event: str, args: tuple[Any, ...]) -> None:
    if not _sentinel_on or not event.startswith("socket."):
        return
    if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        sock, address = args
        if getattr(sock, "family", None) in (socket.AF_INET, socket.AF_INET6) and address is not None \
                and not is_loopback(address[0]):
            raise Escaped(f"{event} {address}")
    elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr"):
        if args[0] is not None and not is_loopback(args[0]):
            raise Escaped(f"{event} {args[0]}")
    elif event == "socket.getnameinfo" and not is_loopback(args[0][0]):
        raise Escaped(f"{event} {args[0]}")


network.install_guard()  # ours first, then the sentinel behind it
sys.addaudithook(_sentinel)


@pytest.fixture
def sentinel() -> Iterator[None]:
    global _sentinel_on
    _sentinel_on = True
    try:
        yield
    finally:
        _sentinel_on = False


def _tcp() -> socket.socket:
    return socket.socket(socket.AF_INET, socket.SOCK_STREAM)


def _udp() -> socket.socket:
    return socket.socket(socket.AF_INET, socket.SOCK_DGRAM)


def _with(make: Callable[[], Any], use: Callable[[Any], object]) -> Callable[[], object]:
    def run() -> object:
        s = make()
        try:
            return use(s)
        finally:
            s.close()
    return run


WAYS_OUT: dict[str, Callable[[], object]] = {
    "create_connection": lambda: socket.create_connection(("api.openai.com", 443), timeout=1),
    "getaddrinfo": lambda: socket.getaddrinfo("example.invalid", 80),
    "gethostbyname": lambda: socket.gethostbyname("example.invalid"),
    "gethostbyname_ex": lambda: socket.gethostbyname_ex("example.invalid"),
    "gethostbyaddr": lambda: socket.gethostbyaddr("198.51.100.7"),
    "getnameinfo": lambda: socket.getnameinfo(OUTSIDE_V4, 0),
    "connect": _with(_tcp, lambda s: s.connect(OUTSIDE_V4)),
    "connect_ex": _with(_tcp, lambda s: s.connect_ex(OUTSIDE_V4)),
    "connect_v6": _with(lambda: socket.socket(socket.AF_INET6, socket.SOCK_STREAM), lambda s: s.connect(OUTSIDE_V6)),
    "_socket_connect": _with(lambda: _socket.socket(socket.AF_INET, socket.SOCK_STREAM),
                             lambda s: s.connect(OUTSIDE_V4)),
    "udp_sendto": _with(_udp, lambda s: s.sendto(b"x", OUTSIDE_V4)),
    "udp_sendmsg": _with(_udp, lambda s: s.sendmsg([b"x"], [], 0, OUTSIDE_V4)),
    "tcp_fastopen_sendto": _with(_tcp, lambda s: s.sendto(b"x", getattr(socket, "MSG_FASTOPEN", 0x20000000),
                                                          OUTSIDE_V4)),
}


@pytest.mark.parametrize("way", sorted(WAYS_OUT))
def test_every_way_out_is_refused_before_it_leaves(way: str, sentinel: None) -> None:
    with block_network():
        with pytest.raises(NetworkBlockedError, match="replaystream blocked"):
            WAYS_OUT[way]()


def test_the_sentinel_would_catch_an_escape(sentinel: None) -> None:
    # Without the guard, the same call reaches the sentinel: the test above can fail.
    with pytest.raises(Escaped):
        socket.gethostbyname("example.invalid")


def test_loopback_and_unix_sockets_pass(sentinel: None, tmp_path: Any) -> None:
    with block_network():
        assert socket.getaddrinfo("localhost", 80)
        assert socket.gethostbyname("127.0.0.1") == "127.0.0.1"
        s = _tcp()
        try:
            assert s.connect_ex(("127.0.0.1", 9)) != 0  # refused by the local stack, not by us
        finally:
            s.close()
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            server.bind(str(tmp_path / "s.sock"))
            server.listen(1)
            client.connect(str(tmp_path / "s.sock"))
        finally:
            client.close()
            server.close()


def test_other_threads_are_blocked_too(sentinel: None) -> None:
    import threading

    seen: list[BaseException] = []

    def worker() -> None:
        try:
            socket.gethostbyname("example.invalid")
        except BaseException as exc:  # noqa: BLE001  (recorded for the assertion)
            seen.append(exc)

    with block_network():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
    assert len(seen) == 1 and isinstance(seen[0], NetworkBlockedError)


def test_unblocked_after_the_block_and_nesting(sentinel: None) -> None:
    with block_network():
        with block_network():
            pass
        with pytest.raises(NetworkBlockedError):
            socket.getaddrinfo("example.invalid", 80)
    assert not network.is_blocking()
    with pytest.raises(Escaped):  # the guard is off again: the sentinel sees the call
        socket.getaddrinfo("example.invalid", 80)


def test_uvloop_is_refused_rather_than_trusted() -> None:
    policy_cls = type("EventLoopPolicy", (asyncio.DefaultEventLoopPolicy,), {"__module__": "uvloop"})
    old = asyncio.get_event_loop_policy()
    asyncio.set_event_loop_policy(policy_cls())
    try:
        with pytest.raises(NetworkBlockedError, match="uvloop"):
            with block_network():
                pass
    finally:
        asyncio.set_event_loop_policy(old)
    assert not network.is_blocking()


@pytest.mark.parametrize("host,expected", [("127.0.0.1", True), ("127.3.2.1", True), ("::1", True),
                                           ("localhost", True), (b"localhost", True), ("10.0.0.1", False),
                                           ("api.anthropic.com", False), (None, False)])
def test_is_loopback(host: object, expected: bool) -> None:
    assert is_loopback(host) is expected
