"""Recordings shared by the fakes tests, shaped as langchain-anthropic 1.7 streams them."""

from __future__ import annotations

from typing import Any


# The seed tutorial's sync stream of ChatAnthropic, boundaries exactly as printed.
POLAR_TEXT = ("Polar bears actually| have transparent, hollow fur, not| white fur as commonly "
              "believed. Their skin| is black underneath. The fur appears| white because the "
              "transparent hair scatters an|d reflects visible light, creating the white appearance "
              "we| see. This helps them blend in with their| snowy Arctic environment. The hollow| "
              "nature of their fur also helps trap air for| insulation.")

USAGE_LAST = {"input_tokens": 14, "output_tokens": 63, "total_tokens": 77,
              "input_token_details": {"cache_creation": 0, "cache_read": 0}}

IDENTITY = {"name": "ChatAnthropic", "provider": "anthropic", "model": "claude-3-5-sonnet-latest",
            "temperature": 0.0, "max_tokens": 1024}


def polar_chunks(with_ms: bool = False) -> list[dict[str, Any]]:
    """message_start, one chunk per text delta, then message_delta (usage, stop reason, last)."""
    chunks: list[dict[str, Any]] = [{"content": "", "id": "msg_01PolarBear",
                                     "response_metadata": {"model_name": "claude-3-5-sonnet-20241022",
                                                           "model_provider": "anthropic"}}]
    chunks += [{"content": t, "response_metadata": {"model_provider": "anthropic"}}
               for t in POLAR_TEXT.split("|")]
    chunks.append({"content": "", "usage_metadata": USAGE_LAST,
                   "response_metadata": {"stop_reason": "end_turn", "stop_sequence": None,
                                         "model_provider": "anthropic"},
                   "chunk_position": "last"})
    if with_ms:
        for n, c in enumerate(chunks):
            c["ms"] = 100.0 * n
    return chunks


def tool_call_chunks(name: str = "my_adder_tool", args: tuple[str, ...] = ('{"a": 1', ', "b": 2}'),
                     call_id: str = "toolu_01") -> list[dict[str, Any]]:
    """A streamed tool call: the name and id first, then argument fragments, then stop."""
    chunks: list[dict[str, Any]] = [
        {"content": "", "id": "msg_01Tool", "response_metadata": {"model_provider": "anthropic"}},
        {"content": "", "tool_call_chunks": [{"name": name, "args": "", "id": call_id, "index": 0}]},
    ]
    chunks += [{"content": "", "tool_call_chunks": [{"name": None, "args": a, "id": None, "index": 0}]}
               for a in args]
    chunks.append({"content": "", "usage_metadata": {"input_tokens": 30, "output_tokens": 12,
                                                     "total_tokens": 42},
                   "response_metadata": {"stop_reason": "tool_use", "stop_sequence": None},
                   "chunk_position": "last"})
    return chunks
