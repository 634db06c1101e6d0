"""Hook specifications: customise replaystream from a ``conftest.py`` without monkeypatching."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .cassette.model import Interaction


@pytest.hookspec
def pytest_replaystream_before_record(interaction: Interaction) -> Interaction | bool | None:
    """Called for each interaction after secret scrubbing, before it is written.

    Return a (changed) interaction to store it, ``False`` to skip it, or ``None`` to keep it
    as it is (changing it in place is fine). Use it to drop PII from prompts, say.
    """
