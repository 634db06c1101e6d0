"""Misuse the Literal types must reject: mypy reports an error on each ``# rejected`` line.

Only type-checked (by ``test_public_api.py``), never run or collected.
"""

from __future__ import annotations

import replaystream
from replaystream.faults import Fault

replaystream.Response(200, end="finished")  # rejected: not an EndState
Fault("explode")  # rejected: not a FaultKind
not_a_model: int = replaystream.ReplayChatModel.from_text("a|b")  # rejected: the lazy name is typed
replaystream.ReplayChatModel.from_text(42)  # rejected: from_text takes the text
