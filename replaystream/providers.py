"""The provider registry: everything replaystream knows about each provider, in one record.

A :class:`Provider` says how its requests are recognised (path suffixes, marker headers,
hosts), which environment variables hold its keys, which headers and query keys carry
its credentials, which LangChain integration parses its chat streams, and what text
one of its stream events adds. Scrubbing, importing, detection, the message-level fakes
and the CLI all read it; :func:`register` adds a provider and every one of them sees it.
:data:`PLACEHOLDER_ENV` lists, per provider, the variables its clients need in order to
start, which a run that only replays fills with placeholders.

A provider is an open value: any name in the registry (or ``"unknown"``).

>>> detect("/v1/messages", {})
('anthropic', 'messages')
>>> by_name("openai").key_env_vars
('OPENAI_API_KEY', 'OPENAI_ORG_ID', 'OPENAI_PROJECT_ID')
>>> [v.name for v in PLACEHOLDER_ENV["anthropic"]]
['ANTHROPIC_API_KEY']
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterator, Mapping, Set
from dataclasses import dataclass, field
from typing import Any

from .errors import UsageError, require_extras

#: The provider of a request no registered provider recognises.
UNKNOWN = "unknown"

_LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1", "")


def _no_text(api: str, data: object) -> str:
    return ""


@dataclass(frozen=True)
class ChatIntegration:
    """The LangChain chat model that parses a provider's streams, loaded on first use.

    ``options`` maps a recorded request body and its API to the constructor arguments
    beyond the common ones (model, key, base URL, temperature) that change its parsing.
    """

    module: str  # e.g. "langchain_anthropic"
    name: str  # e.g. "ChatAnthropic"
    apis: tuple[str, ...]  # the provider's APIs whose chat streams it parses
    ls_provider: str  # what the integration reports as its LangSmith provider
    options: Callable[[Mapping[str, Any], str], dict[str, Any]] = lambda body, api: {}
    extra: str | None = None  # the replaystream extra that installs it (named when it is missing)
    model_from_path: Callable[[str], str | None] = lambda path: None  # when the body does not name the model

    def load(self) -> type[Any]:
        if self.extra is not None:
            require_extras(f"replaying {self.name} streams", self.extra)
        cls: type[Any] = getattr(importlib.import_module(self.module), self.name)
        return cls


@dataclass(frozen=True)
class Provider:
    """One provider. ``paths`` are ``(path suffix, api)`` pairs, longest suffix first; a
    request carrying one of ``headers`` is this provider's whatever its path (its API is
    then the path's last segment). A provider with ``speaks`` set is a look-alike: it
    serves that provider's wire format from its own hosts, and a request in that format
    sent to a host the original does not own is taken to be the look-alike's."""

    name: str
    paths: tuple[tuple[str, str], ...] = ()
    headers: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()  # host names it serves from (their subdomains too)
    speaks: str | None = None
    key_env_vars: tuple[str, ...] = ()  # environment variables whose values are secrets
    credential_headers: tuple[str, ...] = ()  # credentials or account identity: dropped, values masked
    id_headers: tuple[str, ...] = ()  # per-request ids: dropped, but not secrets
    secret_query: tuple[str, ...] = ()  # query keys that carry keys
    integration: ChatIntegration | None = None
    event_text: Callable[[str, object], str] = field(default=_no_text)

    def api_of(self, path: str, headers: Mapping[str, str]) -> str | None:
        """The API of a request to ``path``, or ``None`` when it is not this provider's."""
        p = path.rstrip("/")
        for suffix, api in self.paths:
            if p.endswith(suffix):
                return api
        if any(h in headers for h in self.headers):
            return p.rsplit("/", 1)[-1]
        return None

    def owns_host(self, host: str) -> bool:
        """Is ``host`` one of :attr:`hosts`, or a subdomain of one?"""
        host = host.lower()
        return any(host == h or host.endswith("." + h) for h in self.hosts)


# -- the built-in providers -------------------------------------------------------------
def _openai_event_text(api: str, data: object) -> str:
    if not isinstance(data, dict):
        return ""
    if api == "responses":
        return str(data.get("delta") or "") if data.get("type") == "response.output_text.delta" else ""
    choices = data.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        delta = choices[0].get("delta")
        if isinstance(delta, dict):
            return str(delta.get("content") or "")
    return ""


def _anthropic_event_text(api: str, data: object) -> str:
    if not isinstance(data, dict):
        return ""
    delta = data.get("delta")
    if data.get("type") == "content_block_delta" and isinstance(delta, dict):
        return str(delta.get("text") or delta.get("partial_json") or "")
    return ""


def _openai_options(body: Mapping[str, Any], api: str) -> dict[str, Any]:
    options: dict[str, Any] = {"use_responses_api": api == "responses"}
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    if max_tokens is not None:
        options["max_tokens"] = max_tokens
    return options


def _anthropic_options(body: Mapping[str, Any], api: str) -> dict[str, Any]:
    return {"max_tokens": body["max_tokens"]} if "max_tokens" in body else {}


# Longest suffix first: "/chat/completions" must win over "/completions".
_OPENAI_PATHS = (("/chat/completions", "chat.completions"), ("/responses", "responses"),
                 ("/embeddings", "embeddings"), ("/completions", "completions"), ("/moderations", "moderations"))

OPENAI = Provider(
    "openai", paths=_OPENAI_PATHS,
    hosts=("api.openai.com", "openai.azure.com"),  # Azure OpenAI speaks the same API
    key_env_vars=("OPENAI_API_KEY", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID"),
    credential_headers=("api-key", "openai-organization", "openai-project"),  # api-key: Azure
    id_headers=("openai-request-id",),
    secret_query=("api-key",),  # Azure
    integration=ChatIntegration("langchain_openai", "ChatOpenAI", ("chat.completions", "responses"), "openai",
                                _openai_options),
    event_text=_openai_event_text,
)
ANTHROPIC = Provider(
    "anthropic", paths=(("/v1/messages", "messages"), ("/messages/count_tokens", "count_tokens")),
    headers=("anthropic-version",), hosts=("api.anthropic.com",),
    key_env_vars=("ANTHROPIC_API_KEY",),
    credential_headers=("x-api-key", "anthropic-organization-id"),
    id_headers=("request-id",),
    integration=ChatIntegration("langchain_anthropic", "ChatAnthropic", ("messages",), "anthropic",
                                _anthropic_options),
    event_text=_anthropic_event_text,
)
OPENAI_COMPATIBLE = Provider(
    "openai-compatible", paths=_OPENAI_PATHS, speaks="openai",
    # Hosts known to serve the OpenAI wire format without being OpenAI (any other host does too).
    hosts=("api.groq.com", "openrouter.ai", "api.together.xyz", "api.fireworks.ai", "api.deepseek.com",
           "api.mistral.ai", "api.x.ai", "api.perplexity.ai", "api.cerebras.ai", "generativelanguage.googleapis.com"),
    credential_headers=("x-goog-api-key",), secret_query=("key",),  # Gemini's
    integration=ChatIntegration("langchain_openai", "ChatOpenAI", ("chat.completions",), "openai", _openai_options),
    event_text=_openai_event_text,
)


# -- Bedrock (botocore: SigV4-signed requests, AWS event-stream responses) ---------------------
def _bedrock_event_text(api: str, data: object) -> str:
    """Converse streams: ``contentBlockDelta`` text; invoke streams: the model's own chunk
    (base64 under ``bytes``), read as Anthropic's or as a ``completion``/``outputText`` field."""
    if not isinstance(data, dict):
        return ""
    if "bytes" in data and isinstance(data["bytes"], str):
        import base64
        import json

        try:
            inner = json.loads(base64.b64decode(data["bytes"]))
        except ValueError:
            return ""
        if isinstance(inner, dict):
            return _anthropic_event_text(api, inner) or str(inner.get("completion") or inner.get("outputText") or "")
        return ""
    delta = data.get("delta")
    return str(delta.get("text") or "") if isinstance(delta, dict) else ""


def _bedrock_options(body: Mapping[str, Any], api: str) -> dict[str, Any]:
    # Built before any cassette is open: give the client a region and credentials of its own
    # (placeholders: a replay signs nothing real), not a bearer key.
    options: dict[str, Any] = {"region_name": "us-east-1", "api_key": None, "aws_access_key_id": PLACEHOLDER_KEY,
                               "aws_secret_access_key": PLACEHOLDER_KEY}
    config = body.get("inferenceConfig")
    if isinstance(config, dict) and "maxTokens" in config:
        options["max_tokens"] = config["maxTokens"]
    return options


def _bedrock_model(path: str) -> str | None:
    """``/model/us.amazon.nova-micro-v1%3A0/converse-stream`` -> ``us.amazon.nova-micro-v1:0``."""
    from urllib.parse import unquote

    parts = path.split("/")
    return unquote(parts[2]) if len(parts) > 3 and parts[1] == "model" else None


BEDROCK = Provider(
    "bedrock",
    paths=(("/invoke-with-response-stream", "invoke-with-response-stream"), ("/converse-stream", "converse-stream"),
           ("/converse", "converse"), ("/invoke", "invoke")),
    hosts=("amazonaws.com",),
    key_env_vars=("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"),
    # SigV4: the signature (in Authorization) and the token are secrets; the date and body hash
    # change on every run and say nothing about the request, so neither is kept or matched.
    credential_headers=("x-amz-security-token",),
    id_headers=("x-amz-date", "x-amz-content-sha256", "amz-sdk-invocation-id", "amz-sdk-request",
                "x-amzn-bedrock-invocation-latency", "x-amzn-bedrock-output-token-count",
                "x-amzn-bedrock-input-token-count"),
    integration=ChatIntegration("langchain_aws", "ChatBedrockConverse", ("converse-stream", "converse"),
                                "amazon_bedrock", _bedrock_options, extra="bedrock", model_from_path=_bedrock_model),
    event_text=_bedrock_event_text,
)

# -- placeholder keys ---------------------------------------------------------------------
#: What an unset key variable holds while a run only replays: SDK clients refuse to start
#: without a key, and a replay never sends one anywhere. Recognisable on purpose: a
#: recording request carrying it is refused (it would be rejected by the provider anyway).
PLACEHOLDER_KEY = "replaystream-placeholder-key"


@dataclass(frozen=True)
class PlaceholderVar:
    """A variable a provider's clients need set to start; ``unless`` names variables the
    user may set instead (then no placeholder is given, so the user's choice wins)."""

    name: str
    value: str = PLACEHOLDER_KEY
    unless: tuple[str, ...] = ()


#: Per provider (registered or not yet), the variables that get a placeholder while replaying.
#: Edit it to add a provider's; only variables that are unset (or empty) are ever filled.
PLACEHOLDER_ENV: dict[str, tuple[PlaceholderVar, ...]] = {
    "openai": (PlaceholderVar("OPENAI_API_KEY"),),
    "anthropic": (PlaceholderVar("ANTHROPIC_API_KEY", unless=("ANTHROPIC_AUTH_TOKEN",)),),
    "google": (PlaceholderVar("GOOGLE_API_KEY", unless=("GEMINI_API_KEY",)),),
    "azure-openai": (PlaceholderVar("AZURE_OPENAI_API_KEY", unless=("AZURE_OPENAI_AD_TOKEN",)),
                     PlaceholderVar("AZURE_OPENAI_ENDPOINT", "https://replaystream-placeholder.openai.azure.com"),
                     # Sent as ?api-version=: a replay matches only if the recording used this one too.
                     PlaceholderVar("OPENAI_API_VERSION", "2024-10-21")),
    # botocore also looks in ~/.aws and at the instance metadata service (169.254.169.254):
    # with the placeholders set it never needs to, and the metadata lookup is switched off.
    "bedrock": (PlaceholderVar("AWS_ACCESS_KEY_ID"), PlaceholderVar("AWS_SECRET_ACCESS_KEY"),
                PlaceholderVar("AWS_DEFAULT_REGION", "us-east-1", unless=("AWS_REGION",)),
                PlaceholderVar("AWS_EC2_METADATA_DISABLED", "true")),
}


def placeholder_vars() -> tuple[PlaceholderVar, ...]:
    """Every placeholder variable, each once (the first provider listing it wins)."""
    seen: dict[str, PlaceholderVar] = {}
    for group in list(PLACEHOLDER_ENV.values()):
        for var in group:
            seen.setdefault(var.name, var)
    return tuple(seen.values())


def key_variable(provider: str) -> str | None:
    """The variable that holds ``provider``'s key, e.g. ``ANTHROPIC_API_KEY`` (for error messages)."""
    found = by_name(provider)
    if found is not None and found.key_env_vars:
        return found.key_env_vars[0]
    group = PLACEHOLDER_ENV.get(provider, ())
    return group[0].name if group else None


_lock = threading.Lock()
_registry: dict[str, Provider] = {p.name: p for p in (OPENAI, ANTHROPIC, OPENAI_COMPATIBLE, BEDROCK)}


# -- the registry -----------------------------------------------------------------------
def register(provider: Provider, *, replace: bool = False) -> Provider:
    """Add a provider; it is consulted before the ones registered earlier, so it may claim
    paths a built-in provider also serves. A name already taken needs ``replace=True``.

    >>> acme = register(Provider("acme", paths=(("/v1/generate", "generate"),), key_env_vars=("ACME_KEY",)))
    >>> detect("/v1/generate", {})
    ('acme', 'generate')
    >>> unregister("acme")
    """
    if provider.name == UNKNOWN or not provider.name:
        raise UsageError(f"a provider cannot be named {provider.name!r}")
    with _lock:
        if provider.name in _registry and not replace:
            raise UsageError(f"provider {provider.name!r} is already registered; pass replace=True to replace it")
        _registry.pop(provider.name, None)
        _registry[provider.name] = provider
    return provider


def unregister(name: str) -> None:
    """Remove a provider by name (nothing happens when there is none)."""
    with _lock:
        _registry.pop(name, None)


def registered() -> tuple[Provider, ...]:
    """Every provider, in registration order."""
    with _lock:
        return tuple(_registry.values())


def by_name(name: str) -> Provider | None:
    with _lock:
        return _registry.get(name)


def names() -> tuple[str, ...]:
    """Every provider name a cassette may hold, ``"unknown"`` last."""
    return (*(p.name for p in registered()), UNKNOWN)


def detect(path: str, headers: Mapping[str, str], host: str | None = None) -> tuple[str, str]:
    """Return ``(provider, api)``, e.g. ``("anthropic", "messages")``, or ``("unknown", "unknown")``.

    With ``host``, a request in a provider's format sent to a host that provider does not
    own (nor loopback) is its look-alike's (``openai-compatible``).
    """
    providers = registered()
    for provider in reversed(providers):  # the newest first
        if provider.speaks is not None:
            continue  # a look-alike is told apart by host, below
        api = provider.api_of(path, headers)
        if api is None:
            continue
        alikes = [p for p in providers if p.speaks == provider.name]
        if host is not None and alikes and not provider.owns_host(host) and host.lower() not in _LOOPBACK_HOSTS:
            return next((p for p in alikes if p.owns_host(host)), alikes[0]).name, api
        return provider.name, api
    return UNKNOWN, UNKNOWN


def event_text(provider: str, api: str, data: object) -> str:
    """The text one parsed event adds to the assembled answer ('' when it adds none).

    An unregistered provider's events are read as chat-completions chunks, the format
    most providers share."""
    found = by_name(provider)
    return (found.event_text if found is not None else _openai_event_text)(api, data)


def chat_integration(provider: str, api: str) -> ChatIntegration | None:
    """The integration that parses this provider's ``api`` chat streams, if there is one."""
    found = by_name(provider)
    if found is None or found.integration is None or api not in found.integration.apis:
        return None
    return found.integration


class _ChatApis(Set[tuple[str, str]]):
    """``(provider, api)`` pairs some integration parses: a live view of the registry."""

    def _pairs(self) -> frozenset[tuple[str, str]]:
        return frozenset((p.name, api) for p in registered() if p.integration for api in p.integration.apis)

    def __contains__(self, item: object) -> bool:
        return isinstance(item, tuple) and len(item) == 2 and chat_integration(*map(str, item)) is not None

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._pairs())

    def __len__(self) -> int:
        return len(self._pairs())


CHAT_APIS: Set[tuple[str, str]] = _ChatApis()


def is_event_stream(content_type: str | None) -> bool:
    return bool(content_type) and content_type.split(";", 1)[0].strip().lower() == "text/event-stream"  # type: ignore[union-attr]
