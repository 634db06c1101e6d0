"""``FaissRetriever``: a real FAISS index behind LangChain's retriever interface.

It mirrors what ``FAISS.from_texts(...).as_retriever()`` from langchain-community
does (a flat L2 index, no normalisation, top ``k=4``), without that dependency, and
gives documents ids derived from their position and text so runs are repeatable.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import numpy as np
from langchain_core.callbacks import AsyncCallbackManagerForRetrieverRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever, LangSmithRetrieverParams
from pydantic import ConfigDict, PrivateAttr

from ...errors import UsageError, require_extras

#: uuid5 namespace of document ids: the same texts give the same ids on every machine.
ID_NAMESPACE = uuid.UUID("9b3c2f9e-5f0e-4a8e-9f5a-7265706c6179")

Distance = Literal["l2", "inner_product"]


def _faiss() -> Any:
    """faiss, imported on first use: [faiss] is an extra of its own, so ReplayChatModel and the
    other fakes import without it (and without its load time)."""
    require_extras("FaissRetriever", "faiss")
    import faiss

    return faiss


def document_id(index: int, text: str) -> str:
    """A UUID-shaped id that depends only on the document's position and text."""
    return str(uuid.uuid5(ID_NAMESPACE, f"{index}\x00{text}"))


class FaissRetriever(BaseRetriever):
    """Top-``k`` similarity search over a flat FAISS index.

    Example::

        retriever = FaissRetriever.from_texts(
            ["harrison worked at kensho", "harrison likes spicy food"], embeddings)
        retriever.invoke("where did harrison work?")  # two Documents, nearest first

    ``distance="l2"`` (langchain-community's default) ranks by squared Euclidean
    distance; ``"inner_product"`` by dot product (cosine if ``normalize=True``).
    Events carry the same ``ls_*`` metadata a ``VectorStoreRetriever`` over FAISS
    reports; pass ``name="VectorStoreRetriever"`` to read like that run entirely.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    embeddings: Embeddings
    k: int = 4
    distance: Distance = "l2"
    normalize: bool = False
    score_threshold: float | None = None
    """Drop results scoring worse than this (distance above it for l2, below for ip)."""

    _index: Any = PrivateAttr(default=None)
    _documents: list[Document] = PrivateAttr(default_factory=list)

    @classmethod
    def from_texts(cls, texts: Sequence[str], embeddings: Embeddings,
                   metadatas: Sequence[dict[str, Any]] | None = None,
                   ids: Sequence[str] | None = None, **kwargs: Any) -> FaissRetriever:
        """Embed ``texts`` with ``embeddings.embed_documents`` and index them."""
        if metadatas is not None and len(metadatas) != len(texts):
            raise UsageError(f"{len(metadatas)} metadatas for {len(texts)} texts")
        if ids is not None and len(ids) != len(texts):
            raise UsageError(f"{len(ids)} ids for {len(texts)} texts")
        docs = [Document(page_content=t, metadata=dict(metadatas[n]) if metadatas else {},
                         id=ids[n] if ids is not None else document_id(n, t))
                for n, t in enumerate(texts)]
        return cls.from_documents(docs, embeddings, **kwargs)

    @classmethod
    def from_documents(cls, documents: Iterable[Document], embeddings: Embeddings,
                       **kwargs: Any) -> FaissRetriever:
        faiss = _faiss()  # before anything is embedded
        docs = [d if d.id is not None else d.model_copy(update={"id": document_id(n, d.page_content)})
                for n, d in enumerate(documents)]
        if not docs:
            raise UsageError("FaissRetriever needs at least one document to size its index")
        retriever = cls(embeddings=embeddings, **kwargs)
        vectors = retriever._as_matrix(embeddings.embed_documents([d.page_content for d in docs]))
        index = faiss.IndexFlatIP(vectors.shape[1]) if retriever.distance == "inner_product" \
            else faiss.IndexFlatL2(vectors.shape[1])
        index.add(vectors)
        retriever._index = index
        retriever._documents = docs
        return retriever

    @property
    def documents(self) -> list[Document]:
        return list(self._documents)

    def _as_matrix(self, vectors: Sequence[Sequence[float]]) -> Any:
        matrix = np.asarray(vectors, dtype=np.float32)
        if matrix.ndim != 2:
            raise UsageError(f"embeddings returned an array of shape {matrix.shape}, expected (n, dim)")
        if self.normalize:
            _faiss().normalize_L2(matrix)
        return matrix

    def search(self, vector: Sequence[float], k: int | None = None) -> list[tuple[Document, float]]:
        """``(document, score)`` pairs, best first; the score is the FAISS distance."""
        query = self._as_matrix([vector])
        scores, indices = self._index.search(query, min(k or self.k, len(self._documents)))
        out: list[tuple[Document, float]] = []
        for score, i in zip(scores[0], indices[0]):
            if i == -1:
                continue
            s = float(score)
            if self.score_threshold is not None and (
                    s > self.score_threshold if self.distance == "l2" else s < self.score_threshold):
                continue
            out.append((self._documents[i].model_copy(), s))
        return out

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun,
                                **kwargs: Any) -> list[Document]:
        return [d for d, _ in self.search(self.embeddings.embed_query(query), kwargs.get("k"))]

    async def _aget_relevant_documents(self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun,
                                       **kwargs: Any) -> list[Document]:
        vector = await self.embeddings.aembed_query(query)
        return [d for d, _ in self.search(vector, kwargs.get("k"))]

    def _get_ls_params(self, **kwargs: Any) -> LangSmithRetrieverParams:
        params = LangSmithRetrieverParams(ls_retriever_name="vectorstore",
                                          ls_vector_store_provider="FAISS")
        params["ls_embedding_provider"] = getattr(self.embeddings, "provider_name",
                                                  type(self.embeddings).__name__)
        return params
