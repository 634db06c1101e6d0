"""``replaystream inspect``: a cassette's timeline, read for humans."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..cassette.model import Cassette, Interaction
from ..providers import event_text
from ..cassette.sse import parse_event
from ..errors import require_extras

PLOT_FEATURE = "drawing the event timeline (inspect --plot)"


@dataclass
class EventRow:
    index: int
    ms: float
    gap_ms: float
    name: str
    size: int
    text: str


def timeline(interaction: Interaction) -> list[EventRow]:
    rows: list[EventRow] = []
    previous = 0.0
    for n, event in enumerate(interaction.response.events or []):
        parsed = parse_event(event.raw)
        data = parsed.json()
        name = parsed.event or (data.get("type") if isinstance(data, dict) and isinstance(data.get("type"), str)
                                else None) or ("[DONE]" if parsed.data.strip() == "[DONE]" else "message")
        text = event_text(interaction.provider, interaction.api, data)
        rows.append(EventRow(n, event.ms, event.ms - previous, str(name), len(event.raw), text))
        previous = event.ms
    return rows


def describe(cassette: Cassette) -> str:
    """The text ``replaystream inspect`` prints."""
    out: list[str] = [f"{cassette.path}: {len(cassette.interactions)} interaction(s), {len(cassette.records)} record(s)"]
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
        if rows:
            total = rows[-1].ms
            out.append(f"   {len(rows)} events; first at {rows[0].ms:.1f} ms; last at {total:.1f} ms")
        out.append(f"   {'#':>4} {'at ms':>9} {'gap ms':>8} {'bytes':>6}  event / text")
        for row in rows:
            out.append(f"   {row.index:>4} {row.ms:>9.1f} {row.gap_ms:>8.1f} {row.size:>6}  {row.name}"
                       + (f"  {row.text!r}" if row.text else ""))
        text = "".join(r.text for r in rows)
        if text:
            out.append(f"   assembled text: {text!r}")
        if rs.error:
            out.append(f"   ended with {rs.error.get('type')}: {rs.error.get('message')}")
    return "\n".join(out)


def plot(cassette: Cassette, dest: Path) -> Path:
    """Draw each interaction's events on a time axis (needs the ``plot`` extra: matplotlib)."""
    require_extras(PLOT_FEATURE, "plot")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    streams = [(n, i) for n, i in enumerate(cassette.interactions) if i.response.is_stream]
    fig, ax = plt.subplots(figsize=(10, 1.2 + 0.6 * max(1, len(streams))))
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
