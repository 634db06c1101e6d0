"""Bedrock through botocore: boto3 and ChatBedrockConverse recorded from the emulator, replayed
offline with the emulator stopped; botocore reads the recorded frames byte for byte."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.eventstream import EventStreamBuffer

from replaystream import use_cassette
from replaystream.cassette.model import Cassette
from replaystream.emulator import ProviderEmulator, ToolCall, bedrock_converse_stream, bedrock_invoke_stream
from replaystream.errors import CassetteMissError
from replaystream.providers import PLACEHOLDER_KEY

MODEL = "us.amazon.nova-micro-v1:0"
KEYS = {"AWS_ACCESS_KEY_ID": "AKIAREPLAYSTREAMTEST1", "AWS_SECRET_ACCESS_KEY": "known/secret+access/key/value0123456789",
        "AWS_SESSION_TOKEN": "known-session-token-FwoGZXIvYXdzEBaaaaaaaaaaaaaaaaaaa"}
TOOL = ToolCall(id="tooluse_1", name="get_weather", arguments_chunks=['{"city":', ' "Paris"}'])
MESSAGES = [{"role": "user", "content": [{"text": "What is the weather in Paris?"}]}]


@pytest.fixture
def aws_keys(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return KEYS


def forget_keys() -> None:
    """What a replay-only run has: no AWS variables at all (replaystream supplies placeholders)."""
    for name in (*KEYS, "AWS_DEFAULT_REGION", "AWS_REGION"):
        os.environ.pop(name, None)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every chunk botocore's event-stream parser is handed, in order: what the client reads."""
    seen: list[bytes] = []
    original = EventStreamBuffer.add_data

    def add_data(self: EventStreamBuffer, data: bytes) -> None:
        seen.append(bytes(data))
        original(self, data)

    monkeypatch.setattr(EventStreamBuffer, "add_data", add_data)
    return seen


def client(url: str) -> Any:
    # A new boto3 session each time: the default one caches the credentials it first found.
    return boto3.session.Session().client("bedrock-runtime", region_name="us-east-1", endpoint_url=url)


def converse(url: str) -> list[dict[str, Any]]:
    response = client(url).converse_stream(modelId=MODEL, messages=MESSAGES)
    return list(response["stream"])


def invoke(url: str) -> list[dict[str, Any]]:
    body = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 64, "messages": [
        {"role": "user", "content": "Say hello"}]})
    response = client(url).invoke_model_with_response_stream(modelId="anthropic.claude-3-5-haiku-20241022-v1:0",
                                                             body=body)
    return [json.loads(e["chunk"]["bytes"]) for e in response["body"]]


def record_then_replay(emulator: ProviderEmulator, path: Path, scripted: Any, call: Callable[[str], Any],
                       reads: list[bytes]) -> tuple[Any, Any, list[bytes], list[bytes]]:
    """The client's results and reads: unpatched against the emulator, then replayed offline
    (emulator stopped, no AWS variables) from a cassette recorded from the emulator."""
    url = emulator.base_url
    emulator.enqueue(scripted)
    plain = call(url)
    plain_reads = list(reads)
    emulator.enqueue(scripted)
    with use_cassette(path, mode="once"):
        call(url)
    emulator.stop()
    forget_keys()
    reads.clear()
    with use_cassette(path, mode="none"):
        replayed = call(url)
    return plain, replayed, plain_reads, list(reads)


@pytest.mark.parametrize("tools", [False, True], ids=["text", "tool-call"])
def test_converse_stream_replays_the_same_frames_byte_for_byte(
        emulator: ProviderEmulator, tmp_path: Path, aws_keys: dict[str, str], reads: list[bytes],
        tools: bool) -> None:
    scripted = bedrock_converse_stream([] if tools else ["Paris", " is sunny."], tool_calls=[TOOL] if tools else None)
    path = tmp_path / "converse.json"
    plain, replayed, plain_reads, replay_reads = record_then_replay(emulator, path, scripted, converse, reads)
    assert replayed == plain and plain[-1]["metadata"]["usage"]["inputTokens"] == 13
    assert b"".join(replay_reads) == b"".join(plain_reads) == b"".join(scripted.events)
    assert replay_reads == scripted.events  # one read per recorded frame
    interaction = Cassette.load(path).interactions[0]
    assert (interaction.provider, interaction.api, interaction.response.framing) == (
        "bedrock", "converse-stream", "eventstream")
    assert interaction.request.path == "/model/us.amazon.nova-micro-v1%3A0/converse-stream"


def test_invoke_model_with_response_stream_replays_the_same_frames(
        emulator: ProviderEmulator, tmp_path: Path, aws_keys: dict[str, str], reads: list[bytes]) -> None:
    scripted = bedrock_invoke_stream(["Hello", " there"])
    plain, replayed, plain_reads, replay_reads = record_then_replay(
        emulator, tmp_path / "invoke.json", scripted, invoke, reads)
    assert replayed == plain and [e["type"] for e in plain][-1] == "message_stop"
    assert replay_reads == scripted.events and b"".join(plain_reads) == b"".join(replay_reads)
    assert Cassette.load(tmp_path / "invoke.json").interactions[0].api == "invoke-with-response-stream"


# -- LangChain ---------------------------------------------------------------------------
def get_weather(city: str) -> str:
    """The weather in a city."""
    return "sunny"


def comparable(chunks: list[Any]) -> list[dict[str, Any]]:
    """Chunks without what differs between any two runs: the run id, and the HTTP envelope
    botocore reports (date, server, request id, transfer headers)."""
    out = []
    for chunk in chunks:
        data = chunk.model_dump()
        data.pop("id", None)
        data["response_metadata"].pop("ResponseMetadata", None)
        out.append(data)
    return out


@pytest.mark.parametrize("mode", ["stream", "astream"])
@pytest.mark.parametrize("tools", [False, True], ids=["text", "tool-call"])
def test_chat_bedrock_converse_sees_the_same_chunks(emulator: ProviderEmulator, tmp_path: Path,
                                                    aws_keys: dict[str, str], reads: list[bytes],
                                                    mode: str, tools: bool) -> None:
    from langchain_aws import ChatBedrockConverse

    def run(url: str) -> list[Any]:
        model: Any = ChatBedrockConverse(model=MODEL, endpoint_url=url, region_name="us-east-1")
        if tools:
            model = model.bind_tools([get_weather])
        if mode == "stream":
            return list(model.stream("What is the weather in Paris?"))

        async def collect() -> list[Any]:
            return [c async for c in model.astream("What is the weather in Paris?")]
        return asyncio.run(collect())

    scripted = bedrock_converse_stream([] if tools else ["Paris", " is sunny."], tool_calls=[TOOL] if tools else None)
    plain, replayed, _, replay_reads = record_then_replay(emulator, tmp_path / "lc.json", scripted, run, reads)
    assert comparable(replayed) == comparable(plain)
    assert replay_reads == scripted.events
    merged = replayed[0]
    for chunk in replayed[1:]:
        merged += chunk
    if tools:
        assert merged.tool_calls == [{"name": "get_weather", "args": {"city": "Paris"}, "id": "tooluse_1",
                                      "type": "tool_call"}]
    else:
        assert "".join(b["text"] for b in merged.content if b.get("type") == "text") == "Paris is sunny."
    # The message-level fake replays the same cassette through the real integration.
    from replaystream.langchain.fakes import ReplayChatModel

    fake = ReplayChatModel.from_cassette(tmp_path / "lc.json")
    assert fake._get_ls_params()["ls_provider"] == "amazon_bedrock"
    assert comparable(list(fake.stream("anything"))) == comparable(plain)


def test_a_bedrock_cassette_without_the_bedrock_extra_names_it(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from replaystream.errors import MissingExtraError
    from replaystream.importers.vcr import import_vcr
    from replaystream.langchain.fakes import ReplayChatModel

    corpus = Path(__file__).resolve().parents[1] / "data" / "corpus-providers" / "pydantic-ai"
    path = import_vcr(corpus / "test_bedrock_model_stream.yaml").save(tmp_path / "c.json")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "langchain_aws" else real(name, *a))
    with pytest.raises(MissingExtraError, match=r"pip install 'replaystream\[bedrock\]'"):
        ReplayChatModel.from_cassette(path)


# -- what is kept, what is matched -------------------------------------------------------
def test_aws_credentials_never_reach_the_cassette(emulator: ProviderEmulator, tmp_path: Path,
                                                  aws_keys: dict[str, str]) -> None:
    # The model echoes the session token back: it is scrubbed inside the binary frame too.
    emulator.enqueue(bedrock_converse_stream(["token ", KEYS["AWS_SESSION_TOKEN"]]))
    path = tmp_path / "secrets.json"
    with use_cassette(path, mode="once"):
        events = converse(emulator.base_url)
    assert KEYS["AWS_SESSION_TOKEN"] in json.dumps(events)  # the client saw it
    text = path.read_text("utf-8")
    interaction = Cassette.load(path).interactions[0]
    frames = b"".join(e.raw for e in interaction.response.events or ())
    for value in KEYS.values():
        assert value not in text and value.encode() not in frames
    for header in ("authorization", "x-amz-date", "x-amz-security-token"):
        assert header not in interaction.request.headers
        assert f"request.headers.{header}" in interaction.scrubbed
    assert "response.events[2]" in interaction.scrubbed
    # The re-encoded frame is valid: botocore replays it (lengths and CRCs recomputed).
    emulator.stop()
    forget_keys()
    with use_cassette(path, mode="none"):
        replayed = converse("http://127.0.0.1:9")
    assert replayed[2]["contentBlockDelta"]["delta"]["text"] == "<scrubbed:1>"  # its own placeholder


def test_the_model_id_in_the_path_is_matched(emulator: ProviderEmulator, tmp_path: Path,
                                             aws_keys: dict[str, str]) -> None:
    emulator.enqueue(bedrock_converse_stream(["hi"]))
    path = tmp_path / "model.json"
    with use_cassette(path, mode="once"):
        converse(emulator.base_url)
    forget_keys()  # other credentials: a new signature, still the same request
    with use_cassette(path, mode="none"):
        assert converse(emulator.base_url)[1]["contentBlockDelta"]["delta"]["text"] == "hi"
    with use_cassette(path, mode="none"), pytest.raises(CassetteMissError, match="nova-lite"):
        client(emulator.base_url).converse_stream(modelId="us.amazon.nova-lite-v1:0", messages=MESSAGES)


def test_replay_supplies_placeholder_credentials_and_disables_the_metadata_service(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_sockets: list[object]) -> None:
    path = tmp_path / "c.json"
    frames = bedrock_converse_stream(["ok"]).events or []
    from replaystream.cassette.model import Event, Interaction, Request, Response

    Cassette([Interaction(Request("POST", "/model/us.amazon.nova-micro-v1%3A0/converse-stream",
                                  body={"messages": MESSAGES}),
                          Response(200, {"content-type": "application/vnd.amazon.eventstream"},
                                   events=[Event(f) for f in frames], framing="eventstream"),
                          "bedrock", "converse-stream")]).save(path)
    for name in (*KEYS, "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE", "AWS_EC2_METADATA_DISABLED"):
        monkeypatch.delenv(name, raising=False)
    with use_cassette(path, mode="none"):
        assert os.environ["AWS_EC2_METADATA_DISABLED"] == "true"
        bedrock = boto3.session.Session().client("bedrock-runtime")  # no region, no credentials given
        assert bedrock.meta.region_name == "us-east-1"
        assert bedrock._request_signer._credentials.access_key == PLACEHOLDER_KEY
        stream = bedrock.converse_stream(modelId=MODEL, messages=MESSAGES)["stream"]
        assert [next(iter(e)) for e in stream][:2] == ["messageStart", "contentBlockDelta"]


# -- faults -----------------------------------------------------------------------------
@pytest.fixture
def recorded(emulator: ProviderEmulator, tmp_path: Path, aws_keys: dict[str, str]) -> Iterator[Path]:
    emulator.enqueue(bedrock_converse_stream(["a", "b", "c", "d"]))
    path = tmp_path / "faults.json"
    with use_cassette(path, mode="once"):
        converse(emulator.base_url)
    forget_keys()
    yield path


def _received(path: Path, fault: str) -> tuple[list[str], BaseException]:
    got: list[str] = []
    with use_cassette(path, mode="none", faults=[fault]):
        stream = client("http://127.0.0.1:9").converse_stream(modelId=MODEL, messages=MESSAGES)["stream"]
        with pytest.raises(Exception) as caught:
            for event in stream:
                got.append(next(iter(event)))
    return got, caught.value


def test_disconnect_after_k_frames_raises_urllib3s_protocol_error(recorded: Path) -> None:
    from urllib3.exceptions import ProtocolError

    got, error = _received(recorded, "disconnect:after=3")
    assert got == ["messageStart", "contentBlockDelta", "contentBlockDelta"]
    assert isinstance(error, ProtocolError)


def test_a_malformed_frame_raises_botocores_checksum_error_at_that_frame(recorded: Path) -> None:
    from botocore.eventstream import ChecksumMismatch

    got, error = _received(recorded, "malformed:at=2")
    assert got == ["messageStart", "contentBlockDelta"]
    assert isinstance(error, ChecksumMismatch)


def test_a_fault_while_recording_fails_the_client_and_keeps_the_whole_stream(
        emulator: ProviderEmulator, tmp_path: Path, aws_keys: dict[str, str]) -> None:
    from urllib3.exceptions import ProtocolError

    emulator.enqueue(bedrock_converse_stream(["a", "b", "c"]))
    path = tmp_path / "rec.json"
    got: list[str] = []
    with use_cassette(path, mode="once", faults=["disconnect:after=2"]):
        stream = client(emulator.base_url).converse_stream(modelId=MODEL, messages=MESSAGES)["stream"]
        with pytest.raises(ProtocolError):
            for event in stream:
                got.append(next(iter(event)))
    assert got == ["messageStart", "contentBlockDelta"]
    assert len(Cassette.load(path).interactions[0].response.events or []) == 7
