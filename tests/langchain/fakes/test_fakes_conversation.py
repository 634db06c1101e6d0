"""What strict replay compares in an agent loop: one provider-neutral view of a conversation."""

from __future__ import annotations

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from replaystream.langchain.fakes._chunks import request_view
from replaystream.langchain.fakes._conversation import mismatch, neutral

CALL = {"name": "get_weather", "args": {"city": "Paris"}, "id": "toolu_01"}
# As a wire-level Anthropic request reads back (convert_to_messages of its body).
ANTHROPIC = [
    {"type": "human", "content": "Weather in Paris?"},
    {"type": "ai", "content": [{"type": "text", "text": "Let me look."},
                               {"type": "tool_use", "name": "get_weather", "input": {"city": "Paris"}, "id": "toolu_01"}]},
    {"type": "human", "content": [{"type": "tool_result", "content": "sunny", "tool_use_id": "toolu_01",
                                   "is_error": False}]},
]
# What the agent sends: streamed content blocks (with index keys), tool_calls, a ToolMessage.
AGENT = request_view([
    HumanMessage("Weather in Paris?"),
    AIMessage([{"type": "text", "text": "Let me look.", "index": 0},
               {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {}, "index": 1,
                "partial_json": '{"city": "Paris"}'}], tool_calls=[CALL]),
    ToolMessage("sunny", tool_call_id="toolu_01", name="get_weather"),
])


def test_anthropic_blocks_and_langchain_messages_read_alike() -> None:
    expected = [{"type": "human", "content": "Weather in Paris?"},
                {"type": "ai", "content": "Let me look.", "tool_calls": [CALL]},
                {"type": "tool", "content": "sunny", "tool_call_id": "toolu_01"}]
    assert neutral(ANTHROPIC) == neutral(AGENT) == expected
    assert mismatch(ANTHROPIC, AGENT) is None


def test_a_changed_tool_result_is_named_by_index_and_call_id() -> None:
    changed = AGENT[:2] + [{**AGENT[2], "content": "rain"}]
    text = mismatch(ANTHROPIC, changed)
    assert text is not None
    assert text.splitlines()[0] == ("messages[2] (the tool result for tool_call_id 'toolu_01' from tool "
                                    "'get_weather') changed: recorded \"sunny\", now \"rain\"")
    assert '-    "content": "sunny",' in text and '+    "content": "rain",' in text


def test_other_differences_name_the_message_or_the_count() -> None:
    text = mismatch(ANTHROPIC, [{"type": "human", "content": "Weather in Rome?"}, *AGENT[1:]])
    assert text is not None and text.startswith("messages[0] (human message) differs: recorded ")
    text = mismatch(ANTHROPIC, AGENT[:2])
    assert text is not None and text.startswith("the recording has 3 input message(s), this call 2")
    moved = AGENT[:2] + [{**AGENT[2], "tool_call_id": "toolu_02"}]
    text = mismatch(ANTHROPIC, moved)
    assert text is not None and "tool_call_id 'toolu_02'" in text and "the recording has tool_call_id 'toolu_01'" in text
