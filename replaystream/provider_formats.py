"""What each built-in provider puts on the wire, for the registry.

Plain functions over parsed JSON and URL parts (no registry here, so :mod:`.providers`
imports them without a cycle): the text one stream unit adds, and the constructor
arguments that make a LangChain integration send to a recorded route.

>>> google_event_text("streamGenerateContent", {"candidates": [{"content": {"parts": [{"text": "Hi"}]}}]})
'Hi'
>>> google_route("http://127.0.0.1:9", "/v1beta/models/gemini-2.0-flash:streamGenerateContent", "alt=sse")
{'model': 'gemini-2.0-flash', 'base_url': 'http://127.0.0.1:9', 'api_version': 'v1beta'}
>>> azure_route("http://127.0.0.1:9", "/openai/deployments/gpt4o/chat/completions", "api-version=2024-10-21")
{'azure_endpoint': 'http://127.0.0.1:9', 'azure_deployment': 'gpt4o', 'api_version': '2024-10-21'}
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote

from .placeholders import PLACEHOLDER_KEY

# -- OpenAI and Anthropic ------------------------------------------------------------------
def openai_event_text(api: str, data: object) -> str:
    if not isinstance(data, dict):
        return ""
    if api == "responses":
        return str(data.get("delta") or "") if data.get("type") == "response.output_text.delta" else ""
    choices = data.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        delta = choices[0].get("delta")
        if isinstance(delta, dict):
            return str(delta.get("content") or "")
    return ""


def anthropic_event_text(api: str, data: object) -> str:
    if not isinstance(data, dict):
        return ""
    delta = data.get("delta")
    if data.get("type") == "content_block_delta" and isinstance(delta, dict):
        return str(delta.get("text") or delta.get("partial_json") or "")
    return ""


def openai_options(body: Mapping[str, Any], api: str) -> dict[str, Any]:
    options: dict[str, Any] = {"use_responses_api": api == "responses"}
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    if max_tokens is not None:
        options["max_tokens"] = max_tokens
    return options


def anthropic_options(body: Mapping[str, Any], api: str) -> dict[str, Any]:
    return {"max_tokens": body["max_tokens"]} if "max_tokens" in body else {}



# -- Google Gemini (generativelanguage.googleapis.com) ------------------------------------
GOOGLE_PATHS = ((":streamGenerateContent", "streamGenerateContent"), (":generateContent", "generateContent"),
                (":batchEmbedContents", "batchEmbedContents"), (":embedContent", "embedContent"),
                (":countTokens", "countTokens"))
_GOOGLE_ROUTE = re.compile(r"^(?P<prefix>.*?)/(?P<version>v\d[^/]*)/models/(?P<model>[^/:]+):\w+$")


def google_event_text(api: str, data: object) -> str:
    """The text parts of a ``GenerateContentResponse`` chunk (thought parts left out)."""
    if not isinstance(data, dict):
        return ""
    candidates = data.get("candidates")
    if not isinstance(candidates, list) or not candidates or not isinstance(candidates[0], dict):
        return ""
    content = candidates[0].get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    if not isinstance(parts, list):
        return ""
    return "".join(str(p.get("text") or "") for p in parts if isinstance(p, dict) and not p.get("thought"))


def google_options(body: Mapping[str, Any], api: str) -> dict[str, Any]:
    config = body.get("generationConfig")
    config = config if isinstance(config, Mapping) else {}
    options: dict[str, Any] = {}
    if "temperature" in config:
        options["temperature"] = config["temperature"]
    if "maxOutputTokens" in config:
        options["max_output_tokens"] = config["maxOutputTokens"]
    return options


def google_route(base: str, path: str, query: str) -> dict[str, Any]:
    """``/v1beta/models/M:streamGenerateContent``: the model and API version are in the path."""
    m = _GOOGLE_ROUTE.match(path)
    if m is None:
        return {"base_url": base}
    return {"model": m["model"], "base_url": base + m["prefix"], "api_version": m["version"]}


# -- Azure OpenAI ----------------------------------------------------------------------------
_AZURE_ROUTE = re.compile(r"^(?P<prefix>.*?)/openai/deployments/(?P<deployment>[^/]+)/")


def azure_route(base: str, path: str, query: str) -> dict[str, Any]:
    """``/openai/deployments/D/chat/completions?api-version=V``: the deployment and version."""
    version = dict(parse_qsl(query)).get("api-version")
    m = _AZURE_ROUTE.match(path)
    out: dict[str, Any] = {"azure_endpoint": base + (m["prefix"] if m else "")}
    if m:
        out["azure_deployment"] = m["deployment"]
    if version:
        out["api_version"] = version
    return out


# -- Ollama (NDJSON: one JSON object a line) --------------------------------------------------
OLLAMA_PATHS = (("/api/chat", "chat"), ("/api/generate", "generate"), ("/api/embeddings", "embeddings"),
                ("/api/embed", "embed"))


def ollama_event_text(api: str, data: object) -> str:
    if not isinstance(data, dict):
        return ""
    message = data.get("message")
    if isinstance(message, dict):
        return str(message.get("content") or "")
    return str(data.get("response") or "")  # /api/generate


def ollama_options(body: Mapping[str, Any], api: str) -> dict[str, Any]:
    options = body.get("options")
    options = options if isinstance(options, Mapping) else {}
    return {"temperature": options["temperature"]} if "temperature" in options else {}


def ollama_route(base: str, path: str, query: str) -> dict[str, Any]:
    return {"base_url": base + path[: path.rfind("/api/")] if "/api/" in path else base}


# -- AWS Bedrock (botocore: SigV4-signed requests, AWS event-stream responses) ---------------
def bedrock_event_text(api: str, data: object) -> str:
    """Converse streams: ``contentBlockDelta`` text; invoke streams: the model's own chunk
    (base64 under ``bytes``), read as Anthropic's or as a ``completion``/``outputText`` field."""
    if not isinstance(data, dict):
        return ""
    if "bytes" in data and isinstance(data["bytes"], str):
        try:
            inner = json.loads(base64.b64decode(data["bytes"]))
        except ValueError:
            return ""
        if isinstance(inner, dict):
            return anthropic_event_text(api, inner) or str(inner.get("completion") or inner.get("outputText") or "")
        return ""
    delta = data.get("delta")
    return str(delta.get("text") or "") if isinstance(delta, dict) else ""


def bedrock_options(body: Mapping[str, Any], api: str) -> dict[str, Any]:
    # Built before any cassette is open: give the client a region and credentials of its own
    # (placeholders: a replay signs nothing real), not a bearer key.
    options: dict[str, Any] = {"region_name": "us-east-1", "api_key": None, "aws_access_key_id": PLACEHOLDER_KEY,
                               "aws_secret_access_key": PLACEHOLDER_KEY}
    config = body.get("inferenceConfig")
    if isinstance(config, dict) and "maxTokens" in config:
        options["max_tokens"] = config["maxTokens"]
    return options


def bedrock_model(path: str) -> str | None:
    """``/model/us.amazon.nova-micro-v1%3A0/converse-stream`` -> ``us.amazon.nova-micro-v1:0``."""
    parts = path.split("/")
    return unquote(parts[2]) if len(parts) > 3 and parts[1] == "model" else None
