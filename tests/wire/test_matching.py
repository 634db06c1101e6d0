"""Matching: method, path, query and JSON body; recorded order; O(1) index; readable miss diff."""

import random
from pathlib import Path

import anthropic
import openai
import pytest

from replaystream import CassetteMissError, use_cassette
from replaystream.cassette import Cassette, Event, Interaction, Request, Response
from replaystream.cli import main
from replaystream.wire.matching import MatchConfig, MatchIndex, _common_prefix, closest, request_key


def inter(body: object, path: str = "/v1/chat/completions", headers: dict[str, str] | None = None) -> Interaction:
    return Interaction(Request("POST", path, headers=headers or {}, body=body), Response(200, body=b"{}"))


def test_query_order_and_body_key_order_do_not_matter() -> None:
    a = Request("GET", "/x", query="a=1&b=2", body={"x": 1, "y": 2})
    b = Request("GET", "/x", query="b=2&a=1", body={"y": 2, "x": 1})
    assert request_key(a, MatchConfig()) == request_key(b, MatchConfig())


def test_body_drift_is_a_different_request() -> None:
    assert request_key(Request("POST", "/x", body={"t": 0}), MatchConfig()) != request_key(
        Request("POST", "/x", body={"t": 1}), MatchConfig())


def test_ignore_fields_with_wildcards_and_header_keys() -> None:
    cfg = MatchConfig(ignore_fields=["metadata.user_id", "messages.*.id"], headers=["anthropic-beta"])
    a = Request("POST", "/x", headers={"anthropic-beta": "b1"},
                body={"metadata": {"user_id": "u1"}, "messages": [{"id": 1, "c": "hi"}]})
    b = Request("POST", "/x", headers={"anthropic-beta": "b1"},
                body={"metadata": {"user_id": "u2"}, "messages": [{"id": 2, "c": "hi"}]})
    c = Request("POST", "/x", headers={"anthropic-beta": "b2"}, body=b.body)
    assert request_key(a, cfg) == request_key(b, cfg) != request_key(c, cfg)
    assert a.body["metadata"] == {"user_id": "u1"}  # ignoring never mutates the request


def test_identical_requests_replay_in_recorded_order_then_exhaust_or_repeat() -> None:
    recs = [inter({"q": 1}), inter({"q": 2}), inter({"q": 1})]
    idx = MatchIndex(recs, MatchConfig())
    req = Request("POST", "/v1/chat/completions", body={"q": 1})
    assert [idx.take(req)[0], idx.take(req)[0]] == [0, 2]  # type: ignore[index]
    assert idx.take(req) is None
    assert idx.take(req, repeat=True)[0] == 2  # type: ignore[index]
    assert idx.was_recorded(req) == 2
    assert idx.unused() == [1]


def test_closest_prefers_same_route_and_shows_a_diff() -> None:
    recs = [inter({"messages": [{"content": "hello"}], "model": "a"}, path="/v1/embeddings"),
            inter({"messages": [{"content": "hi"}], "model": "a"})]
    near = closest(Request("POST", "/v1/chat/completions", body={"messages": [{"content": "hey"}], "model": "a"}),
                   recs, MatchConfig())
    assert near is not None
    n, diff = near
    assert n == 1
    assert '-        "content": "hi"' in diff and '+        "content": "hey"' in diff


# -- long bodies: the miss diff stays small and points at the change ---------------------
def _replay_miss(tmp_path: Path, recorded: str, sent: str) -> str:
    """The user's action: replay a chat call whose prompt differs from the recording."""
    path = tmp_path / "c.json"
    Cassette([Interaction(Request("POST", "/v1/chat/completions",
                                  body={"model": "gpt-4o-mini", "stream": True,
                                        "messages": [{"role": "user", "content": recorded}]}),
                          Response(200, {"content-type": "text/event-stream"},
                                   events=[Event(b"data: [DONE]\n\n", 1.0)]),
                          "openai", "chat.completions")]).save(path)
    client = openai.OpenAI(base_url="http://127.0.0.1:9/v1", api_key="sk-test", max_retries=0)
    with use_cassette(path), pytest.raises(Exception) as info:
        client.chat.completions.create(model="gpt-4o-mini", stream=True, messages=[{"role": "user", "content": sent}])
    error = info.value if isinstance(info.value, CassetteMissError) else info.value.__cause__
    assert isinstance(error, CassetteMissError)
    return str(error)


def test_a_one_character_change_in_a_1mb_prompt_is_shown_with_a_marker(tmp_path: Path) -> None:
    rng = random.Random(7)
    prompt = "".join(rng.choices('abcdefgh "\n', k=1_000_000))
    at = 523_411
    changed = prompt[:at] + "X" + prompt[at + 1:]
    message = _replay_miss(tmp_path, prompt, changed)
    assert len(message) < 5000  # not the 2 MB of both prompts
    diff = message.splitlines()
    header = next(n for n, line in enumerate(diff) if "@ body.messages[0].content, char 523411" in line)
    recorded, sent, marker = diff[header + 1: header + 4]
    column = marker.index("^")
    assert sent[column] == "X" and recorded[column] != "X"
    assert recorded.replace("- ", "+ ", 1)[:column] == sent[:column]  # the same text up to the marker
    assert "1000000 characters" in message  # the abridged line says how long the string is


def test_short_bodies_keep_the_plain_line_diff(tmp_path: Path) -> None:
    message = _replay_miss(tmp_path, "What color is a polar bear?", "What color is a grizzly?")
    assert '-        "content": "What color is a polar bear?"' in message
    assert '+        "content": "What color is a grizzly?"' in message
    assert "@ body" not in message


@pytest.mark.parametrize(("a", "b", "k"), [("abc", "abc", 3), ("abc", "abd", 2), ("", "x", 0), ("xa", "xab", 2)])
def test_first_difference(a: str, b: str, k: int) -> None:
    assert _common_prefix(a, b) == k


def test_a_huge_diff_is_capped() -> None:
    recs = [inter({"items": list(range(5000))})]
    near = closest(Request("POST", "/v1/chat/completions", body={"items": [-n for n in range(5000)]}), recs,
                   MatchConfig())
    assert near is not None
    assert len(near[1]) < 4500 and near[1].endswith("more diff lines not shown)")


# -- ?beta=true: older anthropic SDKs added it, current ones do not ------------------------
BETA_CASSETTE = Path(__file__).resolve().parents[1] / "data" / "corpus" / "pydantic-ai" / \
    "test_anthropic_model_thinking_part_stream.yaml"


def test_a_cassette_recorded_with_beta_true_replays_with_todays_sdk(tmp_path: Path) -> None:
    assert "?beta=true" in BETA_CASSETTE.read_text()
    dest = tmp_path / "thinking.json"
    assert main(["import", str(BETA_CASSETTE), str(dest)]) == 0
    body = Cassette.load(dest).interactions[0].request.body
    assert isinstance(body, dict)
    client = anthropic.Anthropic(base_url="http://127.0.0.1:9", api_key="sk-ant-test", max_retries=0)
    kwargs = {k: v for k, v in body.items() if k != "stream"}
    with use_cassette(dest):  # today's SDK sends no ?beta=true; the recording has it
        with client.beta.messages.create(**kwargs, stream=True) as stream:
            kinds = [event.type for event in stream]
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    with use_cassette(dest, match=MatchConfig(ignore_query=())), pytest.raises(Exception) as info:
        client.beta.messages.create(**kwargs, stream=True)
    assert '"beta"' in str(info.value if isinstance(info.value, CassetteMissError) else info.value.__cause__)


def test_beta_is_ignored_by_default_and_can_be_matched_again() -> None:
    a, b = Request("POST", "/v1/messages", query="beta=true", body={}), Request("POST", "/v1/messages", body={})
    assert request_key(a, MatchConfig()) == request_key(b, MatchConfig())
    assert request_key(a, MatchConfig(ignore_query=())) != request_key(b, MatchConfig(ignore_query=()))
