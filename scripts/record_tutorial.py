"""Record replaystream/tutorial/cassettes/*.json: the streaming tutorial, section by section.

Honest about where the bytes come from: no live provider is involved. For each section
that calls a model or an embeddings API, the replaystream provider emulator serves, in
Anthropic's (and OpenAI's embeddings) wire format, exactly the chunk boundaries the seed
printed (see ``replaystream/tutorial/runner.py``); the section's own code then runs with the real
``ChatAnthropic`` / ``OpenAIEmbeddings`` pointed at the emulator inside
``use_cassette(path, mode="rewrite")``. Each cassette's ``meta`` says all this.

    python scripts/record_tutorial.py [--dest replaystream/tutorial/cassettes] [SECTION ...]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from replaystream import use_cassette
from replaystream.emulator import (
    ProviderEmulator,
    ScriptedResponse,
    anthropic_messages_stream,
    openai_embeddings,
)
from replaystream.tutorial.runner import (
    ALL,
    MODEL,
    RECORDING_KEY,
    Embedding,
    Section,
    Stream,
    pick,
    wire_kit,
)

ROOT = Path(__file__).resolve().parent.parent
SEED = "LangChain OpenTutorial, 'How to stream runnables' (the project's seed: streaming-tutorial.md)"
SOURCE = ("recorded from the replaystream provider emulator (replaystream.emulator, loopback) serving the chunk "
          "boundaries printed in the seed: not a live provider. Only the framing, ids and usage fields are the "
          "emulator's; the text chunks are the seed's (see the interaction notes for where they are ours).")
EMBEDDING_MODEL = "text-embedding-ada-002"  # OpenAIEmbeddings' default, as the seed used it


def _anthropic_events(stream: Stream) -> list[bytes]:
    events = anthropic_messages_stream(list(stream.chunks), model=MODEL, input_tokens=stream.input_tokens,
                                       output_tokens=stream.output_tokens)
    if stream.start_output_tokens != 1:
        # The builder has no parameter for message_start's output_tokens (always 1); the seed's
        # first chunk shows another value, so that one number is set here.
        start = events[0].replace(b'"output_tokens":1,', b'"output_tokens":%d,' % stream.start_output_tokens, 1)
        if start == events[0]:
            raise RuntimeError("message_start has no output_tokens field to set: the emulator's format changed")
        events[0] = start
    return events


def _stream_note(stream: Stream) -> str:
    shown = {
        ALL: "text chunks exactly as the seed printed them",
        "prefix": "the seed printed the first chunks and then cut the output short ('...'): those are "
                  "the seed's boundaries, the rest of the stream was written by us",
        "none": "the seed printed only what the code made of this stream (parser output or extracted names), "
                "not the chunks: the boundaries were chosen by us to reproduce that printed output exactly",
    }[stream.seed_shows]
    return f"Anthropic Messages stream from the emulator; {shown}; {stream.usage_note}."


def _embedding_note(emb: Embedding) -> str:
    texts = ", ".join(repr(t) for t, _ in emb.vectors)
    return (f"OpenAI embeddings from the emulator: small hand-chosen 3-d vectors (not a real model's) for {texts}, "
            "picked so that 'where did harrison work?' (and the retrieval chain's question) retrieve "
            "'harrison worked at langchain' first, as in the seed.")


def record(section: Section, dest: Path) -> Path:
    assert section.cassette is not None
    path = dest / section.cassette
    notes: list[str] = []
    with ProviderEmulator() as emu:
        for item in section.served:
            if isinstance(item, Stream):
                emu.enqueue(ScriptedResponse(events=_anthropic_events(item)), path="/v1/messages")
                notes.append(_stream_note(item))
            else:
                body = openai_embeddings([list(v) for _, v in item.vectors], model=EMBEDDING_MODEL)
                emu.enqueue(ScriptedResponse(body=body), path="/v1/embeddings")
                notes.append(_embedding_note(item))
        kit = wire_kit(base_url=emu.base_url, openai_base_url=emu.base_url + "/v1", api_key=RECORDING_KEY,
                       max_retries=0)

        async def run() -> Any:
            async with use_cassette(path, mode="rewrite") as session:
                await section.run(kit)
                session.cassette.meta = _meta(section)
                if len(session.new) != len(notes):
                    raise RuntimeError(f"{section.name}: {len(session.new)} interactions for {len(notes)} scripted")
                for inter, note, item in zip(session.new, notes, section.served):
                    want = "messages" if isinstance(item, Stream) else "embeddings"
                    if inter.api != want:
                        raise RuntimeError(f"{section.name}: expected a {want} request, got {inter.api}")
                    inter.note = note

        asyncio.run(run())
        if emu.pending:
            raise RuntimeError(f"{section.name}: {emu.pending} scripted response(s) were never requested")
    return path


def _meta(section: Section) -> dict[str, Any]:
    return {
        "source": SOURCE,
        "seed": SEED,
        "seed_section": section.seed_section,
        "recorded_with": (f"scripts/record_tutorial.py: the section's code (replaystream.tutorial.sections."
                          f"{section.run.__name__}) with ChatAnthropic(model={MODEL!r}, temperature=0, "
                          "max_tokens=1024) and OpenAIEmbeddings(check_embedding_ctx_length=False), "
                          "base_url pointed at the emulator, placeholder key (scrubbed)"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dest", default=str(ROOT / "replaystream" / "tutorial" / "cassettes"))
    parser.add_argument("sections", nargs="*")
    args = parser.parse_args(argv)
    dest = Path(args.dest)
    dest.mkdir(parents=True, exist_ok=True)
    for section in pick(args.sections):
        if section.cassette is None:
            continue
        print(f"recorded {record(section, dest)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
