"""pytest plugin: options, the ``replay`` marker, fixtures and teardown checks.

A thin adapter over :func:`replaystream.use_cassette`. Precedence for every setting:
an option given on the command line > the closest ``replay`` marker > the
``replay_config`` fixture > the ini setting > the built-in default.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Hashable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from . import hooks
from . import pytest_lifecycle as lifecycle
from .cassette.store import forget_run
from .options import MODES, PLUGIN_KEYS, Layer, OptionsError, ReplayOptions, resolve_options
from .wire import keys
from .wire.advice import PytestAdvice
from .pytest_fixtures import event_snapshot as event_snapshot  # fixtures: pytest finds them here
from .pytest_fixtures import replay_chat_model as replay_chat_model
from .pytest_fixtures import replay_chat_model_factory as replay_chat_model_factory
from .pytest_plan import Overrides, Plan, Resolved, SessionOptions, marks_key, plan_key, secrets_of
from .pytest_paths import (SUFFIX, cassette_dir, cassette_paths, default_name_of, known_secrets, was_shortened,
                           without_secrets)

if TYPE_CHECKING:
    from .cassette.model import Interaction
    from .wire.session import Session

_USED_KEY = "replaystream_used"
_DIRS_KEY = "replaystream_dirs"
_SHARED_KEY = "replaystream_shared"
_RUN_KEY = "replaystream_run"

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
                    help="list stale cassette files: in the folders of tests that ran, owned by no collected test")


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hooks)


_used_key = pytest.StashKey[set[str]]()
_dirs_key = pytest.StashKey[set[str]]()
_report_key = pytest.StashKey[dict[str, pytest.TestReport]]()
_layers_key = pytest.StashKey[tuple[list[Layer], list[Layer]]]()
_collected_key = pytest.StashKey[list[pytest.Item]]()
_users_key = pytest.StashKey[dict[str, list[str]]]()  # cassette path -> the tests that used it, in order
_fresh_key = pytest.StashKey[set[str]]()  # cassettes this run recorded from scratch (rewrite, or once)
_keys_key = pytest.StashKey[list[str]]()  # the placeholder keys this run holds
_run_key = pytest.StashKey[str]()  # this run's id, the same in every xdist worker (rewrite once per run)
_shared_key = pytest.StashKey[dict[str, lifecycle.SharedUse]]()  # shared cassette -> what its tests replayed
_resolved_key = pytest.StashKey[Resolved]()
_overrides_key = pytest.StashKey[Overrides]()
_session_options_key = pytest.StashKey[SessionOptions]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    config.stash[_used_key] = set()
    config.stash[_dirs_key] = set()
    ini = [Layer(f"ini setting replay_{key}", {key: value}) for key in _SETTINGS
           if (value := config.getini(f"replay_{key}")) not in (None, "")]
    cli = [Layer(_flag(key), {key: value}) for key in _SETTINGS
           if (value := config.getoption(f"replay_{key}")) is not None]
    try:  # checked once, here: a bad value stops the run before any test
        run = resolve_options(*ini, *cli)
    except OptionsError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[_layers_key] = (ini, cli)
    config.stash[_resolved_key] = Resolved()
    config.stash[_overrides_key] = Overrides(_OVERRIDABLE)
    config.stash[_session_options_key] = SessionOptions(_hook_scrubber(config))
    config.stash[_users_key] = {}
    config.stash[_fresh_key] = set()
    config.stash[_shared_key] = {}
    # A random id (not uuid: its import would cost every start-up).
    config.stash[_run_key] = getattr(config, "workerinput", {}).get(_RUN_KEY) or os.urandom(16).hex()
    # A run that only replays needs no key: placeholders before collection, so a client
    # built at module level (openai.OpenAI(), ChatOpenAI(...)) starts. Other runs get them
    # per test, while its cassette only replays (see Session).
    config.stash[_keys_key] = keys.acquire() if run.mode == "none" else []


def pytest_unconfigure(config: pytest.Config) -> None:
    keys.release(config.stash.get(_keys_key, []))
    config.stash[_keys_key] = []
    if not hasattr(config, "workerinput") and _run_key in config.stash:
        forget_run(config.stash[_run_key])


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: the workers share the controller's run id."""
    node.workerinput[_RUN_KEY] = node.config.stash[_run_key]


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
    ini, cli = config.stash[_layers_key]
    users = config.stash[_users_key]
    resolved: dict[Hashable, tuple[ReplayOptions, tuple[str, ...]]] = {}  # a module's tests share their markers
    for n, item in enumerate(items):
        if item.get_closest_marker("replay") is None:
            continue  # unmarked tests pay nothing
        key = marks_key(item)
        try:
            if key is None or key not in resolved:
                options = resolve_options(*ini, *_marker_layers(item), *cli)
                found = (options, tuple(known_secrets(options)))
                if key is not None:
                    resolved[key] = found
            options, secrets = found if key is None else resolved[key]
            # Which tests will share a cassette, known before any runs (replay_config may still
            # move one: the fixture adds what really happens).
            plan = Plan(options, cassette_dir(item, options), default_name_of(item, secrets), secrets)
            item.stash[plan_key] = plan
            planned = cassette_paths(plan.directory, options, plan.name)[0]
            users.setdefault(config.stash[_resolved_key](planned), []).append(item.nodeid)
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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    """A test replaying offline is guarded from its setup on (see :mod:`.pytest_lifecycle`)."""
    if "replay_cassette" in getattr(item, "fixturenames", ()):
        plan = item.stash.get(plan_key, None)
        if plan is not None:
            options: ReplayOptions | None = plan.options
        else:  # it asked for replay_cassette without a marker
            ini, cli = item.config.stash[_layers_key]
            try:
                options = resolve_options(*ini, *_marker_layers(item), *cli)
            except OptionsError:
                options = None  # reported by the fixture
        if options is not None and options.blocks_network:
            lifecycle.start_guard(item, PytestAdvice(item.nodeid, (_arg(item.config, item.nodeid),)))
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, None, None]:
    """After the teardown: lift the guard, and save the test's recordings if it passed."""
    try:
        result = yield
    except BaseException:
        lifecycle.take_saves(item)  # a teardown error: nothing is saved
        raise
    finally:
        lifecycle.stop_guard(item)
    if lifecycle.passed(item.stash.get(_report_key, {})):
        for save in lifecycle.take_saves(item):
            save()
    return result


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
        item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    item.stash.setdefault(_report_key, {})[report.when] = report
    return report


@pytest.fixture
def replay_config() -> dict[str, Any]:
    """Override at any scope to set defaults: ``{"mode": "once", "pacing": "recorded", "scrub": {...}}``;
    the keys are a ``replay`` marker's (see :class:`replaystream.ReplayOptions`)."""
    return {}


@pytest.fixture
def _replay_item(request: pytest.FixtureRequest) -> pytest.Item:
    """The test. The fixtures below take it instead of ``request``: pytest builds a fixture
    definition each time a fixture asks for ``request``, a cost paid by every test."""
    item: pytest.Item = request.node
    return item


@pytest.fixture
def replay_options(_replay_item: pytest.Item, replay_config: dict[str, Any]) -> ReplayOptions:
    """This test's options: command line > closest ``replay`` marker > ``replay_config`` > ini > default."""
    plan = _replay_item.stash.get(plan_key, None)
    if plan is not None and not replay_config:
        return plan.options
    try:
        return _resolve(_replay_item, replay_config)
    except OptionsError as exc:  # replay_config is only known now; markers were checked at collection
        message = str(exc)
    pytest.fail(message, pytrace=False)  # outside the except: no "during handling" chain


@pytest.fixture
def replay_cassette_dir(_replay_item: pytest.Item, replay_options: ReplayOptions) -> Path:
    """``<cassette root>/<test module>``; the root is ``<test dir>/cassettes`` unless configured."""
    plan = _replay_item.stash.get(plan_key, None)
    return plan.directory if plan is not None and plan.options is replay_options else cassette_dir(_replay_item,
                                                                                                   replay_options)


@pytest.fixture
def replay_cassette_name(_replay_item: pytest.Item, replay_options: ReplayOptions) -> str:
    """The test's own cassette file name: class and test name with parameters, escaped, no
    secret value in it, at most 240 bytes (see :mod:`replaystream.pytest_paths`)."""
    plan = _replay_item.stash.get(plan_key, None)
    return plan.name if plan is not None and plan.options is replay_options else default_name_of(
        _replay_item, secrets_of(_replay_item, replay_options))


#: The fixtures replay_cassette reads, which a conftest, module or class may override.
_OVERRIDABLE = {"replay_config": replay_config, "replay_options": replay_options,
                "replay_cassette_dir": replay_cassette_dir, "replay_cassette_name": replay_cassette_name}


def _test_options(request: pytest.FixtureRequest, item: pytest.Item) -> tuple[ReplayOptions, Path, str]:
    """The test's options, cassette folder and name. Each is a fixture a user may override;
    when none is (the common case) they come from collection's plan without running the
    fixtures, which pytest makes cost more than what they compute."""
    if item.config.stash[_overrides_key](item):
        return (request.getfixturevalue("replay_options"), request.getfixturevalue("replay_cassette_dir"),
                request.getfixturevalue("replay_cassette_name"))
    plan = item.stash.get(plan_key, None)
    if plan is not None:
        return plan.options, plan.directory, plan.name
    try:  # it asked for replay_cassette without a marker
        options = _resolve(item, {})
    except OptionsError as exc:
        message = str(exc)
    else:
        return options, cassette_dir(item, options), default_name_of(item, secrets_of(item, options))
    pytest.fail(message, pytrace=False)


@pytest.fixture
def replay_cassette(request: pytest.FixtureRequest) -> Iterator[Session]:
    """The test's active cassette: its HTTP traffic (httpx and httpx2) is recorded or replayed.
    Reads ``replay_options``, ``replay_cassette_dir`` and ``replay_cassette_name`` (and, through
    them, ``replay_config``): override any of them to change it."""
    item: pytest.Item = request.node
    config = item.config
    options, replay_cassette_dir, replay_cassette_name = _test_options(request, item)
    paths = cassette_paths(replay_cassette_dir, options, replay_cassette_name)
    resolved = config.stash[_resolved_key]
    own = resolved(paths[0])
    fresh = config.stash[_fresh_key]
    mode = "new_episodes" if own in fresh and options.mode in ("rewrite", "once") else options.mode
    # ^ a cassette shared by tests is recorded afresh once per run: the later tests add theirs to it
    nodeid = item.nodeid
    users = config.stash[_users_key].setdefault(own, [])
    if nodeid not in users:
        users.append(nodeid)
    shared = len(users) > 1
    # Errors name the command that fixes them: this test, and the others that share its cassette.
    advice = PytestAdvice(str(paths[0]), tuple(_arg(config, n) for n in [nodeid, *(u for u in users if u != nodeid)]))
    test_id = without_secrets(nodeid, secrets_of(item, options))  # written into the cassette
    from .wire.session import Session  # here: a run without cassettes never loads the session stack

    session = Session(paths[0], config.stash[_session_options_key](options, tuple(paths[1:]), mode), advice=advice,
                      recorded_by=test_id, run=config.stash[_run_key])
    if was_shortened(paths[0].name):
        session.cassette.meta.setdefault("test_id", test_id)  # the name no longer says it in full
    if not session.offline:
        lifecycle.stop_guard(item)  # replay_config made it record: the setup guard was a guess
    config.stash[_used_key].update(resolved(p) for p in paths)
    config.stash[_dirs_key].add(resolved(replay_cassette_dir))
    token = session.start()
    try:
        yield session
    finally:
        # pytest does not throw the test's exception into fixtures: read the reports.
        reports = item.stash.get(_report_key, {})
        failed = any(r.failed for r in reports.values())
        # Saved after the teardown, if the whole test passed (see pytest_runtest_teardown);
        # a failed, skipped or interrupted test keeps the previous cassette.
        session.finish(token, failed=failed, save=False)
    if not failed:
        lifecycle.save_later(item, lambda: _save(session, fresh, own, mode))
    # Faults may stop the code early: the interactions they explain are not an error.
    unused = session.unexplained_unused() if session.mode == "none" else []
    checked = session.mode == "none" and options.strict and not options.allow_unused and not failed
    if shared and checked:  # each test answers for what it recorded; the rest is reported once
        use = config.stash[_shared_key].setdefault(str(paths[0]), lifecycle.SharedUse())
        unused = use.add(test_id, session, [_describe(session, n) for n in range(len(session.cassette.interactions))])
    if unused and checked:
        pytest.fail(
            f"{len(unused)} recorded interaction(s) in {session.path} were never replayed: "
            f"{', '.join(_describe(session, n) for n in unused[:5])}{' ...' if len(unused) > 5 else ''}.\n"
            f"  The code under test made fewer requests than when it was recorded. {advice.unused()}",
            pytrace=False)


def _save(session: Session, fresh: set[str], own: str, mode: str) -> None:
    session.save()
    if session.can_record and mode in ("rewrite", "once"):
        fresh.add(own)  # later tests of the run add theirs to it


def _arg(config: pytest.Config, nodeid: str) -> str:
    """A node id as a command-line argument where pytest was started (ids are rootdir-relative)."""
    root, here = Path(str(config.rootpath)), config.invocation_params.dir
    if root == here:
        return nodeid
    path, sep, rest = nodeid.partition("::")
    return os.path.relpath(root / path, here) + sep + rest


def _describe(session: Session, n: int) -> str:
    rq = session.cassette.interactions[n].request
    return f"#{n} {rq.method} {rq.target}"


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
# A cassette is reported when it lies in the folder of a test that used a cassette, no test
# of the run used it, and no collected test owns it: a test that did not run this time
# (deselected by -k or -m, left out by --lf, skipped) still owns its cassettes, so only
# stale files are listed.
@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, pytest.CollectReport,
                                                                         pytest.CollectReport]:
    report = yield
    # Innermost wrapper: the items as collected, before --lf drops the ones that passed.
    if collector.config.getoption("replay_report_unused"):
        collector.config.stash.setdefault(_collected_key, []).extend(
            x for x in report.result if isinstance(x, pytest.Item))
    return report


def _owned(item: pytest.Item) -> list[Path]:
    """The cassettes a test would use, as far as collection knows (no ``replay_config``)."""
    if item.get_closest_marker("replay") is None and "replay_cassette" not in getattr(item, "fixturenames", ()):
        return []
    plan = item.stash.get(plan_key, None)
    if plan is not None:
        return cassette_paths(plan.directory, plan.options, plan.name)
    try:
        options = _resolve(item, {})
    except OptionsError:
        return []
    return cassette_paths(cassette_dir(item, options), options, default_name_of(item, known_secrets(options)))


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if config.getoption("replay_report_unused"):
        owned = (p for item in config.stash.get(_collected_key, []) for p in _owned(item))
        config.stash[_used_key].update(str(p.resolve()) for p in owned)
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        used: set[str] = config.stash[_used_key]
        dirs: set[str] = config.stash[_dirs_key]
        workeroutput[_USED_KEY] = sorted(used)
        workeroutput[_DIRS_KEY] = sorted(dirs)
        workeroutput[_SHARED_KEY] = {path: use.dump() for path, use in config.stash[_shared_key].items()}


# Optional: the hook is xdist's, and a plain install (no xdist) must still load the plugin.
@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    out = getattr(node, "workeroutput", {}) or {}
    config: pytest.Config = node.config
    used: list[str] = out.get(_USED_KEY, [])
    dirs: list[str] = out.get(_DIRS_KEY, [])
    config.stash[_used_key].update(used)
    config.stash[_dirs_key].update(dirs)
    for path, data in out.get(_SHARED_KEY, {}).items():
        config.stash[_shared_key].setdefault(path, lifecycle.SharedUse()).merge(data)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return
    lifecycle.report_leftovers(terminalreporter, config.stash[_shared_key])
    if not config.getoption("replay_report_unused"):
        return
    used = config.stash[_used_key]
    unused = sorted(str(p) for d in config.stash[_dirs_key] for p in Path(d).glob(f"*{SUFFIX}")
                    if str(p.resolve()) not in used)
    terminalreporter.section("replaystream: unused cassettes")
    if unused:
        for path in unused:
            terminalreporter.write_line(path)
    else:
        terminalreporter.write_line("every cassette in the used folders belongs to a collected test")
