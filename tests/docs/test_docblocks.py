"""The docs test's own rules: what a block must be marked with, and that a documented
example that does not behave as documented fails its test."""

from __future__ import annotations

from pathlib import Path

import pytest
from docblocks import Block, extract
from docrun import DocRunner

from replaystream.emulator import ProviderEmulator

ROOT = Path(__file__).resolve().parents[2]
FENCE = "```"


def md(*parts: str) -> str:
    return "\n".join(parts) + "\n"


def block(lang: str, code: str, mark: str | None = None) -> str:
    return md(*([f"<!-- doc: {mark} -->"] if mark else []), FENCE + lang, code.rstrip("\n"), FENCE, "")


def test_ids_name_the_file_and_the_first_line_of_code() -> None:
    blocks = extract(md("# Title", "", block("python", "print(1)"), block("bash", "replaystream demo")), "README.md")
    assert [b.id for b in blocks] == ["README.md:L4", "README.md:L9"]
    assert blocks[0].code == "print(1)\n" and blocks[0].problem is None


def test_an_ellipsis_needs_a_mark() -> None:
    [bad] = extract(block("python", "client.create(messages=[...])"), "d.md")
    assert bad.problem and "contains `...`" in bad.problem and "<!-- doc: fragment -->" in bad.problem
    [ok] = extract(block("python", "client.create(messages=[...])", "fragment"), "d.md")
    assert ok.problem is None and not ok.runs


def test_marks_are_checked_and_several_can_be_given() -> None:
    [b] = extract(block("python", "x = 1", 'setup s; emulator openai_stream "a|b c" x2'), "d.md")
    assert [(m.kind, m.args) for m in b.marks] == [("setup", ("s",)), ("emulator", ("openai_stream", "a|b c", "x2"))]
    [typo] = extract(block("python", "x = 1", "fragmnet"), "d.md")
    assert typo.problem and "unknown mark 'fragmnet'" in typo.problem and "fragment:" in typo.problem
    [arity] = extract(block("python", "x = 1", "setup"), "d.md")
    assert arity.problem and "takes 1-1 argument(s)" in arity.problem


def test_a_block_of_unknown_language_must_say_what_it_is() -> None:
    [bare] = extract(block("", "on_chain_start RunnableSequence#0"), "d.md")
    assert bare.problem and "mark it" in bare.problem
    [shown] = extract(block("", "on_chain_start RunnableSequence#0", "output"), "d.md")
    assert shown.problem is None


def test_python_that_does_not_compile_fails_even_as_a_fragment() -> None:
    [b] = extract(block("python", "def f(:\n    pass", "fragment"), "d.md")
    assert b.problem and "not valid Python" in b.problem


def test_a_test_file_is_run_by_the_pytest_commands_after_it() -> None:
    test, cmds = extract(block("python", "def test_x():\n    pass") + block("bash", "pytest -q"), "d.md")
    assert test.commands_block is cmds and cmds.test_file is test
    lone, other = extract(block("python", "def test_x():\n    pass") + block("bash", "replaystream demo"), "d.md")
    assert lone.commands_block is None and other.test_file is None


# -- running --------------------------------------------------------------------------------------
@pytest.fixture
def run(tmp_path: Path, emulator: ProviderEmulator, monkeypatch: pytest.MonkeyPatch):
    def run_doc(text: str, which: int = -1) -> list[Block]:
        blocks = extract(text, "d.md")
        assert all(b.problem is None for b in blocks), [b.problem for b in blocks]
        DocRunner(ROOT, blocks, tmp_path, emulator, monkeypatch).run(blocks[which])
        return blocks
    return run_doc


def test_an_unmarked_block_that_fails_fails_its_test(run) -> None:
    with pytest.raises(AssertionError, match=r"d.md:L2 fails as written:(.|\n)*ZeroDivisionError"):
        run(block("python", "1 / 0"))


def test_a_fails_mark_needs_that_failure(run) -> None:
    run(block("python", "1 / 0", "fails ZeroDivisionError"))
    with pytest.raises(AssertionError, match="not with KeyError"):
        run(block("python", "1 / 0", "fails KeyError"))
    with pytest.raises(AssertionError, match="ran without failing"):
        run(block("python", "x = 1", "fails KeyError"))


def test_the_emulator_answers_what_the_mark_scripts_and_must_be_asked(run) -> None:
    code = md("import openai",
              "s = openai.OpenAI().chat.completions.create(model='m', messages=[], stream=True)",
              "print(''.join(c.choices[0].delta.content or '' for c in s if c.choices))")
    run(block("python", code, 'emulator openai_stream "Hello| world"'))
    with pytest.raises(AssertionError, match="1 scripted emulator response"):
        run(block("python", "x = 1", 'emulator openai_stream "never asked"'))


def test_setup_blocks_run_first_in_the_same_folder(run) -> None:
    doc = block("python", "open('made.txt', 'w').write('hi')", "setup maker") + \
        block("python", "assert open('made.txt').read() == 'hi'", "uses maker")
    run(doc)
    with pytest.raises(AssertionError, match="no block is marked <!-- doc: setup other -->"):
        run(block("python", "x = 1", "uses other"))


def test_a_test_file_runs_with_its_commands(run) -> None:
    run(block("python", "def test_ok():\n    assert True") + block("bash", "pytest -q"))
    with pytest.raises(AssertionError, match="fails as written"):
        run(block("python", "def test_bad():\n    assert False") + block("bash", "pytest -q"))


def test_install_blocks_must_match_ci_and_the_extras(run) -> None:
    run(block("bash", 'python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[dev]"', "install"))
    run(block("bash", "pip install 'replaystream[plot]' && python -m pip install --upgrade pip", "install"))
    with pytest.raises(AssertionError, match="not this project"):
        run(block("bash", "pip install vcrpy", "install"))
    with pytest.raises(AssertionError, match=r"extras \['nope'\]"):
        run(block("bash", 'pip install -e ".[nope]"', "install"))
    with pytest.raises(AssertionError, match="not a command .ci/run runs"):
        run(block("bash", "python -m pytest --no-such-flag", "install"))


def test_usage_lines_must_name_real_commands_and_flags(run) -> None:
    run(block("bash", "replaystream inspect CASSETTE [--plot t.png]   # what it does", "usage"))
    with pytest.raises(AssertionError, match="no such option"):
        run(block("bash", "replaystream inspect CASSETTE --colour", "usage"))
    with pytest.raises(AssertionError, match="no such command"):
        run(block("bash", "replaystream replay CASSETTE", "usage"))


def test_a_command_the_test_cannot_run_must_be_marked(run) -> None:
    with pytest.raises(AssertionError, match="cannot run `curl"):
        run(block("bash", "curl https://example.com"))
