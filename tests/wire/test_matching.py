"""Matching: method, path, query and JSON body; recorded order; O(1) index; readable miss diff."""

from replaystream.cassette import Interaction, Request, Response
from replaystream.wire.matching import MatchConfig, MatchIndex, closest, request_key


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
