"""What a replay error tells the user to do: the one action that fixes each case, worded
for where the session came from.

:class:`Advice` words it for the library (``use_cassette("x.json", mode="rewrite")``);
:class:`PytestAdvice` for a test the plugin runs (``pytest "tests/test_x.py::test_y"
--replay-mode=rewrite``, naming the tests that share the cassette, since re-recording it
re-records them). The engine's miss messages and the network guard end with these lines.

>>> print(Advice("c.json").record())
Record it first (needs a real key):
    use_cassette("c.json", mode="once")
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .. import providers

__all__ = ["Advice", "PytestAdvice", "differing_fields", "volatile"]

#: Hosts that are not model providers' but that libraries used beside them download from:
#: what is fetched there, and how a test does without it.
DOWNLOAD_HOSTS = {
    "openaipublic.blob.core.windows.net": (
        "tiktoken downloads its encodings from it",
        "Set TIKTOKEN_CACHE_DIR to a folder that holds them (fill it once, online) or patch the download"),
    "huggingface.co": ("models and tokenizers are downloaded from it",
                       "Fill the local cache once, online, and set HF_HUB_OFFLINE=1, or patch the download"),
}


@dataclass(frozen=True)
class Advice:
    """The library's wording; ``cassette`` is the path as the user passed it."""

    cassette: str = "..."

    def _call(self, **keywords: str) -> str:
        args = ", ".join(f"{k}={v}" for k, v in keywords.items())
        return f'use_cassette("{self.cassette}", {args})'

    def rerecord(self) -> str:
        """The request changed since it was recorded (or is new): record the cassette afresh."""
        return "Record it again, replacing the stale recordings (needs a real key):\n    " + self._call(mode='"rewrite"')

    def record(self) -> str:
        """The cassette does not exist yet."""
        return "Record it first (needs a real key):\n    " + self._call(mode='"once"')

    def repeats(self) -> str:
        """The code sends a request more often than it was recorded."""
        return (f"{self.rerecord()}\n  or, if the repeat should get the same answer again:\n"
                f"    {self._call(allow_repeats='True')}")

    def ignore(self, fields: Sequence[str]) -> str:
        """Only volatile body fields differ: leave them out of the match."""
        return f"Leave them out of the match:\n    {self._call(ignore_fields=_list(fields))}"

    def allow_network(self) -> str:
        return f"let the block use the network: {self._call(allow_network='True')}"


@dataclass(frozen=True)
class PytestAdvice(Advice):
    """The plugin's wording. ``nodeids``: the test, then the others that used the same
    cassette in this run (as command-line arguments, relative to where pytest was started)."""

    nodeids: tuple[str, ...] = ()

    def _rerun(self, mode: str) -> str:
        return " ".join(["pytest", *map(_quote, self.nodeids), f"--replay-mode={mode}"])

    @property
    def _tests(self) -> str:
        return "the tests that use this cassette" if len(self.nodeids) > 1 else "the test"

    def rerecord(self) -> str:
        return (f"Record {self._tests} again, replacing the stale recordings (needs a real key):\n"
                f"    {self._rerun('rewrite')}")

    def record(self) -> str:
        return f"Record {self._tests} first (needs a real key):\n    {self._rerun('once')}"

    def repeats(self) -> str:
        return (f"{self.rerecord()}\n  or, if the repeat should get the same answer again, mark the test:\n"
                "    @pytest.mark.replay(allow_repeats=True)")

    def ignore(self, fields: Sequence[str]) -> str:
        return ("Leave them out of the match: add them to the test's replay marker:\n"
                f"    @pytest.mark.replay(ignore_fields={_list(fields)})")

    def allow_network(self) -> str:
        return ("let the test use the network: mark it @pytest.mark.replay(allow_network=True), "
                "or run with --replay-allow-network")

    def unused(self) -> str:
        """The teardown check: fewer requests than recorded."""
        if len(self.nodeids) > 1:
            return ("Other tests use this cassette too, so some of its recordings are theirs: mark the test "
                    "@pytest.mark.replay(allow_unused=True), or record them all again (needs a real key):\n"
                    f"    {self._rerun('rewrite')}")
        return (f"Record the test again (needs a real key):\n    {self._rerun('rewrite')}\n"
                "  or, if it may leave recordings unplayed, mark it @pytest.mark.replay(allow_unused=True).")


def _list(fields: Sequence[str]) -> str:
    return "[" + ", ".join(f'"{f}"' for f in fields) + "]"


def _quote(arg: str) -> str:
    """``arg`` in double quotes for a POSIX shell (node ids hold brackets, spaces, ...)."""
    return '"' + re.sub(r'(["$`\\])', r"\\\1", arg) + '"'


# -- which fields differ, and whether they are volatile ------------------------------------
_MISSING = object()
_VOLATILE_NAME = re.compile(r"(?:^|[_-])(?:id|ids|uuid|guid|nonce|seed|timestamp|ts|time|date|created|at|user)$"
                            r"|(?-i:[a-z]Ids?)$", re.IGNORECASE)
_RANDOM_VALUE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|"
                           r"\d{4}-\d\d-\d\dT\d\d:\d\d", re.IGNORECASE)


def differing_fields(recorded: Any, sent: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """``(dotted path, recorded value, sent value)`` of each leaf that differs; list items
    are compared position by position when both lists are as long."""
    if isinstance(recorded, dict) and isinstance(sent, dict):
        return [d for k in sorted(set(recorded) | set(sent), key=str)
                for d in differing_fields(recorded.get(k, _MISSING), sent.get(k, _MISSING), _join(path, str(k)))]
    if isinstance(recorded, list) and isinstance(sent, list) and len(recorded) == len(sent):
        return [d for n, (a, b) in enumerate(zip(recorded, sent)) for d in differing_fields(a, b, _join(path, str(n)))]
    return [] if recorded == sent else [(path, recorded, sent)]


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def volatile(recorded: Any, sent: Any) -> list[str] | None:
    """The ``ignore_fields`` paths (list positions as ``*``) when every difference between two
    canonical requests is a body field that looks volatile (an id, a timestamp, a seed, a
    user), else ``None``: then the request really changed."""
    fields: dict[str, None] = {}
    for path, a, b in differing_fields(recorded, sent):
        parts = path.split(".")
        if parts[0] != "body" or len(parts) < 2 or a is _MISSING or b is _MISSING:
            return None
        name = next((p for p in reversed(parts) if not p.isdigit()), "")
        values_random = all(isinstance(v, str) and _RANDOM_VALUE.search(v) for v in (a, b))
        if not (_VOLATILE_NAME.search(name) or values_random):
            return None
        fields[".".join("*" if p.isdigit() else p for p in parts[1:])] = None
    return list(fields) or None


def blocked_host_advice(host: object, advice: Advice) -> str:
    """The fix for a blocked connection or look-up: record it when the host is a model
    provider's; otherwise there is nothing to record, so allow the network or patch the download."""
    name = (host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)).lower().rstrip(".")
    owner = next((p.name for p in providers.registered() if p.owns_host(name)), None)
    if owner is not None:
        return (f"{name} is {owner}'s API, reached without going through a cassette (replaystream records "
                f"clients that use httpx or httpx2). {advice.record()}")
    what, fix = next((known for h, known in DOWNLOAD_HOSTS.items() if name == h or name.endswith("." + h)),
                     ("", "Patch the call in the test"))
    return (f"{name} is not a model provider's host, so there is nothing to record" + (f": {what}" if what else "")
            + f". {fix}, or {advice.allow_network()}.")
