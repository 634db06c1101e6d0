"""``replaystream inspect``: a cassette's timeline, read for humans.

Long streams stay readable: ``limit`` keeps the first and last event rows of each
interaction (a ``... N more events ...`` line between them) and caps long texts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..cassette.model import Cassette, Interaction
from ..cassette.framing import SSE
from ..cassette.framing import by_name as framing_by_name
from ..errors import ReplayStreamError, require_extras
from ..providers import event_text
from .streams import ToolPiece, gather, view

#: Event rows shown per interaction unless asked otherwise (0: all of them).
DEFAULT_LIMIT = 20
_TEXT_CAP = 2000  # characters of assembled text / tool arguments shown when limited
_ROW_CAP = 200  # characters of one event's text shown when limited
PLOT_FEATURE = "drawing the event timeline (inspect --plot)"


@dataclass
class EventRow:
    index: int
    ms: float
    gap_ms: float
    name: str
    size: int
    text: str
    tools: list[ToolPiece] = field(default_factory=list)
    args_only: bool = False


class NothingToPlot(ReplayStreamError):
    """``--plot`` on a cassette without streams (embeddings, plain JSON answers)."""


def timeline(interaction: Interaction) -> list[EventRow]:
    rows: list[EventRow] = []
    previous = 0.0
    framing = framing_by_name(interaction.response.framing)
    for n, event in enumerate(interaction.response.events or []):
        unit = framing.view(event.raw)  # an event-stream frame: its headers and payload, decoded
        seen = view(unit.name, unit.data, unit.text)
        text = event_text(interaction.provider, interaction.api, unit.data)
        name = seen.kind if unit.ok else f"{seen.kind} [damaged: {unit.text if unit.data is None else 'bad CRC'}]"
        rows.append(EventRow(n, event.ms, event.ms - previous, name, len(event.raw), text,
                             seen.tools, seen.args_only))
        previous = event.ms
    return rows


def _shown(text: str, cap: int) -> str:
    return repr(text) if not cap or len(text) <= cap else f"{text[:cap]!r} ... ({len(text) - cap} more characters)"


def _detail(row: EventRow, cap: int) -> str:
    """The event's text, else the tool-call pieces it carries (a name, an argument fragment)."""
    if row.text:
        return f"  {_shown(row.text, cap)}"
    pieces = [p for piece in row.tools for p in (piece.name, _shown(piece.args, cap) if piece.args else "") if p]
    return "  " + " ".join(pieces) if pieces else ""


def describe(cassette: Cassette, limit: int = DEFAULT_LIMIT) -> str:
    """The text ``replaystream inspect`` prints; ``limit`` event rows per interaction (0: all)."""
    out: list[str] = [f"{cassette.path}: {len(cassette.interactions)} interaction(s), {len(cassette.records)} record(s)"]
    text_cap, row_cap = (_TEXT_CAP, _ROW_CAP) if limit else (0, 0)
    for n, inter in enumerate(cassette.interactions):
        rq, rs = inter.request, inter.response
        model = rq.body.get("model") if isinstance(rq.body, dict) else None
        out.append("")
        out.append(f"#{n} {inter.provider}/{inter.api}  {rq.method} {rq.target}"
                   + (f"  model={model}" if model else "") + f"  -> {rs.status}  end={rs.end}")
        if inter.note:
            out.append(f"   note: {inter.note}")
        if not rs.is_stream:
            out.append(f"   plain body: {len(rs.body or b'')} bytes at {rs.body_ms:.1f} ms")
            continue
        rows = timeline(inter)
        if rs.framing != SSE.name:
            out.append(f"   framing: {rs.framing}" + (" (binary frames, shown decoded)"
                                                      if framing_by_name(rs.framing).binary else ""))
        if rows:
            out.append(f"   {len(rows)} events; first at {rows[0].ms:.1f} ms; last at {rows[-1].ms:.1f} ms")
        out.append(f"   {'#':>4} {'at ms':>9} {'gap ms':>8} {'bytes':>6}  event / text")
        shown = rows if not limit or len(rows) <= limit else rows[:(limit + 1) // 2] + rows[len(rows) - limit // 2:]
        for k, row in enumerate(shown):
            if k and row.index != shown[k - 1].index + 1:
                out.append(f"   {'...':>4} {row.index - shown[k - 1].index - 1} more events "
                           "(--limit N shows more, --limit 0 all)")
            out.append(f"   {row.index:>4} {row.ms:>9.1f} {row.gap_ms:>8.1f} {row.size:>6}  {row.name}"
                       + _detail(row, row_cap))
        text = "".join(r.text for r in rows if not r.args_only)
        if text:
            out.append(f"   assembled text: {_shown(text, text_cap)}")
        for call in gather([piece for r in rows for piece in r.tools]):
            out.append(f"   tool call {call.name or '?'}" + (f" ({call.call_id})" if call.call_id else "")
                       + f": {_shown(call.args, text_cap)}")
        if rs.error:
            out.append(f"   ended with {rs.error.get('type')}: {rs.error.get('message')}")
    return "\n".join(out)


def plot(cassette: Cassette, dest: Path) -> Path:
    """Draw each interaction's events on a time axis (needs the ``plot`` extra: matplotlib)."""
    streams = [(n, i) for n, i in enumerate(cassette.interactions) if i.response.is_stream]
    if not streams:
        raise NothingToPlot(f"nothing to plot: none of the {len(cassette.interactions)} interaction(s) in "
                            f"{cassette.path} is a stream (embeddings and other plain answers arrive as one body); "
                            f"{dest} was not written")
    require_extras(PLOT_FEATURE, "plot")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 1.2 + 0.6 * len(streams)))
    for row, (n, inter) in enumerate(streams):
        xs = [r.ms for r in timeline(inter)]
        ax.eventplot([xs], lineoffsets=row, linelengths=0.6)
    ax.set_yticks(range(len(streams)), [f"#{n} {i.provider}/{i.api}" for n, i in streams])
    ax.set_xlabel("ms from request start")
    ax.set_title(f"{cassette.path.name if cassette.path else 'cassette'}: event timeline")
    fig.tight_layout()
    dest.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(dest, dpi=100)
    plt.close(fig)
    return dest
