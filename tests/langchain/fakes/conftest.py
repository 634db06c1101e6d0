"""Fixtures for the fakes tests; the recordings themselves live in ``_fakes_data``."""

from __future__ import annotations

import pytest
from _fakes_data import IDENTITY, polar_chunks

from replaystream.langchain.fakes import ReplayChatModel


@pytest.fixture
def polar_model() -> ReplayChatModel:
    return ReplayChatModel.from_chunks(polar_chunks(), **IDENTITY)


# Two of langchain-tests' standard tests do not apply to a replay and would skip themselves
# (reasons in TestReplayChatModelStandard's docstring): deselected here, by name, so a clean
# run has no skip, and a new inapplicable standard test shows up as a skip to look at.
NOT_APPLICABLE = {"TestReplayChatModelStandard::test_init_from_env", "TestReplayChatModelStandard::test_serdes"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    dropped = [item for item in items if item.nodeid.split("/")[-1].partition("::")[2] in NOT_APPLICABLE]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]
