"""Fenced code blocks of the Markdown docs, with the ``<!-- doc: ... -->`` marks that say how
the docs test treats them.

A mark is an HTML comment on the line(s) right before the fence; one comment may hold
several marks separated by ``;``; arguments are shell-quoted::

    <!-- doc: setup polar-bear; emulator anthropic_stream "Polar bears|are white" -->
    ```python

Unmarked blocks run by their language: ``python`` as a script (or, when it is a pytest
test file, written to ``tests/test_example.py`` and run by the pytest command of the
``bash`` block right after it, else by plain ``pytest``), ``bash`` line by line, ``json`` /
``toml`` / ``yaml`` parsed. A first-line comment naming a file (``# tests/test_polar.py``,
``# tests/conftest.py``, ``# pyproject.toml``) makes the block that file of the project:
written there, not run as a script (a test file still runs with pytest). A block of any
other language must be marked, and so must a block containing ``...``: an elision is not
code the reader can run.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

#: Every mark, with what it means (the text of the error for an unknown one).
KINDS = {
    "fragment": "part of a program: not run (Python must still compile)",
    "output": "output [FILE]: what the block before it prints, not run; with FILE, that block runs and FILE "
              "(in the project folder) must contain these lines in order (`...` matches anything)",
    "text": "a diagram or listing, not code: not run",
    "fails": "fails ERROR [why]: runs, and must fail naming ERROR",
    "setup": "setup NAME: a block that `uses NAME` runs this one first, in the same folder",
    "uses": "uses NAME: run the `setup NAME` block(s) first",
    "emulator": 'emulator SCRIPT "ARG" [xN]: the provider emulator answers with this (see SCRIPTS in the test)',
    "file": "file PATH: the block is this file of the reader's project (written, not run)",
    "install": "installs or CI commands: checked against .ci/run and pyproject.toml, not run",
    "ci": "the commands CI runs: checked against .ci/run, not run",
    "usage": "a command synopsis: each `replaystream SUB --flag` checked against the CLI's parser",
    "placeholder": "`...` stands for the reader's own values (in `NAME=...` the test's placeholder is kept)",
    "cassette": "JSON that must load as a replaystream cassette",
}
#: The marks that account for a ``...`` in a block.
EXPLAINS_ELLIPSIS = frozenset({"fragment", "output", "text", "fails", "install", "ci", "usage", "placeholder",
                               "cassette"})
#: Marks of blocks that are not run at all.
NOT_RUN = frozenset({"fragment", "output", "text"})
_ARITY = {"fails": (1, 99), "setup": (1, 1), "uses": (1, 1), "emulator": (2, 3), "file": (1, 1), "output": (0, 1)}

FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
MARK = re.compile(r"^\s*<!--\s*doc:(?P<body>.*?)-->\s*$")
SHELLS = frozenset({"bash", "sh", "shell", "console"})
TEST_FILE = re.compile(r"^\s*(def test_|async def test_|@pytest\.mark)", re.M)
PYTEST_LINE = re.compile(r"^(\w+=\S*\s+)*(python3? -m )?pytest\b")
NAMED_FILE = re.compile(r"^# (?P<path>[\w./-]+\.(py|toml|ini|cfg|json|yaml))\s*$")  # "# tests/test_x.py"


class MarkError(Exception):
    """A block's marks are wrong: unknown, malformed, or missing where they are required."""


@dataclass(frozen=True)
class Mark:
    kind: str
    args: tuple[str, ...] = ()


@dataclass
class Block:
    doc: str  # path relative to the repository root, e.g. "README.md"
    line: int  # the block's first line of code (1-based), e.g. 57
    lang: str
    code: str
    marks: list[Mark] = field(default_factory=list)
    commands_block: Block | None = None  # a pytest test file: the bash block that runs it
    test_file: Block | None = None  # a bash block of pytest commands: the test file it runs
    problem: str | None = None  # a broken rule (MarkError text): the block's test fails with it
    previous: Block | None = None  # the block before it in the same document

    @property
    def id(self) -> str:
        return f"{self.doc}:L{self.line}"

    def has(self, kind: str) -> bool:
        return any(m.kind == kind for m in self.marks)

    def args(self, kind: str) -> list[tuple[str, ...]]:
        return [m.args for m in self.marks if m.kind == kind]

    @property
    def is_python(self) -> bool:
        return self.lang in ("python", "py", "python3")

    @property
    def is_shell(self) -> bool:
        return self.lang in SHELLS

    @property
    def is_test_file(self) -> bool:
        return self.is_python and bool(TEST_FILE.search(self.code))

    @property
    def runs(self) -> bool:
        return not any(m.kind in NOT_RUN and not m.args for m in self.marks)

    @property
    def named_file(self) -> str | None:
        """The path a first-line comment gives the block (``# tests/test_polar.py``), if any."""
        m = NAMED_FILE.match(self.code.partition("\n")[0])
        return m.group("path") if m else None


def parse_marks(comment_lines: list[tuple[int, str]], where: str) -> list[Mark]:
    marks = []
    for line_no, body in comment_lines:
        for part in body.split(";"):
            try:
                words = shlex.split(part)
            except ValueError as exc:
                raise MarkError(f"{where}: mark on line {line_no} does not parse ({exc}): {part.strip()!r}") from None
            if not words:
                continue
            kind, args = words[0], tuple(words[1:])
            if kind not in KINDS:
                known = "\n".join(f"  {k}: {v}" for k, v in KINDS.items())
                raise MarkError(f"{where}: unknown mark {kind!r} on line {line_no}; the marks are:\n{known}")
            lo, hi = _ARITY.get(kind, (0, 0))
            if not lo <= len(args) <= hi:
                raise MarkError(f"{where}: mark {kind!r} on line {line_no} takes {lo}-{hi} argument(s), "
                                f"got {len(args)}: {KINDS[kind]}")
            marks.append(Mark(kind, args))
    return marks


def extract(text: str, doc: str) -> list[Block]:
    """The fenced blocks of one Markdown text, in order, marks attached and checked."""
    lines = text.splitlines()
    blocks: list[Block] = []
    n = 0
    while n < len(lines):
        m = FENCE.match(lines[n])
        if not m:
            n += 1
            continue
        fence, indent = m.group("fence"), m.group("indent")
        lang = m.group("info").split()[0].lower() if m.group("info").strip() else ""
        end = n + 1
        while end < len(lines) and not (lines[end].strip().startswith(fence[0] * len(fence))
                                        and not lines[end].strip().strip(fence[0])):
            end += 1
        code = "\n".join(line[len(indent):] if line.startswith(indent) else line for line in lines[n + 1:end])
        comments = []
        k = n - 1
        while k >= 0 and (mk := MARK.match(lines[k])):
            comments.insert(0, (k + 1, mk.group("body")))
            k -= 1
        block = Block(doc, n + 2, lang, code + "\n")
        try:
            block.marks = parse_marks(comments, block.id)
        except MarkError as exc:
            block.problem = str(exc)
        block.previous = blocks[-1] if blocks else None
        blocks.append(block)
        n = end + 1
    _pair(blocks)
    for block in blocks:
        try:
            check(block)
        except MarkError as exc:
            block.problem = block.problem or str(exc)
    return blocks


def _pair(blocks: list[Block]) -> None:
    """A pytest test file and the shell block right after it that runs pytest: one example."""
    for first, second in zip(blocks, blocks[1:]):
        if first.is_test_file and first.runs and second.is_shell and second.runs \
                and any(PYTEST_LINE.match(line.strip()) for line in second.code.splitlines()):
            first.commands_block, second.test_file = second, first


def check(block: Block) -> None:
    """The rules every block must follow, whatever it is."""
    if "..." in block.code and not any(m.kind in EXPLAINS_ELLIPSIS for m in block.marks):
        raise MarkError(f"{block.id}: the block contains `...`, so it cannot run as written. Make it "
                        "runnable, or mark it on the line before the fence, e.g. <!-- doc: fragment --> "
                        "(not run), <!-- doc: output --> or <!-- doc: placeholder --> (`NAME=...` values)")
    known = block.is_python or block.is_shell or block.lang in ("json", "toml", "yaml")
    if not known and block.runs and not block.marks:
        raise MarkError(f"{block.id}: a ```{block.lang or '(no language)'} block the docs test cannot run: "
                        "mark it, e.g. <!-- doc: output --> or <!-- doc: text -->")
    if block.is_python and (block.runs or block.has("fragment")):  # a fragment still has to be Python
        try:
            compile(block.code, block.id, "exec", dont_inherit=True)
        except SyntaxError as exc:
            raise MarkError(f"{block.id}: not valid Python (line {exc.lineno}: {exc.msg})") from None


def doc_files(root: Path) -> list[Path]:
    """README.md and docs/*.md: the Markdown every block of which runs in CI."""
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def all_blocks(root: Path) -> list[Block]:
    return [b for path in doc_files(root) for b in extract(path.read_text("utf-8"), path.relative_to(root).as_posix())]
