"""The emulator speaks Bedrock: scripted converse/invoke streams and recorded cassettes, parsed
by botocore itself; and a ``status`` fault is raised by botocore under its own error name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.eventstream import EventStreamBuffer
from botocore.exceptions import ClientError

from replaystream import use_cassette
from replaystream.cassette.framing import EVENTSTREAM
from replaystream.emulator import ProviderEmulator, ToolCall, bedrock_converse_stream, bedrock_invoke_stream
from replaystream.importers.vcr import import_vcr

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus-providers" / "pydantic-ai"
MESSAGES = [{"role": "user", "content": [{"text": "hi"}]}]


def client(url: str) -> Any:
    return boto3.session.Session(aws_access_key_id="AKIAEMULATORTEST0000", aws_secret_access_key="secret",
                                 region_name="us-east-1").client("bedrock-runtime", endpoint_url=url)


def test_scripted_converse_stream_is_what_botocore_parses(emulator: ProviderEmulator) -> None:
    call = ToolCall(id="t1", name="lookup", arguments_chunks=['{"q":', '"x"}'])
    scripted = bedrock_converse_stream(["Hel", "lo"], tool_calls=[call], input_tokens=5)
    assert all(EVENTSTREAM.view(f).ok for f in scripted.events or [])
    emulator.enqueue(scripted)
    events = list(client(emulator.base_url).converse_stream(modelId="m", messages=MESSAGES)["stream"])
    assert [next(iter(e)) for e in events] == [
        "messageStart", "contentBlockDelta", "contentBlockDelta", "contentBlockStop", "contentBlockStart",
        "contentBlockDelta", "contentBlockDelta", "contentBlockStop", "messageStop", "metadata"]
    assert events[4]["contentBlockStart"]["start"]["toolUse"] == {"toolUseId": "t1", "name": "lookup"}
    assert events[8]["messageStop"]["stopReason"] == "tool_use"
    assert events[9]["metadata"]["usage"]["inputTokens"] == 5
    assert emulator.requests[0].path == "/model/m/converse-stream"


def test_scripted_invoke_stream_carries_the_models_own_events(emulator: ProviderEmulator) -> None:
    emulator.enqueue(bedrock_invoke_stream(["a", "b"]))
    body = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 8, "messages": []})
    stream = client(emulator.base_url).invoke_model_with_response_stream(modelId="anthropic.claude", body=body)
    kinds = [json.loads(e["chunk"]["bytes"])["type"] for e in stream["body"]]
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop" and kinds.count("content_block_delta") == 2


def test_a_bedrock_cassette_is_served_frame_by_frame(emulator: ProviderEmulator) -> None:
    cassette = import_vcr(CORPUS / "test_bedrock_model_stream.yaml")
    frames = [e.raw for e in cassette.interactions[0].response.events or []]
    emulator.serve_cassette(cassette)
    body = dict(cassette.interactions[0].request.body)
    response = client(emulator.base_url).converse_stream(modelId="us.amazon.nova-micro-v1:0", **body)
    buf = EventStreamBuffer()
    buf.add_data(b"".join(frames))
    assert [next(iter(e)) for e in response["stream"]] == [m.headers[":event-type"] for m in buf]


def test_a_status_fault_is_botocores_own_throttling_error(emulator: ProviderEmulator, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    emulator.enqueue(bedrock_converse_stream(["ok"]))
    path = tmp_path / "c.json"
    with use_cassette(path, mode="once"):
        list(client(emulator.base_url).converse_stream(modelId="m", messages=MESSAGES)["stream"])
    with use_cassette(path, mode="none", faults=["status:429:times=9"]), pytest.raises(ClientError) as caught:
        client(emulator.base_url).converse_stream(modelId="m", messages=MESSAGES)
    assert caught.value.response["Error"]["Code"] == "ThrottlingException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429


def test_drift_of_a_bedrock_stream_reads_its_frames(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from replaystream.cli import main

    path = tmp_path / "c.json"
    with ProviderEmulator() as emu:
        emu.enqueue(bedrock_converse_stream(["Hello", " there"]))
        with use_cassette(path, mode="once"):
            list(client(emu.base_url).converse_stream(modelId="m", messages=MESSAGES)["stream"])
    call = ToolCall(id="t1", name="lookup", arguments_chunks=["{}"])
    for served, code, said in ((bedrock_converse_stream(["Other", " words", "!"]), 0, "same shape"),
                               (bedrock_converse_stream([], tool_calls=[call]), 1, "new: contentBlockStart")):
        with ProviderEmulator() as emu:
            emu.enqueue(served)
            assert main(["check", "--drift", "--drift-base-url", emu.base_url, str(path)]) == code
            assert emu.requests[0].path == "/model/m/converse-stream"
        assert said in capsys.readouterr().out
    assert main(["check", "--drift", "--live", str(path)]) != 0
    assert "no live drift check for this provider" in capsys.readouterr().err
