"""Run one documented block as the reader would: in an empty project folder, with the
provider SDKs pointed at the loopback emulator and placeholder keys.

Python scripts, ``replaystream`` commands and pytest commands all run in this process
(fast: the SDKs are imported once), in an empty folder.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import runpy
import shlex
import sys
import tomllib
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from docblocks import PYTEST_LINE, Block

from replaystream.emulator import (
    ProviderEmulator,
    ScriptedResponse,
    anthropic_error,
    anthropic_message,
    anthropic_messages_stream,
    openai_chat_completion,
    openai_chat_stream,
    openai_embeddings,
    openai_error,
    openai_responses_stream,
)


def _split(text: str) -> list[str]:
    return text.split("|")


#: What ``<!-- doc: emulator SCRIPT "ARG" -->`` serves. ``|`` separates the streamed chunks.
SCRIPTS: dict[str, Callable[[str], ScriptedResponse]] = {
    "anthropic_stream": lambda arg: ScriptedResponse(events=anthropic_messages_stream(_split(arg))),
    "anthropic_message": lambda arg: ScriptedResponse(body=anthropic_message(arg)),
    "openai_stream": lambda arg: ScriptedResponse(events=openai_chat_stream(_split(arg))),
    "openai_completion": lambda arg: ScriptedResponse(body=openai_chat_completion(arg)),
    "openai_responses_stream": lambda arg: ScriptedResponse(events=openai_responses_stream(_split(arg))),
    # "0.1,0.2|0.3,0.4": one vector per input text
    "openai_embeddings": lambda arg: ScriptedResponse(body=openai_embeddings(
        [[float(x) for x in v.split(",")] for v in _split(arg)])),
    "openai_error": lambda arg: openai_error(int(arg.split(":", 1)[0]), arg.split(":", 1)[1]),  # "429:slow down"
    "anthropic_error": lambda arg: anthropic_error(int(arg.split(":", 2)[0]), *arg.split(":", 2)[1:]),  # "529:overloaded_error:Overloaded"
}

PLACEHOLDER_KEYS = {"OPENAI_API_KEY": "sk-docs-placeholder-openai", "ANTHROPIC_API_KEY": "sk-ant-docs-placeholder"}
DEFAULT_TEST_FILE = "tests/test_example.py"


@dataclass
class Outcome:
    ok: bool
    output: str


class DocRunner:
    """Runs blocks (and the setup blocks they use) in one folder, against one emulator."""

    def __init__(self, root: Path, blocks: list[Block], folder: Path, emulator: ProviderEmulator,
                 monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.blocks = blocks
        self.folder = folder
        self.emulator = emulator
        self.monkeypatch = monkeypatch
        monkeypatch.chdir(folder)
        monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
        monkeypatch.setenv("OPENAI_BASE_URL", emulator.base_url + "/v1")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", emulator.base_url)
        for name, value in PLACEHOLDER_KEYS.items():
            monkeypatch.setenv(name, value)
        monkeypatch.syspath_prepend(str(self.folder))  # `python script.py` puts its folder first
        self._done: set[str] = set()

    # -- chains --------------------------------------------------------------------------------
    def setups(self, name: str) -> list[Block]:
        found = [b for b in self.blocks if ("setup", (name,)) in [(m.kind, m.args) for m in b.marks]]
        if not found:
            raise AssertionError(f"no block is marked <!-- doc: setup {name} --> (used by a `uses {name}` mark)")
        return found

    def run(self, block: Block) -> None:
        """Run ``block`` after what it uses; fail unless the outcome is the documented one."""
        if block.commands_block is not None:
            return  # a test file: its test is the one of the pytest commands that run it
        self._run(block)
        if not block.has("fails") and self.emulator.pending:
            raise AssertionError(f"{block.id}: {self.emulator.pending} scripted emulator response(s) were never "
                                 "requested: the example did not call the provider its `emulator` mark scripts")

    def _run(self, block: Block) -> None:
        if block.id in self._done:
            return
        self._done.add(block.id)
        for (name,) in block.args("uses"):
            for dep in self.setups(name):
                self._run(dep)
        if block.test_file is not None:
            self._run(block.test_file)
        if block.args("output") and block.previous is not None:
            self._run(block.previous)  # the run whose output it shows
        for args in block.args("emulator"):
            self.enqueue(*args)
        outcome = self.execute(block)
        print(f"== {block.id}\n{outcome.output}")  # shown with -rP, or on failure
        expect(block, outcome)

    def enqueue(self, script: str, arg: str, times: str = "x1") -> None:
        if script not in SCRIPTS:
            raise AssertionError(f"unknown emulator script {script!r}; have: {', '.join(SCRIPTS)}")
        for _ in range(int(times.lstrip("x"))):
            self.emulator.enqueue(SCRIPTS[script](arg))

    # -- one block ------------------------------------------------------------------------------
    def execute(self, block: Block) -> Outcome:
        files = [path for (path,) in block.args("file")]
        if block.is_test_file:
            for path in files or [block.named_file or DEFAULT_TEST_FILE]:
                self.write(path, block.code)
            if block.commands_block is not None:
                return Outcome(True, "")  # the pytest commands after it run it
            return self.pytest([])
        if block.named_file and not block.is_shell:
            files.append(block.named_file)
        for path in files:
            self.write(path, block.code)
        for (shown_in,) in block.args("output"):
            return check_output(block, self.folder / shown_in)
        if block.has("install") or block.has("ci"):
            check_against_ci(block, self.root)
            return Outcome(True, "")
        if block.has("usage"):
            for words in shell_commands(block.code):
                check_usage(words)
            return Outcome(True, "")
        if block.has("cassette"):
            from replaystream.cassette import Cassette

            Cassette.loads(block.code)
            return Outcome(True, "")
        if files and (block.is_python or block.is_shell):
            return Outcome(True, "")
        if block.is_python:
            return self.script(self.write(f"doc_{block.line}.py", block.code))
        if block.is_shell:
            return self.commands(block)
        parsers: dict[str, Callable[[str], Any]] = {"json": json.loads, "toml": tomllib.loads, "yaml": yaml.safe_load}
        if block.lang in parsers:
            parsers[block.lang](block.code)
        return Outcome(True, "")

    def write(self, relative: str, code: str) -> Path:
        path = self.folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(code, "utf-8")
        return path

    def script(self, path: Path, argv: list[str] | None = None) -> Outcome:
        with self.project_modules(), captured() as out:
            self.monkeypatch.setattr(sys, "argv", [str(path), *(argv or [])])
            try:
                runpy.run_path(str(path), run_name="__main__")
            except SystemExit as exc:
                ok = exc.code in (0, None)
            except Exception as exc:  # noqa: BLE001 (the block's own failure: reported, or expected by `fails`)
                tb = exc.__traceback__
                while tb is not None and tb.tb_frame.f_code.co_filename != str(path):
                    tb = tb.tb_next  # start the traceback at the example, as `python example.py` would
                traceback.print_exception(type(exc), exc, tb or exc.__traceback__)
                ok = False
            else:
                ok = True
        return Outcome(ok, out.getvalue())

    def commands(self, block: Block) -> Outcome:
        outputs = []
        for words in shell_commands(block.code):
            shown = shlex.join(words)
            env: dict[str, str] = {}
            while words and "=" in words[0] and words[0].split("=")[0].isidentifier():
                name, _, value = words.pop(0).partition("=")
                if value != "..." or not block.has("placeholder"):
                    env[name] = value
            outcome = self.command(words, env)
            outputs.append(f"$ {shown}\n{outcome.output}")
            if not outcome.ok:
                return Outcome(False, "\n".join(outputs))
        return Outcome(True, "\n".join(outputs))

    def command(self, words: list[str], env: dict[str, str]) -> Outcome:
        with self.monkeypatch.context() as mp:
            for name, value in env.items():
                mp.setenv(name, value)
            if PYTEST_LINE.match(" ".join(words)):
                return self.pytest(words[words.index("pytest") + 1:])
            if words[0] == "replaystream":
                from replaystream.cli import main

                with captured() as out:
                    code = main(words[1:])
                return Outcome(code == 0, out.getvalue())
            if words[0] in ("python", "python3") and len(words) > 1 and words[1].endswith(".py"):
                return self.script(self.folder / words[1], words[2:])
        raise AssertionError(f"the docs test cannot run `{' '.join(words)}`: make it a pytest, replaystream or "
                             "python command, or mark the block (e.g. <!-- doc: fragment -->)")

    def pytest(self, args: list[str]) -> Outcome:
        with self.project_modules(), captured() as out:
            code = pytest.main(["-p", "no:cacheprovider", *args])
        return Outcome(code == 0, out.getvalue())

    @contextlib.contextmanager
    def project_modules(self) -> Iterator[None]:
        """Afterwards, forget the modules of the project folder (its tests, conftest.py): the
        next example may have a test module of the same name. Library modules stay imported:
        dropping them (as pytester does) leaves two copies of LangChain's classes, and the
        next run's isinstance checks fail."""
        path = list(sys.path)
        try:
            yield
        finally:
            sys.path[:] = path
            folder = str(self.folder)
            for name, module in list(sys.modules.items()):
                if (getattr(module, "__file__", None) or "").startswith(folder):
                    del sys.modules[name]


def expect(block: Block, outcome: Outcome) -> None:
    fails = block.args("fails")
    if fails:
        error = fails[0][0]
        if outcome.ok:
            raise AssertionError(f"{block.id} is marked `fails {error}` but ran without failing:\n{outcome.output}")
        if error not in outcome.output:
            raise AssertionError(f"{block.id} failed, but not with {error} (its `fails` mark):\n{outcome.output}")
        return
    if not outcome.ok:
        raise AssertionError(f"{block.id} fails as written:\n{outcome.output}")


def check_output(block: Block, path: Path) -> Outcome:
    """The block's lines appear in the file, in order; ``...`` in a line matches anything."""
    assert path.is_file(), f"{block.id} shows the content of {path.name}, but the block before it did not write it"
    lines = iter(path.read_text("utf-8").splitlines())
    for shown in block.code.splitlines():
        pattern = re.compile(".*".join(re.escape(part) for part in shown.rstrip().split("...")))
        if not any(pattern.fullmatch(line.rstrip()) for line in lines):
            raise AssertionError(f"{block.id}: the line\n  {shown}\nis not in {path.name} (after the lines "
                                 f"before it); it has:\n{path.read_text('utf-8')}")
    return Outcome(True, "")


@contextlib.contextmanager
def captured() -> Iterator[io.StringIO]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        yield out


def shell_commands(code: str) -> list[list[str]]:
    """The simple commands of shell code, as words: comments dropped, ``\\`` continuations
    joined, ``&&`` lists split."""
    commands, current = [], ""
    for raw in code.splitlines():
        current += raw
        if current.endswith("\\"):
            current = current[:-1] + " "
            continue
        lexer = shlex.shlex(current, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words: list[str] = []
        for word in [*lexer, "&&"]:
            if word == "&&":
                if words:
                    commands.append(words)
                words = []
            else:
                words.append(word)
        current = ""
    return commands


# -- commands that are checked, not run ---------------------------------------------------------
def _normalise(words: list[str]) -> list[str]:
    words = ["python" if w == "python3" else w for w in words]
    if words[:2] == ["python", "-m"] and len(words) > 2:
        words = words[2:]  # `python -m pip` is pip
    return words


def _options(words: list[str]) -> tuple[list[str], set[str]]:
    """The command (the words before the first option) and its option names."""
    lead = []
    for w in words:
        if w.startswith("-"):
            break
        lead.append(w)
    return lead, {w.split("=")[0] for w in words if w.startswith("-")}


def _ci_commands(root: Path) -> list[list[str]]:
    text = (root / ".ci" / "run").read_text("utf-8").replace("||", "&&").replace(";", "&&")
    return [_normalise(words) for words in shell_commands(text)]


def check_against_ci(block: Block, root: Path) -> None:
    """Install and CI commands: pip installs name extras pyproject.toml defines, replaystream
    commands exist, and every other command is one .ci/run runs (same command, options a subset)."""
    project = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))["project"]
    extras = set(project["optional-dependencies"])
    ci = _ci_commands(root)
    ours = {".", project["name"]} | {w.partition("[")[0] for c in ci if c[:2] == ["pip", "install"] for w in c[2:]}
    for command in shell_commands(block.code):
        words = _normalise(command)
        shown = shlex.join(command)
        if words[:2] == ["pip", "install"]:
            for spec in (w for w in words[2:] if not w.startswith("-")):
                name, _, rest = spec.partition("[")
                wanted = set(filter(None, rest.rstrip("]").split(",")))
                assert name in ours, f"{block.id}: `{shown}` installs {spec!r}: not this project, nor what .ci/run installs"
                assert wanted <= extras, (f"{block.id}: `{shown}` names extras {sorted(wanted - extras)} "
                                          f"that pyproject.toml does not define (it has {sorted(extras)})")
            continue
        if words[0] == "replaystream":
            check_usage(words)
            continue
        lead, options = _options(words)
        assert any(_options(c)[0] == lead and options <= _options(c)[1] for c in ci), (
            f"{block.id}: `{shown}` is not a command .ci/run runs; the docs and CI must agree")


def check_usage(words: list[str]) -> None:
    """``replaystream SUB [--flag ...]``: the subcommand and every flag exist."""
    from replaystream.cli import build_parser

    assert words and words[0] == "replaystream", f"not a replaystream command: {shlex.join(words)}"
    parser = build_parser()
    sub = next(a for a in parser._actions if a.choices and isinstance(a.choices, dict))
    assert words[1] in sub.choices, f"`replaystream {words[1]}`: no such command (have {', '.join(sub.choices)})"
    known = sub.choices[words[1]]._option_string_actions
    for w in words[2:]:
        flag = w.strip("[]").split("=")[0]
        if flag.startswith("-"):
            assert flag in known, f"`replaystream {words[1]} {flag}`: no such option (have {', '.join(sorted(known))})"
