"""Secret scrubbing: nothing secret is ever written to a cassette.

Scrubbing is the only rewrite replaystream ever makes to recorded bytes, and every
interaction lists what was scrubbed from it (``scrubbed``), so a reviewer can tell.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, urlencode

from .. import providers
from ..cassette.framing import by_name as framing_by_name
from ..cassette.model import Event, Interaction
from ..providers import Provider
from .http import NOISY_REQUEST_HEADERS as NOISY_REQUEST_HEADERS  # re-exported: defined in .http
from .http import TRANSFER_RESPONSE_HEADERS as TRANSFER_RESPONSE_HEADERS
from .http import is_noisy_request_header

#: Credential headers any provider may receive or send; each provider adds its own
#: (``Provider.credential_headers``). A value sent in one of them is removed wherever else
#: it appears (a key passed in code, echoed in an error body; an organisation id quoted
#: in a rate-limit message).
GENERIC_CREDENTIAL_HEADERS = ("authorization", "proxy-authorization", "cookie", "set-cookie")
#: Per-request ids any server may send (providers add theirs): dropped, not secrets.
GENERIC_ID_HEADERS = ("x-request-id", "x-amzn-requestid", "cf-ray")
#: Query parameters that carry keys whoever the provider (providers add theirs).
GENERIC_SECRET_QUERY = ("api_key", "access_token")
#: Shorter values are not treated as secrets: masking them would rewrite ordinary text.
MIN_SECRET_LENGTH = 8


def _union(generic: Sequence[str], per_provider: Callable[[Provider], Sequence[str]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*generic, *(v for p in providers.registered() for v in per_provider(p))]))


def credential_headers() -> frozenset[str]:
    """Headers whose values are credentials or account identity, for every registered provider."""
    return frozenset(_union(GENERIC_CREDENTIAL_HEADERS, lambda p: p.credential_headers))


def secret_headers() -> frozenset[str]:
    """Headers that are dropped: credentials, account identity, and per-request ids."""
    return credential_headers() | frozenset(_union(GENERIC_ID_HEADERS, lambda p: p.id_headers))


def secret_query_keys() -> frozenset[str]:
    return frozenset(_union(GENERIC_SECRET_QUERY, lambda p: p.secret_query))


def secret_env_vars() -> tuple[str, ...]:
    """Environment variables whose *values* are removed wherever they appear."""
    return _union((), lambda p: p.key_env_vars)


def env_secret_values(names: Iterable[str] | None = None) -> list[str]:
    """The values of those variables (or of ``names``) that are long enough to be secrets."""
    values = (os.environ.get(name, "") for name in (secret_env_vars() if names is None else names))
    return [v for v in values if len(v) >= MIN_SECRET_LENGTH]


# The names these sets had as constants, computed on use so a provider registered later counts.
_LEGACY = {"SECRET_HEADERS": secret_headers, "CREDENTIAL_HEADERS": credential_headers,
           "SECRET_QUERY": secret_query_keys, "SECRET_ENV_VARS": secret_env_vars}


def __getattr__(name: str) -> object:
    if name in _LEGACY:
        return _LEGACY[name]()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    env_vars: Sequence[str] = field(default_factory=secret_env_vars)
    extra_values: Sequence[str] = ()
    hooks: Sequence[Hook] = field(default_factory=tuple)

    def secret_values(self) -> list[str]:
        values = env_secret_values(self.env_vars) + [v for v in self.extra_values if len(v) >= MIN_SECRET_LENGTH]
        # Longest first, so a key that contains another is removed whole.
        return sorted(set(values), key=len, reverse=True)

    def headers(self) -> frozenset[str]:
        return secret_headers() | {h.lower() for h in self.extra_headers}

    def __call__(self, interaction: Interaction) -> Interaction | None:
        done: list[str] = list(interaction.scrubbed)
        dropped = self.headers()
        # Credential headers, and the ones the caller added: their values are secrets too.
        valued = credential_headers() | (dropped - secret_headers())
        rq, rs = interaction.request, interaction.response
        # A key sent as ?key= is a secret wherever else it appears (echoed in a response body).
        query_keys = [v for k, v in parse_qsl(rq.query, keep_blank_values=True) if k.lower() in secret_query_keys()]
        values = _with_header_values(self.secret_values() + query_keys, rq.headers, rs.headers, names=valued)

        req_headers: dict[str, str] = {}
        for name, value in rq.headers.items():
            if name in dropped:
                done.append(f"request.headers.{name}")
            elif not is_noisy_request_header(name):
                req_headers[name] = value
        resp_headers: dict[str, str] = {}
        for name, value in rs.headers.items():
            if name in dropped:
                done.append(f"response.headers.{name}")
            else:
                resp_headers[name] = value

        query = rq.query
        if query:
            secret_keys = secret_query_keys()
            pairs = parse_qsl(query, keep_blank_values=True)
            kept = [(k, v) for k, v in pairs if k.lower() not in secret_keys]
            if len(kept) != len(pairs):
                done += [f"request.query.{k}" for k, _ in pairs if k.lower() in secret_keys]
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
            if events is not None:  # in the unit's payload: a binary frame is re-encoded around it
                rewrite = framing_by_name(rs.framing).rewrite
                events = [Event(rewrite(e.raw, partial(_scrub_bytes, secrets=encoded, done=done,
                                                       where=f"response.events[{n}]")), e.ms)
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
            if name in names:
                found.update(_header_secrets(name, value))
    # Longest first, so a key that contains another is removed whole.
    return sorted((v for v in found if len(v) >= MIN_SECRET_LENGTH), key=len, reverse=True)


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
