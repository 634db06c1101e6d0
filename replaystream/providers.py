"""Which provider and API a request belongs to, from its path and headers."""

from __future__ import annotations

from collections.abc import Mapping

# Longest suffix first: "/chat/completions" must win over "/completions".
_OPENAI_SUFFIXES = (
    ("/chat/completions", "chat.completions"),
    ("/responses", "responses"),
    ("/embeddings", "embeddings"),
    ("/completions", "completions"),
    ("/moderations", "moderations"),
)


def detect(path: str, headers: Mapping[str, str]) -> tuple[str, str]:
    """Return ``(provider, api)``, e.g. ``("anthropic", "messages")``, or ``("unknown", "unknown")``."""
    p = path.rstrip("/")
    if "anthropic-version" in headers or p.endswith("/v1/messages") or p.endswith("/messages/count_tokens"):
        return "anthropic", "messages" if p.endswith("/messages") else p.rsplit("/", 1)[-1]
    for suffix, api in _OPENAI_SUFFIXES:
        if p.endswith(suffix):
            return "openai", api
    return "unknown", "unknown"


def is_event_stream(content_type: str | None) -> bool:
    return bool(content_type) and content_type.split(";", 1)[0].strip().lower() == "text/event-stream"  # type: ignore[union-attr]


def event_text(provider: str, api: str, data: object) -> str:
    """The text one parsed event adds to the assembled answer ('' when it adds none)."""
    if not isinstance(data, dict):
        return ""
    if provider == "anthropic":
        delta = data.get("delta")
        if data.get("type") == "content_block_delta" and isinstance(delta, dict):
            return str(delta.get("text") or delta.get("partial_json") or "")
        return ""
    if api == "responses":
        return str(data.get("delta") or "") if data.get("type") == "response.output_text.delta" else ""
    choices = data.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        delta = choices[0].get("delta")
        if isinstance(delta, dict):
            return str(delta.get("content") or "")
    return ""
