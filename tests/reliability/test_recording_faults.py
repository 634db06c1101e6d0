"""Faults while recording: the previous cassette survives every one, and what was recorded
is saved whole (with the truncation marked) or not at all, as docs/cassette-format.md says.

Already covered elsewhere, not repeated here: an exception or in-process KeyboardInterrupt
after a complete request (tests/test_modes.py), a raw httpx2 stream cut (test_modes.py).
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import openai
import pytest

from replaystream import Cassette, RecordingError, use_cassette
from replaystream.cassette import store as cassette_module  # where the file is written
from replaystream.wire import transport
from replaystream.emulator import ProviderEmulator, ScriptedResponse, anthropic_messages_stream, openai_chat_stream
from replaystream.wire.session import active_session

pytestmark = pytest.mark.outcome("nothing lost")

TEXT = ["one ", "two ", "three ", "four ", "five"]
EVENTS = {"openai": openai_chat_stream(TEXT), "anthropic": anthropic_messages_stream(TEXT)}
Property = Callable[[str, object], None]


def stream(provider: str, base: str, question: str = "count") -> Iterator[Any]:
    """The real SDK's stream object (iterate it; ``close()`` it)."""
    if provider == "openai":
        return openai.OpenAI(base_url=base + "/v1", api_key="sk-test", max_retries=0).chat.completions.create(  # type: ignore[no-any-return]
            model="gpt-4o-mini", stream=True, messages=[{"role": "user", "content": question}])
    return anthropic.Anthropic(base_url=base, api_key="sk-ant-test", max_retries=0).messages.create(  # type: ignore[no-any-return]
        model="claude-3-5-sonnet-latest", max_tokens=64, stream=True, messages=[{"role": "user", "content": question}])


def seed(path: Path, emu: ProviderEmulator, provider: str = "openai") -> bytes:
    """A previous, good cassette (one complete stream); returns its bytes."""
    emu.enqueue(ScriptedResponse(events=EVENTS[provider]))
    with use_cassette(path, mode="once"):
        list(stream(provider, emu.base_url, "the old question"))
    return path.read_bytes()


def only_the_cassette(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def no_session_left() -> None:
    assert active_session() is None and not transport.is_installed()


# -- the provider closes the connection mid-stream ---------------------------------------------
@pytest.mark.parametrize("caller", ["raises", "catches"])
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_provider_closes_the_connection_mid_stream(tmp_path: Path, provider: str, caller: str,
                                                   record_property: Property) -> None:
    path = tmp_path / "c.json"
    with ProviderEmulator() as emu:
        before = seed(path, emu, provider)
        emu.enqueue(ScriptedResponse(events=EVENTS[provider], close_after=3))
        live = stream(provider, emu.base_url)  # unpatched baseline: what the SDK raises
        with pytest.raises(Exception) as baseline:
            list(live)
        emu.enqueue(ScriptedResponse(events=EVENTS[provider], close_after=3))
        seen: list[Any] = []
        if caller == "raises":  # the test lets the error out: nothing is written
            with pytest.raises(type(baseline.value)):
                with use_cassette(path, mode="new_episodes"):
                    seen.extend(stream(provider, emu.base_url))
        else:
            with use_cassette(path, mode="new_episodes"):
                with pytest.raises(type(baseline.value)):
                    seen.extend(stream(provider, emu.base_url))
        base = emu.base_url
    assert only_the_cassette(tmp_path) == ["c.json"]
    no_session_left()
    if caller == "raises":
        assert path.read_bytes() == before
        record_property("documented", "block raised: nothing written, previous cassette byte-identical")
        return
    old, cut = Cassette.load(path).interactions
    assert Cassette.loads(before).interactions[0] == old  # the previous recording is untouched
    assert cut.response.end == "error" and cut.response.error is not None
    assert [e.raw for e in cut.response.events or []] == EVENTS[provider][:3]  # saved whole, truncation marked
    with use_cassette(path):
        list(stream(provider, base, "the old question"))
        replayed: list[Any] = []
        with pytest.raises(type(baseline.value)):
            replayed.extend(stream(provider, base))
    assert len(replayed) == len(seen)
    record_property("documented", "saved with end: error; replay raises the same exception")


# -- the client abandons a stream half-read -----------------------------------------------------
@pytest.mark.parametrize("how", ["closed", "undrained"])
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_the_client_abandons_a_stream_half_read(tmp_path: Path, provider: str, how: str,
                                                record_property: Property) -> None:
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(events=EVENTS[provider], gaps_ms=5))
        with use_cassette(first, mode="once") as session:
            abandoned = stream(provider, emu.base_url)
            it = iter(abandoned)
            next(it), next(it)
            if how == "closed":
                abandoned.close()  # type: ignore[attr-defined]
            # "undrained": the block ends with the stream still open and unread
        no_session_left()
        saved = first.read_bytes()
        (inter,) = Cassette.load(first).interactions
        assert inter.response.end == "client_closed"
        events = [e.raw for e in inter.response.events or []]
        assert 2 <= len(events) < len(EVENTS[provider]) and events == EVENTS[provider][:len(events)]
        if how == "undrained":
            rest = list(it)  # reading on after the cassette closed changes nothing recorded
            assert rest
        assert first.read_bytes() == saved
        # The session's copy still says what the file says (ms are rounded on disk).
        (kept,) = session.cassette.interactions
        assert kept.response.end == "client_closed" and [e.raw for e in kept.response.events or []] == events

        # The next test records its own stream, whole, and nothing of the abandoned one.
        emu.enqueue(ScriptedResponse(events=EVENTS["openai"]))
        with use_cassette(second, mode="once"):
            list(stream("openai", emu.base_url, "next test"))
    (nxt,) = Cassette.load(second).interactions
    assert nxt.response.end == "complete" and [e.raw for e in nxt.response.events or []] == EVENTS["openai"]
    assert nxt.request.body["messages"][0]["content"] == "next test"
    assert first.read_bytes() == saved
    record_property("documented", "saved with end: client_closed, a prefix of the stream")


# -- an exception in the test body (through the pytest plugin) ---------------------------------
def test_a_failing_test_keeps_its_previous_cassette(pytester: pytest.Pytester, record_property: Property) -> None:
    with ProviderEmulator() as emu:
        for _ in range(4):
            emu.enqueue(ScriptedResponse(events=EVENTS["openai"], gaps_ms=1))
        pytester.makepyfile(test_body=f"""
            import openai, pytest

            def ask(q):
                client = openai.OpenAI(base_url="{emu.base_url}/v1", api_key="sk-test", max_retries=0)
                return client.chat.completions.create(model="m", stream=True, messages=[{{"role": "user", "content": q}}])

            def test_fails_mid_stream(replay_cassette):
                s = ask("fails")
                next(iter(s))
                assert False, "the test body failed half-way through a stream"

            def test_fails_after_the_stream(replay_cassette):
                list(ask("fails later"))
                raise RuntimeError("the test body failed after recording")
        """)
        first = pytester.runpytest("-p", "no:cacheprovider", "--replay-mode=once")
        first.assert_outcomes(failed=2)
        folder = pytester.path / "cassettes" / "test_body"
        assert not folder.exists() or list(folder.iterdir()) == []  # a failed first recording writes nothing
        # Now there are good cassettes; failing runs in every recording mode keep them.
        folder.mkdir(parents=True, exist_ok=True)
        previous = {}
        for name in ("test_fails_mid_stream", "test_fails_after_the_stream"):
            Cassette([]).save(folder / f"{name}.json")
            previous[name] = (folder / f"{name}.json").read_bytes()
        again = pytester.runpytest("-p", "no:cacheprovider", "--replay-mode=all")
        again.assert_outcomes(failed=2)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == {f"{n}.json": b for n, b in previous.items()}
    record_property("documented", "failed test: nothing written, previous cassette byte-identical")


# -- KeyboardInterrupt / hard kill in a real process -------------------------------------------
CHILD = textwrap.dedent("""
    import os, signal, sys, time
    # A terminal's Ctrl-C: Python's own handler, which a background CI job inherits as ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import openai
    from replaystream import use_cassette
    import replaystream.cassette.store as cassette_module

    port, path, where = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    if where == "save":
        real_fsync = cassette_module.os.fsync
        def slow_fsync(fd):
            print("saving", flush=True)
            time.sleep(30)  # the signal arrives here, with the temp file half-way
            real_fsync(fd)
        cassette_module.os.fsync = slow_fsync
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-test", max_retries=0)
    with use_cassette(path, mode="all"):
        stream = client.chat.completions.create(model="m", stream=True, messages=[{"role": "user", "content": "new"}])
        for n, chunk in enumerate(stream):
            if n == 0 and where == "stream":
                print("first event", flush=True)
    print("finished", flush=True)
""")


@pytest.mark.slow
@pytest.mark.parametrize("signum,where", [(signal.SIGINT, "stream"), (signal.SIGINT, "save"),
                                          (signal.SIGKILL, "save")], ids=["SIGINT-mid-stream", "SIGINT-mid-save",
                                                                          "SIGKILL-mid-save"])
def test_a_signal_while_recording_keeps_the_previous_cassette(tmp_path: Path, signum: int, where: str,
                                                              record_property: Property) -> None:
    folder = tmp_path / "cassettes"
    folder.mkdir()
    path = folder / "c.json"
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    with ProviderEmulator(hold_back_timeout=20) as emu:
        before = seed(path, emu)
        # hold_back: after the first event the emulator waits, so the signal lands mid-stream
        emu.enqueue(ScriptedResponse(events=EVENTS["openai"], hold_back=(where == "stream")))
        child = subprocess.Popen([sys.executable, str(script), str(emu.port), str(path), where],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert child.stdout is not None
            line = child.stdout.readline()
            assert line.strip() == ("first event" if where == "stream" else "saving"), child.stderr.read() if \
                child.stderr else line
            os.kill(child.pid, signum)
            out, err = child.communicate(timeout=20)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
    assert child.returncode != 0 and "finished" not in out
    if signum == signal.SIGINT:
        assert "KeyboardInterrupt" in err
    assert path.read_bytes() == before  # the previous cassette, byte for byte
    leftovers = [n for n in only_the_cassette(folder) if n != "c.json"]
    if signum == signal.SIGKILL:
        # Nothing can clean up after SIGKILL: the half-written temp file stays, hidden and
        # never read as a cassette; the cassette itself is untouched and still loads.
        # The lock file may stay too: harmless, the kernel released its flock with the process.
        temps = [n for n in leftovers if n != ".c.json.lock"]
        assert all(n.startswith(".c.json.") and n.endswith(".tmp") for n in temps) and len(temps) <= 1
        Cassette.load(path)
        with cassette_module.locked(path):  # the next save takes the lock at once
            pass
        record_property("documented", "hard kill: cassette intact; a hidden .tmp (and .lock) file may remain")
    else:
        assert leftovers == []
        record_property("documented", "interrupted: nothing written, no temp file left")


# -- the disk fills up while saving -------------------------------------------------------------
def _fail_at(monkeypatch: pytest.MonkeyPatch, step: str) -> None:
    if step == "write":
        # A real ENOSPC from the kernel: the temp file's data goes to /dev/full.
        real_fdopen = os.fdopen

        def full_fdopen(fd: int, *args: Any, **kwargs: Any) -> Any:
            os.close(fd)
            return real_fdopen(os.open("/dev/full", os.O_WRONLY), *args, **kwargs)

        monkeypatch.setattr(cassette_module.os, "fdopen", full_fdopen)
        return
    target = {"create": (cassette_module.tempfile, "mkstemp"), "fsync": (cassette_module.os, "fsync"),
              "rename": (cassette_module.os, "replace")}[step]

    def no_space(*args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(*target, no_space)


@pytest.mark.parametrize("step", ["create", "write", "fsync", "rename"])
def test_the_disk_fills_up_while_saving(tmp_path: Path, step: str, monkeypatch: pytest.MonkeyPatch,
                                        record_property: Property) -> None:
    if step == "write" and not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    path = tmp_path / "c.json"
    with ProviderEmulator() as emu:
        before = seed(path, emu)
        emu.enqueue(ScriptedResponse(events=EVENTS["openai"]))
        with monkeypatch.context() as patch:
            _fail_at(patch, step)
            with pytest.raises(RecordingError) as info:
                with use_cassette(path, mode="new_episodes"):
                    list(stream("openai", emu.base_url, "a new question"))
        no_session_left()
    error = info.value
    assert isinstance(error.__cause__, OSError) and error.__cause__.errno == errno.ENOSPC
    message = str(error)
    assert str(path) in message and "1 new interaction" in message and "untouched" in message
    assert path.read_bytes() == before
    assert only_the_cassette(tmp_path) == ["c.json"]
    # Once there is space again, the same recording saves.
    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(events=EVENTS["openai"]))
        with use_cassette(path, mode="new_episodes"):
            list(stream("openai", emu.base_url, "a new question"))
    assert len(Cassette.load(path).interactions) == 2
    record_property("documented", "RecordingError naming the file (cause: OSError ENOSPC); previous cassette intact")


def test_a_raw_httpx_stream_left_open_across_cassettes(tmp_path: Path, record_property: Property) -> None:
    """Two streams open at once, one cassette each; closing the outer block first."""
    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(events=EVENTS["openai"], gaps_ms=2), path="/a")
        emu.enqueue(ScriptedResponse(events=EVENTS["anthropic"], gaps_ms=2), path="/b")
        outer = use_cassette(tmp_path / "a.json", mode="once")
        outer.__enter__()
        client = httpx2.Client()
        a = client.send(client.build_request("POST", emu.base_url + "/a", json={}), stream=True)
        with use_cassette(tmp_path / "b.json", mode="once"):
            b = client.send(client.build_request("POST", emu.base_url + "/b", json={}), stream=True)
            b.read()
            outer.__exit__(None, None, None)  # the outer cassette closes while its stream is open
        a.read()
        client.close()
        no_session_left()
    (ia,) = Cassette.load(tmp_path / "a.json").interactions
    (ib,) = Cassette.load(tmp_path / "b.json").interactions
    assert ia.request.path == "/a" and ia.response.end == "client_closed"
    assert ib.request.path == "/b" and [e.raw for e in ib.response.events or []] == EVENTS["anthropic"]
    record_property("documented", "outer cassette closed first: its open stream saved client_closed, "
                                  "the inner one whole")


# -- the provider sends a damaged compressed body -----------------------------------------------
def _damaged_body(coding: str, events: list[bytes]) -> list[bytes]:
    """The stream compressed as ``coding`` and cut into writes, with bytes flipped in the last
    third, where each coding's own decoder rejects them (checked here, not assumed)."""
    import gzip

    import brotli
    import zstandard

    encode = {"gzip": lambda d: gzip.compress(d, mtime=0), "br": brotli.compress,
              "zstd": lambda d: zstandard.ZstdCompressor(write_checksum=True).compress(d)}[coding]
    wire = encode(b"".join(events))
    for start in range(2 * len(wire) // 3, len(wire) - 4):
        damaged = wire[:start] + bytes(b ^ 0xA5 for b in wire[start:start + 4]) + wire[start + 4:]
        try:
            {"gzip": gzip.decompress, "br": lambda d: brotli.Decompressor().process(d),
             "zstd": zstandard.ZstdDecompressor().decompressobj().decompress}[coding](damaged)
        except Exception:  # rejected: the damage this test needs
            return [damaged[i:i + 64] for i in range(0, len(damaged), 64)]
    raise AssertionError(f"no damage found that {coding} rejects")


@pytest.mark.parametrize("coding", ["gzip", "br", "zstd"])
def test_a_damaged_compressed_body_fails_alike_live_recording_and_replaying(
        tmp_path: Path, coding: str, record_property: Property) -> None:
    """The SDK's own exception live; the same while recording (the recorder's decoder must
    not raise one of its own first); and on replay, after the same text."""
    path = tmp_path / "damaged.json"
    events = openai_chat_stream([f"token {n} " for n in range(60)])
    outcomes: list[tuple[type[BaseException], str]] = []
    with ProviderEmulator() as emu:
        for mode in (None, "once", "none"):
            emu.enqueue(ScriptedResponse(events=_damaged_body(coding, events), headers={"content-encoding": coding}))
            text: list[str] = []
            with contextlib.ExitStack() as stack:
                if mode is not None:
                    stack.enter_context(use_cassette(path, mode=mode))
                with pytest.raises(Exception) as info:
                    for chunk in stream("openai", emu.base_url):
                        text.extend(c.delta.content or "" for c in chunk.choices)
            outcomes.append((info.type, "".join(text)))
    (live, live_text), (recording, recorded_text), (replay, replayed_text) = outcomes
    # The SDK meets the damage as garbage text (JSONDecodeError) or as httpx2's DecodingError
    # (wrapped in APIConnectionError): whichever it is live, it is the same at each step.
    assert live is recording is replay
    assert replayed_text == recorded_text
    assert coding == "zstd" or "token 0 token 1" in live_text  # zstd: this body is one block, decoded whole or not
    (inter,) = Cassette.load(path).interactions
    assert inter.response.end in ("error", "client_closed")
    if inter.response.end == "error":  # the decoder failed before the SDK did
        assert inter.response.error is not None and inter.response.error["type"] == "DecodingError"
        assert issubclass(live, openai.APIConnectionError) and isinstance(info.value.__cause__, httpx2.DecodingError)
    no_session_left()
    record_property("exception", live.__name__)
    record_property("documented", f"saved decoded up to the damage (end: {inter.response.end}); live, recording "
                                  f"and replay raise the same {live.__name__}")
