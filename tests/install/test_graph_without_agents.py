"""Without the [agents] extra (no langgraph, no langchain) graph streams still normalise:
normalize_graph_stream only reads data."""

from __future__ import annotations

from ._without import blocked, run_python

CODE = """
import uuid
from replaystream import normalize_graph_stream, render_graph_stream
from langchain_core.messages import AIMessageChunk
task = str(uuid.uuid4())
parts = [((f"second:{task}",), "custom", {"n": 1}),
         ((f"second:{task}",), "messages", (AIMessageChunk(content="hi", id="m"), {"langgraph_node": "child"}))]
print(render_graph_stream(normalize_graph_stream(parts)), end="")
import importlib.util
print(importlib.util.find_spec("langgraph") is None, "langgraph" in sys.modules and sys.modules["langgraph"] is not None)
"""


def test_normalize_graph_stream_needs_no_langgraph() -> None:
    assert {"langgraph", "langchain"} <= set(blocked("agents"))
    done = run_python(CODE, without=["agents"])
    assert done.returncode == 0, done.stderr
    assert done.stdout == ("custom      second#0 {\"n\":1}\n"
                           "messages    second#0 AIMessageChunk('hi', id='m') node='child'\n"
                           "True False\n")
