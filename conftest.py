"""Repository-level pytest configuration: the plugin itself loads through its entry point."""

from __future__ import annotations

import os

# Tests run offline with fake keys; never let a developer's real keys reach a cassette.
for _name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
    os.environ.pop(_name, None)

# pytester drives the plugin's own end-to-end tests (tests/plugin).
pytest_plugins = ["pytester"]

# httpx2 and httpx import their cores lazily, on the first client; if that happens inside a
# pytester in-process run, pytester's sys.modules restore drops them and later clients raise
# core exceptions that the SDKs no longer recognise. Import them once, up front.
import httpcore  # noqa: E402,F401
import httpcore2  # noqa: E402,F401
