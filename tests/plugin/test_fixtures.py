"""The fixtures built on the fakes and snapshots, network blocking through the plugin,
and recording a suite under xdist."""

from __future__ import annotations

from pathlib import Path

import pytest

from replaystream import Cassette, use_cassette
from replaystream.cassette.model import Interaction, Request, Response
from replaystream.emulator import ProviderEmulator, ScriptedResponse, anthropic_messages_stream

POLAR = ["Polar bears actually", " have transparent, hollow fur, not", " white fur."]


def record_polar(path: Path) -> None:
    from langchain_anthropic import ChatAnthropic

    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(events=anthropic_messages_stream(POLAR)))
        with use_cassette(path, mode="once"):
            model = ChatAnthropic(model="claude-3-5-sonnet-latest", base_url=emu.base_url, api_key="sk-ant-x",
                                  temperature=0, max_retries=0)
            list(model.stream("What color is a polar bear?"))


def test_replay_chat_model_fixture_and_event_snapshot(pytester: pytest.Pytester) -> None:
    record_polar(pytester.path / "cassettes" / "test_f" / "test_polar.json")
    pytester.makepyfile(test_f="""
import pytest

@pytest.mark.replay
async def test_polar(replay_chat_model, event_snapshot):
    assert replay_chat_model.name == "ChatAnthropic"
    events = [e async for e in replay_chat_model.astream_events("What color is a polar bear?", version="v2")]
    texts = [e["data"]["chunk"].content for e in events if e["event"] == "on_chat_model_stream"]
    assert "".join(texts) == "Polar bears actually have transparent, hollow fur, not white fur."
    assert event_snapshot == events
""")
    # A subprocess: numpy (pulled in by the fakes) cannot be imported twice in one process.
    pytester.makeini("[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n")
    first = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--snapshot-update")
    first.assert_outcomes(passed=1)
    snaps = list((pytester.path / "__snapshots__").rglob("*.events.txt"))
    assert len(snaps) == 1
    text = snaps[0].read_text()
    assert "on_chat_model_stream" in text and "Polar bears actually" in text and "ChatAnthropic#0" in text
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)  # stable across runs
    snaps[0].write_text(text.replace("Polar bears actually", "Polar bears really"))
    failed = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    failed.assert_outcomes(failed=1)
    failed.stdout.fnmatch_lines(["*Polar bears really*"])


def test_none_mode_blocks_connects_and_dns_with_replaystreams_error(pytester: pytest.Pytester) -> None:
    # A sentinel audit hook sits behind replaystream's guard in the inner run: whatever got
    # past the guard raises Escaped before it happens, so nothing can leave even if blocking broke.
    pytester.makepyfile(test_n="""
import socket, sys, pytest
from replaystream import NetworkBlockedError
from replaystream.wire import network
from replaystream.wire.network import is_loopback

class Escaped(Exception):
    pass

def sentinel(event, args):
    if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        sock, address = args
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address[0]):
            raise Escaped(address)
    elif event in ("socket.getaddrinfo", "socket.gethostbyname") and not is_loopback(args[0]):
        raise Escaped(args[0])

network.install_guard()
sys.addaudithook(sentinel)

@pytest.mark.replay
def test_blocked():
    with pytest.raises(NetworkBlockedError, match="DNS look-up of 'api.openai.com'"):
        socket.create_connection(("api.openai.com", 443))
    with pytest.raises(NetworkBlockedError, match="DNS look-up"):
        socket.gethostbyname("example.invalid")
    s = socket.socket()
    try:
        with pytest.raises(NetworkBlockedError, match="connection to"):
            s.connect(("198.51.100.1", 443))
    finally:
        s.close()

@pytest.mark.replay
def test_loopback_is_not_blocked():
    assert socket.getaddrinfo("localhost", 80)

def test_unmarked_tests_are_not_blocked():
    with pytest.raises(Escaped):
        socket.getaddrinfo("example.invalid", 443)
""")
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=3)
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "--replay-allow-network", "-k", "test_blocked"
                                  ).assert_outcomes(failed=1)


def test_recording_a_suite_under_xdist_loses_nothing(pytester: pytest.Pytester) -> None:
    n = 8
    with ProviderEmulator() as emu:
        for _ in range(n):
            emu.enqueue(ScriptedResponse(events=anthropic_messages_stream(["shared reply"]), gaps_ms=5))
        pytester.makepyfile(test_x=f"""
import anthropic, pytest

@pytest.mark.parametrize("i", range({n}))
@pytest.mark.replay
def test_each(i):
    client = anthropic.Anthropic(base_url="{emu.base_url}", api_key="sk-ant-x", max_retries=0)
    with client.messages.stream(model="claude-3-5-sonnet-latest", max_tokens=16,
                                messages=[{{"role": "user", "content": f"question {{i}}"}}]) as s:
        assert "".join(s.text_stream) == "shared reply"
""")
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "--replay-mode=once")
        result.assert_outcomes(passed=n)
        assert len(emu.requests) == n
    folder = pytester.path / "cassettes" / "test_x"
    files = sorted(folder.glob("*.json"))
    assert len(files) == n
    for i in range(n):
        (inter,) = Cassette.load(folder / f"test_each[{i}].json").interactions
        assert inter.request.body["messages"][0]["content"] == f"question {i}"  # its own, not another's
        assert inter.response.events and inter.response.end in ("complete", "client_closed")
    # and the recorded suite replays offline
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2").assert_outcomes(passed=n)


def test_a_relative_cassette_name_resolves_whether_or_not_this_modules_folder_exists(
        pytester: pytest.Pytester) -> None:
    shared = pytester.path / "cassettes" / "other_module" / "test_x.json"
    shared.parent.mkdir(parents=True)
    Cassette([Interaction(Request("GET", "/item"), Response(200, {"content-type": "text/plain"}, body=b"shared"))]
             ).save(shared)
    pytester.makepyfile(test_mine="""
import httpx2, pytest

@pytest.mark.replay("../other_module/test_x")
def test_shared(replay_cassette):
    assert httpx2.get("http://127.0.0.1:9/item").text == "shared"
    assert ".." not in str(replay_cassette.path)
""")
    assert not (pytester.path / "cassettes" / "test_mine").exists()  # the OS could not resolve test_mine/..
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
