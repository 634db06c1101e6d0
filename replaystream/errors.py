"""Typed errors. Every message says what happened, where, and what to do next."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path


class ReplayStreamError(Exception):
    """Base class of every error replaystream raises on purpose."""


class CassetteError(ReplayStreamError):
    """A cassette file cannot be read: damaged, truncated, wrong version or wrong shape.

    ``path`` is the file, ``position`` a JSON path or line/column inside it.
    """

    def __init__(self, path: Path | str | None, position: str, problem: str, hint: str = "") -> None:
        self.path = Path(path) if path is not None else None
        self.position = position
        self.problem = problem
        self.hint = hint
        where = f"{self.path}" if self.path is not None else "<cassette>"
        if position:
            where += f" at {position}"
        msg = f"{where}: {problem}"
        if hint:
            msg += f"\n  hint: {hint}"
        super().__init__(msg)


class CassetteVersionError(CassetteError):
    """The cassette was written by a format version this release cannot read."""


class CassetteMissError(ReplayStreamError):
    """A request has no recording in the active cassette and the mode forbids recording."""


class CassetteExhaustedError(CassetteMissError):
    """Every recorded response for this request was already replayed."""


class NetworkBlockedError(ReplayStreamError):
    """Something tried to reach a non-loopback address while replaying offline."""


class RecordingError(ReplayStreamError):
    """Recording could not be completed (the cassette on disk is left untouched)."""


class StrictMismatchError(ReplayStreamError):
    """A fake was called with input that differs from what was recorded."""


class UsageError(ReplayStreamError, ValueError):
    """An argument or option replaystream cannot use; the message names it and what it accepts.

    Also a :class:`ValueError`, so code that caught the builtin before keeps working.
    """


class NoCassetteContextError(UsageError):
    """A request came from a thread that belongs to no cassette while several are open, so
    which one it belongs to cannot be known (a ``ThreadPoolExecutor`` started without the
    caller's context); the message names the open cassettes."""


class MissingExtraError(ReplayStreamError, ImportError):
    """A feature needs an optional extra that is not installed; the message names the pip command.

    Also an :class:`ImportError`, so ``except ImportError`` around an optional import keeps working.
    ``extras`` are the extras to install, ``missing`` the modules that were not found.
    """

    def __init__(self, feature: str, extras: Sequence[str], missing: Sequence[str] = ()) -> None:
        self.feature = feature
        self.extras = tuple(extras)
        self.missing = tuple(missing)
        names = ",".join(self.extras)
        noun = "extra" if len(self.extras) == 1 else "extras"
        message = f"{feature} needs the [{names}] {noun}: pip install 'replaystream[{names}]'"
        if self.missing:
            message += f"  (not installed: {', '.join(self.missing)})"
        super().__init__(message, name=self.missing[0] if self.missing else None)


#: The top-level modules replaystream's features import from each optional extra (pyproject.toml's
#: [project.optional-dependencies] installs them; tests/install checks that the two agree).
EXTRAS: dict[str, tuple[str, ...]] = {
    "langchain": ("langchain_core", "langchain_openai", "langchain_anthropic", "syrupy", "numpy"),
    "faiss": ("faiss", "numpy"),
    "vcr": ("yaml",),  # vcrpy too, when installed: its loader reads its own tags exactly
    "plot": ("matplotlib",),
    "agents": ("langgraph", "langchain"),
    "google": ("google.genai", "langchain_google_genai"),
    "bedrock": ("boto3", "botocore", "langchain_aws"),
    "ollama": ("ollama", "langchain_ollama"),
    "zstd": ("zstandard",),  # and backports.zstd below Python 3.14, for httpx2
}


def require_extras(feature: str, *extras: str) -> None:
    """Raise :class:`MissingExtraError` unless every module of each of ``extras`` is installed.

    Only the extras with a module missing are named. Nothing is imported: the modules are
    looked up, which costs next to nothing when they are there.
    """
    missing = {extra: [m for m in EXTRAS[extra] if not _installed(m)] for extra in extras}
    lacking = [extra for extra, gone in missing.items() if gone]
    if lacking:
        raise MissingExtraError(feature, lacking, list(dict.fromkeys(m for extra in lacking for m in missing[extra])))


def has_extras(*extras: str) -> bool:
    """Whether every module of each of ``extras`` is installed (nothing is imported)."""
    return all(_installed(m) for extra in extras for m in EXTRAS[extra])


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ValueError:  # imported already, but without a spec (made by hand): it is there
        return True
    except ImportError:  # its parent package is missing
        return False
