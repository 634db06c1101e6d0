"""assert_propagated / run_tree on the tutorial's "Propagating Callbacks" examples and on
two ways that really break propagation (a thread without the context, handlers without the
parent run)."""

from __future__ import annotations

import sys
import uuid

import pytest
from _events_data import (
    bad_tool,
    handlers_tool,
    reverse_and_double,
    reverse_and_double_lambda,
    thread_tool,
    v2_events,
)

from replaystream.errors import ReplayStreamError
from replaystream.langchain.propagation import PropagationError, assert_propagated, run_tree
from replaystream.langchain.snapshot import event_snapshot


@pytest.mark.skipif(sys.version_info < (3, 11), reason="contextvars reach tool bodies from 3.11 on")
async def test_tutorial_bad_tool_stays_attached_on_py311(snapshot):
    # The tutorial says bad_tool loses its callbacks; on Python 3.11+ the context carries
    # the config into the tool body, so reverse_word is a child of bad_tool.
    events = await v2_events(bad_tool, "hello")
    tree = assert_propagated(events, expect_children={"bad_tool": ["reverse_word"]})
    assert tree.draw() == "bad_tool#0 (tool)\n`-- reverse_word#0 (chain)"
    assert event_snapshot(snapshot) == events


@pytest.mark.parametrize("runnable", [reverse_and_double_lambda, reverse_and_double],
                         ids=["RunnableLambda", "chain_decorator"])
async def test_reverse_and_double_propagates(runnable, snapshot):
    events = await v2_events(runnable, "1234")
    assert_propagated(events, expect_children={"reverse_and_double": ["reverse_word"]})
    assert [e["data"].get("output") for e in events if e["event"] == "on_chain_end"] == ["4321", "43214321"]
    assert event_snapshot(snapshot) == events


async def test_thread_without_context_loses_the_child():
    events = await v2_events(thread_tool, "hello")
    assert [e["event"] for e in events] == ["on_tool_start", "on_tool_end"]  # reverse_word vanished
    assert events[-1]["data"]["output"] == "olleh"  # ... yet it did run
    with pytest.raises(PropagationError) as info:
        assert_propagated(events, expect_children={"thread_tool": ["reverse_word"]})
    message = str(info.value)
    assert "thread_tool#0 has no child run 'reverse_word' (its children: none)" in message
    assert "run tree:\n  thread_tool#0 (tool)\n" in message
    assert "copy_context" in message
    assert isinstance(info.value, AssertionError) and isinstance(info.value, ReplayStreamError)


async def test_handlers_without_parent_make_a_detached_root():
    events = await v2_events(handlers_tool, "hello")
    with pytest.raises(PropagationError) as info:
        assert_propagated(events)
    message = str(info.value)
    assert "2 root runs (expected at most 1): reverse_word#0 started without its parent run" in message
    assert "  handlers_tool#0 (tool)\n  reverse_word#0 (chain)  <- detached root" in message
    assert [n.label for n in info.value.tree.detached] == ["handlers_tool#0", "reverse_word#0"]
    assert_propagated(events, max_roots=2)  # opting in to several roots


async def test_missing_parent_is_reported():
    from _events_data import countries_model
    from langchain_core.output_parsers import JsonOutputParser

    chain = countries_model() | JsonOutputParser().with_config({"run_name": "my_parser"})
    filtered = await v2_events(chain, "q", include_names=["my_parser"])  # the root is filtered out
    with pytest.raises(PropagationError) as info:
        assert_propagated(filtered)
    message = str(info.value)
    assert "<filtered>#0 is a parent of my_parser#0 but never appears as a run" in message
    assert "<filtered>#0 (missing parent)  <- not in the stream\n  `-- my_parser#0 (parser)" in message


def test_run_tree_draws_nested_branches():
    ids = {n: str(uuid.uuid4()) for n in "rabc"}

    def start(name, *parents):
        return {"event": "on_chain_start", "name": name, "run_id": ids[name],
                "parent_ids": [ids[p] for p in parents], "tags": [], "data": {}}

    tree = run_tree([start("r"), start("a", "r"), start("b", "r", "a"), start("c", "r")])
    assert str(tree) == "r#0 (chain)\n|-- a#0 (chain)\n|   `-- b#0 (chain)\n`-- c#0 (chain)"
    assert tree.nodes["b#0"].parent == "a#0"
    assert [c.label for c in tree.nodes["r#0"].children] == ["a#0", "c#0"]


def test_expect_children_names_unknown_parents():
    with pytest.raises(PropagationError, match="no run named 'nope'"):
        assert_propagated([{"event": "on_chain_start", "name": "r", "run_id": "x", "parent_ids": [],
                            "tags": [], "data": {}}], expect_children={"nope": ["x"]})
    with pytest.raises(PropagationError, match="the stream has no runs"):
        assert_propagated([])
