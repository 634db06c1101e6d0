"""Without the [agents] extra the demo's agent sections say which extra to install and are
skipped; the tutorial sections print as before (LangGraph's modules blocked, see ``_without``)."""

from __future__ import annotations

from ._without import run_cli, run_python


def test_agent_sections_name_the_agents_extra_and_the_rest_runs() -> None:
    done = run_cli(["demo", "--section", "polar_bear_sync", "--section", "agent_messages",
                    "--section", "agent_subgraph"], without=["agents"])
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[2].startswith("|Polar bears actually|")
    skipped = "skipped: needs the [agents] extra: pip install 'replaystream[agents]'"
    for name in ("agent_messages", "agent_subgraph"):
        at = next(n for n, line in enumerate(lines) if line.startswith(f"== {name}: "))
        assert lines[at + 2] == skipped, lines[at:]
    assert lines.count(skipped) == 2
    assert "Traceback" not in done.stderr


def test_the_agents_module_imports_without_langgraph() -> None:
    done = run_python("import replaystream.tutorial.agents as a\nprint(a.skipped_reason())\n"
                      "print('langgraph' in sys.modules and sys.modules['langgraph'] is not None)",
                      without=["agents"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["skipped: needs the [agents] extra: pip install 'replaystream[agents]'",
                                        "False"]
