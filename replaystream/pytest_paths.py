"""Where a test's cassettes live: the folder, the default file name and marker-named paths.

Used by the pytest plugin (fixtures, collection, the unused report); pure functions of a
test item and its resolved options.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from .options import ReplayOptions

SUFFIX = ".json"


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


def default_name_of(node: pytest.Item) -> str:
    cls = getattr(node, "cls", None)
    parts = [cls.__name__] if cls is not None else []
    parts.append(node.name)
    return safe_name(".".join(parts)) + SUFFIX

def cassette_paths(directory: Path, options: ReplayOptions, default_name: str) -> list[Path]:
    """The test's cassettes: the marker's (or its own default one), then the extra ones."""
    paths = [cassette_path(directory, n) for n in options.cassettes] or [directory / default_name]
    return paths + [cassette_path(directory, str(p)) for p in options.extra]


def cassette_path(directory: Path, name: str) -> Path:
    """``name`` (``.json`` optional) from the test module's cassette folder. ``..`` is
    resolved on the text of the path: the OS would resolve ``folder/..`` only once
    ``folder`` exists, and this module's folder may not yet."""
    p = Path(name)
    if p.suffix != SUFFIX:
        p = p.with_name(p.name + SUFFIX)
    return Path(os.path.normpath(p if p.is_absolute() else directory / p))
