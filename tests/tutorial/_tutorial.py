"""Shared helpers for the tutorial tests: cached section runs and plain views of their output."""

from __future__ import annotations

import asyncio
import functools
import json
from pathlib import Path
from typing import Any

from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from replaystream.langchain.events import normalize_events, to_plain
from replaystream.tutorial.runner import SECTIONS, Level, replay, section
from replaystream.tutorial.sections import Outcome

ROOT = Path(__file__).resolve().parents[2]
CASSETTES = ROOT / "replaystream" / "tutorial" / "cassettes"
NAMES = [s.name for s in SECTIONS]
MODEL_SECTIONS = [s.name for s in SECTIONS if s.cassette]
EVENT_SECTIONS = [s.name for s in SECTIONS if s.name.startswith(("events_", "filter_", "non_streaming", "propagation"))]
MESSAGE_TYPES = ("AIMessageChunk", "AIMessage")

#: What the seed printed, boundaries included (the ``<pre>`` blocks, their indentation removed).
SEED_PRINTED = {
    "polar_bear_sync": (
        "|Polar bears actually| have transparent, hollow fur, not| white fur as commonly believed. Their skin|"
        " is black underneath. The fur appears| white because the transparent hair scatters an|d reflects visible"
        " light, creating the white appearance we| see. This helps them blend in with their| snowy Arctic"
        " environment. The hollow| nature of their fur also helps trap air for| insulation.||"),
    "polar_bear_async": (
        "|Polar bears actually| have transparent, hollow fur, not white| fur as commonly believed. Their skin|"
        " is black underneath. The| fur appears white because the transparent hair| scatters and reflects visible"
        " light, creating| the white appearance we see.| This helps them blend in with their| snowy Arctic"
        " environment. The| hollow nature of their fur also helps trap| air for insulation.||"),
    "joke_chain": (
        "|Here's an| apple joke for you:\n\nWhy| did the apple go to the| doctor?\nBecause it wasn|'t peeling well!"
        " \n\nHere|'s another one:\nWhat kin|d of apple has a short temper?\nA| crab apple! |\U0001f34e||"),
    "retrieval_chain": (
        "|According| to the context, Harrison worked at| Langchain.\n\nHere are |3 made up sentences about"
        " Langchain|:\n1. Langchain| is a bustling tech company locate|d in a modern office building with floor|"
        "-to-ceiling windows.\n2. The| company's collaborative workspace features comfortable loun|ges where"
        " employees often brainstorm innovative| ideas.\n3. Langchain's office| is known for its well-stocked"
        " coffee| bar and weekly team-building activities.||"),
}

#: The JSON every countries section's model answers, however its stream is cut.
COUNTRIES_JSON = (
    '{\n  "countries": [\n    {\n      "name": "France",\n      "population": 67391582\n    },\n'
    '    {\n      "name": "Spain",\n      "population": 47615034\n    },\n'
    '    {\n      "name": "Korea",\n      "population": 51744876\n    }\n  ]\n}')


class TextSnapshot(SingleFileSnapshotExtension):
    """One plain ``.txt`` file per snapshot (module level: xdist re-imports it by name)."""

    file_extension = "output.txt"  # not "txt": its glob would claim (and prune) the .events.txt files
    _write_mode = WriteMode.TEXT


@functools.cache
def run(name: str, level: Level = "wire") -> Outcome:
    """One replay of a section from the shipped cassettes (read-only: cached per process)."""
    return asyncio.run(replay(section(name), CASSETTES, level))


def output_text(outcome: Outcome) -> str:
    """What a section printed, then its stream outputs and inspected chunks as plain JSON lines."""
    parts = ["# printed", *outcome.lines]
    for title, items in (("# stream", outcome.stream), ("# inspected", outcome.inspected)):
        if items:
            parts.append(title)
            parts += [json.dumps(item, ensure_ascii=False, sort_keys=True) for item in to_plain(items)]
    return "\n".join(parts) + "\n"


def drop_message_ids(value: Any) -> Any:
    """Plain data without the two fields where the levels differ by design: message ids
    (the real model's chunks carry ``lc_run--<run id>``; ``ReplayChatModel`` gives
    ``lc_run--replay-<n>`` so two runs are identical) and ``metadata.lc_versions`` (the
    real model adds its integration package; snapshots leave it out too)."""
    if isinstance(value, dict):
        return {k: drop_message_ids(v) for k, v in value.items()
                if not (k == "id" and value.get("_type") in MESSAGE_TYPES) and k != "lc_versions"}
    if isinstance(value, list):
        return [drop_message_ids(v) for v in value]
    return value


def comparable(outcome: Outcome) -> dict[str, Any]:
    return drop_message_ids({
        "stream": to_plain(outcome.stream),
        "inspected": to_plain(outcome.inspected),
        "events": {k: normalize_events(v) for k, v in outcome.events.items()},
    })
