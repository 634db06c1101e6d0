"""Replay cost for the framings beyond OpenAI's SSE: Gemini through ``google-genai`` (SSE, CRLF,
httpx2) and Ollama through ``ollama`` (NDJSON lines, httpx), each against its SDK's own
parse floor.

Each stream is consumed to the end through the real SDK, so every number includes the
SDK's framing and pydantic parsing of every unit; only what feeds the bytes in differs:

- ``floor``: a ``MockTransport`` of the SDK's HTTP package hands the units over one read
  each; nothing is loaded.
- ``replaystream``: ``use_cassette`` (entering it loads the cassette) and a normal client
  whose base URL (``127.0.0.1:9``) is never contacted.

Both cassettes are recorded for real from the loopback emulator. Times are the best of
several interleaved rounds in one run (see ``_util.best_of``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import ollama
from google import genai
from google.genai import types as genai_types

from replaystream.cassette import Cassette
from replaystream.emulator import NDJSON_HEADERS, ProviderEmulator, ScriptedResponse, gemini_stream, ollama_chat_stream
from replaystream.wire.session import use_cassette

from . import _util

DEAD = "http://127.0.0.1:9"  # discard port: nothing listens; replay must not connect
TARGET = 1.15
_WORDS = (" Once", " upon", " a", " time", ",", " the", " keeper", " watched", " waves", " 🌊", " «q»", "\n")


def words(n: int) -> list[str]:
    return [_WORDS[k % len(_WORDS)] for k in range(n)]


# -- the two SDKs, consumed to the end: (text, units the SDK yielded) -------------------------
def gemini_consume(client: genai.Client) -> tuple[str, int]:
    parts, count = [], 0
    for chunk in client.models.generate_content_stream(model="gemini-2.0-flash", contents="Tell me a story"):
        count += 1
        parts.append(chunk.text or "")
    return "".join(parts), count


def ollama_consume(client: ollama.Client) -> tuple[str, int]:
    parts, count = [], 0
    for piece in client.chat(model="llama3.2", messages=[{"role": "user", "content": "Tell me a story"}], stream=True):
        count += 1
        parts.append(piece.message.content or "")
    return "".join(parts), count


def gemini_client(base: str, http_client: httpx2.Client | None = None) -> genai.Client:
    return genai.Client(api_key="AIza-bench", http_options=genai_types.HttpOptions(base_url=base,
                                                                                    httpx_client=http_client))


class _Units(httpx2.SyncByteStream, httpx.SyncByteStream):
    def __init__(self, units: list[bytes]) -> None:
        self.units = units

    def __iter__(self) -> Iterator[bytes]:
        yield from self.units  # one read per unit, as a replay gives


def gemini_floor(units: list[bytes]) -> genai.Client:
    def handler(request: httpx2.Request) -> httpx2.Response:
        request.read()
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, stream=_Units(units))
    return gemini_client(DEAD, httpx2.Client(transport=httpx2.MockTransport(handler)))


def ollama_floor(units: list[bytes]) -> ollama.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        request.read()
        return httpx.Response(200, headers=NDJSON_HEADERS, stream=_Units(units))
    return ollama.Client(host=DEAD, transport=httpx.MockTransport(handler))


SDKS: dict[str, dict[str, Any]] = {
    "gemini_sse": {"units": lambda n: gemini_stream(words(n)), "headers": {}, "consume": gemini_consume,
                   "client": gemini_client, "floor": gemini_floor, "framing": "sse", "package": httpx2},
    "ollama_ndjson": {"units": lambda n: ollama_chat_stream(words(n - 1)), "headers": NDJSON_HEADERS,
                      "consume": ollama_consume, "client": lambda base: ollama.Client(host=base),
                      "floor": ollama_floor, "framing": "ndjson", "package": httpx},
}


def _record(path: Path, sdk: dict[str, Any], units: list[bytes]) -> None:
    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(events=units, headers=dict(sdk["headers"])))
        with use_cassette(path, mode="all"):
            sdk["consume"](sdk["client"](emu.base_url))
    response = Cassette.load(path).interactions[0].response
    if [e.raw for e in response.events or []] != units or response.framing != sdk["framing"]:
        raise AssertionError(f"{path.name}: the served units were not recorded one for one")


def _replay(path: Path, sdk: dict[str, Any]) -> Callable[[], tuple[str, int]]:
    client = sdk["client"](DEAD)

    def run() -> tuple[str, int]:
        with use_cassette(path):
            return sdk["consume"](client)  # type: ignore[no-any-return]
    return run


def run(units: int = 10_000, rounds: int = 5) -> dict[str, Any]:
    """Replay vs floor for each SDK (times in ms), with the target."""
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="replaystream-bench-providers-") as tmp:
        contenders: dict[str, Callable[[], Any]] = {}
        for name, sdk in SDKS.items():
            stream = sdk["units"](units)
            path = Path(tmp) / f"{name}.json"
            _record(path, sdk, stream)
            floor = sdk["floor"](stream)
            contenders[f"{name}.floor"] = lambda sdk=sdk, floor=floor: sdk["consume"](floor)
            contenders[f"{name}.replaystream"] = _replay(path, sdk)
            want = contenders[f"{name}.floor"]()
            if contenders[f"{name}.replaystream"]() != want or want[1] != len(stream):
                raise AssertionError(f"{name}: replay and floor disagree, or a unit was merged or lost")
            with _util.count_reads(sdk["package"]) as reads:
                contenders[f"{name}.replaystream"]()
            result[name] = {"units": len(stream), "bytes": sum(map(len, stream)), "replay_reads": reads}
        best = _util.best_of(contenders, rounds)
    for name, entry in result.items():
        entry["rounds"] = rounds
        entry["floor_ms"] = _util.ms(best[f"{name}.floor"])
        entry["replaystream_load_replay_ms"] = _util.ms(best[f"{name}.replaystream"])
        entry["replay_vs_floor"] = _util.target(best[f"{name}.replaystream"] / best[f"{name}.floor"], TARGET)
        entry["kept"] = entry.pop("replay_reads") == [entry["units"]]
    result["met"] = all(e["replay_vs_floor"]["met"] and e["kept"] for e in result.values() if isinstance(e, dict))
    return result
