"""Installing the transports patches the packages imported now and imports none: a package
the code under test imports later, while a cassette is open, is patched as it is imported
(httpx, httpx2, botocore), and put back with the rest when the last cassette closes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import httpx
import httpx2
import pytest

from replaystream import use_cassette
from replaystream.emulator import ProviderEmulator, ScriptedResponse
from replaystream.wire import transport

ROOT = Path(__file__).resolve().parents[2]


def _python(code: str) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh interpreter, where nothing has imported httpx or botocore yet."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_the_imported_packages_are_found() -> None:
    assert [m.__name__ for m in transport.imported_modules()] == ["httpx", "httpx2"]


def test_a_package_imported_again_is_the_one_patched(monkeypatch: pytest.MonkeyPatch) -> None:
    # pytester restores sys.modules after an in-process run: a later import is a new module.
    again = types.ModuleType("httpx2")
    again.HTTPTransport, again.AsyncHTTPTransport = httpx2.HTTPTransport, httpx2.AsyncHTTPTransport
    monkeypatch.setitem(sys.modules, "httpx2", again)
    assert transport.imported_modules()[-1] is again


def test_an_install_imports_nothing_and_a_later_import_is_patched_and_replays(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(body=b"recorded", headers={"content-type": "text/plain"}), path="/x")
        with use_cassette(path, mode="once"):
            assert httpx.get(f"{emu.base_url}/x").text == "recorded"
        url = f"{emu.base_url}/x"
    # The emulator is gone: only a replay can answer now.
    done = _python(f"""
        import sys
        from replaystream import use_cassette
        with use_cassette({str(path)!r}):
            assert "httpx" not in sys.modules and "botocore.httpsession" not in sys.modules
            import httpx
            patched = httpx.HTTPTransport.handle_request
            print(httpx.get({url!r}).text)
        assert httpx.HTTPTransport.handle_request is not patched  # put back
        assert "replaystream" not in httpx.HTTPTransport.handle_request.__module__
        assert type(httpx.__loader__).__name__ == "SourceFileLoader", httpx.__loader__
        assert httpx.__spec__.loader is httpx.__loader__
    """)
    assert (done.returncode, done.stdout.strip()) == (0, "recorded"), done.stderr


def test_botocore_imported_inside_a_cassette_is_patched_then_restored(tmp_path: Path) -> None:
    done = _python(f"""
        import sys
        from replaystream import use_cassette
        with use_cassette({str(tmp_path / "b.json")!r}, mode="once"):
            with use_cassette({str(tmp_path / "inner.json")!r}, mode="once"):
                import boto3
                from botocore.httpsession import URLLib3Session
                inner = URLLib3Session.send.__module__
            outer = URLLib3Session.send.__module__  # the outer cassette still holds the patch
        print(inner, outer, URLLib3Session.send.__module__)
    """)
    assert done.stdout.split() == ["replaystream.wire.botocore_send", "replaystream.wire.botocore_send",
                                   "botocore.httpsession"], done.stderr


def test_a_package_imported_with_no_cassette_open_is_left_alone_until_one_opens(tmp_path: Path) -> None:
    done = _python(f"""
        from replaystream import use_cassette
        with use_cassette({str(tmp_path / "a.json")!r}, mode="once"):
            pass
        import httpx
        untouched = httpx.HTTPTransport.handle_request
        assert "replaystream" not in untouched.__module__
        with use_cassette({str(tmp_path / "a.json")!r}, mode="once"):
            print(httpx.HTTPTransport.handle_request.__module__)
        assert httpx.HTTPTransport.handle_request is untouched
    """)
    assert (done.returncode, done.stdout.strip()) == (0, "replaystream.wire.transport"), done.stderr


def test_a_package_half_imported_by_another_thread_is_waited_for(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    import time

    from replaystream.wire.patching import imported

    (tmp_path / "slow_http_pkg.py").write_text(
        "import time\nSTARTED = True\ntime.sleep(0.5)\nclass AsyncHTTPTransport:\n    pass\n", "utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "slow_http_pkg", raising=False)
    assert imported("slow_http_pkg", "AsyncHTTPTransport") is None  # not imported: not imported by asking
    assert "slow_http_pkg" not in sys.modules
    importer = threading.Thread(target=__import__, args=("slow_http_pkg",))
    importer.start()
    while "slow_http_pkg" not in sys.modules:  # its body is running now, the class not made yet
        time.sleep(0.001)
    module = imported("slow_http_pkg", "AsyncHTTPTransport")
    importer.join()
    assert module is sys.modules["slow_http_pkg"] and hasattr(module, "AsyncHTTPTransport")
