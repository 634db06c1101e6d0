"""The streaming tutorial's code, one coroutine per section (``runner.py`` lists them).

Each section runs the code of LangChain's streaming tutorial (the "seed") on
the model and embeddings it is given, so the same function records a cassette against
the emulator, replays it through the real ``ChatAnthropic`` (wire level) or through
``ReplayChatModel`` (message level). It returns what the tutorial printed (``lines``),
the stream outputs and the raw ``astream_events`` runs.

One change from the seed, everywhere: loops that ``break`` after N events read the run to
the end first and then print the same N events, so a recording always holds the whole
provider stream (a ``break`` would leave it cut, saved as ``client_closed``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessageChunk
from langchain_core.output_parsers import JsonOutputParser, StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import (
    Runnable,
    RunnableLambda,
    RunnablePassthrough,
    chain,
)
from langchain_core.tools import tool

from ..errors import UsageError
from ..langchain.snapshot import render_events

POLAR_BEAR = "What color is a polar bear?"
COUNTRIES = (
    "output a list of the countries france, spain and korea and their populations in JSON format. "
    'Use a dict with an outer key of "countries" which contains a list of countries. '
    "Each country should have the key `name` and `population`"
)
RETRIEVER_TEXTS = ("harrison worked at langchain", "harrison likes spicy food")
RETRIEVER_QUERY = "where did harrison work?"
RETRIEVAL_QUESTION = "Where did harrison work? " "Write 3 made up sentences about this place."
RETRIEVAL_TEMPLATE = """Answer the question based only on the following context:
{context}

Question: {question}
"""

Events = list[dict[str, Any]]
RetrieverFactory = Callable[[list[str], Embeddings], Runnable[str, list[Document]]]


@dataclass
class Kit:
    """What a section runs on: a chat model, and for the retriever sections embeddings and
    a vector-store factory (``FaissRetriever.from_texts`` stands in for
    ``FAISS.from_texts(...).as_retriever()``; langchain-community is not a dependency)."""

    model: BaseChatModel
    embeddings: Embeddings | None = None
    retriever_factory: RetrieverFactory | None = None

    def retriever(self) -> Runnable[str, list[Document]]:
        if self.embeddings is None or self.retriever_factory is None:
            raise UsageError("this section needs embeddings and a retriever factory in its Kit")
        return self.retriever_factory(list(RETRIEVER_TEXTS), self.embeddings)


@dataclass
class Outcome:
    """What one section produced: printed lines, stream outputs, ``astream_events`` runs."""

    lines: list[str] = field(default_factory=list)
    stream: list[Any] = field(default_factory=list)
    events: dict[str, Events] = field(default_factory=dict)
    inspected: list[Any] = field(default_factory=list)  # chunks the seed looks at (``chunks[0]``, sums)


SectionFn = Callable[[Kit], Awaitable[Outcome]]


# -- how the tutorial prints ----------------------------------------------------------------------
def bars(items: list[Any]) -> str:
    """``print(x, end="|")`` for each item: the seed's way of showing chunk boundaries."""
    return "".join(f"{x.content if isinstance(x, AIMessageChunk) else x}|" for x in items)


def chunk_line(chunk: AIMessageChunk) -> str:
    """A chunk the way the seed shows ``chunks[0]``, without the random run id."""
    fields = [f"content={chunk.content!r}", f"response_metadata={chunk.response_metadata!r}"]
    if chunk.usage_metadata:
        fields.append(f"usage_metadata={dict(chunk.usage_metadata)!r}")
    return f"AIMessageChunk({', '.join(fields)})"


def model_and_parser_loop(events: Events, limit: int = 30) -> list[str]:
    """The seed's loop printing chat-model and parser chunks, truncated after ``limit`` events."""
    lines: list[str] = []
    for num, event in enumerate(events, start=1):
        kind = event["event"]
        if kind == "on_chat_model_stream":
            lines.append(f"Chat model chunk: {event['data']['chunk'].content!r}")
        if kind == "on_parser_stream":
            lines.append(f"Parser chunk: {event['data']['chunk']}")
        if num > limit:
            lines.append("...")
            break
    return lines


def event_lines(events: Events, head: int | None = None, tail: int = 0) -> list[str]:
    """Normalised event lines (``render_events``); ``head``/``tail`` keep the seed's slices.

    With ``head`` alone this is the seed's ``print(event)`` loop that prints ``...`` and
    breaks once ``head`` events were printed, even when no event was left.
    """
    lines = render_events(events).splitlines()
    if head is None:
        return lines
    if tail:
        return lines if head + tail >= len(lines) else lines[:head] + ["..."] + lines[-tail:]
    return lines[:head] + ["..."] if len(lines) >= head else lines


async def _events(runnable: Runnable[Any, Any], value: Any, **filters: Any) -> Events:
    return [dict(e) async for e in runnable.astream_events(value, version="v2", **filters)]


def _json_chain(model: BaseChatModel) -> Runnable[Any, Any]:
    # Due to a bug in older versions of Langchain, JsonOutputParser did not stream results from some models
    return model | JsonOutputParser()


# -- Using Stream ---------------------------------------------------------------------------------
async def polar_bear_sync(kit: Kit) -> Outcome:
    chunks = []
    for chunk in kit.model.stream(POLAR_BEAR):
        chunks.append(chunk)  # noqa: PERF402  (the seed's loop, kept as written)
    return Outcome([bars(chunks)], chunks)


async def polar_bear_async(kit: Kit) -> Outcome:
    chunks = []
    async for chunk in kit.model.astream(POLAR_BEAR):
        chunks.append(chunk)
    sums = [chunks[0], chunks[0] + chunks[1] + chunks[2],
            chunks[0] + chunks[1] + chunks[2] + chunks[3] + chunks[4] + chunks[5]]
    lines = [bars(chunks), "chunks[0]:", chunk_line(sums[0]), "chunks[0] + chunks[1] + chunks[2]:",
             chunk_line(sums[1]), "chunks[0] + ... + chunks[5]:", chunk_line(sums[2])]
    return Outcome(lines, chunks, inspected=sums)


# -- Chains / Streaming with Parsers --------------------------------------------------------------
async def joke_chain(kit: Kit) -> Outcome:
    prompt = ChatPromptTemplate.from_template("tell me a joke about {topic}")
    parser = StrOutputParser()
    joke = prompt | kit.model | parser
    out = [chunk async for chunk in joke.astream({"topic": "apple"})]
    return Outcome([bars(out)], out)


# -- Working with Input Streams -------------------------------------------------------------------
async def json_parser(kit: Kit) -> Outcome:
    out = [text async for text in _json_chain(kit.model).astream(COUNTRIES)]
    return Outcome([str(t) for t in out], out)


def _extract_country_names(inputs: Any) -> list[Any]:
    """A function that does not operates on input streams and breaks streaming."""
    if not isinstance(inputs, dict):
        return []
    countries = inputs.get("countries", [])
    if not isinstance(countries, list):
        return []
    return [country.get("name") for country in countries if isinstance(country, dict)]


async def extract_country_names(kit: Kit) -> Outcome:
    names = _json_chain(kit.model) | _extract_country_names
    out = [text async for text in names.astream(COUNTRIES)]
    return Outcome([bars(out)], out)


async def _extract_country_names_streaming(input_stream: Any) -> Any:
    """A function that operates on input streams."""
    country_names_so_far = set()
    async for input in input_stream:
        if not isinstance(input, dict) or "countries" not in input:
            continue
        countries = input["countries"]
        if not isinstance(countries, list):
            continue
        for country in countries:
            name = country.get("name")
            if not name:
                continue
            if name not in country_names_so_far:
                yield name
                country_names_so_far.add(name)


async def extract_country_names_streaming(kit: Kit) -> Outcome:
    names = _json_chain(kit.model) | _extract_country_names_streaming
    out = [text async for text in names.astream(COUNTRIES)]
    return Outcome([bars(out)], out)


# -- Non-Streaming Components ---------------------------------------------------------------------
async def retriever_stream(kit: Kit) -> Outcome:
    retriever = kit.retriever()
    chunks = [chunk for chunk in retriever.stream(RETRIEVER_QUERY)]
    return Outcome([repr(chunks)], chunks)


async def retrieval_chain(kit: Kit) -> Outcome:
    prompt = ChatPromptTemplate.from_template(RETRIEVAL_TEMPLATE)
    retriever = kit.retriever()
    rag: Runnable[Any, str] = (
        {"context": retriever.with_config(run_name="Docs"), "question": RunnablePassthrough()}
        | prompt
        | kit.model
        | StrOutputParser()
    )
    out = [chunk for chunk in rag.stream(RETRIEVAL_QUESTION)]
    return Outcome([bars(out)], out)


# -- Using Stream Events --------------------------------------------------------------------------
async def events_chat_model(kit: Kit) -> Outcome:
    events = await _events(kit.model, "hello")
    return Outcome(["events[:3] ... events[-2:]:", *event_lines(events, head=3, tail=2)], events={"events": events})


async def events_json_chain(kit: Kit) -> Outcome:
    json_chain = _json_chain(kit.model)
    events = await _events(json_chain, COUNTRIES)
    # The seed runs the chain a second time to print the model's and the parser's chunks.
    loop = await _events(json_chain, COUNTRIES)
    lines = ["events[:3]:", *event_lines(events, head=3), "second run, model and parser chunks:",
             *model_and_parser_loop(loop)]
    return Outcome(lines, events={"events": events, "loop": loop})


# -- Filtering Events -----------------------------------------------------------------------------
def _named_chain(model: BaseChatModel) -> Runnable[Any, Any]:
    return model.with_config({"run_name": "model"}) | JsonOutputParser().with_config({"run_name": "my_parser"})


async def filter_by_name(kit: Kit) -> Outcome:
    events = await _events(_named_chain(kit.model), COUNTRIES, include_names=["my_parser"])
    return Outcome(event_lines(events, head=11), events={"events": events})


async def filter_by_type(kit: Kit) -> Outcome:
    events = await _events(_named_chain(kit.model), COUNTRIES, include_types=["chat_model"])
    return Outcome(event_lines(events, head=11), events={"events": events})


async def filter_by_tags(kit: Kit) -> Outcome:
    tagged = _json_chain(kit.model).with_config({"tags": ["my_chain"]})
    events = await _events(tagged, COUNTRIES, include_tags=["my_chain"])
    return Outcome(event_lines(events, head=11), events={"events": events})


# -- Handling Non-Streaming Components ------------------------------------------------------------
def _extract_country_names_or_empty(inputs: Any) -> Any:
    """A function that does not operates on input streams and breaks streaming."""
    if not isinstance(inputs, dict) or "countries" not in inputs:
        return ""
    countries = inputs["countries"]
    if not isinstance(countries, list):
        return ""
    return [country.get("name") for country in countries if isinstance(country, dict)]


async def non_streaming_components(kit: Kit) -> Outcome:
    names = _json_chain(kit.model) | RunnableLambda(_extract_country_names_or_empty, name="_extract_country_names")
    out = [chunk async for chunk in names.astream(COUNTRIES)]
    events = await _events(names, COUNTRIES)
    lines = [*(str(c) for c in out), "astream_events, model and parser chunks:", *model_and_parser_loop(events)]
    return Outcome(lines, out, {"events": events})


# -- Propagating Callbacks (no model call) --------------------------------------------------------
def _reverse_word() -> Runnable[str, str]:
    def reverse_word(word: str) -> str:
        return word[::-1]

    return RunnableLambda(reverse_word)


async def propagation_bad_tool(kit: Kit) -> Outcome:
    reverse_word = _reverse_word()

    @tool
    def bad_tool(word: str) -> str:
        """Custom tool that doesn't propagate callbacks."""
        return reverse_word.invoke(word)

    events = await _events(bad_tool, "hello")
    return Outcome(event_lines(events), events={"events": events})


async def propagation_runnable_lambda(kit: Kit) -> Outcome:
    reverse_word = _reverse_word()

    async def reverse_and_double(word: str) -> str:
        return await reverse_word.ainvoke(word) * 2

    events = await _events(RunnableLambda(reverse_and_double), "1234")
    return Outcome(event_lines(events), events={"events": events})


async def propagation_chain_decorator(kit: Kit) -> Outcome:
    reverse_word = _reverse_word()

    @chain
    async def reverse_and_double(word: str) -> str:
        return await reverse_word.ainvoke(word) * 2

    events = await _events(reverse_and_double, "1234")
    return Outcome(event_lines(events), events={"events": events})

