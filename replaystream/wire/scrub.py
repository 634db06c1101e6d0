"""Secret scrubbing: nothing secret is ever written to a cassette.

Scrubbing is the only rewrite replaystream ever makes to recorded bytes, and every
interaction lists what was scrubbed from it (``scrubbed``), so a reviewer can tell.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, urlencode

from ..cassette.model import Event, Interaction

#: Headers that carry credentials, account identity or per-request ids: dropped.
SECRET_HEADERS = frozenset({
    "authorization", "proxy-authorization", "x-api-key", "api-key", "x-goog-api-key",
    "cookie", "set-cookie",
    "openai-organization", "openai-project", "anthropic-organization-id",
    "x-request-id", "request-id", "openai-request-id", "x-amzn-requestid", "cf-ray",
})
#: Of those, the ones whose values are credentials or account identity: a value sent in one
#: of them is removed wherever else it appears (a key passed in code, echoed in an error body;
#: an organisation id quoted in a rate-limit message).
CREDENTIAL_HEADERS = frozenset({
    "authorization", "proxy-authorization", "x-api-key", "api-key", "x-goog-api-key", "cookie", "set-cookie",
    "openai-organization", "openai-project", "anthropic-organization-id",
})
#: Query parameters that carry keys (Azure, Gemini style).
SECRET_QUERY = frozenset({"api-key", "api_key", "key", "access_token"})
#: Environment variables whose *values* are removed wherever they appear.
SECRET_ENV_VARS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID")
#: Request headers that only make diffs noisy (SDK versions, transport details). They
#: play no part in replay, so they are not kept; they are not secrets either.
NOISY_REQUEST_HEADERS = frozenset({
    "content-length", "host", "connection", "accept-encoding", "user-agent",
})
NOISY_REQUEST_HEADER_PREFIXES = ("x-stainless-",)
#: Response headers that describe the transfer, not the content (the body is stored decoded).
TRANSFER_RESPONSE_HEADERS = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})

MASK = "<scrubbed>"

Hook = Callable[[Interaction], "Interaction | None"]


@dataclass(frozen=True)
class Scrubber:
    """Removes secrets from an interaction before it is written.

    ``hooks`` run after the built-in scrubbing; each sees the interaction and returns it
    (changed or not) or ``None`` to skip recording it.

    >>> s = Scrubber(extra_headers=("x-my-token",), env_vars=("MY_KEY",))
    """

    extra_headers: Sequence[str] = ()
    env_vars: Sequence[str] = SECRET_ENV_VARS
    extra_values: Sequence[str] = ()
    hooks: Sequence[Hook] = field(default_factory=tuple)

    def secret_values(self) -> list[str]:
        values = [os.environ.get(name, "") for name in self.env_vars]
        values += list(self.extra_values)
        # Longest first, so a key that contains another is removed whole.
        return sorted({v for v in values if len(v) >= 8}, key=len, reverse=True)

    def headers(self) -> frozenset[str]:
        return SECRET_HEADERS | {h.lower() for h in self.extra_headers}

    def __call__(self, interaction: Interaction) -> Interaction | None:
        done: list[str] = list(interaction.scrubbed)
        secret_headers = self.headers()
        rq, rs = interaction.request, interaction.response
        values = _with_header_values(self.secret_values(), rq.headers, rs.headers, names=secret_headers)

        req_headers: dict[str, str] = {}
        for name, value in rq.headers.items():
            if name in secret_headers:
                done.append(f"request.headers.{name}")
            elif name not in NOISY_REQUEST_HEADERS and not name.startswith(NOISY_REQUEST_HEADER_PREFIXES):
                req_headers[name] = value
        resp_headers: dict[str, str] = {}
        for name, value in rs.headers.items():
            if name in secret_headers:
                done.append(f"response.headers.{name}")
            else:
                resp_headers[name] = value

        query = rq.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            kept = [(k, v) for k, v in pairs if k.lower() not in SECRET_QUERY]
            if len(kept) != len(pairs):
                done += [f"request.query.{k}" for k, _ in pairs if k.lower() in SECRET_QUERY]
                query = urlencode(kept)

        def text(value: str, where: str) -> str:
            for secret in values:
                if secret in value:
                    value = value.replace(secret, MASK)
                    done.append(where)
            return value

        req_headers = {k: text(v, f"request.headers.{k}") for k, v in req_headers.items()}
        resp_headers = {k: text(v, f"response.headers.{k}") for k, v in resp_headers.items()}
        request = replace(
            rq, headers=req_headers, query=text(query, "request.query"), path=text(rq.path, "request.path"),
            body=_scrub_json(rq.body, text, "request.body"),
            body_text=None if rq.body_text is None else text(rq.body_text, "request.body_text"),
        )
        events = rs.events
        body = rs.body
        if values:
            encoded = [(v.encode("utf-8"), MASK.encode()) for v in values]
            if events is not None:
                events = [Event(_scrub_bytes(e.raw, encoded, done, f"response.events[{n}]"), e.ms)
                          for n, e in enumerate(events)]
            if body is not None:
                body = _scrub_bytes(body, encoded, done, "response.body")
        response = replace(rs, headers=resp_headers, events=events, body=body)
        result: Interaction | None = replace(interaction, request=request, response=response,
                                             scrubbed=sorted(set(done)))
        for hook in self.hooks:
            if result is None:
                break
            result = hook(result)
        return result


def _header_secrets(name: str, value: str) -> list[str]:
    """A credential header's value, and the parts of it that are secrets on their own."""
    parts = [value.strip()]
    if name in ("authorization", "proxy-authorization") and " " in value.strip():
        parts.append(value.strip().split(None, 1)[1])  # "Bearer sk-...": the key itself
    elif name == "cookie":
        parts += [pair.partition("=")[2].strip() for pair in value.split(";")]
    elif name == "set-cookie":  # the first pair is the cookie; path, domain, expires are not secret
        parts = [value.split(";", 1)[0].strip(), value.split(";", 1)[0].partition("=")[2].strip()]
    return parts


def _with_header_values(values: list[str], *header_sets: dict[str, str], names: frozenset[str]) -> list[str]:
    found = set(values)
    for headers in header_sets:
        for name, value in headers.items():
            if name in CREDENTIAL_HEADERS or (name in names and name not in SECRET_HEADERS):
                found.update(_header_secrets(name, value))
    # Longest first, so a key that contains another is removed whole; short values are not
    # secrets (and masking them would rewrite ordinary text).
    return sorted((v for v in found if len(v) >= 8), key=len, reverse=True)


def _scrub_bytes(data: bytes, secrets: Iterable[tuple[bytes, bytes]], done: list[str], where: str) -> bytes:
    for secret, mask in secrets:
        if secret in data:
            data = data.replace(secret, mask)
            done.append(where)
    return data


def _scrub_json(value: Any, text: Callable[[str, str], str], where: str) -> Any:
    if isinstance(value, str):
        return text(value, where)
    if isinstance(value, list):
        return [_scrub_json(v, text, f"{where}[{n}]") for n, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _scrub_json(v, text, f"{where}.{k}") for k, v in value.items()}
    return value


#: Strings shaped like provider keys, for ``replaystream check``.
TOKEN_PATTERN = re.compile(
    r"(sk-(?:proj-|ant-(?:api\d\d-)?)?[A-Za-z0-9_-]{20,}|Bearer\s+[A-Za-z0-9._~+/-]{12,}=*)")
