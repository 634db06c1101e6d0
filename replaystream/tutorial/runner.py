"""The streaming tutorial offline: its sections, how their cassettes were made, and replay.

Each :class:`Section` names the seed section it reproduces, the coroutine that runs the
seed's code (:mod:`replaystream.tutorial.sections`) and, for sections that call a model or
an embeddings API, the script ``scripts/record_tutorial.py`` had the provider emulator
serve: the text chunks cut exactly where the seed's printout shows a boundary, usage
numbers from the seed where it shows them. Replay runs the real ``ChatAnthropic`` /
``OpenAIEmbeddings`` against the cassette (wire level) or ``ReplayChatModel`` /
``ReplayEmbeddings`` built from it (message level)::

    outcome = asyncio.run(replay(section("polar_bear_sync"), default_cassette_dir()))
    print(outcome.lines[0])   # |Polar bears actually| have transparent, hollow fur, not| ...

What langchain-anthropic 1.7 makes of a stream: an empty first chunk (``message_start``:
``response_metadata`` with the model name) and an empty last one (``message_delta``:
stop reason, ``usage_metadata``, ``chunk_position="last"``), so a printed stream starts
with ``|`` and ends with ``||`` exactly as the seed's did. Unlike the seed's version it
takes usage from ``message_delta`` only: the seed's ``chunks[0]`` usage (14 in, 4 out) is
in the recorded ``message_start`` but no longer reaches a chunk, and the seed's 8 + 13
total for "hello" (start 1 + delta 12) is now 8 + 12.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from langchain_core.language_models import BaseChatModel
from pydantic import SecretStr

from . import sections as ts
from ..errors import CassetteError, ReplayStreamError
from ..wire.session import use_cassette

MODEL = "claude-3-5-sonnet-latest"
RECORDING_KEY = "sk-ant-tutorial-placeholder"  # sent to the emulator only; scrubbed from cassettes
REPLAY_KEY = "sk-replaystream-demo-not-a-key"
ANTHROPIC_URL = "https://api.anthropic.com"  # never reached in replay: the cassette answers
OPENAI_URL = "https://api.openai.com/v1"

Level = Literal["wire", "message"]

#: The text chunks served for the seed's streams, cut where the seed's printout shows a
#: boundary (tests/tutorial holds the printout itself and checks the replay reproduces it).
_POLAR_BEAR_SYNC = (
    "Polar bears actually", " have transparent, hollow fur, not", " white fur as commonly believed. Their skin",
    " is black underneath. The fur appears", " white because the transparent hair scatters an",
    "d reflects visible light, creating the white appearance we", " see. This helps them blend in with their",
    " snowy Arctic environment. The hollow", " nature of their fur also helps trap air for", " insulation.")
_POLAR_BEAR_ASYNC = (
    "Polar bears actually", " have transparent, hollow fur, not white", " fur as commonly believed. Their skin",
    " is black underneath. The", " fur appears white because the transparent hair",
    " scatters and reflects visible light, creating", " the white appearance we see.",
    " This helps them blend in with their", " snowy Arctic environment. The",
    " hollow nature of their fur also helps trap", " air for insulation.")
_JOKE = (
    "Here's an", " apple joke for you:\n\nWhy", " did the apple go to the", " doctor?\nBecause it wasn",
    "'t peeling well! \n\nHere", "'s another one:\nWhat kin", "d of apple has a short temper?\nA",
    " crab apple! ", "\U0001f34e")
_RETRIEVAL_ANSWER = (
    "According", " to the context, Harrison worked at", " Langchain.\n\nHere are ",
    "3 made up sentences about Langchain", ":\n1. Langchain", " is a bustling tech company locate",
    "d in a modern office building with floor", "-to-ceiling windows.\n2. The",
    " company's collaborative workspace features comfortable loun",
    "ges where employees often brainstorm innovative", " ideas.\n3. Langchain's office",
    " is known for its well-stocked coffee", " bar and weekly team-building activities.")

ALL = "all"  # Stream.seed_shows: the seed printed every boundary of this stream


class UnknownSectionError(ReplayStreamError, KeyError):
    """No tutorial section has this name; the message lists the names there are."""

    def __str__(self) -> str:  # not KeyError's: it would print the message quoted
        return str(self.args[0])


@dataclass(frozen=True)
class Stream:
    """One Anthropic Messages stream for the emulator to serve.

    ``seed_shows``: :data:`ALL`, ``"prefix"`` (the seed printed the first chunks and then
    ``...``: the rest is ours) or ``"none"`` (the seed printed only what a parser made of
    the stream: the boundaries are ours, chosen to reproduce that output exactly).
    ``start_output_tokens`` goes into ``message_start`` (the seed's first chunk shows it).
    """

    chunks: tuple[str, ...]
    input_tokens: int
    output_tokens: int
    seed_shows: str = ALL
    start_output_tokens: int = 1
    usage_note: str = "input and output token counts estimated by us: the seed shows neither"

    @property
    def text(self) -> str:
        return "".join(self.chunks)


@dataclass(frozen=True)
class Embedding:
    """One embeddings request: the texts it embeds and the hand-chosen vectors served."""

    vectors: tuple[tuple[str, tuple[float, ...]], ...]


Served = Stream | Embedding


@dataclass(frozen=True)
class Section:
    """One section of the tutorial."""

    name: str
    seed_section: str  # the seed's heading (and the code it runs)
    run: ts.SectionFn
    served: tuple[Served, ...] = ()  # in request order; empty: no model call, no cassette

    @property
    def cassette(self) -> str | None:
        return f"{self.name}.json" if self.served else None


def _countries(*chunks: str, seed_shows: str) -> Stream:
    """One cut of the seed's countries JSON (tests check every cut adds up to it)."""
    return Stream(tuple(chunks), input_tokens=56, output_tokens=72, seed_shows=seed_shows,
                  usage_note="input_tokens 56 and message_start output_tokens 1 from the seed; "
                             "the final output_tokens estimated by us")


# Boundaries of the countries JSON: each section of the seed cut it differently.
_JSON_PARSER = _countries(  # ours: reproduce the nine parser outputs the seed printed
    '{', '\n  "countries": [\n    {', '\n      "name": "France",', '\n      "population": 67391582\n    },',
    '\n    {\n      "name": "Spain",', '\n      "population": 47615', '034\n    },\n    {', '\n      "name": "Korea",',
    '\n      "population": 51744876\n    }\n  ]\n}', seed_shows="none")
_EXTRACT = _countries(  # ours: the seed printed only the extracted names
    '{\n  "countries": [', '\n    {\n      "name": "France",\n      "population": 67391582\n    },',
    '\n    {\n      "name": "Spain",\n      "population": 47615034\n    },',
    '\n    {\n      "name": "Korea",\n      "population": 51744876\n    }', '\n  ]\n}', seed_shows="none")
_EXTRACT_STREAMING = _countries(  # ours; never inside a name, or the generator would yield "Sp"
    '{', '\n  "countries": [\n    {\n      "name": "France",', '\n      "population": 67391582\n    },\n    {',
    '\n      "name": "Spain",\n      "population": 47615034', '\n    },\n    {\n      "name": "Korea",',
    '\n      "population": 51744876\n    }\n  ]\n}', seed_shows="none")
_EVENTS_JSON = _countries(  # as printed up to 51744, then ours
    '{', '\n  "countries":', ' [\n    {\n      "name": "', 'France",\n      "', 'population": 67391582\n    },',
    '\n    {\n      "name": "Spain",', '\n      "population": 47615', '034\n    },\n    ', '{\n      "name": "Korea",',
    '\n      "population": 51744', '876\n    }\n  ', ']\n}', seed_shows="prefix")
_BY_NAME = _countries(  # ours: reproduce the parser events the seed printed
    '{', '\n  "countries": [\n    {', '\n      "name": "France",', '\n      "population": 67391582\n    },',
    '\n    {\n      "name": "Spain",', '\n      "population": 47615', '034\n    },\n    ', '{\n      "name": "Korea",',
    '\n      "population": 51744876\n    }\n  ]\n}', seed_shows="none")
_BY_TYPE = _countries(  # as printed up to Korea's name, then ours
    '{', '\n  "countries":', ' [\n    {\n      "name": "', 'France",\n      "population": 67391', '582\n    },',
    '\n    {\n      "', 'name": "Spain",\n      "population":', ' 47615034\n    },\n    ', '{\n      "name": "Korea",',
    '\n      "population": 51744876', '\n    }\n  ]\n}', seed_shows="prefix")
_BY_TAGS = _countries(  # as printed up to France's name, then ours
    '{', '\n  "countries": [\n    {', '\n      "name": "France",\n      "', 'population": 67391582\n    },',
    '\n    {\n      "name": "Spain",', '\n      "population": 47615034\n    },', '\n    {\n      "name": "Korea",',
    '\n      "population": 51744876\n    }\n  ]\n}', seed_shows="prefix")
_NON_STREAMING = _countries(  # every boundary printed (the astream call before it shows none: same cut)
    '{', '\n  "countries": [\n    {', '\n      "name": "France",\n      "', 'population": 67391582\n    },',
    '\n    {\n      "name": "Spain",', '\n      "population": 47615', '034\n    },\n    {\n      "name',
    '": "Korea",\n      "population": ', '51744876\n    }\n  ', ']\n}', seed_shows=ALL)

_POLAR_USAGE = ("input_tokens 14 and message_start output_tokens 4 from the seed's chunks[0]; "
                "the final output_tokens estimated by us")
_DOCS = Embedding(((ts.RETRIEVER_TEXTS[0], (0.9, 0.1, 0.2)), (ts.RETRIEVER_TEXTS[1], (0.1, 0.9, 0.2))))

SECTIONS: tuple[Section, ...] = (
    Section("polar_bear_sync", "Using Stream > LLMs and Chat Models: model.stream", ts.polar_bear_sync,
            (Stream(_POLAR_BEAR_SYNC, 14, 68, start_output_tokens=4, usage_note=_POLAR_USAGE),)),
    Section("polar_bear_async", "Using Stream > LLMs and Chat Models: model.astream, chunks[0], chunk sums",
            ts.polar_bear_async,
            (Stream(_POLAR_BEAR_ASYNC, 14, 68, start_output_tokens=4, usage_note=_POLAR_USAGE),)),
    Section("joke_chain", "Streaming with Parsers: prompt | model | StrOutputParser(), astream", ts.joke_chain,
            (Stream(_JOKE, 13, 40),)),
    Section("json_parser", "Working with Input Streams: model | JsonOutputParser(), astream", ts.json_parser,
            (_JSON_PARSER,)),
    Section("extract_country_names", "Working with Input Streams: _extract_country_names breaks streaming",
            ts.extract_country_names, (_EXTRACT,)),
    Section("extract_country_names_streaming",
            "Working with Input Streams > Generator Functions: _extract_country_names_streaming",
            ts.extract_country_names_streaming, (_EXTRACT_STREAMING,)),
    Section("retriever_stream", "Non-Streaming Components: retriever.stream", ts.retriever_stream,
            (_DOCS, Embedding(((ts.RETRIEVER_QUERY, (0.8, 0.2, 0.3)),)))),
    Section("retrieval_chain", "Non-Streaming Components: retrieval_chain.stream", ts.retrieval_chain,
            (_DOCS, Embedding(((ts.RETRIEVAL_QUESTION, (0.7, 0.3, 0.4)),)),
             Stream(_RETRIEVAL_ANSWER, 72, 95))),
    Section("events_chat_model", "Using Stream Events > Chat Model: model.astream_events('hello')",
            ts.events_chat_model,
            (Stream(("Hi", "! How can I help you", " today?"), 8, 12, seed_shows="prefix",
                    usage_note="input_tokens 8, message_start output_tokens 1 and message_delta "
                               "output_tokens 12 from the seed"),)),
    Section("events_json_chain", "Using Stream Events > Chat Model: astream_events on model | JsonOutputParser()",
            ts.events_json_chain, (_EVENTS_JSON, _EVENTS_JSON)),
    Section("filter_by_name", "Filtering Events > By Name: include_names=['my_parser']", ts.filter_by_name,
            (_BY_NAME,)),
    Section("filter_by_type", "Filtering Events > By Type: include_types=['chat_model']", ts.filter_by_type,
            (_BY_TYPE,)),
    Section("filter_by_tags", "Filtering Events > By Tags: include_tags=['my_chain']", ts.filter_by_tags,
            (_BY_TAGS,)),
    Section("non_streaming_components",
            "Handling Non-Streaming Components: astream, then astream_events, with _extract_country_names",
            ts.non_streaming_components, (_NON_STREAMING, _NON_STREAMING)),
    Section("propagation_bad_tool", "Propagating Callbacks: bad_tool", ts.propagation_bad_tool),
    Section("propagation_runnable_lambda", "Propagating Callbacks: reverse_and_double as a RunnableLambda",
            ts.propagation_runnable_lambda),
    Section("propagation_chain_decorator", "Propagating Callbacks: reverse_and_double with @chain",
            ts.propagation_chain_decorator),
)


def section(name: str) -> Section:
    """The section called ``name``; the error lists the names there are."""
    for s in SECTIONS:
        if s.name == name:
            return s
    raise UnknownSectionError(f"no tutorial section {name!r}; sections: {', '.join(s.name for s in SECTIONS)}")


def default_cassette_dir() -> Path:
    """The shipped cassettes: package data beside this module, in a checkout and a wheel alike."""
    folder = Path(__file__).resolve().parent / "cassettes"
    if not folder.is_dir():
        raise ReplayStreamError(f"no tutorial cassettes found under {folder}; the installation is incomplete: "
                                "reinstall replaystream, or pass the folder (replaystream demo --cassettes DIR)")
    return folder


def tutorial_model(base_url: str = ANTHROPIC_URL, api_key: str = REPLAY_KEY, max_retries: int = 0) -> BaseChatModel:
    """The seed's ``ChatAnthropic(model="claude-3-5-sonnet-latest", temperature=0)``, with the
    seed's ``max_tokens=1024`` (the current default differs) and an explicit key."""
    from langchain_anthropic import ChatAnthropic

    return ChatAnthropic(model_name=MODEL, temperature=0, max_tokens_to_sample=1024, base_url=base_url,
                         api_key=SecretStr(api_key), max_retries=max_retries, timeout=None, stop=None)


def wire_kit(base_url: str = ANTHROPIC_URL, openai_base_url: str = OPENAI_URL, api_key: str = REPLAY_KEY,
             max_retries: int = 0) -> ts.Kit:
    """The real integrations: ``ChatAnthropic``, ``OpenAIEmbeddings`` and a FAISS retriever."""
    from langchain_openai import OpenAIEmbeddings

    from ..langchain.fakes import FaissRetriever

    embeddings = OpenAIEmbeddings(check_embedding_ctx_length=False, base_url=openai_base_url,
                                  api_key=SecretStr(api_key), max_retries=max_retries)
    return ts.Kit(tutorial_model(base_url, api_key, max_retries), embeddings, FaissRetriever.from_texts)


def message_kit(cassette: Path) -> ts.Kit:
    """Message-level stand-ins built from a cassette: no SDK, no HTTP."""
    from ..cassette.model import Cassette
    from ..langchain.fakes import FaissRetriever, ReplayChatModel, ReplayEmbeddings

    recorded = Cassette.load(cassette)
    apis = {i.api for i in recorded.interactions}
    embeddings = ReplayEmbeddings.from_cassette(recorded) if "embeddings" in apis else None
    # No recorded chat: a model with nothing to replay (a call would raise ReplayExhaustedError).
    model = ReplayChatModel.from_cassette(recorded) if "messages" in apis else ReplayChatModel(name="ChatAnthropic")
    return ts.Kit(model, embeddings, FaissRetriever.from_texts)


async def replay(sec: Section, cassette_dir: Path, level: Level = "wire") -> ts.Outcome:
    """Run ``sec`` offline from its cassette in ``cassette_dir``; every recorded request must be used."""
    if sec.cassette is None:
        return await sec.run(wire_kit())
    path = cassette_dir / sec.cassette
    if not path.is_file():  # in none mode a missing file would replay as an empty cassette
        raise CassetteError(path, "", "no such cassette",
                            "record it with python scripts/record_tutorial.py, or pass the folder that has it")
    if level == "message":
        return await sec.run(message_kit(path))
    async with use_cassette(path) as session:
        outcome = await sec.run(wire_kit())
    unused = session.unused()
    if unused:
        raise ReplayStreamError(f"{path}: section {sec.name!r} left recorded interaction(s) {unused} unused: "
                                "the section no longer makes the requests it was recorded with; record it again "
                                "(python scripts/record_tutorial.py)")
    return outcome


def pick(names: Sequence[str] | None) -> list[Section]:
    """Sections by name, in tutorial order (all when ``names`` is empty)."""
    if not names:
        return list(SECTIONS)
    wanted = [section(n) for n in names]  # raises on an unknown name
    return [s for s in SECTIONS if s in wanted]
