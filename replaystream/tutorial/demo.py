"""``replaystream demo``: the streaming tutorial replayed offline from the shipped cassettes.

Every section runs the tutorial's own code through the real ``ChatAnthropic`` (and
``OpenAIEmbeddings``), answered at the wire level by its cassette in ``none`` mode: no
key, no network (non-loopback connections are blocked). Output is printed the way the
tutorial prints it: chunks separated by ``|``, parser outputs one per line, events as
normalised one-line renderings (``replaystream.snapshot.render_events``).

>>> run_demo(sections=["polar_bear_sync"])  # doctest: +SKIP
== polar_bear_sync: Using Stream > LLMs and Chat Models: model.stream ==
|Polar bears actually| have transparent, hollow fur, not| white fur as commonly believed. ...
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from ..errors import ReplayStreamError, require_extras

#: The tutorial runs the real ChatAnthropic, OpenAIEmbeddings and a FAISS retriever. The agent
#: sections also need AGENT_EXTRAS (LangGraph); without them they say so and are skipped,
#: so the quick start installs DEMO_EXTRAS + AGENT_EXTRAS to show every section.
DEMO_EXTRAS = ("langchain", "faiss")
require_extras("replaystream demo", *DEMO_EXTRAS)  # the boundary: before anything imports them

from .agents import AGENT_EXTRAS, AGENT_SECTIONS, AgentSection, replay_agent, skipped_reason
from .runner import SECTIONS, Section, UnknownSectionError, default_cassette_dir, pick, replay

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def run_demo(cassette_dir: Path | None = None, sections: list[str] | None = None) -> int:
    """Replay the tutorial sections (all, or those named) and print them; the exit status.

    ``cassette_dir`` defaults to the shipped cassettes (``replaystream/tutorial/cassettes``,
    package data in a checkout and an installed wheel alike).
    """
    try:
        chosen = _pick(sections)
    except UnknownSectionError as exc:
        print(f"replaystream demo: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        folder = cassette_dir if cassette_dir is not None else default_cassette_dir()
    except ReplayStreamError as exc:
        print(f"replaystream demo: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not folder.is_dir():
        print(f"replaystream demo: {folder} is not a folder of tutorial cassettes", file=sys.stderr)
        return EXIT_USAGE
    failed = 0
    for n, sec in enumerate(chosen):
        if n:
            print()
        print(f"== {sec.name}: {sec.seed_section} ==")
        print(f"   (cassette: {folder / sec.cassette})" if sec.cassette else "   (no model call: no cassette)")
        skipped = skipped_reason() if isinstance(sec, AgentSection) else None
        if skipped:
            print(skipped)
            continue
        try:
            lines = asyncio.run(replay_agent(sec, folder) if isinstance(sec, AgentSection) else _lines(sec, folder))
        except Exception as exc:
            cause = _replay_error(exc)
            if cause is None:
                raise
            failed += 1
            print(f"FAILED: {cause}")
            continue
        for line in lines:
            print(line)
        sys.stdout.flush()
    if failed:
        print(f"replaystream demo: {failed} of {len(chosen)} section(s) failed", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


async def _lines(sec: Section, folder: Path) -> list[str]:
    return (await replay(sec, folder)).lines


def _pick(names: list[str] | None) -> list[Section | AgentSection]:
    """The tutorial sections asked for, then the agent sections asked for (all when none is named)."""
    agents = [s for s in AGENT_SECTIONS if not names or s.name in names]
    rest = [n for n in names or () if n not in {s.name for s in AGENT_SECTIONS}]
    tutorial: list[Section | AgentSection] = list(pick(rest)) if rest or not names else []
    return tutorial + list(agents)


def _replay_error(exc: BaseException) -> ReplayStreamError | None:
    """The replaystream error behind ``exc``: a miss, a damaged or missing cassette.

    The SDKs wrap what the transport raises (anthropic: ``APIConnectionError``), so the
    useful message is found down the ``__cause__`` / ``__context__`` chain.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ReplayStreamError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


__all__ = ["AGENT_EXTRAS", "AGENT_SECTIONS", "SECTIONS", "run_demo"]
