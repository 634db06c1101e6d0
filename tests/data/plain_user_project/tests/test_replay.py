"""Replaying a committed cassette through a plain httpx2 client: no SDK, no extra, no key."""

from __future__ import annotations

import json

import httpx2
import pytest

URL = "https://api.openai.com/v1/chat/completions"


def ask(question: str) -> str:
    body = {"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": question}]}
    text = []
    with httpx2.Client() as client, client.stream("POST", URL, json=body) as response:
        for line in response.iter_lines():
            if line.startswith("data: {"):
                for choice in json.loads(line[len("data: "):])["choices"]:
                    text.append(choice["delta"].get("content") or "")
    return "".join(text)


@pytest.mark.replay
def test_replays_the_recorded_stream() -> None:
    assert ask("What color is a polar bear?") == "Polar bears have transparent fur."


@pytest.mark.replay("test_replays_the_recorded_stream")
def test_a_changed_question_misses() -> None:
    # Not recorded: replay (the default mode) raises CassetteMissError, and this test fails.
    ask("What color is a penguin?")
