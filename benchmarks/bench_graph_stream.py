"""Cost of normalising + serialising a LangGraph stream, against the run itself.

A graph whose ``first`` node streams ``n_chunks`` chunks from a ``ReplayChatModel`` and
whose ``second`` node is a subgraph streaming as many, run with
``stream_mode=["values", "updates", "messages", "custom", "tasks"]`` and ``subgraphs=True``;
the parts are collected once per round, then ``normalize_graph_stream`` and
``render_graph_stream`` (what a snapshot assertion does) are timed on them. Target: at
most 0.1x the run. Best of five, interleaved (the machine is shared: three were too noisy).

``python -m benchmarks --json --only graph_stream`` prints the result as JSON.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, TypedDict

from langchain_core.messages import AnyMessage, HumanMessage
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages

from replaystream.langchain.fakes import ReplayChatModel
from replaystream.langchain.graph import normalize_graph_stream
from replaystream.langchain.snapshot import render_graph_stream

from ._util import best_of, ms, target

MODES = ["values", "updates", "messages", "custom", "tasks"]


class _State(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


def _graph(n_chunks: int) -> Any:
    texts = [{"content": f"tok{i} "} for i in range(n_chunks)]
    model = ReplayChatModel(responses=[texts, texts])

    def call(state: _State) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    sub = StateGraph(_State).add_node("child", call).add_edge(START, "child").add_edge("child", END).compile()
    return (StateGraph(_State).add_node("first", call).add_node("second", sub)
            .add_edge(START, "first").add_edge("first", "second").add_edge("second", END).compile())


def run(n_chunks: int = 5000, rounds: int = 5) -> dict[str, Any]:
    holder: dict[str, list[Any]] = {}

    def run_graph() -> None:
        inputs = {"messages": [HumanMessage("go", id="q")]}
        holder["parts"] = list(_graph(n_chunks).stream(inputs, stream_mode=MODES, subgraphs=True))

    run_graph()
    parts = holder["parts"]

    def normalise() -> None:
        normalize_graph_stream(parts)

    def snapshot_text() -> None:
        render_graph_stream(parts)  # normalises, then one line per part

    best = best_of({"run": run_graph, "normalise": normalise, "normalise+serialise": snapshot_text},
                   rounds=rounds, warmup=0)
    return {
        "n_chunks": n_chunks,
        "n_parts": len(parts),
        "run_ms": ms(best["run"]),
        "normalise_ms": ms(best["normalise"]),
        "normalise_serialise_ms": ms(best["normalise+serialise"]),
        "us_per_part": round(best["normalise+serialise"] / len(parts) * 1e6, 2),
        "ratio_to_run": target(best["normalise+serialise"] / best["run"], 0.1),
        "snapshot_bytes": len(render_graph_stream(parts).encode()),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
