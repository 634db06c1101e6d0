"""Real LangChain parts for the event tests: a tiny native-streaming chat model, the
tutorial's countries JSON chunks, and the tutorial's propagation examples."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import RunnableConfig, RunnableLambda, chain
from langchain_core.tools import tool

# The seed tutorial's countries answer, cut where the recorded Anthropic stream cut it.
COUNTRIES = [
    "{",
    '\n  "countries": [\n    {',
    '\n      "name": "France",\n      "',
    'population": 67391582\n    },',
    '\n    {\n      "name": "Spain",',
    '\n      "population": 47615',
    '034\n    },\n    {\n      "name',
    '": "Korea",\n      "population": ',
    "51744876\n    }\n  ",
    "]\n}",
]
COUNTRIES_PROMPT = (
    "output a list of the countries france, spain and korea and their populations in JSON format. "
    'Use a dict with an outer key of "countries" which contains a list of countries. '
    "Each country should have the key `name` and `population`"
)


class ChunkModel(BaseChatModel):
    """Streams the given chunks; every call yields fresh copies (astream mutates them)."""

    chunks: list[AIMessageChunk]

    @property
    def _llm_type(self) -> str:
        return "chunk-model"

    @classmethod
    def of(cls, texts: list[str], **kwargs: Any) -> ChunkModel:
        return cls(chunks=[AIMessageChunk(content=t) for t in texts], **kwargs)

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        text = "".join(str(c.content) for c in self.chunks)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        for c in self.chunks:
            yield ChatGenerationChunk(message=c.model_copy(deep=True))

    async def _astream(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None,
                       **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
        for c in self.chunks:
            yield ChatGenerationChunk(message=c.model_copy(deep=True))


def countries_model() -> ChunkModel:
    return ChunkModel.of(COUNTRIES)


# -- the tutorial's "Propagating Callbacks" section -----------------------------------------
def _reverse(word: str) -> str:
    return word[::-1]


reverse_word = RunnableLambda(_reverse, name="reverse_word")


@tool
def bad_tool(word: str) -> str:
    """Custom tool that doesn't propagate callbacks."""
    return reverse_word.invoke(word)


async def _reverse_and_double(word: str) -> str:
    return await reverse_word.ainvoke(word) * 2


reverse_and_double_lambda = RunnableLambda(_reverse_and_double, name="reverse_and_double")


@chain
async def reverse_and_double(word: str) -> str:
    return await reverse_word.ainvoke(word) * 2


@tool
def thread_tool(word: str) -> str:
    """Reverses the word in a new thread, which does not inherit the context (Python 3.11)."""
    out: list[str] = []
    worker = threading.Thread(target=lambda: out.append(reverse_word.invoke(word)))
    worker.start()
    worker.join()
    return out[0]


@tool
def handlers_tool(word: str, config: RunnableConfig) -> str:
    """Hands the callbacks over by hand, without the parent run: the child is a new root."""
    callbacks = config.get("callbacks")
    handlers = list(callbacks) if isinstance(callbacks, list) else list(callbacks.handlers)  # type: ignore[union-attr]
    return reverse_word.invoke(word, {"callbacks": handlers})


async def v2_events(runnable: Any, value: Any, **kwargs: Any) -> list[Any]:
    """Every ``astream_events(version="v2")`` event of one run, as LangChain yields them."""
    return [e async for e in runnable.astream_events(value, version="v2", **kwargs)]
