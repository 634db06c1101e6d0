"""pytest plugin: options, the ``replay`` marker, fixtures and teardown checks.

A thin adapter over :func:`replaystream.use_cassette`. Precedence for every setting:
an option given on the command line > the closest ``replay`` marker > the
``replay_config`` fixture > the ini setting > the built-in default.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from . import hooks
from .errors import MissingExtraError, require_extras
from .options import MODES, PLUGIN_KEYS, Layer, OptionsError, ReplayOptions, resolve_options
from .wire.session import Session

if TYPE_CHECKING:
    from .cassette.model import Interaction

SUFFIX = ".json"
_USED_KEY = "replaystream_used"
_DIRS_KEY = "replaystream_dirs"

# The options with an ini setting ``replay_<key>`` and a flag ``--replay-<key>``: (ini type, help).
# Our own --replay-* namespace: pytest-recording already owns --record-mode and --block-network,
# and pytest refuses two plugins adding the same option.
_SETTINGS = {
    "mode": ("string", "record mode: none (default, offline), once, new_episodes, all, rewrite"),
    "pacing": ("string", "replay pacing: instant (default), recorded, or a speed factor like 2"),
    "cassette_dir": ("string", "root folder for cassettes (default: <test dir>/cassettes)"),
    "allow_network": ("bool", "do not block non-loopback sockets and DNS while replaying"),
}
MARKER_HELP = ("replay(*cassettes, " + ", ".join(f"{k}=..." for k in PLUGIN_KEYS if k != "cassettes") +
               "): record or replay this test's HTTP traffic through replaystream cassettes "
               "(the options of replaystream.ReplayOptions)")


def _flag(key: str) -> str:
    return "--replay-" + key.replace("_", "-")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("replaystream", "record and replay LLM streams")
    for key, (kind, text) in _SETTINGS.items():
        if kind == "bool":
            group.addoption(_flag(key), dest=f"replay_{key}", action="store_true", default=None, help=text)
            parser.addini(f"replay_{key}", text, type="bool", default=False)
        else:
            group.addoption(_flag(key), dest=f"replay_{key}", default=None, help=text,
                            choices=MODES if key == "mode" else None)
            parser.addini(f"replay_{key}", text)
    group.addoption("--replay-report-unused", dest="replay_report_unused", action="store_true", default=False,
                    help="list cassette files that no test used")


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hooks)


_used_key = pytest.StashKey[set[str]]()
_dirs_key = pytest.StashKey[set[str]]()
_report_key = pytest.StashKey[dict[str, pytest.TestReport]]()
_layers_key = pytest.StashKey[tuple[list[Layer], list[Layer]]]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    config.stash[_used_key] = set()
    config.stash[_dirs_key] = set()
    ini = [Layer(f"ini setting replay_{key}", {key: value}) for key in _SETTINGS
           if (value := config.getini(f"replay_{key}")) not in (None, "")]
    cli = [Layer(_flag(key), {key: value}) for key in _SETTINGS
           if (value := config.getoption(f"replay_{key}")) is not None]
    try:  # checked once, here: a bad value stops the run before any test
        resolve_options(*ini, *cli)
    except OptionsError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[_layers_key] = (ini, cli)


def _marker_layers(item: pytest.Item) -> list[Layer]:
    """The item's ``replay`` markers, lowest first (module, class, test): the closest wins."""
    layers = []
    for node, mark in reversed(list(item.iter_markers_with_node("replay"))):
        values = dict(mark.kwargs)
        if mark.args:
            values["cassettes"] = mark.args
        layers.append(Layer(f"replay marker on {node.nodeid}", values))
    return layers


def _resolve(item: pytest.Item, replay_config: Mapping[str, Any]) -> ReplayOptions:
    ini, cli = item.config.stash[_layers_key]
    return resolve_options(*ini, Layer("replay_config", replay_config), *_marker_layers(item), *cli)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    problems: dict[str, None] = {}  # ordered, and a module's marker is reported once
    valid: list[str] = []
    bad: set[int] = set()
    for n, item in enumerate(items):
        layers = _marker_layers(item)
        if not layers:
            continue  # unmarked tests pay nothing
        try:
            resolve_options(*layers)
        except OptionsError as exc:
            problems.update(dict.fromkeys(exc.problems))
            valid = valid or exc.valid
            bad.add(n)
        # A marked test gets its cassette without naming the fixture.
        if "replay_cassette" not in getattr(item, "fixturenames", ()):
            item.fixturenames.append("replay_cassette")  # type: ignore[attr-defined]
    if problems:
        # Every bad marker of the run in one collection error, before any test runs. Not a
        # UsageError: under xdist that crashes the workers; a collection report reaches the
        # controller (once, however many workers send it) and fails the run the same way.
        message = str(OptionsError(list(problems), valid))
        config.hook.pytest_collectreport(report=pytest.CollectReport(session.nodeid, "failed", message, []))
        items[:] = [item for n, item in enumerate(items) if n not in bad]  # reported: not run as well


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
        item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    item.stash.setdefault(_report_key, {})[report.when] = report
    return report


def safe_name(name: str) -> str:
    """A file name for a test id; reversible (percent-escapes), so two ids never collide."""
    return re.sub(r"[^A-Za-z0-9_.\-\[\]=,]", lambda m: "%" + "%".join(f"{b:02X}" for b in m.group().encode()), name)


@pytest.fixture
def replay_config() -> dict[str, Any]:
    """Override at any scope to set defaults: ``{"mode": "once", "pacing": "recorded", "scrub": {...}}``;
    the keys are a ``replay`` marker's (see :class:`replaystream.ReplayOptions`)."""
    return {}


@pytest.fixture
def replay_options(request: pytest.FixtureRequest, replay_config: dict[str, Any]) -> ReplayOptions:
    """This test's options: command line > closest ``replay`` marker > ``replay_config`` > ini > default."""
    try:
        return _resolve(request.node, replay_config)
    except OptionsError as exc:  # replay_config is only known now; markers were checked at collection
        message = str(exc)
    pytest.fail(message, pytrace=False)  # outside the except: no "during handling" chain


@pytest.fixture
def replay_cassette_dir(request: pytest.FixtureRequest, replay_options: ReplayOptions) -> Path:
    """``<cassette root>/<test module>``; the root is ``<test dir>/cassettes`` unless configured."""
    root = replay_options.cassette_dir
    module = Path(str(request.node.path))
    base = Path(root) if root else module.parent / "cassettes"
    if not base.is_absolute():
        base = Path(str(request.config.rootpath)) / base
    return base / module.stem


@pytest.fixture
def replay_cassette_name(request: pytest.FixtureRequest) -> str:
    """The test's own cassette file name: class and test name with parameters, escaped."""
    node = request.node
    parts = [node.cls.__name__] if getattr(node, "cls", None) is not None else []
    parts.append(node.name)
    return safe_name(".".join(parts)) + SUFFIX


@pytest.fixture
def replay_cassette(request: pytest.FixtureRequest, replay_options: ReplayOptions, replay_cassette_dir: Path,
                    replay_cassette_name: str) -> Iterator[Session]:
    """The test's active cassette: its HTTP traffic (httpx and httpx2) is recorded or replayed."""
    config = request.config
    options = replay_options
    paths = [_cassette_path(replay_cassette_dir, n) for n in options.cassettes] or \
        [replay_cassette_dir / replay_cassette_name]
    paths += [_cassette_path(replay_cassette_dir, str(p)) for p in options.extra]
    # The user's scrub hooks run first, then the conftest hook pytest_replaystream_before_record.
    scrub = replace(options.scrub, hooks=(*options.scrub.hooks, _hook_scrubber(config)))
    session = Session(paths[0], replace(options, scrub=scrub, extra=tuple(paths[1:])))
    config.stash[_used_key].update(str(p.resolve()) for p in paths)
    config.stash[_dirs_key].add(str(replay_cassette_dir.resolve()))
    token = session.start()
    try:
        yield session
    finally:
        # pytest does not throw the test's exception into fixtures: read the reports.
        reports = request.node.stash.get(_report_key, {})
        failed = any(r.failed for r in reports.values())
        session.finish(token, failed=failed)  # a failed test keeps the previous cassette
    unused = session.unused() if session.mode == "none" else []
    if unused and options.strict and not options.allow_unused and not failed:
        pytest.fail(
            f"{len(unused)} recorded interaction(s) in {session.path} were never replayed: "
            f"{', '.join(_describe(session, n) for n in unused[:5])}{' ...' if len(unused) > 5 else ''}.\n"
            "  The code under test made fewer requests than when it was recorded. Re-record with "
            "--replay-mode=rewrite, or mark the test @pytest.mark.replay(allow_unused=True).",
            pytrace=False)


def _describe(session: Session, n: int) -> str:
    rq = session.cassette.interactions[n].request
    return f"#{n} {rq.method} {rq.target}"


def _cassette_path(directory: Path, name: str) -> Path:
    p = Path(name)
    if p.suffix != SUFFIX:
        p = p.with_name(p.name + SUFFIX)
    return p if p.is_absolute() else directory / p


def _hook_scrubber(config: pytest.Config) -> Any:
    def run_hooks(interaction: Interaction) -> Interaction | None:
        current: Interaction | None = interaction
        for result in config.hook.pytest_replaystream_before_record(interaction=interaction):
            if result is False:
                return None
            if result is not None and result is not True:
                current = result
        return current
    return run_hooks


# -- unused cassette report (works under xdist: workers send their lists home) -------------
def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        used: set[str] = config.stash[_used_key]
        dirs: set[str] = config.stash[_dirs_key]
        workeroutput[_USED_KEY] = sorted(used)
        workeroutput[_DIRS_KEY] = sorted(dirs)


# Optional: the hook is xdist's, and a plain install (no xdist) must still load the plugin.
@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    out = getattr(node, "workeroutput", {}) or {}
    config: pytest.Config = node.config
    used: list[str] = out.get(_USED_KEY, [])
    dirs: list[str] = out.get(_DIRS_KEY, [])
    config.stash[_used_key].update(used)
    config.stash[_dirs_key].update(dirs)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if not config.getoption("replay_report_unused") or hasattr(config, "workerinput"):
        return
    used = config.stash[_used_key]
    unused = sorted(str(p) for d in config.stash[_dirs_key] for p in Path(d).glob(f"*{SUFFIX}")
                    if str(p.resolve()) not in used)
    terminalreporter.section("replaystream: unused cassettes")
    if unused:
        for path in unused:
            terminalreporter.write_line(path)
    else:
        terminalreporter.write_line("every cassette in the used folders was used")


# -- fixtures built on the fakes and snapshots (imported lazily: LangChain is heavy) ------
def _require_langchain(fixture: str) -> None:
    """Fail the test with the extra to install, in one line (the message is all there is to say)."""
    try:
        require_extras(f"the {fixture} fixture", "langchain")
    except MissingExtraError as exc:
        message = f"{type(exc).__name__}: {exc}"
    else:
        return
    pytest.fail(message, pytrace=False)  # outside the except: no "during handling" chain


@pytest.fixture
def replay_chat_model(replay_cassette: Session) -> Any:
    """A ``ReplayChatModel`` replaying the chat streams of the test's cassette."""
    _require_langchain("replay_chat_model")
    from .langchain.fakes import ReplayChatModel
    from .langchain.fakes.wire import CHAT_APIS

    model = ReplayChatModel.from_cassette(replay_cassette.cassette)
    chat = [n for n, i in enumerate(replay_cassette.cassette.interactions) if (i.provider, i.api) in CHAT_APIS]
    replay_cassette.index.mark_used(chat)  # replayed at the message level: not "unused"
    return model


@pytest.fixture
def event_snapshot(request: pytest.FixtureRequest) -> Any:
    """syrupy's ``snapshot``, writing one-event-per-line ``.events.txt`` files.

    ``assert event_snapshot == events`` takes raw ``astream_events`` output or normalised events.
    """
    _require_langchain("event_snapshot")  # before syrupy's fixture is asked for: it may not exist
    from .langchain.snapshot import event_snapshot as use

    return use(request.getfixturevalue("snapshot"))
