"""Record the demo's agent cassettes (replaystream/tutorial/cassettes/agent_*.json).

No live provider is involved: for each agent section the provider emulator serves, in
Anthropic's wire format, one stream per model turn (``replaystream.tutorial.agents.TURNS``:
text deltas and ``tool_use`` blocks whose JSON arguments arrive in fragments); the
section's own code then runs the real ``ChatAnthropic`` agent against the emulator inside
``use_cassette(path, mode="rewrite")``, its tools running for real. Each cassette's
``meta`` says all this.

    python scripts/record_agents.py [--dest replaystream/tutorial/cassettes] [SECTION ...]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from replaystream import use_cassette
from replaystream.emulator import ProviderEmulator, scripted_turns
from replaystream.tutorial.agents import AGENT_SECTIONS, AgentSection, agent_model
from replaystream.tutorial.runner import MODEL, RECORDING_KEY

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ("recorded from the replaystream provider emulator (replaystream.emulator, loopback) serving scripted "
          "agent turns: not a live provider. The turns (text, tool calls and their ids) are ours "
          "(replaystream.tutorial.agents.TURNS); the tool results are the section's real tools'.")


def record(section: AgentSection, dest: Path) -> Path:
    path = dest / section.cassette
    with ProviderEmulator() as emu:
        for route, response in scripted_turns(section.turns, "anthropic", model=MODEL):
            emu.enqueue(response, path=route)

        async def run() -> None:
            async with use_cassette(path, mode="rewrite") as session:
                await section.run(agent_model(base_url=emu.base_url, api_key=RECORDING_KEY))
                session.cassette.meta = {
                    "source": SOURCE, "seed_section": section.seed_section,
                    "recorded_with": (f"scripts/record_agents.py: replaystream.tutorial.agents.{section.run.__name__} "
                                      f"with ChatAnthropic(model={MODEL!r}, temperature=0, max_tokens=1024, "
                                      "streaming=True), base_url pointed at the emulator, placeholder key (scrubbed)")}
                if len(session.new) != len(section.turns):
                    raise RuntimeError(f"{section.name}: {len(session.new)} requests for {len(section.turns)} turns")
                for n, inter in enumerate(session.new):
                    inter.note = (f"agent turn {n + 1} of {len(section.turns)}: an Anthropic Messages stream from "
                                  "the emulator" + (", the request carrying the earlier tool results" if n else ""))

        asyncio.run(run())
        if emu.pending:
            raise RuntimeError(f"{section.name}: {emu.pending} scripted turn(s) were never requested")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dest", default=str(ROOT / "replaystream" / "tutorial" / "cassettes"))
    parser.add_argument("sections", nargs="*")
    args = parser.parse_args(argv)
    dest = Path(args.dest)
    dest.mkdir(parents=True, exist_ok=True)
    for section in AGENT_SECTIONS:
        if not args.sections or section.name in args.sections:
            print(f"recorded {record(section, dest)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
