"""A loopback provider emulator: scripted streams and cassettes served over real HTTP, and
drift checks that re-send recorded requests.

>>> from replaystream.emulator import ProviderEmulator, ScriptedResponse, openai_chat_stream
"""

from __future__ import annotations

from .scripts import (
    Pacing,
    ScriptedResponse,
    ToolCall,
    anthropic_error,
    anthropic_message,
    anthropic_messages_stream,
    anthropic_stream_error,
    openai_chat_completion,
    openai_chat_stream,
    openai_embeddings,
    openai_error,
    openai_responses_stream,
    plan_writes,
)
from .server import ProviderEmulator, ReceivedRequest
from .turns import scripted_turns

__all__ = [
    "Pacing", "ProviderEmulator", "ReceivedRequest", "ScriptedResponse", "ToolCall", "anthropic_error",
    "anthropic_message", "anthropic_messages_stream", "anthropic_stream_error", "openai_chat_completion",
    "openai_chat_stream", "openai_embeddings", "openai_error", "openai_responses_stream", "plan_writes",
    "scripted_turns",
]
