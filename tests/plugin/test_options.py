"""Options, ini, marker and fixture precedence: command line > marker > replay_config > ini > default."""

import pytest

PROBE = """
import pytest

@pytest.fixture
def replay_config():
    return {FIXTURE}

{MARK}
def test_probe(replay_cassette):
    print("MODE=" + replay_cassette.mode, "PACING=" + repr(replay_cassette.pacing),
          "OFFLINE=" + str(replay_cassette.offline), "PATH=" + str(replay_cassette.path))
"""


def run(pytester: pytest.Pytester, *args: str, mark: str = "", fixture: str = "{}", ini: str = "") -> str:
    pytester.makepyfile(test_probe=PROBE.replace("{MARK}", mark).replace("{FIXTURE}", fixture))
    if ini:
        pytester.makeini(f"[pytest]\n{ini}\n")
    result = pytester.runpytest_inprocess("-s", "-p", "no:cacheprovider", *args)
    result.assert_outcomes(passed=1)
    return result.stdout.str()


def test_defaults_are_offline_replay_and_instant(pytester: pytest.Pytester) -> None:
    out = run(pytester)
    assert "MODE=none" in out and "PACING='instant'" in out and "OFFLINE=True" in out
    assert "cassettes/test_probe/test_probe.json" in out


def test_ini_sets_defaults(pytester: pytest.Pytester) -> None:
    out = run(pytester, ini="replay_mode = once\nreplay_pacing = 2\nreplay_cassette_dir = recorded")
    assert "MODE=once" in out and "PACING=2.0" in out and "recorded/test_probe/test_probe.json" in out


def test_fixture_beats_ini(pytester: pytest.Pytester) -> None:
    out = run(pytester, fixture='{"mode": "new_episodes"}', ini="replay_mode = once")
    assert "MODE=new_episodes" in out


def test_marker_beats_fixture(pytester: pytest.Pytester) -> None:
    out = run(pytester, mark='@pytest.mark.replay(mode="all", pacing="recorded")', fixture='{"mode": "new_episodes"}')
    assert "MODE=all" in out and "PACING='recorded'" in out


def test_command_line_beats_marker(pytester: pytest.Pytester) -> None:
    out = run(pytester, "--replay-mode=rewrite", "--replay-pacing=instant",
              mark='@pytest.mark.replay(mode="all", pacing="recorded")')
    assert "MODE=rewrite" in out and "PACING='instant'" in out


def test_explicit_default_on_command_line_still_wins(pytester: pytest.Pytester) -> None:
    # "none" given explicitly is told apart from the option's default.
    out = run(pytester, "--replay-mode=none", mark='@pytest.mark.replay(mode="once")')
    assert "MODE=none" in out


def test_allow_network_switches_blocking_off(pytester: pytest.Pytester) -> None:
    assert "OFFLINE=False" in run(pytester, "--replay-allow-network")


def test_invalid_mode_is_rejected_by_pytest(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x="def test_x(): pass")
    result = pytester.runpytest_inprocess("--replay-mode=sometimes")
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*--replay-mode*invalid choice*sometimes*"])


def test_marker_on_class_and_module_closest_wins(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_m="""
import pytest
pytestmark = pytest.mark.replay(mode="once", pacing="recorded")

@pytest.mark.replay(mode="all")
class TestC:
    def test_class(self, replay_cassette):
        assert replay_cassette.mode == "all" and replay_cassette.pacing == "recorded"

    @pytest.mark.replay(mode="new_episodes")
    def test_method(self, replay_cassette):
        assert replay_cassette.mode == "new_episodes"

def test_module(replay_cassette):
    assert replay_cassette.mode == "once"
""")
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=3)


def test_marker_activates_the_cassette_without_naming_the_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_m="""
import pytest
from replaystream.wire.session import active_session

@pytest.mark.replay
def test_marked():
    assert active_session() is not None

def test_unmarked():
    assert active_session() is None
""")
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_names_are_collision_free_for_parameters_and_classes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_n="""
import pytest
seen = set()

@pytest.mark.parametrize("x", ["a/b", "a_b", "a:b", "a%2Fb"])
def test_p(replay_cassette, x):
    name = replay_cassette.path.name
    assert name not in seen
    seen.add(name)
    print("NAME=" + name)

class TestK:
    def test_p(self, replay_cassette):
        print("NAME=" + replay_cassette.path.name)
""")
    result = pytester.runpytest_inprocess("-s", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(["*NAME=test_p[[]a%2Fb[]].json*", "*NAME=test_p[[]a%3Ab[]].json*",
                                 "*NAME=test_p[[]a%252Fb[]].json*", "*NAME=TestK.test_p.json*"])


def test_loads_beside_pytest_recording(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x="def test_x(): pass")
    result = pytester.runpytest_inprocess("-p", "recording", "--record-mode=none", "--replay-mode=none", "--co")
    assert result.ret == 0, result.stdout.str()
    plugins = pytester.runpytest_inprocess("-p", "recording", "--trace-config", "--co").stdout.str()
    assert "replaystream" in plugins and "recording" in plugins


def test_plugin_loads_without_xdist(pytester: pytest.Pytester) -> None:
    # A plain install has no pytest-xdist: its hooks must stay optional, or every run stops
    # with "unknown hook 'pytest_testnodedown'".
    pytester.makepyfile("def test_user():\n    assert True\n")
    result = pytester.runpytest_subprocess("-p", "no:xdist", "-p", "no:cacheprovider")
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    result.assert_outcomes(passed=1)


def test_explicit_allow_network_false_beats_ini_true(pytester: pytest.Pytester) -> None:
    # Before: an `or` chain, so a False anywhere fell through to the ini's true.
    ini = "replay_allow_network = true"
    assert "OFFLINE=False" in run(pytester, ini=ini)
    assert "OFFLINE=True" in run(pytester, mark="@pytest.mark.replay(allow_network=False)", ini=ini)
    assert "OFFLINE=True" in run(pytester, fixture='{"allow_network": False}', ini=ini)


TABLE = """
import pytest

pytestmark = pytest.mark.replay(mode="all", allow_unused=True)

@pytest.fixture
def replay_config():
    return {"mode": "new_episodes", "pacing": 3, "allow_repeats": True, "strict": False}

def show(name, session):
    o = session.options
    print(f"ROW {name} mode={o.mode} pacing={o.pacing} offline={o.offline} repeats={o.allow_repeats} "
          f"unused={o.allow_unused} strict={o.strict} ignore={','.join(o.match.ignore_fields)}")

def test_module(replay_cassette):
    show("module", replay_cassette)

@pytest.mark.replay(pacing="recorded", ignore_fields=["a"])
class TestC:
    def test_class(self, replay_cassette):
        show("class", replay_cassette)

    @pytest.mark.replay(mode="rewrite", allow_network=False, allow_unused=False, ignore_fields=["b"])
    def test_test(self, replay_cassette):
        show("test", replay_cassette)
"""


def rows(pytester: pytest.Pytester, *args: str) -> dict[str, str]:
    result = pytester.runpytest_inprocess("-s", "-p", "no:cacheprovider", *args)
    result.assert_outcomes(passed=3)
    found = [line.partition("ROW ")[2].split(" ", 1) for line in result.stdout.lines if "ROW " in line]
    return {name: row for name, row in found}


def test_precedence_table_end_to_end(pytester: pytest.Pytester) -> None:
    """command line > test marker > class marker > module marker > replay_config > ini > default."""
    pytester.makepyfile(test_table=TABLE)
    pytester.makeini("[pytest]\nreplay_mode = once\nreplay_pacing = 2\nreplay_allow_network = true\n")
    assert rows(pytester) == {
        # mode: module marker over replay_config over ini; pacing: replay_config over ini;
        # offline: ini; allow_repeats and strict: replay_config; allow_unused: module marker
        "module": "mode=all pacing=3.0 offline=False repeats=True unused=True strict=False ignore=",
        # the class marker's pacing and ignore_fields over the module's and replay_config's
        "class": "mode=all pacing=recorded offline=False repeats=True unused=True strict=False ignore=a",
        # the test's own marker over its class's and module's, explicit False included
        "test": "mode=rewrite pacing=recorded offline=None repeats=True unused=False strict=False ignore=b",
    }
    cli = rows(pytester, "--replay-mode=none", "--replay-pacing=instant")
    assert all(row.startswith("mode=none pacing=instant ") for row in cli.values())
    assert cli["test"].endswith("offline=None repeats=True unused=False strict=False ignore=b")
