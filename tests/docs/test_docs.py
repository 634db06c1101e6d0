"""Every fenced block of README.md and docs/*.md runs as written (or is checked as its
``<!-- doc: ... -->`` mark says): see docblocks.py for the marks, docrun.py for how."""

from __future__ import annotations

from pathlib import Path

import pytest
from docblocks import all_blocks
from docrun import DocRunner

from replaystream.emulator import ProviderEmulator

ROOT = Path(__file__).resolve().parents[2]
BLOCKS = all_blocks(ROOT)


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_block_runs_as_written(block, tmp_path: Path, emulator: ProviderEmulator,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    if block.problem:
        pytest.fail(block.problem, pytrace=False)
    if not block.runs:
        return  # marked fragment / output / text: checked by the rules above only
    DocRunner(ROOT, BLOCKS, tmp_path, emulator, monkeypatch).run(block)
