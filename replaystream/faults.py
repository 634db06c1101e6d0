"""Deterministic faults (``replaystream.faults.disconnect_after(5)``, ...): the documented
path of :mod:`replaystream.wire.faults`."""

from __future__ import annotations

from .wire.faults import (
    KINDS,
    Fault,
    FaultKind,
    FaultPlan,
    FaultSpecError,
    delay_before,
    disconnect_after,
    http_error,
    malformed_event,
)

__all__ = ["KINDS", "Fault", "FaultKind", "FaultPlan", "FaultSpecError", "delay_before", "disconnect_after",
           "http_error", "malformed_event"]
