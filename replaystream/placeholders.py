"""Placeholder keys: the variables each provider's clients need set to start, and what they
hold while a run only replays (re-exported by :mod:`replaystream.providers`, their home before).

>>> [v.name for v in PLACEHOLDER_ENV["anthropic"]]
['ANTHROPIC_API_KEY']
"""

from __future__ import annotations

from dataclasses import dataclass

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
