"""A loopback provider emulator: scripted streams and cassettes served over real HTTP, and
drift checks that re-send recorded requests.

>>> from replaystream.emulator import ProviderEmulator, ScriptedResponse, openai_chat_stream
"""

from __future__ import annotations

from .bedrock import bedrock_converse_stream, bedrock_frame, bedrock_invoke_stream
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
from .gemini import gemini_embeddings, gemini_error, gemini_response, gemini_stream
from .ollama import NDJSON_HEADERS, ollama_chat_response, ollama_chat_stream, ollama_embeddings, ollama_error
from .server import ProviderEmulator, ReceivedRequest
from .turns import scripted_turns

__all__ = [
    "NDJSON_HEADERS", "Pacing", "ProviderEmulator", "ReceivedRequest", "ScriptedResponse", "ToolCall", "anthropic_error",
    "anthropic_message", "anthropic_messages_stream", "anthropic_stream_error", "bedrock_converse_stream",
    "bedrock_frame", "bedrock_invoke_stream", "gemini_embeddings", "gemini_error", "gemini_response", "gemini_stream",
    "ollama_chat_response", "ollama_chat_stream", "ollama_embeddings", "ollama_error", "openai_chat_completion",
    "openai_chat_stream", "openai_embeddings", "openai_error", "openai_responses_stream", "plan_writes",
    "scripted_turns",
]
