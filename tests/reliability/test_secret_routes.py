"""Secrets by every route an attacker found: each is sent to a loopback server while
recording, the written cassette is searched for the value (in clear, base64 and
URL-encoded), and the recording replays offline with the same calls.

A route is a function that makes its requests through an ``httpx.Client`` on the
emulator and returns what it got; ``secret`` is the value it leaks. The server echoes
the value back where the route says (an error body, a redirect, a token response), in
every form, so scrubbing the response side is tested too.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus

import httpx
import pytest
from langchain_core.tools import tool

from replaystream import CassetteMissError, ReplayTool, ToolReplayMissError, use_cassette
from replaystream.emulator import ProviderEmulator, ScriptedResponse, openai_chat_stream
from replaystream.wire.recorder import StreamRecorder

pytestmark = pytest.mark.outcome("no secret written by any route; replay still matches")

Property = Callable[[str, object], None]
#: ``/`` ``+`` ``=`` and a space make the URL-encoded and base64 forms differ from the value.
SECRET = "s3cr3t/Key+Val=ue 0123456789"
Route = Callable[[httpx.Client, str, ProviderEmulator], list[Any]]


def forms(value: str) -> dict[str, str]:
    raw = value.encode()
    return {"clear": value, "base64": base64.b64encode(raw).decode(), "base64url": base64.urlsafe_b64encode(raw).decode(),
            "url": quote(value, safe=""), "url+": quote_plus(value), "json": json.dumps(value)[1:-1]}


def echo(value: str, status: int = 200, **headers: str) -> ScriptedResponse:
    """A JSON body that carries ``value`` in each of its forms (as a chatty error page would)."""
    body = json.dumps({"error": {"message": f"bad credential {value}"}, "echo": forms(value)}).encode()
    return ScriptedResponse(status=status, body=body, headers={"content-type": "application/json", **headers})


def gateway_header(name: str, scheme: str = "") -> Route:
    def route(client: httpx.Client, secret: str, emu: ProviderEmulator) -> list[Any]:
        emu.enqueue(echo(secret, 401))
        r = client.post("/v1/chat/completions", headers={name: scheme + secret},
                        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})
        return [r.status_code, sorted(r.json()["echo"])]
    return route


def query_param(name: str) -> Route:
    def route(client: httpx.Client, secret: str, emu: ProviderEmulator) -> list[Any]:
        emu.enqueue(echo(secret, 403))  # the key echoed in the error body
        first = client.get("/v1/models", params={name: secret, "limit": "5"})
        emu.enqueue(ScriptedResponse(status=302, body=b"", headers={
            "location": f"https://login.example/next?{name}={quote_plus(secret)}&state=ok"}))
        second = client.get("/v1/files", params={name: secret})
        return [first.status_code, second.status_code, "state=ok" in second.headers["location"]]
    return route


def json_field(name: str) -> Route:
    def route(client: httpx.Client, secret: str, emu: ProviderEmulator) -> list[Any]:
        emu.enqueue(echo(secret, 401))
        r = client.post("/v1/login", json={"user": "ada", name: secret, "options": {"nested": {name: secret}}})
        return [r.status_code]
    return route


def form_field(client: httpx.Client, secret: str, emu: ProviderEmulator) -> list[Any]:
    emu.enqueue(echo(secret, 400))
    r = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": "app-1",
                                          "client_secret": secret})
    return [r.status_code]


def oauth_token(client: httpx.Client, secret: str, emu: ProviderEmulator) -> list[Any]:
    """A token endpoint hands out ``secret`` (not known before); it is then sent as
    Authorization, in a query and in a body, and the model's stream happens to echo it."""
    emu.enqueue(ScriptedResponse(body=json.dumps({"access_token": secret, "token_type": "Bearer",
                                                  "refresh_token": "rt-" + secret[::-1], "expires_in": 3600}).encode(),
                                 headers={"content-type": "application/json"}))
    token = client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": "rt-old-0123456789"}
                        ).json()["access_token"]
    emu.enqueue(ScriptedResponse(events=openai_chat_stream(["your token is ", token]),
                                 headers={"content-type": "text/event-stream"}))
    with client.stream("POST", "/v1/chat/completions", headers={"authorization": f"Bearer {token}"},
                       params={"access_token": token},
                       json={"model": "gpt-4o-mini", "stream": True,
                             "messages": [{"role": "user", "content": "hi"}]}) as r:
        streamed = r.read()
    return [token, streamed.count(b"data:")]


def transport_error(client: httpx.Client, secret: str, emu: ProviderEmulator) -> list[Any]:
    """The connection drops mid-stream; the client's error message names the URL with its key."""
    emu.enqueue(ScriptedResponse(events=openai_chat_stream(["a", "b", "c"]), close_after=2,
                                 headers={"content-type": "text/event-stream"}))
    try:
        with client.stream("POST", "/v1/chat/completions", params={"key": secret},
                           json={"model": "gpt-4o-mini", "stream": True, "messages": []}) as r:
            for _ in r.iter_raw():
                pass
    except httpx.TransportError as exc:
        return [type(exc).__name__]
    return ["no error"]


ROUTES: dict[str, Route] = {
    "header x-portkey-api-key": gateway_header("x-portkey-api-key"),
    "header ocp-apim-subscription-key": gateway_header("ocp-apim-subscription-key"),
    "header helicone-auth": gateway_header("helicone-auth", "Bearer "),
    "header cf-aig-authorization": gateway_header("cf-aig-authorization", "Bearer "),
    "header x-auth-token": gateway_header("x-auth-token"),
    **{f"query {name}": query_param(name) for name in ("apikey", "token", "subscription-key", "sig", "code")},
    "json api_key": json_field("api_key"),
    "json password": json_field("password"),
    "form client_secret": form_field,
    "oauth access_token": oauth_token,
    "transport error message": transport_error,
}


@pytest.fixture
def url_in_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """Client errors that name the URL they failed on (as requests' and aiohttp's do)."""
    fail = StreamRecorder.fail

    def fail_naming_url(self: StreamRecorder, exc: BaseException) -> None:
        fail(self, type(exc)(f"{exc} (POST http://127.0.0.1/v1/chat/completions?key={quote_plus(SECRET)}; "
                             f"key {SECRET})"))
    monkeypatch.setattr(StreamRecorder, "fail", fail_naming_url)


@pytest.mark.parametrize("route", list(ROUTES))
def test_route_leaves_no_secret_and_replays(route: str, tmp_path: Path, url_in_errors: None,
                                            record_property: Property) -> None:
    path = tmp_path / "cassette.json"
    with ProviderEmulator() as emu:
        with httpx.Client(base_url=emu.base_url, follow_redirects=False) as client:
            with use_cassette(path, mode="once"):
                recorded = ROUTES[route](client, SECRET, emu)
        sent = " ".join(r.body.decode() + unquote_plus(r.body.decode()) + json.dumps(r.headers) + unquote_plus(r.query)
                        for r in emu.requests)
    assert SECRET in sent or json.dumps(SECRET)[1:-1] in sent  # it really went out
    text = path.read_text("utf-8")
    leaked = {name: form for name, form in forms(SECRET).items() if form in text}
    assert leaked == {}, f"{route}: the cassette holds the secret as {sorted(leaked)}"
    assert "<scrubbed:" in text

    with httpx.Client(base_url="http://127.0.0.1:9", follow_redirects=False) as client:  # nothing listens there
        with use_cassette(path, mode="none") as session:
            replayed = ROUTES[route](client, SECRET, ProviderEmulator())
    if route != "oauth access_token":  # there the replayed token is the placeholder itself
        assert replayed == recorded
    assert session.unused() == []
    record_property("forms_searched", len(forms(SECRET)))


def test_a_token_reused_across_interactions_keeps_one_placeholder(tmp_path: Path) -> None:
    path = tmp_path / "oauth.json"
    with ProviderEmulator() as emu, httpx.Client(base_url=emu.base_url) as client:
        with use_cassette(path, mode="once"):
            oauth_token(client, SECRET, emu)
    doc = json.loads(path.read_text("utf-8"))
    token_response, chat = doc["interactions"]
    placeholder = json.loads(token_response["response"]["body"])["access_token"]
    assert placeholder.startswith("<scrubbed:")
    assert chat["request"]["query"] == f"access_token={placeholder}"
    assert placeholder in json.dumps(chat["response"]["events"])
    # Replayed, the client sends the placeholder back: it matches, and is never renumbered.
    with httpx.Client(base_url="http://127.0.0.1:9") as client, use_cassette(path, mode="none") as session:
        token, events = oauth_token(client, SECRET, ProviderEmulator())
    assert token == placeholder and events > 0 and session.unused() == []


def test_a_value_learned_late_is_removed_from_earlier_interactions(tmp_path: Path) -> None:
    path = tmp_path / "late.json"
    with ProviderEmulator() as emu, httpx.Client(base_url=emu.base_url) as client:
        with use_cassette(path, mode="once"):
            emu.enqueue(ScriptedResponse(body=json.dumps({"note": f"your new key is {SECRET}"}).encode(),
                                         headers={"content-type": "application/json"}))
            client.post("/v1/chat/completions", json={"model": "m", "messages": []})
            emu.enqueue(ScriptedResponse(body=b"{}", headers={"content-type": "application/json"}))
            client.get("/v1/models", headers={"x-auth-token": SECRET})  # only now is it known to be a key
    text = path.read_text("utf-8")
    assert SECRET not in text and json.dumps(SECRET)[1:-1] not in text
    first = json.loads(path.read_text("utf-8"))["interactions"][0]
    assert "response.body" in first["scrubbed"]


def test_the_miss_message_never_prints_the_key(tmp_path: Path) -> None:
    path = tmp_path / "miss.json"
    with ProviderEmulator() as emu, httpx.Client(base_url=emu.base_url) as client:
        with use_cassette(path, mode="once"):
            emu.enqueue(echo("ok"))
            client.post("/v1/embed", params={"apikey": SECRET}, json={"input": "one", "password": SECRET})
    with httpx.Client(base_url="http://127.0.0.1:9") as client, use_cassette(path, mode="none"):
        with pytest.raises(CassetteMissError) as info:
            client.post("/v1/embed", params={"apikey": SECRET}, json={"input": "two", "password": SECRET})
    message = str(info.value)
    assert "no recorded response" in message and '"one"' in message and '"two"' in message  # a real diff
    assert not [name for name, form in forms(SECRET).items() if form in message]


# -- ReplayTool records: a key passed to a tool, and one its result carries ------------------------
@tool
def fetch_report(query: str, api_key: str) -> str:
    """Fetch a report from a service that wants a key."""
    return f"report on {query}; authorised by {api_key}; token={quote_plus(api_key)}"


@pytest.mark.parametrize("how", ["standalone save", "inside a cassette"])
def test_replay_tool_records_hold_no_secret_and_replay(how: str, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-" + "EnvKey0123456789abcdef")  # known before: masked anywhere
    path = tmp_path / "tool.json"
    args = {"query": "sk-proj-EnvKey0123456789abcdef sales", "api_key": SECRET}
    if how == "standalone save":
        recorder = ReplayTool.wrap(fetch_report, path, mode="record")
        live = recorder.invoke(args)
        recorder.save()
    else:
        with use_cassette(path, mode="once"):
            live = ReplayTool.wrap(fetch_report).invoke(args)
    text = path.read_text("utf-8")
    assert not [name for name, form in forms(SECRET).items() if form in text]
    assert "EnvKey0123456789abcdef" not in text and SECRET in live
    if how == "standalone save":
        replayed = ReplayTool.wrap(fetch_report, path).invoke(args)
    else:
        with use_cassette(path, mode="none"):
            replayed = ReplayTool.wrap(fetch_report).invoke(args)
    assert replayed.startswith("report on <scrubbed:") and SECRET not in replayed
    with pytest.raises(ToolReplayMissError) as info:  # a new input: the miss lists inputs, scrubbed
        ReplayTool.wrap(fetch_report, path).invoke({**args, "query": "other"})
    assert SECRET not in str(info.value) and "<scrubbed" in str(info.value)
