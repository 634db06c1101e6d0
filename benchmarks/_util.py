"""Shared helpers for the benchmarks: interleaved best-of-N timing, targets, a loopback server.

Other engineers run tests on the same two cores, so absolute times are noisy. Every
comparison is therefore measured side by side in one run: each round times every
contender once (in a rotating order), and the best round of each is kept.
"""

from __future__ import annotations

import gc
import http.server
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Handler = Callable[[http.server.BaseHTTPRequestHandler], None]


def time_once(fn: Callable[[], Any]) -> float:
    """Seconds one call takes, after a collection so garbage from earlier runs is not billed."""
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def best_of(contenders: dict[str, Callable[[], Any]], rounds: int, warmup: int = 1) -> dict[str, float]:
    """Best time (seconds) of each contender over ``rounds`` interleaved rounds.

    Round ``r`` starts at contender ``r % n``, so no contender always runs right after a
    particular other one (caches, allocator state, a neighbour's burst of load).
    """
    names = list(contenders)
    for _ in range(warmup):
        for name in names:
            contenders[name]()
    best = {name: float("inf") for name in names}
    for r in range(rounds):
        for k in range(len(names)):
            name = names[(r + k) % len(names)]
            best[name] = min(best[name], time_once(contenders[name]))
    return best


def ms(seconds: float) -> float:
    return round(seconds * 1000.0, 2)


def target(value: float, limit: float, *, at_most: bool = True) -> dict[str, Any]:
    """A measured ratio with its target and whether it was met."""
    met = value <= limit if at_most else value >= limit
    return {"value": round(value, 3), "target": f"<= {limit}" if at_most else f">= {limit}", "met": met}


class _QuietHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else every small response waits out a delayed ACK (40 ms)
    respond: Handler

    def do_POST(self) -> None:
        type(self).respond(self)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def loopback_server(respond: Handler) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 (a free port); yields its base URL."""
    handler = type("Handler", (_QuietHandler,), {"respond": staticmethod(respond)})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="bench-loopback", daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def read_body(handler: http.server.BaseHTTPRequestHandler) -> bytes:
    length = int(handler.headers.get("content-length") or 0)
    return handler.rfile.read(length) if length else b""


@contextmanager
def count_reads(mod: Any) -> Iterator[list[int]]:
    """Count the non-empty chunks ``mod.Response.iter_raw`` hands up (one list item per response).

    Only for a separate, untimed run: the wrapper costs a little per chunk.
    """
    counts: list[int] = []
    original = mod.Response.iter_raw

    def iter_raw(self: Any, chunk_size: int | None = None) -> Iterator[bytes]:
        counts.append(0)
        slot = len(counts) - 1
        for chunk in original(self, chunk_size):
            if chunk:
                counts[slot] += 1
            yield chunk

    mod.Response.iter_raw = iter_raw
    try:
        yield counts
    finally:
        mod.Response.iter_raw = original
