"""``ReplayChatModel``: a real chat model that streams recorded ``AIMessageChunk``s.

Unlike ``GenericFakeChatModel`` it keeps each chunk exactly as recorded (content or
content blocks, ``usage_metadata``, ``response_metadata``, ``tool_call_chunks``,
``chunk_position``) and reports the recorded provider's identity, so an
``astream_events`` run reads like the real one.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.chat_models import BaseChatModel, generate_from_stream
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_core.language_models.base import LangSmithParams
from pydantic import BaseModel, PrivateAttr, field_validator

from ...cassette.model import Cassette, Record
from ...errors import CassetteError, CassetteMissError, StrictMismatchError
from . import _pacing
from ._chunks import (ChunkLike, RecordedResponse, closing_chunk, fresh_copy, generation, request_view, turn_chunks,
                      split_text)
from ._conversation import mismatch
from ._structured import parsed_output
from .errors import ChunkFormatError

RECORD_KIND = "chat_chunks"

#: identity key in a record -> field of ReplayChatModel
_IDENTITY_FIELDS = {"name": "name", "ls_provider": "provider", "ls_model_name": "model",
                    "ls_temperature": "temperature", "ls_max_tokens": "max_tokens"}

ResponseLike = RecordedResponse | Sequence[ChunkLike]


class ReplayChatModel(BaseChatModel):
    """A chat model that replays recorded streaming responses, one per call.

    Example::

        model = ReplayChatModel.from_text("Polar bears actually| have transparent| fur.",
                                          name="ChatAnthropic", provider="anthropic",
                                          model="claude-3-5-sonnet-latest")
        [c.content for c in model.stream("What color is a polar bear?")]
        # ['Polar bears actually', ' have transparent', ' fur.']

    Several responses (an agent loop, see :meth:`from_turns`) are replayed in order.

    Chunks without a recorded id get ``f"{id_prefix}-{response index}"``, so two runs
    produce the same ids; a response that does not end with a ``chunk_position="last"``
    chunk gets one (empty, with that id) as LangChain would append it. The recorded
    chunks are private attributes: LangChain's run serialisation (``repr`` of the model)
    never walks them.
    """

    model: str = "replay"
    """Reported as ``ls_model_name``."""
    provider: str = "replay"
    """Reported as ``ls_provider`` (``"anthropic"``, ``"openai"``, ...)."""
    temperature: float | None = None
    max_tokens: int | None = None
    stop: list[str] | None = None
    streaming: bool = False
    pacing: _pacing.Pacing = "instant"
    """``"instant"``, ``"recorded"`` (needs per-chunk ``ms``) or a speed factor."""
    strict: bool = False
    """Check the input messages against each response's recorded request."""
    cycle: bool = False
    """Start again from the first response when all were used (else raise)."""
    id_prefix: str = "lc_run--replay"

    _responses: list[RecordedResponse] = PrivateAttr(default_factory=list)
    _sequencer: _pacing.Sequencer[RecordedResponse] = PrivateAttr()
    _received: list[list[dict[str, Any]]] = PrivateAttr(default_factory=list)
    _clock: _pacing.Clock = PrivateAttr(default=_pacing.REAL_CLOCK)
    _serialized_base: dict[str, Any] | None = PrivateAttr(default=None)
    _seen: dict[int, list[dict[str, Any]]] = PrivateAttr(default_factory=dict)  # response -> first input

    def __init__(self, *, responses: Iterable[ResponseLike] = (),
                 requests: Sequence[Sequence[Any] | None] | None = None,
                 clock: _pacing.Clock = _pacing.REAL_CLOCK, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._clock = clock  # what pacing reads and sleeps on (a test passes a ManualClock)
        built: list[RecordedResponse] = []
        for n, item in enumerate(responses):
            if isinstance(item, RecordedResponse):
                built.append(item)
            else:
                request = requests[n] if requests is not None and n < len(requests) else None
                built.append(RecordedResponse.build(item, request, where=f"responses[{n}]"))
        self._responses = built
        self._sequencer = _pacing.Sequencer(built, cycle=self.cycle, owner=self._label())
        self._received = []

    @field_validator("pacing", mode="before")
    @classmethod
    def _check_pacing(cls, value: Any) -> _pacing.Pacing:
        return _pacing.parse_pacing(value)

    # -- construction ------------------------------------------------------------------
    @classmethod
    def from_chunks(cls, chunks: Sequence[ChunkLike], *, request: Sequence[Any] | None = None,
                    **kwargs: Any) -> ReplayChatModel:
        """One response from ``AIMessageChunk``s or their dict form (see ``_chunks``).

        Example::

            ReplayChatModel.from_chunks([{"content": "Hi", "ms": 0},
                                         {"content": "!", "chunk_position": "last", "ms": 40}])
        """
        return cls.from_responses([RecordedResponse.build(chunks, request)], **kwargs)

    @classmethod
    def from_text(cls, text: str, *, sep: str = "|", usage_metadata: Mapping[str, Any] | None = None,
                  response_metadata: Mapping[str, Any] | None = None, **kwargs: Any) -> ReplayChatModel:
        """One response cut at ``sep``: the chunk boundaries are exactly where you put them.

        ``usage_metadata`` and ``response_metadata`` go on the last chunk, which is
        marked ``chunk_position="last"`` as langchain-core 1.8 providers do.

        Example::

            ReplayChatModel.from_text("|Polar bears actually| have transparent|")
            # chunks: "", "Polar bears actually", " have transparent", "" (last)
        """
        chunks = split_text(text, sep)
        if usage_metadata is not None:
            chunks[-1]["usage_metadata"] = dict(usage_metadata)
        if response_metadata is not None:
            chunks[-1]["response_metadata"] = dict(response_metadata)
        return cls.from_chunks(chunks, **kwargs)

    @classmethod
    def from_turns(cls, turns: Sequence[str | Mapping[str, Any] | Sequence[ChunkLike]], *, sep: str = "|",
                   **kwargs: Any) -> ReplayChatModel:
        """An agent loop: one response per model turn, tool calls streamed as ``tool_call_chunks``.

        Example (``create_agent(model, [get_weather])`` calls the tool with id ``call_0_0``)::

            ReplayChatModel.from_turns([{"text": "Let me look.", "tool_calls": [
                {"name": "get_weather", "args": {"city": "Paris"}}]}, "It is| sunny."])

        :meth:`to_cassette` after a run stores what each turn was sent: replayed from it with
        ``strict=True``, a changed tool result fails naming its message.
        """
        return cls(responses=[turn_chunks(t, n, sep) for n, t in enumerate(turns)], **kwargs)

    @classmethod
    def from_responses(cls, responses: Sequence[RecordedResponse], *,
                       identity: Mapping[str, Any] | None = None, **kwargs: Any) -> ReplayChatModel:
        """The plug-in point for other sources (a cassette of HTTP interactions, ...).

        ``identity`` uses the record keys (``name``, ``ls_provider``, ``ls_model_name``,
        ``ls_temperature``, ``ls_max_tokens``); explicit keyword arguments win over it, and
        over each response's own ``identity``.
        """
        fields = {_IDENTITY_FIELDS[k]: v for k, v in (identity or {}).items()
                  if k in _IDENTITY_FIELDS and v is not None}
        given = {k for k, attr in _IDENTITY_FIELDS.items() if attr in kwargs}
        responses = [replace(r, identity={k: v for k, v in r.identity.items() if k not in given})
                     if r.identity is not None and given else r for r in responses]
        return cls(responses=list(responses), **{**fields, **kwargs})

    @classmethod
    def from_cassette(cls, source: str | os.PathLike[str] | Cassette, **kwargs: Any) -> ReplayChatModel:
        """Responses from a cassette recorded at the wire level, one per chat interaction.

        The recorded events go through the real ``ChatAnthropic`` / ``ChatOpenAI`` parsing,
        so the chunks are exactly the production ones; the provider identity (name,
        ``ls_*`` metadata) comes from each response's recorded request, so a cassette
        mixing providers replays each response as its own. ``chat_chunks`` records in the
        cassette are used when it holds no HTTP chat interactions.

        Example::

            model = ReplayChatModel.from_cassette("tests/cassettes/polar_bear.json")
        """
        from .wire import CHAT_APIS, chat_responses, load_cassette

        cassette = load_cassette(source, "ReplayChatModel.from_cassette")
        if not any((i.provider, i.api) in CHAT_APIS for i in cassette.interactions) and any(
                r.kind == RECORD_KIND for r in cassette.records):
            return cls.from_records(cassette, **kwargs)
        responses, identity = chat_responses(cassette)
        return cls.from_responses(responses, identity=identity, **kwargs)

    @classmethod
    def from_records(cls, source: Cassette | Iterable[Record], *, name: str | None = None,
                     **kwargs: Any) -> ReplayChatModel:
        """Responses from ``chat_chunks`` records, in the order they were written.

        Example::

            model.to_cassette().save("chat.json")
            ReplayChatModel.from_records(Cassette.load("chat.json"))
        """
        path = source.path if isinstance(source, Cassette) else None
        records = source.records if isinstance(source, Cassette) else list(source)
        picked = [(n, r) for n, r in enumerate(records)
                  if r.kind == RECORD_KIND and (name is None or r.name == name)]
        if not picked:
            names = sorted({r.name for r in records if r.kind == RECORD_KIND})
            raise CassetteMissError(
                f"{path or '<records>'}: no {RECORD_KIND!r} record"
                + (f" named {name!r}" if name is not None else "")
                + f" (recorded names: {names or 'none'})\n"
                "  hint: record it with ReplayChatModel.to_records(), or check the name")
        responses = []
        for n, rec in picked:
            where = f"$.records[{n}].data"
            chunks = rec.data.get("chunks")
            if not isinstance(chunks, list):
                raise CassetteError(path, f"{where}.chunks", "expected a list of chunk objects")
            try:
                responses.append(RecordedResponse.build(chunks, rec.data.get("request"), where=where + ".chunks",
                                                        identity=rec.data.get("identity")))
            except ChunkFormatError as exc:
                raise CassetteError(path, where, str(exc), "fix the chunk by hand, or record it again") from None
        identity = picked[0][1].data.get("identity") or {}
        return cls.from_responses(responses, identity=identity, **kwargs)

    @classmethod
    def from_record(cls, record: Record, **kwargs: Any) -> ReplayChatModel:
        """One ``chat_chunks`` record as a one-response model."""
        return cls.from_records([record], **kwargs)

    def identity(self) -> dict[str, Any]:
        """What a record stores about the provider this model stands in for."""
        return {key: getattr(self, attr) for key, attr in _IDENTITY_FIELDS.items()}

    def to_records(self, name: str | None = None) -> list[Record]:
        """One ``Record(kind="chat_chunks")`` per response; ``from_records`` reads them back.

        A response recorded without its request stores the first input it was replayed with."""
        label = name or self.name or "chat"
        return [Record(RECORD_KIND, label, {"identity": {**self.identity(), **(r.identity or {})},
                                            "request": r.request if r.request is not None else self._seen.get(n),
                                            "chunks": r.to_json()})
                for n, r in enumerate(self._responses)]

    def to_record(self, index: int = 0, name: str | None = None) -> Record:
        return self.to_records(name)[index]

    def to_cassette(self, name: str | None = None) -> Cassette:
        return Cassette(records=self.to_records(name))

    # -- state -------------------------------------------------------------------------
    @property
    def responses(self) -> list[RecordedResponse]:
        return list(self._responses)

    @property
    def received(self) -> list[list[dict[str, Any]]]:
        """The input messages of each call so far, in the view strict mode compares."""
        return list(self._received)

    def reset(self) -> None:
        """Start again from the first response (a fresh run replays identically)."""
        self._sequencer.reset()
        self._received.clear()

    def _label(self) -> str:
        return f"ReplayChatModel({self.name or self.model!r})"

    # -- identity: the model's, or the next response's own -------------------------------
    def _identity_of_next(self) -> dict[str, Any]:
        """The identity the next call reports: the next response's where it has one."""
        mine = self.identity()
        nxt = self._sequencer.peek()
        return mine if nxt is None or not nxt.identity else {**mine, **nxt.identity}

    @property
    def _serialized(self) -> dict[str, Any]:
        """LangChain names the run after this (``ChatAnthropic#0``): the next response's name."""
        if self._serialized_base is None:
            from langchain_core.load import dumpd

            self._serialized_base = dumpd(self)
        base = self._serialized_base
        name = self._identity_of_next().get("name")
        return base if not name or name == base.get("name") else {**base, "name": name}

    @property
    def _llm_type(self) -> str:
        return "replay-chat"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model": self.model, "provider": self.provider}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        model = kwargs.get("model")
        identity = self._identity_of_next()
        params = LangSmithParams(ls_provider=identity["ls_provider"],
                                 ls_model_name=model if isinstance(model, str) else identity["ls_model_name"],
                                 ls_model_type="chat")
        temperature = kwargs.get("temperature", identity["ls_temperature"])
        if isinstance(temperature, (int, float)):
            params["ls_temperature"] = temperature
        max_tokens = kwargs.get("max_tokens", identity["ls_max_tokens"])
        if isinstance(max_tokens, int):
            params["ls_max_tokens"] = max_tokens
        if stop or self.stop:
            params["ls_stop"] = stop or self.stop
        return params

    # -- replay: the plan is written once, the sync and async loops only wait ------------
    def _plan(self, messages: list[BaseMessage]) -> Iterator[float | ChatGenerationChunk]:
        """The replay as instructions: a float means "wait this long", a chunk "yield it".

        Sans-I/O, so the sync and async loops below differ only in how they wait.
        """
        index, response = self._sequencer.take()
        actual = request_view(messages)
        self._received.append(actual)
        self._seen.setdefault(index, actual)
        differs = mismatch(response.request, actual) if self.strict and response.request is not None else None
        if differs is not None:
            raise StrictMismatchError(
                f"{self._label()}: call {len(self._received)} (response {index}) got input "
                f"messages that differ from the recorded request: {differs}\n"
                "  hint: re-record the response, or pass strict=False to replay regardless")
        msg_id = f"{self.id_prefix}-{index}"
        chunks, texts = response.chunks, response.texts
        if self.pacing == "instant" or response.ms is None:
            # The hot path: no per-chunk tuples or waits (each allocation feeds the GC).
            for template, text in zip(chunks, texts):
                yield generation(fresh_copy(template, msg_id), text)
        else:
            for wait, n in _pacing.schedule(len(chunks), response.ms, self.pacing, self._clock):
                if wait > 0:
                    yield wait
                yield generation(fresh_copy(chunks[n], msg_id), texts[n])
        if chunks and chunks[-1].chunk_position != "last":
            yield generation(closing_chunk(chunks[-1], msg_id), "")

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        for item in self._plan(messages):
            if isinstance(item, float):
                self._clock.sleep(item)
            else:
                yield item

    async def _astream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                       run_manager: AsyncCallbackManagerForLLMRun | None = None,
                       **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
        for item in self._plan(messages):
            if isinstance(item, float):
                await self._clock.asleep(item)
            else:
                yield item

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        return generate_from_stream(self._stream(messages, stop, **kwargs))

    async def _agenerate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                         run_manager: AsyncCallbackManagerForLLMRun | None = None,
                         **kwargs: Any) -> ChatResult:
        return generate_from_stream(iter([c async for c in self._astream(messages, stop, **kwargs)]))

    # -- tools and structured output -----------------------------------------------------
    def bind_tools(self, tools: Sequence[dict[str, Any] | type | Any | BaseTool], *,
                   tool_choice: str | dict[str, Any] | bool | None = None,
                   **kwargs: Any) -> Runnable[LanguageModelInput, AIMessage]:
        """Accept tools like a provider model would; replay is unchanged by them.

        The tool calls come from the recorded ``tool_call_chunks``. Tools are still
        converted to the OpenAI format, so an unusable tool fails here as it would live.
        """
        formatted = [convert_to_openai_tool(t) for t in tools]
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        return self.bind(tools=formatted, **kwargs)

    def with_structured_output(self, schema: dict[str, Any] | type, *, include_raw: bool = False,
                               method: str | None = None, strict: bool | None = None,
                               **kwargs: Any) -> Runnable[LanguageModelInput, dict[str, Any] | BaseModel]:
        """Parse the replayed message as the real provider's method would.

        ``function_calling`` (the default, except for ``provider="openai"`` whose
        integration defaults to ``json_schema``) reads the recorded tool call;
        ``json_schema`` and ``json_mode`` parse the recorded text as JSON.
        """
        method = method or ("json_schema" if self.provider == "openai" else "function_calling")
        if method == "function_calling":
            return super().with_structured_output(schema, include_raw=include_raw, strict=strict, **kwargs)
        return parsed_output(self, schema, method, include_raw=include_raw, strict=strict, **kwargs)
