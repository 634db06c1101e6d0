"""SSE framing keeps every byte and finds the same events however the bytes arrive."""

from hypothesis import given, settings, strategies as st

from replaystream.cassette.sse import SSEFramer, parse_event, split_events

line_end = st.sampled_from(["\n", "\r\n", "\r"])
field_line = st.tuples(
    st.sampled_from(["data", "event", "id", "retry", ""]),
    st.text(alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=12),
).map(lambda kv: f"{kv[0]}: {kv[1]}" if kv[0] else f": {kv[1]}")


@st.composite
def sse_bodies(draw: st.DrawFn) -> bytes:
    events = []
    for _ in range(draw(st.integers(0, 6))):
        lines = draw(st.lists(field_line, min_size=1, max_size=4))
        end = draw(line_end)
        events.append("".join(line + end for line in lines) + end)
    tail = draw(st.sampled_from(["", "data: unterminated", "data: x\n"]))
    return ("".join(events) + tail).encode("utf-8")


@settings(max_examples=300, deadline=None)
@given(body=sse_bodies(), cuts=st.lists(st.integers(0, 400), max_size=8))
def test_any_split_gives_the_same_events(body: bytes, cuts: list[int]) -> None:
    whole = split_events(body)
    framer = SSEFramer()
    got: list[bytes] = []
    last = 0
    for cut in sorted(c % (len(body) + 1) for c in cuts):
        got += framer.feed(body[last:cut])
        last = cut
    got += framer.feed(body[last:]) + framer.finish()
    assert got == whole


@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=300))
def test_round_trip_is_byte_exact_for_any_bytes(body: bytes) -> None:
    assert b"".join(split_events(body)) == body
    # and byte by byte
    framer = SSEFramer()
    events = [e for i in range(len(body)) for e in framer.feed(body[i:i + 1])] + framer.finish()
    assert events == split_events(body)


def test_boundaries_for_each_line_ending() -> None:
    body = b"event: a\r\ndata: 1\r\n\r\ndata: 2\n\ndata: 3\r\rdata: tail"
    assert split_events(body) == [b"event: a\r\ndata: 1\r\n\r\n", b"data: 2\n\n", b"data: 3\r\r", b"data: tail"]


def test_a_cr_at_the_edge_waits_for_the_next_read() -> None:
    framer = SSEFramer()
    assert framer.feed(b"data: 1\r\n\r") == []  # the final "\r" may be half of "\r\n"
    assert framer.feed(b"\ndata: 2\r\n\r\n") == [b"data: 1\r\n\r\n", b"data: 2\r\n\r\n"]


def test_parse_event_fields_comments_and_multiline_data() -> None:
    ev = parse_event(b": keep-alive\nevent: delta\nid: 7\nretry: 30\ndata: {\"a\":\ndata: 1}\n\n")
    assert ev.event == "delta" and ev.id == "7" and ev.retry == 30
    assert ev.comments == ("keep-alive",)
    assert ev.data == '{"a":\n1}' and ev.json() == {"a": 1}
    assert parse_event(b"data: [DONE]\n\n").json() is None
