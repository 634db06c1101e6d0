"""Collection works out each marked test's options, cassette folder and name once, and
``replay_cassette`` uses that plan unless the test sees an override of ``replay_config``,
``replay_options``, ``replay_cassette_dir`` or ``replay_cassette_name`` (in a conftest, a
module, a class, or by parametrizing it). Each test still gets exactly its own options."""

from __future__ import annotations

from pathlib import Path

import pytest

CONFTEST = """
import httpx2, pytest
from replaystream.emulator import ProviderEmulator, ScriptedResponse

@pytest.fixture(scope="session")
def emu():
    with ProviderEmulator() as e:
        yield e

@pytest.fixture
def fetch(emu):
    def get(name):
        emu.enqueue(ScriptedResponse(body=name.encode(), headers={"content-type": "text/plain"}), path="/" + name)
        return httpx2.get(f"{emu.base_url}/{name}").text
    return get
"""


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)


def _cassettes(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.json"))


def test_tests_with_the_same_markers_share_options_and_others_get_their_own(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_m="""
        import pytest

        pytestmark = pytest.mark.replay(pacing=2)
        SEEN = {}

        @pytest.mark.replay(mode="all", allow_unused=True)
        def test_a(replay_options, replay_cassette):
            SEEN["a"] = replay_options, replay_cassette.options

        @pytest.mark.replay(mode="all", allow_unused=True)
        def test_b(replay_options, replay_cassette):
            SEEN["b"] = replay_options, replay_cassette.options

        @pytest.mark.replay(mode="rewrite", allow_unused=True)
        def test_c(replay_options):
            SEEN["c"] = replay_options, None

        def test_d(replay_options):
            SEEN["d"] = replay_options, None

        def test_check():
            (a, session_a), (b, session_b), (c, _), (d, _) = (SEEN[k] for k in "abcd")
            assert (a.mode, c.mode, d.mode) == ("all", "rewrite", "none")
            assert a.pacing == c.pacing == d.pacing == 2.0 and a.allow_unused and not d.allow_unused
            assert a is b and session_a is session_b  # same markers: resolved and validated once
            assert (session_a.mode, session_a.pacing) == ("all", 2.0) and session_a.scrub.hooks
    """)
    _run(pytester).assert_outcomes(passed=5)


def test_a_bad_marker_value_is_reported_even_after_an_equal_looking_good_one(pytester: pytest.Pytester) -> None:
    # True == 1, but only True is a valid bool: a plan made for the first must not serve the second.
    pytester.makepyfile(test_m="""
        import pytest

        @pytest.mark.replay(allow_unused=True)
        def test_good():
            pass

        @pytest.mark.replay(allow_unused=1)
        def test_bad():
            pass
    """)
    result = _run(pytester)
    result.stdout.fnmatch_lines(["*allow_unused=1*must be True or False*"])
    assert result.ret != 0


@pytest.mark.parametrize("where", ["conftest", "module", "class"])
def test_an_overridden_cassette_folder_and_name_are_used_to_record_and_replay(
        pytester: pytest.Pytester, where: str) -> None:
    override = """
@pytest.fixture
def replay_cassette_dir(pytestconfig):
    return pytestconfig.rootpath / "elsewhere"

@pytest.fixture
def replay_cassette_name(request):
    return "custom-" + request.node.name + ".json"
"""
    plain = "import pytest\n\n@pytest.mark.replay\ndef test_plain(fetch):\n    assert fetch('plain') == 'plain'\n"
    if where == "conftest":
        pytester.makeconftest(CONFTEST + override)
        body = "@pytest.mark.replay\ndef test_moved(fetch):\n    assert fetch('moved') == 'moved'\n"
    elif where == "module":
        pytester.makeconftest(CONFTEST)
        body = override + "\n@pytest.mark.replay\ndef test_moved(fetch):\n    assert fetch('moved') == 'moved'\n"
    else:
        pytester.makeconftest(CONFTEST)
        methods = override.replace("(pytestconfig)", "(self, pytestconfig)").replace("(request)", "(self, request)")
        indented = "".join("    " + line + "\n" if line else "\n" for line in methods.splitlines())
        body = ("class TestMoved:\n" + indented +
                "    @pytest.mark.replay\n    def test_moved(self, fetch):\n        assert fetch('moved') == 'moved'\n\n"
                "@pytest.mark.replay\ndef test_beside(fetch):\n    assert fetch('beside') == 'beside'\n")
    pytester.makepyfile(test_a="import pytest\n\n" + body, test_b=plain)
    _run(pytester, "--replay-mode=once").assert_outcomes(passed=3 if where == "class" else 2)
    # The override moves its tests' cassettes only; the others keep the default place.
    expected = ["cassettes/test_b/test_plain.json", "elsewhere/custom-test_moved.json"]
    if where == "class":
        expected.insert(0, "cassettes/test_a/test_beside.json")
    if where == "conftest":  # a conftest override applies to every test under it
        expected = ["elsewhere/custom-test_moved.json", "elsewhere/custom-test_plain.json"]
    assert _cassettes(pytester.path) == expected
    _run(pytester).assert_outcomes(passed=3 if where == "class" else 2)  # offline, from the same files


def test_a_replay_config_override_in_one_module_leaves_the_next_module_alone(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_a="""
        import pytest

        @pytest.fixture
        def replay_config():
            return {"mode": "all"}

        @pytest.mark.replay
        def test_records_always(replay_cassette, fetch):
            assert (replay_cassette.mode, fetch("a")) == ("all", "a")
    """, test_b="""
        import pytest

        @pytest.mark.replay(allow_unused=True)
        def test_default(replay_cassette):
            assert replay_cassette.mode == "none"
    """)
    _run(pytester).assert_outcomes(passed=2)


def test_a_parametrized_replay_config_is_each_tests_own(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_m="""
        import pytest

        @pytest.mark.parametrize("replay_config", [{"pacing": 3}, {"pacing": 5}])
        @pytest.mark.replay(allow_unused=True)
        def test_pacing(replay_config, replay_cassette):
            assert replay_cassette.pacing == replay_config["pacing"]
    """)
    _run(pytester).assert_outcomes(passed=2)


def test_replay_cassette_without_a_marker_resolves_its_own_options(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nreplay_pacing = 4\n")
    pytester.makepyfile(test_m="""
        def test_unmarked(replay_cassette, replay_cassette_dir, replay_cassette_name):
            assert (replay_cassette.mode, replay_cassette.pacing) == ("none", 4.0)
            assert replay_cassette.path == replay_cassette_dir / replay_cassette_name
            assert replay_cassette.path.parts[-3:] == ("cassettes", "test_m", "test_unmarked.json")
    """)
    _run(pytester).assert_outcomes(passed=1)


def test_only_a_test_that_overrides_takes_the_fixtures_slower_way(pytester: pytest.Pytester) -> None:
    # The plan stands in for the fixtures only where nothing overrides them (a speed promise).
    pytester.makepyfile(test_plain="""
        import pytest
        from replaystream import plugin

        @pytest.mark.replay(allow_unused=True)
        def test_plain(request):
            assert request.config.stash[plugin._overrides_key](request.node) is False
    """, test_overriding="""
        import pytest
        from replaystream import plugin

        @pytest.fixture
        def replay_cassette_name():
            return "elsewhere.json"

        @pytest.mark.replay(allow_unused=True)
        def test_overriding(request):
            assert request.config.stash[plugin._overrides_key](request.node) is True
    """)
    _run(pytester).assert_outcomes(passed=2)
