"""Where a test's cassettes live: the folder, the default file name and marker-named paths.

Used by the pytest plugin (fixtures, collection, the unused report); pure functions of a
test item and its resolved options.

Two rules keep a file name safe to commit and to create:

- **No secret in a name.** A secret known when the test starts (the value of an
  environment variable whose name says key, token, secret, password or credential, the
  scrubber's environment variables and the values the user registered with
  ``scrub=Scrubber(extra_values=...)``) is replaced by ``SECRET`` in the file name and in the
  test id written into the cassette: a key passed as a parametrize value stays out of both.
- **At most 240 bytes.** File systems refuse names over 255 bytes (a long non-ASCII
  parametrize id, escaped, gets there fast). A longer name keeps its start and ends with
  ``~`` and 16 hex digits of the SHA-256 of the whole name, so it is stable; the full test
  id is kept in the cassette (``meta.test_id``, and each interaction's ``test``).
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from collections.abc import Iterable
from pathlib import Path

import pytest

from .options import ReplayOptions
from .wire.scrub import MIN_SECRET_LENGTH
from .wire.secrets import environ_key

SUFFIX = ".json"
#: The longest cassette file name written (255 is the usual limit; room for ``.<name>.lock``).
MAX_NAME_BYTES = 240
SECRET_PLACEHOLDER = "SECRET"
_HASH_DIGITS = 16
_SHORTENED = re.compile(rf"~[0-9a-f]{{{_HASH_DIGITS}}}{re.escape(SUFFIX)}$")
_CREDENTIAL_VAR = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)


def known_secrets(options: ReplayOptions) -> list[str]:
    """The secret values known now: the scrubber's (its environment variables, the user's
    registered values) and every credential-named environment variable's; longest first."""
    values = set(options.scrub.secret_values()) | _credential_env_values(environ_key())
    return sorted(values, key=len, reverse=True)


@functools.lru_cache(maxsize=8)  # asked for several times a test; the environment rarely changes
def _credential_env_values(_environ: object) -> frozenset[str]:
    return frozenset(v for k, v in os.environ.items() if _CREDENTIAL_VAR.search(k) and len(v) >= MIN_SECRET_LENGTH)


def without_secrets(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, SECRET_PLACEHOLDER)
    return text


def fit_name(name: str) -> str:
    """``name`` if it fits in :data:`MAX_NAME_BYTES`, else its start, ``~`` and a hash of the whole."""
    data = name.encode("utf-8", "surrogatepass")
    if len(data) <= MAX_NAME_BYTES:
        return name
    stem = name[:-len(SUFFIX)] if name.endswith(SUFFIX) else name
    digest = hashlib.sha256(data).hexdigest()[:_HASH_DIGITS]
    room = MAX_NAME_BYTES - len(SUFFIX) - _HASH_DIGITS - 1
    start = stem.encode("utf-8", "surrogatepass")[:room].decode("utf-8", "ignore")
    return f"{start}~{digest}{SUFFIX}"


def was_shortened(name: str) -> bool:
    return len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES - 20 and bool(_SHORTENED.search(name))


def safe_name(name: str) -> str:
    """A file name for a test id; reversible (percent-escapes), so two ids never collide."""
    return re.sub(r"[^A-Za-z0-9_.\-\[\]=,]", lambda m: "%" + "%".join(f"{b:02X}" for b in m.group().encode()), name)

def cassette_dir(node: pytest.Item, options: ReplayOptions) -> Path:
    root = options.cassette_dir
    module = Path(str(node.path))
    base = Path(root) if root else module.parent / "cassettes"
    if not base.is_absolute():
        base = Path(str(node.config.rootpath)) / base
    return base / module.stem


def default_name_of(node: pytest.Item, secrets: Iterable[str] = ()) -> str:
    """The test's own cassette file name: class and test name with parameters, escaped,
    ``secrets`` replaced, shortened when too long."""
    cls = getattr(node, "cls", None)
    parts = [cls.__name__] if cls is not None else []
    parts.append(node.name)
    return fit_name(safe_name(without_secrets(".".join(parts), secrets)) + SUFFIX)

def cassette_paths(directory: Path, options: ReplayOptions, default_name: str) -> list[Path]:
    """The test's cassettes: the marker's (or its own default one), then the extra ones."""
    paths = [cassette_path(directory, n) for n in options.cassettes] or [directory / default_name]
    return paths + [cassette_path(directory, str(p)) for p in options.extra]


def cassette_path(directory: Path, name: str) -> Path:
    """``name`` (``.json`` optional) from the test module's cassette folder. ``..`` is
    resolved on the text of the path: the OS would resolve ``folder/..`` only once
    ``folder`` exists, and this module's folder may not yet."""
    p = Path(name)
    p = p.with_name(fit_name(p.name if p.suffix == SUFFIX else p.name + SUFFIX))
    return Path(os.path.normpath(p if p.is_absolute() else directory / p))
