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
from typing import Any, NamedTuple

from . import provider_formats as formats
from .errors import UsageError, require_extras
# Re-exported: their home before placeholders.py.
from .placeholders import PLACEHOLDER_ENV as PLACEHOLDER_ENV
from .placeholders import PLACEHOLDER_KEY as PLACEHOLDER_KEY
from .placeholders import PlaceholderVar as PlaceholderVar
from .placeholders import placeholder_vars as placeholder_vars

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
    #: ``(replay base URL, recorded path, recorded query)`` -> the constructor arguments that
    #: make it send to that route (model in the path, deployment, API version); ``{}``: the
    #: common base URL (the path less its API suffix) does.
    route: Callable[[str, str, str], dict[str, Any]] = lambda base, path, query: {}
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
    # A look-alike told apart by its request: ``paths`` count only for a path containing one
    # of ``path_marks`` or a request carrying one of ``header_marks`` (Azure's deployments).
    path_marks: tuple[str, ...] = ()
    header_marks: tuple[str, ...] = ()
    vendors: tuple[tuple[str, str], ...] = ()  # (vendor, host) of a look-alike's known servers
    key_env_vars: tuple[str, ...] = ()  # environment variables whose values are secrets
    credential_headers: tuple[str, ...] = ()  # credentials or account identity: dropped, values masked
    id_headers: tuple[str, ...] = ()  # per-request ids: dropped, but not secrets
    secret_query: tuple[str, ...] = ()  # query keys that carry keys
    integration: ChatIntegration | None = None
    event_text: Callable[[str, object], str] = field(default=_no_text)

    def api_of(self, path: str, headers: Mapping[str, str]) -> str | None:
        """The API of a request to ``path``, or ``None`` when it is not this provider's."""
        p = path.rstrip("/")
        if (self.path_marks or self.header_marks) and not (
                any(m in p for m in self.path_marks) or any(h in headers for h in self.header_marks)):
            return None
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
# Longest suffix first: "/chat/completions" must win over "/completions".
_OPENAI_PATHS = (("/chat/completions", "chat.completions"), ("/responses", "responses"),
                 ("/embeddings", "embeddings"), ("/completions", "completions"), ("/moderations", "moderations"))

OPENAI = Provider(
    "openai", paths=_OPENAI_PATHS, hosts=("api.openai.com",),
    key_env_vars=("OPENAI_API_KEY", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID"),
    credential_headers=("openai-organization", "openai-project"),
    id_headers=("openai-request-id",),
    integration=ChatIntegration("langchain_openai", "ChatOpenAI", ("chat.completions", "responses"), "openai",
                                formats.openai_options),
    event_text=formats.openai_event_text,
)
ANTHROPIC = Provider(
    "anthropic", paths=(("/v1/messages", "messages"), ("/messages/count_tokens", "count_tokens")),
    headers=("anthropic-version",), hosts=("api.anthropic.com",),
    key_env_vars=("ANTHROPIC_API_KEY",),
    credential_headers=("x-api-key", "anthropic-organization-id"),
    id_headers=("request-id",),
    integration=ChatIntegration("langchain_anthropic", "ChatAnthropic", ("messages",), "anthropic",
                                formats.anthropic_options),
    event_text=formats.anthropic_event_text,
)
#: Servers known to speak the OpenAI wire format without being OpenAI, by vendor (any other
#: non-OpenAI host does too: a gateway is recorded under its host name).
GATEWAYS = {"groq": "api.groq.com", "mistral": "api.mistral.ai", "deepseek": "api.deepseek.com",
            "openrouter": "openrouter.ai", "together": "api.together.xyz", "fireworks": "api.fireworks.ai",
            "xai": "api.x.ai", "perplexity": "api.perplexity.ai", "cerebras": "api.cerebras.ai",
            "google": "generativelanguage.googleapis.com"}  # Gemini's /v1beta/openai/ endpoint
OPENAI_COMPATIBLE = Provider(
    "openai-compatible", paths=_OPENAI_PATHS, speaks="openai", hosts=tuple(GATEWAYS.values()),
    vendors=tuple(GATEWAYS.items()),
    key_env_vars=("GROQ_API_KEY", "MISTRAL_API_KEY", "DEEPSEEK_API_KEY", "OPENROUTER_API_KEY", "TOGETHER_API_KEY",
                  "FIREWORKS_API_KEY", "XAI_API_KEY", "PERPLEXITY_API_KEY", "CEREBRAS_API_KEY"),
    integration=ChatIntegration("langchain_openai", "ChatOpenAI", ("chat.completions",), "openai", formats.openai_options),
    event_text=formats.openai_event_text,
)
AZURE_OPENAI = Provider(
    "azure-openai", paths=_OPENAI_PATHS, speaks="openai", path_marks=("/openai/deployments/",),
    header_marks=("api-key",), hosts=("openai.azure.com", "cognitiveservices.azure.com", "services.ai.azure.com"),
    key_env_vars=("AZURE_OPENAI_API_KEY", "AZURE_OPENAI_AD_TOKEN"),
    credential_headers=("api-key",), id_headers=("apim-request-id", "x-ms-client-request-id"),
    secret_query=("api-key",),
    integration=ChatIntegration("langchain_openai", "AzureChatOpenAI", ("chat.completions", "responses"), "azure",
                                formats.openai_options, formats.azure_route),
    event_text=formats.openai_event_text,
)
GOOGLE = Provider(
    "google", paths=formats.GOOGLE_PATHS, hosts=("generativelanguage.googleapis.com",),
    key_env_vars=("GOOGLE_API_KEY", "GEMINI_API_KEY"),
    credential_headers=("x-goog-api-key",), secret_query=("key",),
    integration=ChatIntegration("langchain_google_genai", "ChatGoogleGenerativeAI",
                                ("streamGenerateContent", "generateContent"), "google_genai",
                                formats.google_options, formats.google_route, extra="google"),
    event_text=formats.google_event_text,
)
OLLAMA = Provider(
    "ollama", paths=formats.OLLAMA_PATHS, hosts=("ollama.com",),
    key_env_vars=("OLLAMA_API_KEY",),
    integration=ChatIntegration("langchain_ollama", "ChatOllama", ("chat",), "ollama",
                                formats.ollama_options, formats.ollama_route, extra="ollama"),
    event_text=formats.ollama_event_text,
)


# -- Bedrock (botocore: SigV4-signed requests, AWS event-stream responses) ---------------------
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
                                "amazon_bedrock", formats.bedrock_options, extra="bedrock",
                                model_from_path=formats.bedrock_model),
    event_text=formats.bedrock_event_text,
)

def key_variable(provider: str) -> str | None:
    """The variable that holds ``provider``'s key, e.g. ``ANTHROPIC_API_KEY`` (for error messages)."""
    found = by_name(provider)
    if found is not None and found.key_env_vars:
        return found.key_env_vars[0]
    group = PLACEHOLDER_ENV.get(provider, ())
    return group[0].name if group else None


_lock = threading.Lock()
_registry: dict[str, Provider] = {p.name: p for p in (OPENAI, ANTHROPIC, OPENAI_COMPATIBLE, AZURE_OPENAI, GOOGLE,
                                                       OLLAMA, BEDROCK)}


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


class Detected(NamedTuple):
    """Who a request is for: ``vendor`` names the server behind a look-alike (``"groq"``, or
    its host name for a gateway no vendor is known for), else ``None``."""

    provider: str
    api: str
    vendor: str | None = None


def detect(path: str, headers: Mapping[str, str], host: str | None = None) -> tuple[str, str]:
    """Return ``(provider, api)``, e.g. ``("anthropic", "messages")``, or ``("unknown", "unknown")``.

    With ``host``, a request in a provider's format sent to a host that provider does not
    own (nor loopback) is its look-alike's (``openai-compatible``).
    """
    found = decide(path, headers, host)
    return found.provider, found.api


def decide(path: str, headers: Mapping[str, str], host: str | None = None, hint: str | None = None) -> Detected:
    """Who a request is for, decided in this order: its path and headers (Gemini's
    ``:streamGenerateContent``, Azure's deployment path or ``api-key`` header, Anthropic's
    version header); for a format several providers share, the real ``host`` it went to;
    then ``hint``, the user's ``provider=`` option (a provider or a vendor name), which is
    what tells them apart on loopback, where an emulator answers for all of them.

    >>> decide("/openai/v1/chat/completions", {}, "api.groq.com")
    Detected(provider='openai-compatible', api='chat.completions', vendor='groq')
    >>> decide("/v1/chat/completions", {}, "127.0.0.1", hint="mistral")
    Detected(provider='openai-compatible', api='chat.completions', vendor='mistral')
    """
    providers = registered()
    for provider in reversed(providers):  # the newest first
        if provider.speaks is not None and not (provider.path_marks or provider.header_marks):
            continue  # a look-alike without marks is told apart by host or hint, below
        api = provider.api_of(path, headers)
        if api is None:
            continue
        alikes = [p for p in providers if p.speaks == provider.name]
        if not alikes:
            return Detected(provider.name, api)
        if host is not None and host.lower() not in _LOOPBACK_HOSTS:
            if provider.owns_host(host):
                return Detected(provider.name, api)
            owner = next((p for p in alikes if p.owns_host(host)), None)
            if owner is not None and not owner.vendors:  # e.g. Azure's own hosts
                return Detected(owner.name, api)
            alike = owner or next(p for p in alikes if p.vendors or not p.path_marks)
            return Detected(alike.name, api, vendor_of(alike, host))
        hinted = _hinted(hint, {provider.name, *(p.name for p in alikes)})
        return Detected(hinted[0], api, hinted[1]) if hinted else Detected(provider.name, api)
    hinted = _hinted(hint, None)
    if hinted is not None:  # a route no provider knows: the user said whose it is
        return Detected(hinted[0], path.rstrip("/").rsplit("/", 1)[-1] or UNKNOWN, hinted[1])
    return Detected(UNKNOWN, UNKNOWN)


def vendor_of(provider: Provider, host: str) -> str:
    """The vendor serving a look-alike's format from ``host``: a known one, else the host itself."""
    host = host.lower()
    return next((v for v, h in provider.vendors if host == h or host.endswith("." + h)), host)


def vendor_names() -> dict[str, str]:
    """Every known vendor name and the look-alike provider it is recorded as."""
    return {vendor: p.name for p in registered() for vendor, _ in p.vendors}


def _hinted(hint: str | None, allowed: Set[str] | None) -> tuple[str, str | None] | None:
    """``(provider, vendor)`` the ``provider=`` option names, if it is one of ``allowed`` (any: ``None``)."""
    if not hint:
        return None
    vendors = vendor_names()
    found = (hint, None) if by_name(hint) is not None else (vendors[hint], hint) if hint in vendors else None
    if found is None or (allowed is not None and found[0] not in allowed):
        return None
    return found


def event_text(provider: str, api: str, data: object) -> str:
    """The text one parsed event adds to the assembled answer ('' when it adds none).

    An unregistered provider's events are read as chat-completions chunks, the format
    most providers share."""
    found = by_name(provider)
    return (found.event_text if found is not None else formats.openai_event_text)(api, data)


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
