"""``ReplayTool``: record a real tool's inputs and outputs, then replay them offline.

The wrapper is a real ``BaseTool`` with the wrapped tool's name, description and
argument schema, so ``bind_tools`` and ``astream_events`` (``on_tool_start`` /
``on_tool_end``) see the same tool. In record mode it calls the wrapped tool's
``_run`` / ``_arun`` *inside its own run*: runnables the tool invokes stay children of
this tool's run, and no second tool run appears in the events.

Without a cassette argument it follows the open cassette (a ``@pytest.mark.replay``
test's, or a ``use_cassette`` block's): its calls are typed ``tool`` records in that
cassette, saved with it, and the cassette's mode says whether they are recorded or replayed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langchain_core.tools.base import _get_runnable_config_param
from langchain_core.utils._signature import _signature_parameters
from pydantic import BaseModel, PrivateAttr

from ...cassette.model import Cassette, Record
from ...errors import RecordingError, UsageError
from ...wire.matching import unnumbered
from ...wire.scrub import Scrubber, highest_in
from ...wire.session import Session, active_session
from .errors import ToolReplayMissError

RECORD_KIND = "tool"
Mode = Literal["record", "replay"]


def _keyer() -> Callable[[Any], str]:
    """Inputs as they are matched and shown: scrubbed as they are stored (a key passed as an
    argument is never printed), every placeholder read as one. One scrubber per lookup."""
    scrubber = Scrubber()
    book = scrubber.book()
    return lambda value: unnumbered(json.dumps(scrubber.for_match(value, book), sort_keys=True,
                                               ensure_ascii=False, default=str))


class ReplayTool(BaseTool):
    """A tool that records calls to a real tool, or replays recorded outputs.

    Example (in a ``@pytest.mark.replay`` test, or inside ``use_cassette``)::

        tool = ReplayTool.wrap(search)           # follows the open cassette and its mode
        tool.invoke({"query": "polar bears"})   # recorded (or replayed); saved with the cassette

    With a cassette of its own::

        tool = ReplayTool.wrap(search, "cassettes/search.json", mode="record")
        tool.invoke({"query": "polar bears"})   # calls search, keeps input and output
        tool.save()                              # atomic write

        tool = ReplayTool.wrap(search, "cassettes/search.json")     # mode="replay"
        tool.invoke({"query": "polar bears"})   # the recorded output; search not called

    Without the real tool, ``ReplayTool.stand_in("search", cassette, args_schema=...)``
    replays by name. Repeated inputs get their recorded outputs in order. In replay mode
    an input with no record raises :class:`ToolReplayMissError` (listing the recorded
    inputs) when ``strict`` (the default); with ``strict=False`` a wrapped tool is
    called live instead, and its result is not recorded.
    """

    mode: Mode = "replay"
    strict: bool = True

    _tool: BaseTool | None = PrivateAttr(default=None)
    _cassette: Cassette = PrivateAttr(default_factory=Cassette)
    _used: dict[str, int] = PrivateAttr(default_factory=dict)
    _follow: bool = PrivateAttr(default=False)  # the cassette is the open session's
    _session: Session | None = PrivateAttr(default=None)
    _record_misses: bool = PrivateAttr(default=False)  # replay hits, record new inputs

    # -- construction ------------------------------------------------------------------
    @classmethod
    def wrap(cls, tool: BaseTool, cassette: Cassette | str | os.PathLike[str] | None = None, *,
             mode: Mode | None = None, strict: bool = True) -> ReplayTool:
        """Stand in for ``tool``, reading and writing ``tool`` records in ``cassette``.

        Without ``cassette``, the records live in the cassette open when the tool is called
        (the test's, or ``use_cassette``'s) and are saved with it; its mode decides: ``none``
        replays, ``all`` / ``rewrite`` record, ``new_episodes`` (and ``once`` on a new
        cassette) replay recorded inputs and record new ones. With ``cassette``, ``mode``
        is ``"replay"`` (the default) or ``"record"``, and :meth:`save` writes it.

        In record mode the cassette's earlier records for this tool are dropped (a
        fresh recording); other records in it are kept.
        """
        fields: dict[str, Any] = {"name": tool.name, "description": tool.description,
                                  "args_schema": tool.args_schema, "return_direct": tool.return_direct,
                                  "response_format": tool.response_format,
                                  "handle_tool_error": tool.handle_tool_error,
                                  "handle_validation_error": tool.handle_validation_error}
        replay = cls(mode=mode or "replay", strict=strict, **fields)
        replay._tool = tool
        if cassette is None:
            if mode is not None:
                raise UsageError(f"ReplayTool.wrap({tool.name!r}, mode={mode!r}) without a cassette: the open "
                                 "cassette's mode decides; pass a cassette path to choose the mode yourself")
            replay._follow = True
            return replay
        replay._cassette = _open(cassette, create=mode == "record")
        if mode == "record":
            replay._drop_records()
        return replay

    @classmethod
    def stand_in(cls, name: str, cassette: Cassette | str | os.PathLike[str] | None = None, *,
                 description: str = "", args_schema: type[BaseModel] | dict[str, Any] | None = None,
                 **kwargs: Any) -> ReplayTool:
        """Replay a tool by name when the real one is not importable here (from the open
        cassette when ``cassette`` is not given)."""
        replay = cls(name=name, description=description or f"Replays recorded calls to {name}.",
                     args_schema=args_schema, mode="replay", **kwargs)
        if cassette is None:
            replay._follow = True
        else:
            replay._cassette = _open(cassette, create=False)
        return replay

    def _bind(self) -> None:
        """Follow the open cassette: bind to it (and its mode) when it is a new one."""
        if not self._follow:
            return
        session = active_session()
        if session is None:
            raise UsageError(f"ReplayTool({self.name!r}) follows the open cassette, but none is open: call it in "
                             "a @pytest.mark.replay test or inside replaystream.use_cassette(...), or pass "
                             "ReplayTool.wrap a cassette path")
        if session is self._session:
            return
        self._session, self._cassette = session, session.cassette
        self._used.clear()
        records = session.can_record and self._tool is not None  # a stand-in has nothing to record
        self.mode = "record" if records and not session.can_replay else "replay"
        self._record_misses = records and session.can_replay
        if self.mode == "record":
            self._drop_records()

    def _drop_records(self) -> None:
        self._cassette.records = [r for r in self._cassette.records
                                  if not (r.kind == RECORD_KIND and r.name == self.name)]

    @property
    def cassette(self) -> Cassette:
        return self._cassette

    @property
    def records(self) -> list[Record]:
        return [r for r in self._cassette.records if r.kind == RECORD_KIND and r.name == self.name]

    def save(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Write the cassette atomically (to where it was opened, unless ``path``), its
        records scrubbed of secrets as a session scrubs them."""
        scrubber = Scrubber()
        scrubber.finish(self._cassette, scrubber.book(start=lambda: highest_in(self._cassette)))
        return self._cassette.save(path)

    def reset(self) -> None:
        """Replay repeated inputs from their first recorded output again."""
        self._used.clear()

    # -- calls ---------------------------------------------------------------------------
    def _input(self, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
        """The call's input as JSON: a dict of named arguments when there is a schema."""
        fields = list(self.args) if self.args_schema is not None else []
        if args and len(args) <= len(fields):
            return {**dict(zip(fields, args)), **kwargs}
        if args:
            return args[0] if len(args) == 1 and not kwargs else {"args": list(args), **kwargs}
        return kwargs

    def _replay(self, value: Any) -> Any:
        _key = _keyer()
        key = _key(value)
        matches = [r for r in self.records if _key(r.data.get("input")) == key]
        used = self._used.get(key, 0)
        if used < len(matches):
            self._used[key] = used + 1
            return self._output(matches[used].data)
        if matches and not self.strict:
            return self._output(matches[-1].data)
        inputs = "\n".join(f"    {_key(r.data.get('input'))}" for r in self.records) or "    (none)"
        why = (f"all {len(matches)} recorded call(s) with this input were already replayed"
               if matches else "no recorded call has this input")
        raise ToolReplayMissError(
            f"ReplayTool({self.name!r}) in {self._cassette.path or '<cassette>'}: {why}\n"
            f"  input: {key}\n  recorded inputs:\n{inputs}\n"
            + ("  hint: record it with --replay-mode=new_episodes (use_cassette: mode='new_episodes')"
               if self._follow else "  hint: record again with mode='record'")
            + ", or pass strict=False to call the real tool")

    def _output(self, data: dict[str, Any]) -> Any:
        out = data.get("output")
        # JSON has no tuples: a (content, artifact) pair comes back as a two-item list.
        if self.response_format == "content_and_artifact" and isinstance(out, list) and len(out) == 2:
            return tuple(out)
        return out

    def _record(self, value: Any, output: Any) -> None:
        stored = list(output) if isinstance(output, tuple) else output
        try:
            json.dumps(stored)
        except (TypeError, ValueError) as exc:
            raise RecordingError(
                f"ReplayTool({self.name!r}): output of type {type(output).__name__} cannot be "
                f"stored as JSON ({exc}); return str, numbers, lists or dicts from the tool") from None
        self._cassette.records.append(Record(RECORD_KIND, self.name, {"input": value, "output": stored}))

    def _inner_kwargs(self, method: Any, kwargs: dict[str, Any], config: RunnableConfig,
                      run_manager: Any) -> dict[str, Any]:
        out = dict(kwargs)
        if run_manager is not None and _signature_parameters(method).get("run_manager"):
            out["run_manager"] = run_manager
        if param := _get_runnable_config_param(method):
            out[param] = config
        return out

    def _live(self) -> BaseTool:
        if self._tool is None:
            raise ToolReplayMissError(f"ReplayTool({self.name!r}) has no real tool to call "
                                      "(made with stand_in); record it where the tool exists")
        return self._tool

    def _replayed(self, value: Any) -> tuple[bool, Any]:
        """``(True, output)`` when the recording answers; ``(False, None)`` to call the tool."""
        self._bind()
        if self.mode != "replay":
            return False, None
        try:
            return True, self._replay(value)
        except ToolReplayMissError:
            if self._record_misses or (not self.strict and self._tool is not None):
                return False, None
            raise

    def _called(self, value: Any, output: Any) -> Any:
        if self.mode == "record" or self._record_misses:
            self._record(value, output)
        return output

    # The logic above is shared; the two entry points differ only in how they call the tool.
    def _run(self, *args: Any, config: RunnableConfig,
             run_manager: CallbackManagerForToolRun | None = None, **kwargs: Any) -> Any:
        value = self._input(args, kwargs)
        hit, output = self._replayed(value)
        if hit:
            return output
        tool = self._live()
        return self._called(value, tool._run(*args, **self._inner_kwargs(tool._run, kwargs, config, run_manager)))

    async def _arun(self, *args: Any, config: RunnableConfig,
                    run_manager: AsyncCallbackManagerForToolRun | None = None, **kwargs: Any) -> Any:
        value = self._input(args, kwargs)
        hit, output = self._replayed(value)
        if hit:
            return output
        tool = self._live()
        # BaseTool._arun converts an async run manager for a sync _run itself.
        return self._called(value, await tool._arun(*args, **self._inner_kwargs(tool._arun, kwargs, config,
                                                                                  run_manager)))


def _open(cassette: Cassette | str | os.PathLike[str], *, create: bool) -> Cassette:
    if isinstance(cassette, Cassette):
        return cassette
    path = Path(cassette)
    if create and not path.exists():
        return Cassette(path=path)
    return Cassette.load(path)
