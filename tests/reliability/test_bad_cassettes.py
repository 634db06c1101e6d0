"""Bad cassettes: every kind raises a typed error naming the file and position, in every
mode; none is treated as empty, and none is overwritten (not even in ``once`` mode)."""

import json
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from replaystream import use_cassette
from replaystream.cassette import Cassette
from replaystream.errors import CassetteError
from replaystream.wire.session import MODES

pytestmark = pytest.mark.outcome("typed error, file untouched")

GOOD = {
    "replaystream_cassette": 1,
    "meta": {},
    "interactions": [{
        "provider": "openai", "api": "chat.completions",
        "request": {"method": "POST", "path": "/v1/chat/completions", "headers": {}, "body": {"model": "m"}},
        "response": {"status": 200, "headers": {"content-type": "text/event-stream"},
                     "events": [{"ms": 1.0, "raw": "data: {}\n\n"}, {"ms": 2.0, "raw": "data: [DONE]\n\n"}],
                     "end": "complete"},
    }],
    "records": [],
}


def mutate(path: str, value: object) -> str:
    doc = json.loads(json.dumps(GOOD))
    target = doc
    keys = path.split(".")
    for k in keys[:-1]:
        target = target[int(k)] if k.isdigit() else target[k]
    last = keys[-1]
    if value is KeyError:
        del target[int(last) if last.isdigit() else last]
    else:
        target[int(last) if last.isdigit() else last] = value
    return json.dumps(doc, indent=1)


BAD = {
    # class of damage: (file content, text the error must contain)
    "truncated": (json.dumps(GOOD, indent=1)[:-30], "line"),
    "invalid-json": ("{'replaystream_cassette': 1}", "not valid JSON"),
    "invalid-yaml-style": ("replaystream_cassette: 1\ninteractions: []\n", "not valid JSON"),
    "empty": ("", "is empty"),
    "whitespace-only": ("\n\n  \n", "is empty"),
    "wrong-version": (mutate("replaystream_cassette", 3), "format version 3"),
    "version-not-int": (mutate("replaystream_cassette", "1"), "not a format version"),
    "missing-request": (mutate("interactions.0.request", KeyError), "$.interactions[0].request"),
    "missing-status": (mutate("interactions.0.response.status", KeyError), "$.interactions[0].response.status"),
    "wrong-type-events": (mutate("interactions.0.response.events", "data: x"), "response.events"),
    "wrong-type-ms": (mutate("interactions.0.response.events.1.ms", "soon"), "events[1].ms"),
    "bad-bytes-encoding": (mutate("interactions.0.response.events.0", {"ms": 0, "raw_b64": "not base64!"}), "raw_b64"),
    "unknown-provider": (mutate("interactions.0.provider", "acme-ai"), "unknown provider"),
    "bad-end": (mutate("interactions.0.response.end", "maybe"), "response.end"),
    "header-not-string": (mutate("interactions.0.response.headers", {"x": 1}), "headers.x"),
    "status-out-of-range": (mutate("interactions.0.response.status", 42), "not an HTTP status"),
    "binary-garbage": ("\x00\x01\x02", "not valid JSON"),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_cassette_is_a_typed_error_and_stays_untouched(tmp_path: Path, case: str, mode: str) -> None:
    content, expected = BAD[case]
    path = tmp_path / "c.json"
    path.write_text(content)
    before = path.read_bytes()
    with pytest.raises(CassetteError) as info:
        with use_cassette(path, mode=mode):  # type: ignore[arg-type]
            pass
    message = str(info.value)
    assert str(path) in message and expected in message and "hint:" in message
    assert path.read_bytes() == before


def test_a_directory_where_the_cassette_should_be(tmp_path: Path) -> None:
    (tmp_path / "c.json").mkdir()
    for mode in MODES:
        with pytest.raises(CassetteError, match="is a directory"):
            with use_cassette(tmp_path / "c.json", mode=mode):  # type: ignore[arg-type]
                pass
    assert (tmp_path / "c.json").is_dir()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300) | st.text(alphabet=string.printable, max_size=300).map(str.encode))
def test_arbitrary_bytes_never_crash_the_loader(data: bytes) -> None:
    try:
        Cassette.loads(data)
    except CassetteError:
        pass


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_structurally_mutated_documents_raise_only_typed_errors(data: st.DataObject) -> None:
    doc = json.loads(json.dumps(GOOD))
    # replace one node anywhere in the document by an arbitrary JSON value
    paths: list[list[object]] = []

    def walk(node: object, trail: list[object]) -> None:
        paths.append(trail)
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, trail + [k])
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, trail + [i])

    walk(doc, [])
    trail = data.draw(st.sampled_from(paths[1:]))
    value = data.draw(json_values)
    target = doc
    for k in trail[:-1]:
        target = target[k]  # type: ignore[index]
    target[trail[-1]] = value  # type: ignore[index]
    try:
        Cassette.loads(json.dumps(doc))
    except CassetteError:
        pass
