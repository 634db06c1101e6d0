"""The LangChain layer: fakes that are real components, ``astream_events`` normalisation,
the syrupy extension, propagation checks and event filtering. Loaded only when used."""

from ..errors import require_extras

# The boundary: without the extra, say which one to install rather than which module is missing.
require_extras("replaystream's LangChain layer (ReplayChatModel, ReplayEmbeddings, ReplayTool, event snapshots)",
               "langchain")
