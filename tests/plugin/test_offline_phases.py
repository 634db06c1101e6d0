"""Offline (``none`` mode) tests are guarded through setup, call and teardown, not only
while their cassette is open, and the proxy variables are unset for them.

Nothing leaves the machine even if the guard broke: the inner run installs a sentinel
audit hook *behind* replaystream's, which raises ``Escaped`` for any non-loopback connect
that got past the guard (and the address is a documentation one, TEST-NET-2)."""

from __future__ import annotations

import json

import pytest

CONFTEST = """
import json, os, socket, sys, pytest
from replaystream.wire import network

class Escaped(Exception):
    pass

def _sentinel(event, args):
    if event == "socket.connect" and getattr(args[0], "family", None) == socket.AF_INET \\
            and not network.is_loopback(args[1][0]):
        raise Escaped(str(args[1]))

network.install_guard()  # replaystream's hook first, the sentinel behind it
sys.addaudithook(_sentinel)

PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")

def try_connect():
    s = socket.socket()
    try:
        s.connect(("198.51.100.7", 443))
    except Exception as exc:
        return type(exc).__name__
    finally:
        s.close()
    return "connected"

def seen_now():
    return {"connect": try_connect(), "proxies": sorted(p for p in PROXIES if p in os.environ)}

@pytest.fixture
def phases(request):  # set up before the cassette opens, torn down after it closed
    seen = {"setup": seen_now()}
    yield seen
    seen["teardown"] = seen_now()
    with open(os.environ["SEEN_FILE"], "w") as fh:
        json.dump(seen, fh)
"""
TEST = """
import pytest
from conftest import seen_now

@pytest.mark.replay(allow_unused=True)
def test_phases(phases):
    phases["call"] = seen_now()
"""


@pytest.mark.parametrize("allow", [False, True])
def test_setup_call_and_teardown_are_offline_without_proxies(pytester: pytest.Pytester,
                                                             monkeypatch: pytest.MonkeyPatch, allow: bool) -> None:
    seen_file = pytester.path / "seen.json"
    monkeypatch.setenv("SEEN_FILE", str(seen_file))
    for name in ("HTTPS_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:3128")  # a proxy on loopback would carry requests out
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_p=TEST)
    (pytester.path / "cassettes" / "test_p").mkdir(parents=True)
    (pytester.path / "cassettes" / "test_p" / "test_phases.json").write_text(
        '{"replaystream_cassette": 1, "interactions": []}')
    args = ["-p", "no:cacheprovider", *(["--replay-allow-network"] if allow else [])]
    pytester.runpytest_subprocess(*args).assert_outcomes(passed=1)
    seen = json.loads(seen_file.read_text())
    if allow:  # the control: unguarded, the sentinel catches the same connect; proxies stay
        assert seen == {phase: {"connect": "Escaped", "proxies": ["HTTPS_PROXY", "all_proxy"]}
                        for phase in ("setup", "call", "teardown")}
    else:
        assert seen == {phase: {"connect": "NetworkBlockedError", "proxies": []}
                        for phase in ("setup", "call", "teardown")}
