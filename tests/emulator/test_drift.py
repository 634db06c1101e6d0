"""``replaystream check --drift``: stream-shape changes are reported, text changes are not."""

from __future__ import annotations

from pathlib import Path

import anthropic
import pytest

from replaystream import use_cassette
from replaystream.cli import main
from replaystream.emulator import ProviderEmulator, ScriptedResponse, anthropic_messages_stream, openai_chat_stream


def record(path: Path, events: list[bytes], provider: str) -> None:
    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(events=events))
        with use_cassette(path, mode="once"):
            if provider == "anthropic":
                client = anthropic.Anthropic(base_url=emu.base_url, api_key="sk-ant-test", max_retries=0)
                for _ in client.messages.create(model="claude-3-5-sonnet-latest", max_tokens=64, stream=True,
                                                messages=[{"role": "user", "content": "hi"}]):
                    pass
            else:
                import openai

                client2 = openai.OpenAI(base_url=emu.base_url + "/v1", api_key="sk-test", max_retries=0)
                for _ in client2.chat.completions.create(model="gpt-4o-mini", stream=True,
                                                         messages=[{"role": "user", "content": "hi"}]):
                    pass


def drift(path: Path, served: list[bytes], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(events=served))
        code = main(["check", "--drift", "--drift-base-url", emu.base_url, str(path)])
        sent = emu.requests
    assert len(sent) == 1 and sent[0].json()["messages"][0]["content"] == "hi"  # the recorded request, re-sent
    return code, capsys.readouterr().out


def test_identical_shape_with_different_text_is_not_drift(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record(tmp_path / "c.json", anthropic_messages_stream(["Hello", " there"]), "anthropic")
    code, out = drift(tmp_path / "c.json", anthropic_messages_stream(["Completely", " different", " words"]), capsys)
    assert code == 0, out
    assert "same shape" in out


def test_a_renamed_field_and_a_changed_event_type_are_both_reported(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    original = anthropic_messages_stream(["Hello", " there"])
    record(tmp_path / "c.json", original, "anthropic")
    changed = [e.replace(b'"stop_reason"', b'"finish_reason"')
               .replace(b"event: content_block_stop", b"event: content_block_end")
               .replace(b'"type":"content_block_stop"', b'"type":"content_block_end"')
               .replace(b'"type": "content_block_stop"', b'"type": "content_block_end"') for e in original]
    assert changed != original
    code, out = drift(tmp_path / "c.json", changed, capsys)
    assert code == 1
    assert "shape drift" in out
    assert "gone: content_block_stop" in out and "new: content_block_end" in out
    assert "message_delta: fields gone: delta.stop_reason" in out
    assert "message_delta: new fields: delta.finish_reason" in out


def test_openai_usage_fields_drift(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record(tmp_path / "c.json", openai_chat_stream(["a"]), "openai")
    changed = [e.replace(b'"completion_tokens"', b'"output_tokens"') for e in openai_chat_stream(["b", "c"])]
    code, out = drift(tmp_path / "c.json", changed, capsys)
    assert code == 1 and "usage fields" in out and "output_tokens" in out


def test_live_drift_needs_keys_and_the_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    record(tmp_path / "c.json", anthropic_messages_stream(["x"]), "anthropic")
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    assert main(["check", "--drift", str(tmp_path / "c.json")]) == 2
    assert "needs --live and ANTHROPIC_API_KEY" in capsys.readouterr().err
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-not-a-real-key-000000")
    assert main(["check", "--drift", str(tmp_path / "c.json")]) == 2  # a key alone is not permission


# -- HTTP errors are errors, not drift; the base URL may end in /v1 ----------------------
def drift_against(emu: ProviderEmulator, base: str, path: Path,
                  capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["check", "--drift", "--drift-base-url", base, str(path)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(("status", "body", "said"), [
    (404, b'{"error": {"type": "not_found_error", "message": "Not Found"}}', "check the URL"),
    (401, b'{"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}',
     "the key was refused"),
])
def test_an_http_error_is_reported_as_an_error_with_its_body(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                              status: int, body: bytes, said: str) -> None:
    record(tmp_path / "c.json", anthropic_messages_stream(["Hello"]), "anthropic")
    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(status=status, headers={"content-type": "application/json"}, body=body))
        code, out, err = drift_against(emu, emu.base_url, tmp_path / "c.json", capsys)
    assert code == 1
    assert "shape drift" not in out and "status 200 ->" not in out
    line = next(line for line in out.splitlines() if "interaction 0" in line)
    assert f": error: HTTP {status} " in line and body.decode().split('"message": ')[1][:12] in line
    assert said in line
    assert "answered with an HTTP error" in err


@pytest.mark.parametrize("suffix", ["", "/", "/v1", "/v1/"])
def test_the_base_url_may_end_in_v1_or_not(tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str) -> None:
    record(tmp_path / "c.json", openai_chat_stream(["a"]), "openai")
    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(events=openai_chat_stream(["b"])))
        code, out, _ = drift_against(emu, emu.base_url + suffix, tmp_path / "c.json", capsys)
        paths = [r.path for r in emu.requests]
    assert code == 0 and "same shape" in out, out
    assert paths == ["/v1/chat/completions"]


def test_a_server_that_is_not_there_is_one_line_not_a_traceback(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    record(tmp_path / "c.json", anthropic_messages_stream(["x"]), "anthropic")
    with ProviderEmulator() as emu:
        gone = emu.base_url
    assert main(["check", "--drift", "--drift-base-url", gone, str(tmp_path / "c.json")]) == 1
    assert f"replaystream check: cannot reach {gone}/v1/messages" in capsys.readouterr().err
