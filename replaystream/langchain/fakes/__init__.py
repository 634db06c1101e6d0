"""Message-level fakes: a chat model, embeddings, a FAISS retriever and tools that replay recordings.

Example::

    from replaystream.fakes import ReplayChatModel
    model = ReplayChatModel.from_text("Polar bears actually| have transparent| fur.")
"""

from ._chunks import RecordedResponse
from .chat import ReplayChatModel
from .embeddings import ReplayEmbeddings
from .errors import ChunkFormatError, EmbeddingMissError, ReplayExhaustedError, ToolReplayMissError
from .retriever import FaissRetriever
from .tools import ReplayTool

__all__ = [
    "ChunkFormatError",
    "EmbeddingMissError",
    "FaissRetriever",
    "RecordedResponse",
    "ReplayChatModel",
    "ReplayEmbeddings",
    "ReplayExhaustedError",
    "ReplayTool",
    "ToolReplayMissError",
]
