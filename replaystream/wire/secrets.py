"""What a secret is: the credential-name rule, key-shaped values, and the book of values
learned while recording, each with a placeholder of its own.

The name rule (documented in README.md, "Secrets"): a name is split into words (at
``-``, ``_``, ``.``, spaces and camelCase humps, lower-cased). It names a credential when
one word is a credential word (``key``, ``apikey``, ``token``, ``secret``, ``password``,
``auth``, ``authorization``, ``credential``, ``session``, ``cookie``, ``jwt``, ...; in a
query string or a form also ``sig``, ``signature`` and OAuth's ``code``) and no word says
it is a count, a limit, a type or a cache key (``max_tokens`` has ``tokens``, plural;
``token_type``, ``prompt_cache_key``, ``idempotency-key`` are left alone). In JSON
``signature`` is model content (Anthropic thinking ``signature``, Gemini
``thoughtSignature``), and only string values count: a tool schema's ``password``
property is an object, never a secret.
"""

from __future__ import annotations

import base64
import functools
import json
import math
import re
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Literal
from urllib.parse import quote, quote_plus

from .. import providers
from ..providers import Provider

#: Shorter values are not searched for elsewhere: masking them would rewrite ordinary text.
MIN_SECRET_LENGTH = 8

Where = Literal["header", "query", "json"]

CREDENTIAL_WORDS = frozenset({
    "key", "apikey", "token", "accesstoken", "refreshtoken", "idtoken", "authtoken", "secret", "clientsecret",
    "password", "passwd", "pwd", "passphrase", "auth", "authorization", "credential", "credentials",
    "session", "sessionid", "cookie", "jwt", "bearer", "privatekey"})
#: Query strings and forms also carry URL signatures and OAuth's authorization code.
_URL_WORDS = CREDENTIAL_WORDS | {"sig", "signature", "code"}
#: A word that makes the name something else than a credential: a count, a limit, a type,
#: a cache or idempotency key, a public key.
NOT_CREDENTIAL_WORDS = frozenset({
    "max", "min", "count", "limit", "limits", "remaining", "reset", "usage", "budget", "type", "types",
    "length", "size", "cache", "idempotency", "num", "total", "expires", "expiry", "ttl", "format",
    "public", "url", "uri", "endpoint", "path", "file", "name", "names", "header", "version"})
#: JSON subtrees that hold model content (prompts, tool schemas and calls, output settings):
#: the name rule does not look inside them; known secret values are still masked there.
MODEL_CONTENT_FIELDS = frozenset({
    "messages", "input", "contents", "tools", "functions", "system", "system_instruction", "systemInstruction",
    "tool_config", "toolConfig", "tool_choice", "response_format", "text", "prompt", "instructions"})

_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def name_words(name: str) -> list[str]:
    """``"x-Portkey-apiKey"`` -> ``["x", "portkey", "api", "key"]``."""
    return [w.lower() for w in _WORD.findall(name)]


@functools.lru_cache(maxsize=4096)  # the same few names come back on every request
def is_credential_name(name: str, where: Where = "json") -> bool:
    """Does ``name`` (a header, a query or form key, a JSON field) name a credential?"""
    words = name_words(name)
    vocabulary = _URL_WORDS if where == "query" else CREDENTIAL_WORDS
    return any(w in vocabulary for w in words) and not any(w in NOT_CREDENTIAL_WORDS for w in words)


# -- the names providers declare ----------------------------------------------------------
#: Credential headers any provider may receive or send; each provider adds its own
#: (``Provider.credential_headers``). Headers whose names follow the credential rule
#: (``x-portkey-api-key``, ``helicone-auth``, ...) are treated the same way.
GENERIC_CREDENTIAL_HEADERS = ("authorization", "proxy-authorization", "cookie", "set-cookie")
#: Per-request ids any server may send (providers add theirs): dropped, not secrets.
GENERIC_ID_HEADERS = ("x-request-id", "x-amzn-requestid", "cf-ray")
#: Query parameters that carry keys whoever the provider (providers add theirs).
GENERIC_SECRET_QUERY = ("api_key", "access_token")


def _union(generic: Sequence[str], per_provider: Callable[[Provider], Sequence[str]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*generic, *(v for p in providers.registered() for v in per_provider(p))]))


@functools.lru_cache(maxsize=8)
def _name_sets(registry: tuple[int, ...]) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """The credential headers, the dropped headers and the secret query keys of the
    providers registered now (``registry``: their ids, so a provider registered later counts)."""
    credentials = frozenset(_union(GENERIC_CREDENTIAL_HEADERS, lambda p: p.credential_headers))
    dropped = credentials | frozenset(_union(GENERIC_ID_HEADERS, lambda p: p.id_headers))
    return credentials, dropped, frozenset(_union(GENERIC_SECRET_QUERY, lambda p: p.secret_query))


def _sets() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    return _name_sets(tuple(map(id, providers.registered())))


def credential_headers() -> frozenset[str]:
    """Headers whose values are credentials or account identity, for every registered provider."""
    return _sets()[0]


def secret_headers() -> frozenset[str]:
    """Headers that are dropped: credentials, account identity, and per-request ids."""
    return _sets()[1]


def secret_query_keys() -> frozenset[str]:
    return _sets()[2]


def secret_env_vars() -> tuple[str, ...]:
    """Environment variables whose *values* are removed wherever they appear."""
    return _env_var_names(tuple(map(id, providers.registered())))


@functools.lru_cache(maxsize=8)
def _env_var_names(registry: tuple[int, ...]) -> tuple[str, ...]:  # asked for on every request
    return _union((), lambda p: p.key_env_vars)


def env_secret_values(names: Iterable[str] | None = None) -> list[str]:
    """The values of those variables (or of ``names``) that are long enough to be secrets."""
    return list(_env_values(environ_key(), secret_env_vars() if names is None else tuple(names)))


def environ_key() -> object:
    """A hashable snapshot of the environment, cheap to take: asked for several times a
    request, and reading ``os.environ`` decodes every variable each time."""
    raw = getattr(os.environ, "_data", None)  # CPython's bytes mapping behind os.environ
    items = raw.items() if isinstance(raw, dict) else os.environ.items()
    return tuple(kv for kv in items if kv[0] not in _PER_TEST_VARIABLES)


_PER_TEST_VARIABLES = frozenset({b"PYTEST_CURRENT_TEST", "PYTEST_CURRENT_TEST"})  # changes every phase


@functools.lru_cache(maxsize=32)
def _env_values(_environ: object, names: tuple[str, ...]) -> tuple[str, ...]:
    values = (os.environ.get(name, "") for name in names)
    return tuple(v for v in values if len(v) >= MIN_SECRET_LENGTH)


# -- placeholders --------------------------------------------------------------------------
PLACEHOLDER = re.compile(r"<scrubbed(?::\d+)?>")
#: What every placeholder reads as when requests are matched: the numbers tell values
#: apart for a reader; a replayed request carrying a different key still matches.
MATCH_PLACEHOLDER = "<scrubbed>"


def placeholder(n: int) -> str:
    return f"<scrubbed:{n}>"


def highest_placeholder(texts: Iterable[str]) -> int:
    return max((int(m.group(1)) for t in texts for m in re.finditer(r"<scrubbed:(\d+)>", t)), default=0)


def value_forms(value: str) -> list[str]:
    """The ways ``value`` is written where it may leak: as is, JSON-escaped, URL-encoded and
    base64 (standard and URL-safe, at each of the three alignments inside a longer blob)."""
    forms = {value, json.dumps(value, ensure_ascii=False)[1:-1], json.dumps(value)[1:-1],
             quote(value, safe=""), quote(value), quote_plus(value, safe="")}
    raw = value.encode("utf-8")
    for lead in (b"", b"\0", b"\0\0"):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(lead + raw).decode("ascii").rstrip("=")
            start = (len(lead) * 4 + 2) // 3  # the characters that depend on the lead bytes only, or on both
            end = len(text) if (len(lead) + len(raw)) % 3 == 0 else len(text) - 1  # the last may mix in the next byte
            core = text[start:end]
            if len(core) >= MIN_SECRET_LENGTH:
                forms.add(core)
    forms.add(base64.b64encode(raw).decode("ascii"))
    return sorted((f for f in forms if len(f) >= MIN_SECRET_LENGTH), key=len, reverse=True)


@functools.lru_cache(maxsize=64)  # every session of a run starts from the same known values
def _compile(values: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[bytes], dict[str, str], list[str],
                                               list[bytes]]:
    forms: dict[str, str] = {}
    for value in values:
        if len(value) >= MIN_SECRET_LENGTH:
            for form in value_forms(value):
                forms.setdefault(form, value)
    ordered = sorted(forms, key=len, reverse=True)
    text = "|".join(map(re.escape, ordered)) or "(?!)"
    return re.compile(text), re.compile(text.encode("utf-8")), forms, ordered, [f.encode("utf-8") for f in ordered]


class SecretBook:
    """The secret values one recording learned, each with its stable placeholder.

    A value is numbered when it is first masked, so ``<scrubbed:1>`` is the first secret a
    reader meets. ``start`` gives the highest number already used in the cassette (called
    once, at the first number), so a later run's values get numbers of their own.
    Thread-safe: concurrent requests of one session learn into one book.
    """

    def __init__(self, start: Callable[[], int] | int = 0) -> None:
        self._start = start
        self._next: int | None = None
        self._by_value: dict[str, str | None] = {}
        self._lock = threading.Lock()
        self._patterns: tuple[re.Pattern[str], re.Pattern[bytes], dict[str, str], list[str], list[bytes]] | None = None
        #: Grows with each value searched for; ``masked`` keeps, per object (by id), the
        #: generation it was last masked with, so the final pass skips what is up to date.
        self.generation = 0
        self.masked: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._by_value)

    def learn_all(self, values: Iterable[str]) -> None:
        """Search for these values (those of :data:`MIN_SECRET_LENGTH` characters or more)
        wherever the cassette may hold them."""
        for value in values:
            if value in self._by_value:  # known already (the same key on every request)
                continue
            if len(value) >= MIN_SECRET_LENGTH and not PLACEHOLDER.search(value):
                with self._lock:
                    if value not in self._by_value:
                        self._by_value[value] = None
                        self._patterns = None
                        self.generation += 1

    def placeholder_for(self, value: str) -> str:
        """The placeholder of ``value`` (numbered now if it was not yet): a credential field's
        value, replaced in place whatever its length."""
        if PLACEHOLDER.fullmatch(value):
            return value  # already masked (a replayed token sent back)
        with self._lock:
            found = self._by_value.get(value)
            if found is None:
                if self._next is None:
                    self._next = (self._start() if callable(self._start) else self._start) + 1
                if value not in self._by_value and len(value) >= MIN_SECRET_LENGTH:
                    self._patterns = None
                    self.generation += 1
                found = self._by_value[value] = placeholder(self._next)
                self._next += 1
            return found

    def _compiled(self) -> tuple[re.Pattern[str], re.Pattern[bytes], dict[str, str], list[str], list[bytes]]:
        compiled = self._patterns
        if compiled is not None:
            return compiled
        with self._lock:
            if self._patterns is None:
                self._patterns = _compile(tuple(self._by_value))
            return self._patterns

    # A regex alternation of literals tries each one at every position; ``in`` runs a fast
    # search in C. Nearly every text holds no secret: one ``in`` per form says so, and the
    # regex only runs on a hit.
    def found_in(self, text: str) -> bool:
        return any(form in text for form in self._compiled()[3])

    def found_in_bytes(self, data: bytes) -> bool:
        return any(form in data for form in self._compiled()[4])

    def mask_text(self, text: str) -> str:
        pattern, _, forms, ordered, _ = self._compiled()
        if not any(form in text for form in ordered):
            return text
        return pattern.sub(lambda m: self.placeholder_for(forms[m.group(0)]), text)

    def mask_bytes(self, data: bytes) -> bytes:
        _, pattern, forms, _, ordered = self._compiled()
        if not any(form in data for form in ordered):
            return data
        return pattern.sub(lambda m: self.placeholder_for(forms[m.group(0).decode("utf-8")]).encode("utf-8"), data)


# -- what ``replaystream check`` looks for -----------------------------------------------------
#: Values shaped like a provider's key, wherever they are.
PROVIDER_KEY_PATTERN = re.compile(
    r"sk-(?:proj-|ant-(?:api\d\d-|admin\d\d-)?|svcacct-)?[A-Za-z0-9_-]{20,}"  # OpenAI, Anthropic
    r"|AIza[0-9A-Za-z_-]{35}"  # Google API keys
    r"|(?:AKIA|ASIA)[0-9A-Z]{16}"  # AWS access key ids
    r"|gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,}"  # GitHub tokens
    r"|xox[abprs]-[A-Za-z0-9-]{10,}"  # Slack
    r"|glpat-[A-Za-z0-9_-]{20,}"  # GitLab
    r"|hf_[A-Za-z0-9]{30,}"  # Hugging Face
    r"|gsk_[A-Za-z0-9]{40,}|r8_[A-Za-z0-9]{30,}|pplx-[A-Za-z0-9]{40,}"  # Groq, Replicate, Perplexity
    r"|Bearer\s+[A-Za-z0-9._~+/-]{12,}=*")
#: A credential-named value this long and this random is a secret left in clear.
ENTROPY_MIN_LENGTH, ENTROPY_MIN_BITS = 16, 3.0


def entropy_bits(value: str) -> float:
    """Shannon entropy per character (a 32-character hex key: about 3.8; English: about 3)."""
    counts = Counter(value)
    return -sum(c / len(value) * math.log2(c / len(value)) for c in counts.values()) if value else 0.0


def looks_random(value: str) -> bool:
    return (len(value) >= ENTROPY_MIN_LENGTH and " " not in value and not PLACEHOLDER.search(value)
            and entropy_bits(value) >= ENTROPY_MIN_BITS)
