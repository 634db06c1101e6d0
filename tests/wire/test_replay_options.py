"""ReplayOptions and resolve_options: one validator, one layering rule, errors that name the key,
where it came from and the closest valid key."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from replaystream import MatchConfig, ReplayOptions, ReplayStreamError, Scrubber, Session, use_cassette
from replaystream.errors import UsageError
from replaystream.cassette import Cassette, Interaction, Request, Response
from replaystream.options import PLUGIN_KEYS, SESSION_KEYS, SHORTHANDS, Layer, OptionsError, resolve_options
from replaystream.wire.faults import Fault


def test_every_field_is_reached_by_a_key_and_every_key_sets_a_field() -> None:
    fields = {f.name for f in dataclasses.fields(ReplayOptions)}
    assert set(PLUGIN_KEYS) - set(SHORTHANDS) == fields
    assert {target.partition(".")[0] for target in SHORTHANDS.values()} <= fields
    assert set(SESSION_KEYS) < set(PLUGIN_KEYS)


def test_defaults() -> None:
    options = resolve_options()
    assert options == ReplayOptions()
    assert (options.mode, options.pacing, options.persist, options.strict) == ("none", "instant", True, True)
    assert options.blocks_network  # none mode: offline
    assert not resolve_options(Layer("x", {"mode": "once"})).blocks_network


def test_any_explicit_value_overrides_the_layer_below() -> None:
    options = resolve_options(Layer("ini", {"mode": "once", "allow_network": True, "strict": True}),
                              Layer("replay_config", {"mode": "none", "allow_network": False, "strict": False}))
    assert options.mode == "none" and options.offline is None and options.blocks_network and not options.strict
    # and a key a layer does not give leaves the one below alone
    assert resolve_options(Layer("a", {"pacing": "recorded"}), Layer("b", {"mode": "all"})).pacing == "recorded"


def test_match_and_scrub_dicts_change_only_their_fields_objects_replace_the_whole() -> None:
    partial = resolve_options(Layer("a", {"match": MatchConfig(body=False, headers=("h",))}),
                              Layer("b", {"ignore_fields": ["metadata.user_id"]}),
                              Layer("c", {"match": {"ignore_query": ["beta"]}}))
    assert partial.match == MatchConfig(ignore_fields=("metadata.user_id",), headers=("h",),
                                        ignore_query=("beta",), body=False)
    whole = resolve_options(Layer("a", {"ignore_fields": ["x"], "match_headers": ["h"]}),
                            Layer("b", {"match": MatchConfig(body=False)}))
    assert whole.match == MatchConfig(body=False)
    scrub = resolve_options(Layer("a", {"scrub": Scrubber(extra_values=("s3cret-value",))}),
                            Layer("b", {"scrub": {"extra_headers": ["x-token"]}})).scrub
    assert scrub.extra_values == ("s3cret-value",) and scrub.extra_headers == ("x-token",)


def test_values_are_normalised() -> None:
    options = ReplayOptions(pacing="2", faults=("disconnect:after=3",), extra=["a.json"],  # type: ignore[arg-type]
                            cassettes=["one"], cassette_dir=Path("rec"))  # type: ignore[arg-type]
    assert options.pacing == 2.0 and options.faults == (Fault("disconnect", at=3),)
    assert options.extra == ("a.json",) and options.cassettes == ("one",) and options.cassette_dir == "rec"
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.mode = "all"  # type: ignore[misc]


@pytest.mark.parametrize("values,expected", [
    ({"mdoe": "all"}, "unknown option 'mdoe' (did you mean 'mode'?)"),
    ({"ignore_feilds": ["x"]}, "unknown option 'ignore_feilds' (did you mean 'ignore_fields'?)"),
    ({"scrub": {"hoks": []}}, "unknown option 'scrub.hoks' (did you mean 'scrub.hooks'?)"),
    ({"match": {"header": ["h"]}}, "unknown option 'match.header' (did you mean 'match.headers'?)"),
    ({"mode": "sometimes"}, "unknown record mode 'sometimes'"),
    ({"mode": "onec"}, "did you mean 'once'?"),
    ({"pacing": "fast"}, "pacing 'fast' is not understood"),
    ({"pacing": 0}, "pacing factor must be positive"),
    ({"faults": ["explode"]}, "unknown fault kind 'explode'"),
    ({"faults": "disconnect:after=2"}, "must be a list, e.g. ['disconnect:after=2']"),
    ({"faults": [{"kind": "disconnect", "when": 2}]}, "when"),
    ({"ignore_fields": "metadata.user_id"}, "must be a list"),
    ({"allow_unused": "yes"}, "must be True or False"),
    ({"scrub": {"hooks": ["not callable"]}}, "scrub.hooks=['not callable']: hooks must be callables"),
    ({"match": 3}, "must be a MatchConfig or a dict of its fields"),
])
def test_mistakes_name_source_key_and_fix(values: dict[str, Any], expected: str) -> None:
    with pytest.raises(OptionsError) as info:
        resolve_options(Layer("replay marker on test_x.py::test_y", values))
    assert isinstance(info.value, ReplayStreamError)
    assert "replay marker on test_x.py::test_y: " in str(info.value)
    assert expected in str(info.value)


def test_every_mistake_of_every_layer_in_one_error() -> None:
    with pytest.raises(OptionsError) as info:
        resolve_options(Layer("ini setting replay_pacing", {"pacing": "fast"}),
                        Layer("replay_config", {"mdoe": "all", "scrub": {"hoks": []}}))
    assert len(info.value.problems) == 3
    text = str(info.value)
    assert text.startswith("3 invalid replaystream options:")
    assert "ini setting replay_pacing: pacing='fast'" in text and "replay_config: unknown option 'mdoe'" in text
    assert "the options are: mode, pacing," in text


def test_use_cassette_rejects_a_misspelt_keyword_at_the_call(tmp_path: Path) -> None:
    with pytest.raises(OptionsError, match=r"use_cassette\(\): unknown option 'mdoe' \(did you mean 'mode'\?\)"):
        use_cassette(tmp_path / "c.json", mdoe="all")  # type: ignore[call-arg]
    with pytest.raises(OptionsError, match="only the pytest plugin reads it"):
        use_cassette(tmp_path / "c.json", cassette_dir="x")  # type: ignore[call-arg]
    with pytest.raises(OptionsError, match=r"Session\(\): unknown option 'ignore_feilds'.*'ignore_fields'"):
        Session(tmp_path / "c.json", ignore_feilds=["x"])  # type: ignore[call-arg]
    with pytest.raises(UsageError, match="mode=..."):
        Session(tmp_path / "c.json", "once")  # type: ignore[arg-type]


def test_keywords_override_an_options_object(tmp_path: Path) -> None:
    base = ReplayOptions(mode="once", pacing="recorded", allow_repeats=True)
    with use_cassette(tmp_path / "c.json", base, pacing=2) as session:
        assert (session.mode, session.pacing, session.allow_repeats) == ("once", 2.0, True)
    assert Session(tmp_path / "c.json", base).options is base
    keyword = Session(tmp_path / "c.json", mode="all", allow_network=True, ignore_fields=["a"])
    assert keyword.options.mode == "all" and not keyword.offline and keyword.match.ignore_fields == ("a",)


def record_one(session: Session) -> None:
    token = session.start()
    session.on_recorded(Request("GET", "/x"), Response(200, body=b"ok"))
    session.finish(token)


def test_persist_false_never_writes(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    record_one(Session(path, mode="all", persist=False))
    assert not path.exists()
    with use_cassette(path, ReplayOptions(mode="all", persist=False)) as session:
        session.on_recorded(Request("GET", "/x"), Response(200, body=b"ok"))
    assert not path.exists()
    record_one(Session(path, mode="all"))  # the same session with persist left on does write
    assert len(Cassette.load(path).interactions) == 1


def test_in_memory_session_replays_without_a_file(tmp_path: Path) -> None:
    inter = Interaction(Request("GET", "/x"), Response(200, body=b"ok"))
    session = Session(tmp_path / "mem.json", ReplayOptions(persist=False, offline=False), cassette=Cassette([inter]))
    token = session.start()
    assert session.plan(Request("GET", "/x")) is not None
    session.on_recorded(Request("GET", "/y"), Response(200))
    session.finish(token)
    assert not (tmp_path / "mem.json").exists()
