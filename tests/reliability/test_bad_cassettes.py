"""Bad cassettes: every kind raises a typed error naming the file and position, in every
mode; none is treated as empty, and none is overwritten (not even in ``once`` mode)."""

import json
import shutil
import string
import tempfile
from collections.abc import Callable
from pathlib import Path

import httpx2
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from replaystream import use_cassette
from replaystream.cassette import Cassette
from replaystream.emulator import ProviderEmulator, ScriptedResponse
from replaystream.errors import CassetteError, CassetteMissError
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
    # Damage that used to escape as a builtin error, at load, on replay or on save:
    "deep-nesting": ('{"replaystream_cassette": 1, "meta": {"x": ' + "[" * 5000 + "]" * 5000 + '}, "interactions": []}',
                     "nests JSON deeper"),  # RecursionError
    "lone-surrogate-event": (mutate("interactions.0.response.events.0.raw", "data: \ud800\n\n"),
                             "$.interactions[0].response.events[0].raw"),  # UnicodeEncodeError at load
    "lone-surrogate-header": (mutate("interactions.0.response.headers", {"x-id": "a\udc00"}),
                              "$.interactions[0].response.headers.x-id"),  # UnicodeEncodeError on replay
    "lone-surrogate-body": (mutate("interactions.0.request.body", {"model": "m\udc00"}),
                            "$.interactions[0].request.body.model"),  # UnicodeEncodeError on save / miss message
    "header-name-not-a-token": (mutate("interactions.0.response.headers", {"x id\u00e9": "1"}),
                                "not an HTTP token"),  # UnicodeEncodeError / LocalProtocolError on replay
    "error-wrong-type": (mutate("interactions.0.response.error", {"type": 7, "message": "cut"}),
                         "$.interactions[0].response.error.type"),  # TypeError on replay
    "timing-infinity": (mutate("interactions.0.response.events.1.ms", float("inf")),
                        "$.interactions[0].response.events[1].ms"),  # OverflowError with recorded pacing
    "timing-nan": (mutate("interactions.0.response.events.1.ms", float("nan")), "$.interactions[0].response.events[1].ms"),
    "timing-negative": (mutate("interactions.0.response.events.1.ms", -5.0), "$.interactions[0].response.events[1].ms"),
    "number-too-large-for-float": (mutate("interactions.0.response.events.1.ms", 10 ** 400),
                                   "$.interactions[0].response.events[1].ms"),  # OverflowError at load
    "integer-too-long": (json.dumps(GOOD, indent=1).replace('"status": 200', '"status": ' + "9" * 5000),
                         "5000 digits"),  # ValueError at load
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


def _set(path: str, value: object) -> Callable[[Path], None]:
    return lambda file: file.write_text(mutate(path, value))


def _delete_and_record_again(file: Path) -> None:
    file.unlink()
    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(events=[b"data: {}\n\n", b"data: [DONE]\n\n"]))
        with use_cassette(file, mode="once"), httpx2.Client(base_url=emu.base_url) as client:
            client.post("/v1/chat/completions", json={"model": "m"}).read()


#: Each class's hint, carried out as a user would: the file then loads and replays.
HINT_ACTIONS: dict[str, tuple[str, Callable[[Path], None]]] = {
    "deep-nesting": ("delete it and record again", _delete_and_record_again),
    "lone-surrogate-event": ("delete the escape", lambda f: f.write_text(f.read_text().replace("\\ud800", ""))),
    "lone-surrogate-header": ("delete the escape", lambda f: f.write_text(f.read_text().replace("\\udc00", ""))),
    "lone-surrogate-body": ("delete the escape", lambda f: f.write_text(f.read_text().replace("\\udc00", ""))),
    "header-name-not-a-token": ("rename it", _set("interactions.0.response.headers", {"x-id": "1"})),
    "error-wrong-type": ('"RemoteProtocolError"', _set("interactions.0.response.error",
                                                       {"type": "RemoteProtocolError", "message": "cut"})),
    "timing-infinity": ("the previous event's offset", _set("interactions.0.response.events.1.ms", 1.0)),
    "timing-nan": ("the previous event's offset", _set("interactions.0.response.events.1.ms", 1.0)),
    "timing-negative": ("the previous event's offset", _set("interactions.0.response.events.1.ms", 1.0)),
    "number-too-large-for-float": ("the value it stands for", _set("interactions.0.response.events.1.ms", 2.0)),
    "integer-too-long": ("the value it stands for", _set("interactions.0.response.status", 200)),
}


@pytest.mark.parametrize("case", sorted(HINT_ACTIONS))
def test_the_hints_action_fixes_the_cassette(tmp_path: Path, case: str) -> None:
    path = tmp_path / "c.json"
    path.write_text(BAD[case][0])
    with pytest.raises(CassetteError) as info:
        Cassette.load(path)
    action, carry_out = HINT_ACTIONS[case]
    assert action in info.value.hint
    carry_out(path)
    cassette = Cassette.load(path)
    with use_cassette(path, mode="none", pacing="recorded"), httpx2.Client(base_url="http://127.0.0.1:9") as client:
        response = client.post("/v1/chat/completions", json={"model": "m"})
        assert response.read() == cassette.interactions[0].response.content()
    # what replay handed over can be saved again (a surrogate used to fail here)
    assert Cassette.loads(cassette.dumps()).interactions[0].response.content() == response.content


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


#: Everything JSON text can hold, the odd parts included: NaN and Infinity (Python writes and
#: reads them), lone surrogates (a \\udXXX escape), integers past a float, header-ish text.
odd_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(min_value=10 ** 300, max_value=10 ** 330)
    | st.floats() | st.text(st.characters(blacklist_categories=()), max_size=8)
    | st.sampled_from(["RemoteProtocolError", "DecodingError", "error", "complete", "café", "a\r\nb", ""]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(st.characters(blacklist_categories=()), max_size=8), children, max_size=4),
    max_leaves=20)


def _mutated(data: st.DataObject, values: st.SearchStrategy[object]) -> str:
    """GOOD with one node anywhere replaced by an arbitrary JSON value, as JSON text."""
    doc = json.loads(json.dumps(GOOD))
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
    value = data.draw(values)
    target = doc
    for k in trail[:-1]:
        target = target[k]  # type: ignore[index]
    target[trail[-1]] = value  # type: ignore[index]
    return json.dumps(doc)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_structurally_mutated_documents_raise_only_typed_errors(data: st.DataObject) -> None:
    try:
        Cassette.loads(_mutated(data, json_values))
    except CassetteError:
        pass


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_mutated_cassette_that_loads_also_replays_and_saves(data: st.DataObject) -> None:
    """The fuzzing that found the classes above: a cassette the loader accepts must replay
    (raising only what replay raises on purpose: a miss, or the recorded error) and save."""
    text = _mutated(data, odd_values)
    try:
        cassette = Cassette.loads(text)
    except CassetteError:
        return
    cassette.dumps().encode("utf-8")
    path = Path(tempfile.mkdtemp()) / "c.json"
    path.write_text(text)
    try:
        with use_cassette(path, mode="none", pacing=1000.0), httpx2.Client(base_url="http://127.0.0.1:9") as client:
            client.post("/v1/chat/completions", json={"model": "m"}).read()
    except (CassetteMissError, httpx2.TransportError, httpx2.DecodingError) as exc:
        str(exc).encode("utf-8")  # a miss message prints the recorded request: it must be printable
    finally:
        shutil.rmtree(path.parent)
