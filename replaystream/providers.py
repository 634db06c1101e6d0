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
