"""One reference-counted patcher: nested and concurrent users patch once, the last one
out restores the originals exactly; the transports and the socket layer use it."""

from __future__ import annotations

import socket
import threading
from typing import Any

import httpx2
import pytest

from replaystream.errors import ReplayStreamError
from replaystream.wire import network, transport
from replaystream.wire.patching import Patch, Patcher


class Base:
    def greet(self) -> str:
        return "base"


class Target(Base):
    @staticmethod
    def tool() -> str:
        return "tool"


def patches(built: list[int]) -> Patcher:
    def build() -> list[Patch]:
        built.append(1)
        orig = Target.tool

        def greet(self: Any) -> str:
            return "patched"

        return [(Target, "greet", greet), (Target, "tool", staticmethod(lambda: "patched " + orig()))]

    return Patcher(build)


def test_nested_acquire_patches_once_and_the_last_release_restores_exactly() -> None:
    built: list[int] = []
    original_tool = vars(Target)["tool"]
    p = patches(built)
    p.acquire()
    with p:
        assert Target().greet() == "patched" and Target.tool() == "patched tool" and p.active
    assert Target().greet() == "patched" and p.active  # one user left
    p.release()
    assert built == [1] and not p.active
    assert "greet" not in vars(Target)  # inherited before: inherited again, not copied down
    assert vars(Target)["tool"] is original_tool and Target().greet() == "base"
    with p:  # a fresh outermost acquire builds again, from the attributes as they are now
        assert Target.tool() == "patched tool"
    assert built == [1, 1]


def test_release_without_acquire_is_an_error() -> None:
    with pytest.raises(ReplayStreamError, match="without a matching acquire"):
        patches([]).release()


def test_a_failing_patch_leaves_nothing_patched() -> None:
    p = Patcher(lambda: [(Target, "greet", lambda self: "x"), (object, "nope", 1)])  # builtins refuse setattr
    with pytest.raises(TypeError):
        p.acquire()
    assert "greet" not in vars(Target) and not p.active


def test_threads_share_one_set_of_patches() -> None:
    built: list[int] = []
    p = patches(built)
    start = threading.Barrier(8)
    seen: list[str] = []

    def user() -> None:
        start.wait()
        for _ in range(200):
            with p:
                seen.append(Target().greet())

    threads = [threading.Thread(target=user) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(seen) == {"patched"} and not p.active
    assert "greet" not in vars(Target) and len(built) >= 1


def test_transport_install_patches_httpx_once_and_uninstall_restores() -> None:
    before = vars(httpx2.HTTPTransport)["handle_request"], vars(httpx2.AsyncHTTPTransport)["handle_async_request"]
    transport.install(lambda: None)
    transport.install(lambda: None)
    try:
        assert transport.is_installed() and vars(httpx2.HTTPTransport)["handle_request"] is not before[0]
        transport.uninstall()
        assert transport.is_installed()
    finally:
        transport.uninstall()
    assert not transport.is_installed()
    assert (vars(httpx2.HTTPTransport)["handle_request"],
            vars(httpx2.AsyncHTTPTransport)["handle_async_request"]) == before


def test_block_network_leaves_the_socket_module_untouched() -> None:
    # The guard is an audit hook: nothing in the socket module is replaced, so code that
    # took a reference to socket.getaddrinfo (or _socket) before the block is covered too.
    before = (vars(socket.socket).get("connect"), socket.getaddrinfo, socket.gethostbyname)
    with network.block_network():
        with network.block_network():
            assert (vars(socket.socket).get("connect"), socket.getaddrinfo, socket.gethostbyname) == before
        assert network.is_blocking()  # still blocked: the outer block is open
    assert not network.is_blocking()
    assert (vars(socket.socket).get("connect"), socket.getaddrinfo, socket.gethostbyname) == before