"""Fixtures for the plugin tests: the README's code blocks, run as written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

README = Path(__file__).parents[2] / "README.md"


def readme_blocks(section: str) -> list[str]:
    """The Python blocks of a README section (``## <section>``), verbatim, in order."""
    body = README.read_text("utf-8").split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return [part.split("```", 1)[0] for part in body.split("```python\n")[1:]]


@pytest.fixture
def readme() -> Callable[[str], list[str]]:
    return readme_blocks
