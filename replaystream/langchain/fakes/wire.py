"""From a wire-level cassette to message-level recordings.

Each recorded chat stream is replayed through the *real* integration (``ChatAnthropic``
or ``ChatOpenAI``) so the chunks a :class:`ReplayChatModel` yields are the production
ones, not a re-implementation of their parsing. Embeddings responses are paired with the
texts of their requests.
"""

from __future__ import annotations

import base64
import json
import os
import struct
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable
from langchain_core.messages import AIMessageChunk, BaseMessage, HumanMessage, SystemMessage, convert_to_messages

from ... import providers
from ...cassette.model import Cassette, Interaction
from ...errors import CassetteError, CassetteMissError
from ...options import ReplayOptions
from ...wire.matching import MatchConfig
from ...wire.session import Session
from ._chunks import RecordedResponse, request_view

#: ``(provider, api)`` pairs whose chat streams an integration parses (a live view of the registry).
CHAT_APIS = providers.CHAT_APIS
_REPLAY_HOST = "http://127.0.0.1:9"  # never contacted: the transport answers from memory


def load_cassette(source: str | os.PathLike[str] | Cassette, api: str) -> Cassette:
    """``source`` as a cassette, for ``api`` (e.g. ``"ReplayChatModel.from_cassette"``). A file
    that is not there is named by the absolute path tried, with how to record it there."""
    if isinstance(source, Cassette):
        return source
    path = Path(source)
    if not path.exists():
        where = path.absolute()
        relative = "" if path.is_absolute() else f" ({str(path)!r} is read from the working directory, {Path.cwd()})"
        raise CassetteError(
            where, "", "no such cassette" + relative,
            f"{api}(...) replays a recorded file: record it first, with a real key, in a test that runs the real "
            f'model: mark the test @pytest.mark.replay("{where}") and run pytest --replay-mode=once, or wrap the '
            f'calls in use_cassette("{where}", mode="once")'
            + ("; to run from any folder, build the path from the test file: Path(__file__).parent / ..."
               if relative else ""))
    return Cassette.load(path)


def _any_request_to(inter: Interaction) -> MatchConfig:
    """The recorded interaction answers whatever body and query the rebuilt request has;
    only the route must agree. Strictness about input lives in ReplayChatModel(strict=True)."""
    return MatchConfig(body=False, ignore_query=tuple(k for k, _ in parse_qsl(inter.request.query)))


def _base_url(inter: Interaction) -> str:
    path = inter.request.path
    for suffix in ("/v1/messages", "/chat/completions", "/responses", "/embeddings"):
        if path.endswith(suffix):
            return _REPLAY_HOST + path[: -len(suffix)]
    return _REPLAY_HOST


def _model_for(inter: Interaction) -> Runnable[Any, Any]:
    """The real integration, configured and bound to tools as the recorded request was:
    its stream parsing depends on that (langchain-anthropic keeps content blocks when
    tools are bound, and flattens them to a string when not)."""
    model = _bare_model_for(inter)
    body = inter.request.body if isinstance(inter.request.body, dict) else {}
    tools = body.get("tools")
    # Only tools in a shape the integrations take back (OpenAI's, Anthropic's); Gemini's
    # functionDeclarations do not change how its stream parses.
    if tools and all(isinstance(t, dict) and ("name" in t or "function" in t) for t in tools):
        try:
            return model.bind_tools(tools)
        except (ValueError, TypeError, KeyError, NotImplementedError):
            pass  # a tool format the integration cannot take back: parse without it
    return model


def _integration(inter: Interaction) -> providers.ChatIntegration:
    integration = providers.chat_integration(inter.provider, inter.api)
    if integration is None:
        raise CassetteMissError(f"no LangChain integration parses {inter.provider}/{inter.api} streams; "
                                "register the provider with one (replaystream.providers.register)")
    return integration


def _model_name(inter: Interaction, integration: providers.ChatIntegration) -> str | None:
    body = inter.request.body if isinstance(inter.request.body, dict) else {}
    return body.get("model") or integration.model_from_path(inter.request.path)


def _constructor_args(inter: Interaction) -> dict[str, Any]:
    """What the integration is built with: the common arguments, then the route's (model,
    deployment, API version from the recorded path), then those the body implies."""
    body = inter.request.body if isinstance(inter.request.body, dict) else {}
    integration = _integration(inter)
    args: dict[str, Any] = {"model": _model_name(inter, integration) or "replay", "api_key": "replay",
                            "max_retries": 0}
    if "temperature" in body:
        args["temperature"] = body["temperature"]
    route = integration.route(_REPLAY_HOST, inter.request.path, inter.request.query)
    args.update(route or {"base_url": _base_url(inter)})
    return {**args, **integration.options(body, inter.api)}


def _bare_model_for(inter: Interaction) -> BaseChatModel:
    model: BaseChatModel = _integration(inter).load()(**_constructor_args(inter))
    return model


def _gemini_messages(body: dict[str, Any]) -> list[tuple[str, str]]:
    """Gemini's ``contents`` (and ``systemInstruction``) as ``(role, text)`` pairs."""
    def text(content: Any) -> str:
        parts = content.get("parts") if isinstance(content, dict) else None
        return "".join(str(p.get("text") or "") for p in parts or [] if isinstance(p, dict))
    roles = {"user": "human", "model": "ai"}
    pairs = [(roles.get(c.get("role", "user"), "human"), text(c)) for c in body.get("contents") or []]
    system = body.get("systemInstruction")
    return ([("system", text(system))] if system else []) + pairs


def _messages_for(inter: Interaction) -> tuple[list[BaseMessage], bool]:
    """The request's input as LangChain messages, and whether the conversion is faithful."""
    body = inter.request.body if isinstance(inter.request.body, dict) else {}
    raw = body.get("messages", body.get("input"))
    if raw is None and "contents" in body:
        raw = _gemini_messages(body)
    try:
        if isinstance(raw, str):
            messages: list[BaseMessage] = [HumanMessage(raw)]
        else:
            messages = list(convert_to_messages(raw or []))
        system = body.get("system")
        if system:
            messages.insert(0, SystemMessage(system))
        return messages or [HumanMessage("")], bool(messages)
    except (ValueError, TypeError, KeyError, NotImplementedError):
        return [HumanMessage("")], False


def identity_of(inter: Interaction) -> dict[str, Any]:
    body = inter.request.body if isinstance(inter.request.body, dict) else {}
    integration = _integration(inter)
    args = _constructor_args(inter)
    return {
        "name": integration.name,
        "ls_provider": integration.ls_provider,
        "ls_model_name": _model_name(inter, integration) or args.get("model"),
        "ls_temperature": args.get("temperature"),
        "ls_max_tokens": body.get("max_tokens", body.get("max_completion_tokens", body.get("max_output_tokens",
                                                                                            args.get("max_output_tokens")))),
    }


def chat_response(inter: Interaction) -> RecordedResponse:
    """Replay one recorded chat interaction through its real integration; keep the chunks."""
    model = _model_for(inter)
    messages, faithful = _messages_for(inter)
    cassette = Cassette([inter])
    session = Session(Path("<in memory>"), ReplayOptions(match=_any_request_to(inter), offline=False, persist=False),
                      cassette=cassette)
    chunks: list[AIMessageChunk] = []
    times: list[float] = []
    token = session.start()
    try:
        if inter.response.is_stream:
            for chunk in model.stream(messages):
                chunks.append(chunk)
                player = session.players[-1] if session.players else None
                events = inter.response.events or []
                at = min(player.position, len(events) - 1) if player is not None and events else -1
                times.append(events[at].ms if at >= 0 else 0.0)
        else:
            message = model.invoke(messages)
            chunks.append(AIMessageChunk(**{k: v for k, v in message.model_dump().items() if k != "type"},
                                         chunk_position="last"))
            times.append(inter.response.body_ms)
    finally:
        session.finish(token)  # persist=False: it only replays, nothing is written
    payload = [{**_chunk_json(c), "ms": ms} for c, ms in zip(chunks, times)]
    return RecordedResponse.build(payload, request=request_view(messages) if faithful else None,
                                  identity=identity_of(inter))


def _chunk_json(chunk: AIMessageChunk) -> dict[str, Any]:
    data = chunk.model_dump(exclude_defaults=True)
    # type is implied; tool_calls / invalid_tool_calls are derived from tool_call_chunks.
    for derived in ("type", "tool_calls", "invalid_tool_calls"):
        data.pop(derived, None)
    return data


def chat_responses(cassette: Cassette) -> tuple[list[RecordedResponse], dict[str, Any]]:
    """Every chat interaction of the cassette as a recorded response (each with its own
    provider identity), and the first one's identity (the model's)."""
    inters = [i for i in cassette.interactions if (i.provider, i.api) in CHAT_APIS and i.response.status < 400]
    if not inters:
        found = sorted({f"{i.provider}/{i.api}" for i in cassette.interactions})
        held = f"it holds only {', '.join(found)}" if found else "it holds no interactions"
        raise CassetteMissError(
            f"{cassette.path or 'the cassette'}: no successful chat interaction to replay ({held}).\n"
            "  hint: record the real chat model through it first: use_cassette(path, mode='once') around a "
            "ChatAnthropic / ChatOpenAI call (pytest: the replay_chat_model fixture with --replay-mode=once).")
    return [chat_response(i) for i in inters], identity_of(inters[0])


def _vector(item: Any) -> list[float]:
    embedding = item.get("embedding") if isinstance(item, dict) else None
    if isinstance(embedding, str):  # encoding_format="base64": little-endian float32
        raw = base64.b64decode(embedding)
        return list(struct.unpack(f"<{len(raw) // 4}f", raw))
    if isinstance(embedding, list):
        return [float(x) for x in embedding]
    raise ValueError("no embedding in response item")


#: Embedding APIs: the OpenAI-style ones (OpenAI, Azure, gateways), Gemini's and Ollama's.
EMBEDDING_APIS = frozenset({"embeddings", "batchEmbedContents", "embedContent", "embed"})


def _gemini_text(content: Any) -> str:
    parts = content.get("parts") if isinstance(content, dict) else None
    return "".join(str(p.get("text") or "") for p in parts or [] if isinstance(p, dict))


def _embedding_pairs(inter: Interaction) -> list[tuple[Any, list[float]]]:
    """``(input, vector)`` pairs of one embeddings interaction, in its provider's shapes."""
    body = inter.request.body if isinstance(inter.request.body, dict) else {}
    data = json.loads(inter.response.content())
    if inter.api == "batchEmbedContents":  # Gemini: one request per text
        texts = [_gemini_text(r.get("content")) for r in body["requests"]]
        return list(zip(texts, [[float(x) for x in e["values"]] for e in data["embeddings"]]))
    if inter.api == "embedContent":
        return [(_gemini_text(body.get("content")), [float(x) for x in data["embedding"]["values"]])]
    if inter.provider == "ollama":  # /api/embed (input: str or list), legacy /api/embeddings (prompt)
        if inter.api == "embeddings":
            return [(body.get("prompt"), [float(x) for x in data["embedding"]])]
        inputs = body.get("input")
        return list(zip([inputs] if isinstance(inputs, str) else inputs or [],
                        [[float(x) for x in v] for v in data["embeddings"]]))
    given = body.get("input")
    ordered = sorted(data["data"], key=lambda d: d.get("index", 0))
    return list(zip([given] if isinstance(given, str) else given or [], [_vector(d) for d in ordered]))


def embedding_vectors(cassette: Cassette) -> dict[str, list[float]]:
    """``text -> vector`` from every recorded embeddings interaction (OpenAI-style, Gemini, Ollama)."""
    vectors: dict[str, list[float]] = {}
    for n, inter in enumerate(cassette.interactions):
        if inter.api not in EMBEDDING_APIS or inter.response.status >= 400:
            continue
        try:
            pairs = _embedding_pairs(inter)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CassetteError(cassette.path, f"$.interactions[{n}].response",
                                f"is not a readable embeddings response ({exc!r})",
                                "record the embeddings call again, or remove this interaction") from None
        for text, vector in pairs:
            if not isinstance(text, str):
                raise CassetteError(cassette.path, f"$.interactions[{n}].request.body.input",
                                    "holds token ids, not texts: the vectors cannot be looked up by text",
                                    "record again with OpenAIEmbeddings(check_embedding_ctx_length=False)")
            vectors[text] = vector
    if not vectors:
        raise CassetteMissError(f"{cassette.path}: no embeddings interaction recorded")
    return vectors
