"""Secret scrubbing: nothing secret is ever written to a cassette.

Scrubbing is the only rewrite replaystream ever makes to recorded bytes, and every
interaction lists what was scrubbed from it (``scrubbed``), so a reviewer can tell.

Secrets are found by what they are (:mod:`.secrets` has the name rule): credential
headers are dropped; credential-named query parameters, form fields and JSON request
fields, and the credential-named fields of responses from endpoints that are not model
APIs (an OAuth token endpoint's ``access_token``), have their values learned; so do the
provider key variables and the user's values. Each learned value is then replaced
wherever it appears in the cassette (in clear, JSON-escaped, URL-encoded or base64) by a
placeholder of its own, ``<scrubbed:N>``. A request is scrubbed the same way before it is
matched, so replay still matches and a miss message never shows a key.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import unquote_plus

from ..cassette.framing import by_name as framing_by_name
from ..cassette.model import Cassette, Event, Interaction, Record, Request, Response
from ..providers import UNKNOWN
from .http import NOISY_REQUEST_HEADERS as NOISY_REQUEST_HEADERS  # re-exported: defined in .http
from .http import TRANSFER_RESPONSE_HEADERS as TRANSFER_RESPONSE_HEADERS
from .http import is_noisy_request_header
from .secrets import GENERIC_CREDENTIAL_HEADERS as GENERIC_CREDENTIAL_HEADERS  # re-exported: their home before
from .secrets import GENERIC_ID_HEADERS as GENERIC_ID_HEADERS
from .secrets import GENERIC_SECRET_QUERY as GENERIC_SECRET_QUERY
from .secrets import MIN_SECRET_LENGTH as MIN_SECRET_LENGTH
from .secrets import credential_headers, env_secret_values, secret_env_vars, secret_headers, secret_query_keys
from .secrets import MODEL_CONTENT_FIELDS, PLACEHOLDER, SecretBook, Where, highest_placeholder, is_credential_name
from .secrets import PROVIDER_KEY_PATTERN as TOKEN_PATTERN  # the name ``replaystream check`` used first

#: Response headers holding a URL whose query string may carry a key (a redirect's).
URL_HEADERS = ("location", "content-location")
__all__ = ["MASK", "Scrubber", "TOKEN_PATTERN", "MIN_SECRET_LENGTH", "credential_headers", "secret_headers",
           "secret_query_keys", "secret_env_vars", "env_secret_values", "highest_in"]


# The names these sets had as constants, computed on use so a provider registered later counts.
_LEGACY = {"SECRET_HEADERS": secret_headers, "CREDENTIAL_HEADERS": credential_headers,
           "SECRET_QUERY": secret_query_keys, "SECRET_ENV_VARS": secret_env_vars}


def __getattr__(name: str) -> object:
    if name in _LEGACY:
        return _LEGACY[name]()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: What older versions wrote for every secret (``<scrubbed:N>`` now); still read as one.
MASK = "<scrubbed>"

Hook = Callable[[Interaction], "Interaction | None"]


@dataclass(frozen=True)
class Scrubber:
    """Removes secrets from an interaction before it is written.

    ``extra_headers``: more headers to drop (their values are secrets); ``env_vars``: the
    variables whose values are secrets (the providers' key variables by default);
    ``extra_values``: more secret values; ``extra_fields``: more query, form and JSON field
    names whose values are secrets; ``keep_fields``: names the credential rule must leave
    alone (a field of your API that only looks like one). ``hooks`` run after the built-in
    scrubbing; each sees the interaction and returns it (changed or not) or ``None`` to
    skip recording it.

    >>> s = Scrubber(extra_headers=("x-my-token",), env_vars=("MY_KEY",), extra_fields=("pin",))
    """

    extra_headers: Sequence[str] = ()
    env_vars: Sequence[str] = field(default_factory=secret_env_vars)
    extra_values: Sequence[str] = ()
    hooks: Sequence[Hook] = field(default_factory=tuple)
    extra_fields: Sequence[str] = ()
    keep_fields: Sequence[str] = ()

    def secret_values(self) -> list[str]:
        values = env_secret_values(self.env_vars) + [v for v in self.extra_values if len(v) >= MIN_SECRET_LENGTH]
        # Longest first, so a key that contains another is removed whole.
        return sorted(set(values), key=len, reverse=True)

    def headers(self) -> frozenset[str]:
        return secret_headers() | {h.lower() for h in self.extra_headers}

    def book(self, start: Callable[[], int] | int = 0) -> SecretBook:
        """A fresh book of secret values for one recording, holding the known ones."""
        book = SecretBook(start)
        book.learn_all(self.secret_values())
        return book

    @functools.cached_property
    def _kept(self) -> frozenset[str]:
        return frozenset(f.lower() for f in self.keep_fields)

    @functools.cached_property
    def _added(self) -> frozenset[str]:
        return frozenset(f.lower() for f in self.extra_fields)

    def is_secret_name(self, name: str, where: Where) -> bool:
        low = name.lower()
        if low in self._kept:
            return False
        if low in self._added or (where == "query" and low in secret_query_keys()):
            return True
        return is_credential_name(name, where)

    # -- one interaction, as it is recorded ---------------------------------------------
    def __call__(self, interaction: Interaction, book: SecretBook | None = None) -> Interaction | None:
        book = book if book is not None else self.book()
        done: list[str] = list(interaction.scrubbed)
        request = self.request(interaction.request, book, done)
        seen = book.generation
        response = self._response(interaction, book, done)
        if book.generation != seen:  # the response taught a value: the request may hold it too
            request = _mask_request(request, book, done)
        generation = book.generation  # read before masking: a value another thread adds meanwhile is not covered
        result: Interaction | None = replace(interaction, request=request, response=response, scrubbed=[])
        assert result is not None
        _mask_interaction(result, book, done)
        result.scrubbed = sorted(set(done))
        for hook in self.hooks:
            if result is None:
                break
            result = hook(result)
        if result is not None:
            book.masked[id(result)] = generation
        return result

    def request(self, rq: Request, book: SecretBook, done: list[str] | None = None) -> Request:
        """``rq`` with its credentials learned and masked: what is recorded, and what is
        matched at replay (so a key sent in the query or the body matches its placeholder)."""
        done = [] if done is None else done
        headers = self._headers(rq.headers, "request", book, done)
        content_type = rq.headers.get("content-type", "")
        body_text = rq.body_text
        if body_text is not None and "x-www-form-urlencoded" in content_type:
            body_text = self._pairs(body_text, book, "request.body_text", done)
        out = replace(rq, headers={k: v for k, v in headers.items() if not is_noisy_request_header(k)},
                      query=self._pairs(rq.query, book, "request.query", done),
                      body=self._fields(rq.body, book, "request.body", done), body_text=body_text)
        return _mask_request(out, book, done)

    def _headers(self, headers: dict[str, str], side: str, book: SecretBook, done: list[str]) -> dict[str, str]:
        dropped, valued = self.headers(), credential_headers() | {h.lower() for h in self.extra_headers}
        kept: dict[str, str] = {}
        for name, value in headers.items():
            rule = is_credential_name(name, "header") and name not in self._kept
            if name in valued or rule:
                book.learn_all(_header_secrets(name, value))
            if name in dropped or rule:
                done.append(f"{side}.headers.{name}")
            elif name in URL_HEADERS and ("?" in value or "#" in value):
                kept[name] = self._url(value, book, f"{side}.headers.{name}", done)
            else:
                kept[name] = value
        return kept

    def _url(self, url: str, book: SecretBook, where: str, done: list[str]) -> str:
        base, sep, rest = url.partition("?")
        if not sep:
            base, sep, rest = url.partition("#")
        query, hash_sep, fragment = rest.partition("#")
        return base + sep + self._pairs(query, book, where, done) + hash_sep + self._pairs(fragment, book, where, done)

    def _pairs(self, text: str, book: SecretBook, where: str, done: list[str]) -> str:
        """A query string or form body with each credential-named value replaced in place."""
        if not text or "=" not in text:
            return text
        parts = text.split("&")
        for n, part in enumerate(parts):
            name, eq, value = part.partition("=")
            key = unquote_plus(name)
            if value and self.is_secret_name(key, "query"):
                raw = unquote_plus(value)
                if not PLACEHOLDER.fullmatch(raw):
                    parts[n] = f"{name}={book.placeholder_for(raw)}"
                    done.append(f"{where}.{key}")
        return "&".join(parts)

    def _fields(self, value: Any, book: SecretBook, where: str, done: list[str], name: str = "") -> Any:
        """JSON with each credential-named string replaced; model content is not looked into."""
        if isinstance(value, dict):
            return {k: v if k in MODEL_CONTENT_FIELDS else self._fields(v, book, f"{where}.{k}", done, str(k))
                    for k, v in value.items()}
        if isinstance(value, list):
            return [self._fields(v, book, f"{where}[{n}]", done, name) for n, v in enumerate(value)]
        if isinstance(value, str) and value and name and not PLACEHOLDER.fullmatch(value) \
                and self.is_secret_name(name, "json"):
            done.append(where)
            return book.placeholder_for(value)
        return value

    def _response(self, interaction: Interaction, book: SecretBook, done: list[str]) -> Response:
        rs = interaction.response
        headers = self._headers(rs.headers, "response", book, done)
        if interaction.api == UNKNOWN and rs.body:  # not a model API: a token endpoint's answer
            self._learn_body(rs.body, rs.headers.get("content-type", ""), book)
        return replace(rs, headers=headers)

    def _learn_body(self, body: bytes, content_type: str, book: SecretBook) -> None:
        text = body.decode("utf-8", "replace")
        if "x-www-form-urlencoded" in content_type:
            for part in text.split("&"):
                name, _, value = part.partition("=")
                if self.is_secret_name(unquote_plus(name), "query"):
                    book.learn_all([unquote_plus(value)])
            return
        try:
            data = json.loads(text)
        except ValueError:
            return
        found: list[str] = []
        self._fields(data, _Collector(found), "", [])
        book.learn_all(found)

    # -- the whole cassette, at the end ----------------------------------------------------
    def finish(self, cassette: Cassette, book: SecretBook) -> bool:
        """Mask every value ``book`` learned in the whole cassette (each interaction, each
        record: a token learned late is removed from where it appeared early). True when
        anything changed."""
        changed = False
        for n, record in enumerate(cassette.records):
            data = record.data
            if record.kind == "tool":  # a tool's arguments and result: the name rule applies inside them
                data = {k: self._fields(v, book, k, []) for k, v in data.items()}
            data = _mask_json(data, book)
            if data != record.data:
                cassette.records[n] = Record(record.kind, record.name, data)
                changed = True
        if not len(book):
            return changed
        for inter in cassette.interactions:
            if book.masked.get(id(inter)) == book.generation or not _holds_any(inter, book):
                continue  # masked when recorded and nothing learned since, or holds no secret at all
            before = list(inter.scrubbed)
            done: list[str] = []
            inter.request = _mask_request(inter.request, book, done)
            _mask_interaction(inter, book, done)
            if done:
                inter.scrubbed = sorted(set(before + done))
                changed = True
        return changed

    def for_match(self, value: Any, book: SecretBook | None = None) -> Any:
        """A JSON value (a tool's input) as it is stored: credential fields and known values masked."""
        book = book if book is not None else self.book()
        return _mask_json(self._fields(value, book, "", []), book)


class _Collector(SecretBook):
    """A book that only lists what the name rule finds (a response's tokens)."""

    def __init__(self, found: list[str]) -> None:
        super().__init__()
        self.found = found

    def placeholder_for(self, value: str) -> str:
        self.found.append(value)
        return value


def highest_in(cassette: Cassette) -> int:
    """The highest ``<scrubbed:N>`` in a cassette (new values get higher numbers)."""
    def texts() -> Iterable[str]:
        for i in cassette.interactions:
            rq, rs = i.request, i.response
            yield from (rq.query, rq.body_text or "", json.dumps(rq.body), *rq.headers.values(), *rs.headers.values())
            yield from (e.raw.decode("utf-8", "replace") for e in rs.events or () if b"<scrubbed:" in e.raw)
            yield (rs.body or b"").decode("utf-8", "replace")
            yield json.dumps(rs.error or {})
        yield from (json.dumps(r.data) for r in cassette.records)
    return highest_placeholder(t for t in texts() if "<scrubbed:" in t)


def _header_secrets(name: str, value: str) -> list[str]:
    """A credential header's value, and the parts of it that are secrets on their own."""
    value = value.strip()
    parts = [value]
    if name == "cookie":
        parts += [pair.partition("=")[2].strip() for pair in value.split(";")]
    elif name == "set-cookie":  # the first pair is the cookie; path, domain, expires are not secret
        parts = [value.split(";", 1)[0].strip(), value.split(";", 1)[0].partition("=")[2].strip()]
    else:
        scheme, _, rest = value.partition(" ")
        if rest.strip() and scheme.isalpha():  # "Bearer sk-...": the key itself
            parts.append(rest.strip())
            if scheme.lower() == "basic":  # user:password, and the password alone
                try:
                    pair = base64.b64decode(rest.strip(), validate=True).decode("utf-8")
                except (binascii.Error, UnicodeDecodeError):
                    pair = ""
                parts += [pair, pair.partition(":")[2]] if ":" in pair else []
    return parts


def _holds_any(inter: Interaction, book: SecretBook) -> bool:
    """Does ``inter`` hold any learned value? One search per form over all its text (an
    older interaction is nearly always clean: walking it field by field would cost more)."""
    rq, rs = inter.request, inter.response
    text = "\0".join([rq.path, rq.query, rq.body_text or "", json.dumps(rq.body, ensure_ascii=False),
                      *rq.headers.values(), *rs.headers.values(), json.dumps(rs.error, ensure_ascii=False)])
    data = b"\0".join([rs.body or b"", *(e.raw for e in rs.events or ())])
    return book.found_in(text) or book.found_in_bytes(data)


def _mask_json(value: Any, book: SecretBook, where: str = "", done: list[str] | None = None) -> Any:
    if isinstance(value, str):
        masked = book.mask_text(value)
        if masked != value and done is not None:
            done.append(where)
        return masked
    if isinstance(value, list):
        return [_mask_json(v, book, f"{where}[{n}]", done) for n, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _mask_json(v, book, f"{where}.{k}", done) for k, v in value.items()}
    return value


def _mask_request(rq: Request, book: SecretBook, done: list[str]) -> Request:
    body = rq.body
    dumped = "" if body is None else json.dumps(body, ensure_ascii=False)
    # One search over the whole request first: nearly every request holds no learned value.
    if not len(book) or not book.found_in("\0".join([rq.path, rq.query, rq.body_text or "", dumped,
                                                      *rq.headers.values()])):
        return rq

    def text(value: str, where: str) -> str:
        masked = book.mask_text(value)
        if masked != value:
            done.append(where)
        return masked

    if book.found_in(dumped):
        body = _mask_json(body, book, "request.body", done)
    return replace(rq, headers={k: text(v, f"request.headers.{k}") for k, v in rq.headers.items()},
                   query=text(rq.query, "request.query"), path=text(rq.path, "request.path"), body=body,
                   body_text=None if rq.body_text is None else text(rq.body_text, "request.body_text"))


def _mask_interaction(inter: Interaction, book: SecretBook, done: list[str]) -> None:
    """Mask the response side of ``inter`` in place (its request is masked by the caller)."""
    if not len(book):
        return
    rs = inter.response
    headers = {k: book.mask_text(v) for k, v in rs.headers.items()}
    done += [f"response.headers.{k}" for k in headers if headers[k] != rs.headers[k]]
    events = rs.events
    # One search over the whole stream first: a stream that holds no secret is left as it is.
    if events is not None and book.found_in_bytes(b"\0".join(e.raw for e in events)):
        rewrite = framing_by_name(rs.framing).rewrite  # in the unit's payload: a binary frame is re-encoded
        events = [Event(rewrite(e.raw, book.mask_bytes), e.ms) for e in events]
        done += [f"response.events[{n}]" for n, (a, b) in enumerate(zip(events, rs.events or [])) if a.raw != b.raw]
    body = None if rs.body is None else book.mask_bytes(rs.body)
    if body != rs.body:
        done.append("response.body")
    error = rs.error
    if error is not None:
        error = {k: book.mask_text(v) if isinstance(v, str) else v for k, v in error.items()}
        if error != rs.error:
            done.append("response.error.message")
    inter.response = replace(rs, headers=headers, events=events, body=body, error=error)
