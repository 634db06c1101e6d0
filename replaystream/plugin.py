"""pytest plugin: options, the ``replay`` marker, fixtures and teardown checks.

A thin adapter over :func:`replaystream.use_cassette`. Precedence for every setting:
an option given on the command line > the closest ``replay`` marker > the
``replay_config`` fixture > the ini setting > the built-in default.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from . import hooks
from .wire.matching import MatchConfig
from .wire.scrub import Scrubber
from .wire.session import MODES, Session

if TYPE_CHECKING:
    from .cassette.model import Interaction

SUFFIX = ".json"
_USED_KEY = "replaystream_used"
_DIRS_KEY = "replaystream_dirs"

# (option dest, ini name, help, built-in default)
_SETTINGS = {
    "mode": ("replay_mode", "record mode: none (default, offline), once, new_episodes, all, rewrite", "none"),
    "pacing": ("replay_pacing", "replay pacing: instant (default), recorded, or a speed factor like 2", "instant"),
    "cassette_dir": ("replay_cassette_dir", "root folder for cassettes (default: <test dir>/cassettes)", None),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    # Our own --replay-* namespace: pytest-recording already owns --record-mode and
    # --block-network, and pytest refuses two plugins adding the same option.
    group = parser.getgroup("replaystream", "record and replay LLM streams")
    group.addoption("--replay-mode", dest="replay_mode", choices=MODES, default=None, help=_SETTINGS["mode"][1])
    group.addoption("--replay-pacing", dest="replay_pacing", default=None, help=_SETTINGS["pacing"][1])
    group.addoption("--replay-cassette-dir", dest="replay_cassette_dir", default=None,
                    help=_SETTINGS["cassette_dir"][1])
    group.addoption("--replay-allow-network", dest="replay_allow_network", action="store_true", default=None,
                    help="do not block non-loopback sockets and DNS while replaying")
    group.addoption("--replay-report-unused", dest="replay_report_unused", action="store_true", default=False,
                    help="list cassette files that no test used")
    for key, (ini, text, default) in _SETTINGS.items():
        parser.addini(ini, text, default=default)
    parser.addini("replay_allow_network", "do not block the network while replaying", type="bool", default=False)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hooks)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "replay(*cassettes, mode=None, pacing=None, match=None, ignore_fields=(), match_headers=(), "
        "allow_unused=False, allow_repeats=False, strict=True, faults=()): record or replay this test's HTTP traffic "
        "through replaystream cassettes",
    )
    config.stash[_used_key] = set()
    config.stash[_dirs_key] = set()


_used_key = pytest.StashKey[set[str]]()
_dirs_key = pytest.StashKey[set[str]]()
_report_key = pytest.StashKey[dict[str, pytest.TestReport]]()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A marked test gets its cassette without naming the fixture; unmarked tests pay nothing.
    for item in items:
        if item.get_closest_marker("replay") is not None and "replay_cassette" not in getattr(item, "fixturenames", ()):
            item.fixturenames.append("replay_cassette")  # type: ignore[attr-defined]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
        item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    item.stash.setdefault(_report_key, {})[report.when] = report
    return report


def _marker_options(node: pytest.Item) -> tuple[list[str], dict[str, Any]]:
    names: list[str] = []
    options: dict[str, Any] = {}
    # iter_markers yields the closest first (test, then class, then module): closest wins.
    for mark in node.iter_markers("replay"):
        if not names and mark.args:
            names = [str(a) for a in mark.args]
        for k, v in mark.kwargs.items():
            options.setdefault(k, v)
    return names, options


def _resolve(config: pytest.Config, key: str, marker: dict[str, Any], fixture: dict[str, Any]) -> Any:
    cli = config.getoption(f"replay_{key}")
    if cli is not None:
        return cli
    if key in marker:
        return marker[key]
    if key in fixture:
        return fixture[key]
    return config.getini(_SETTINGS[key][0])


def safe_name(name: str) -> str:
    """A file name for a test id; reversible (percent-escapes), so two ids never collide."""
    return re.sub(r"[^A-Za-z0-9_.\-\[\]=,]", lambda m: "%" + "%".join(f"{b:02X}" for b in m.group().encode()), name)


@pytest.fixture
def replay_config() -> dict[str, Any]:
    """Override at any scope to set defaults: ``{"mode": "once", "pacing": "recorded", "match": ...}``."""
    return {}


@pytest.fixture
def replay_cassette_dir(request: pytest.FixtureRequest, replay_config: dict[str, Any]) -> Path:
    """``<cassette root>/<test module>``; the root is ``<test dir>/cassettes`` unless configured."""
    _, marker = _marker_options(request.node)
    root = _resolve(request.config, "cassette_dir", marker, replay_config)
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
def replay_cassette(request: pytest.FixtureRequest, replay_config: dict[str, Any], replay_cassette_dir: Path,
                    replay_cassette_name: str) -> Iterator[Session]:
    """The test's active cassette: its HTTP traffic (httpx and httpx2) is recorded or replayed."""
    config = request.config
    names, marker = _marker_options(request.node)
    paths = [_cassette_path(replay_cassette_dir, n) for n in names] or [replay_cassette_dir / replay_cassette_name]
    mode = _resolve(config, "mode", marker, replay_config)
    pacing = _resolve(config, "pacing", marker, replay_config)
    allow_network = config.getoption("replay_allow_network") or marker.get("allow_network") or \
        replay_config.get("allow_network") or config.getini("replay_allow_network")
    match = marker.get("match") or replay_config.get("match")
    if match is None:
        match = MatchConfig(ignore_fields=tuple(marker.get("ignore_fields", replay_config.get("ignore_fields", ()))),
                            headers=tuple(marker.get("match_headers", replay_config.get("match_headers", ()))))
    elif isinstance(match, dict):
        match = MatchConfig(**match)
    scrubber = Scrubber(hooks=[_hook_scrubber(config)], **replay_config.get("scrub", {}))
    session = Session(paths[0], mode=mode, match=match, pacing=pacing, scrub=scrubber,
                      allow_repeats=bool(marker.get("allow_repeats", replay_config.get("allow_repeats", False))),
                      offline=False if allow_network else None, extra=paths[1:],
                      faults=marker.get("faults", replay_config.get("faults", ())))
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
    strict = marker.get("strict", replay_config.get("strict", True))
    allow_unused = marker.get("allow_unused", replay_config.get("allow_unused", False))
    unused = session.unused() if session.mode == "none" else []
    if unused and strict and not allow_unused and not failed:
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
@pytest.fixture
def replay_chat_model(replay_cassette: Session) -> Any:
    """A ``ReplayChatModel`` replaying the chat streams of the test's cassette."""
    from .langchain.fakes import ReplayChatModel
    from .langchain.fakes.wire import CHAT_APIS

    model = ReplayChatModel.from_cassette(replay_cassette.cassette)
    chat = [n for n, i in enumerate(replay_cassette.cassette.interactions) if (i.provider, i.api) in CHAT_APIS]
    replay_cassette.index.mark_used(chat)  # replayed at the message level: not "unused"
    return model


@pytest.fixture
def event_snapshot(snapshot: Any) -> Any:
    """syrupy's ``snapshot``, writing one-event-per-line ``.events.txt`` files.

    ``assert event_snapshot == events`` takes raw ``astream_events`` output or normalised events.
    """
    from .langchain.snapshot import event_snapshot as use

    return use(snapshot)
