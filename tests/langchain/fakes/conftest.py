"""Fixtures for the fakes tests; the recordings themselves live in ``_fakes_data``."""

from __future__ import annotations

import pytest
from _fakes_data import IDENTITY, polar_chunks

from replaystream.langchain.fakes import ReplayChatModel


@pytest.fixture
def polar_model() -> ReplayChatModel:
    return ReplayChatModel.from_chunks(polar_chunks(), **IDENTITY)
