"""``ReplayEmbeddings``: recorded vectors looked up by text, no provider needed."""

from __future__ import annotations

import os

import difflib
import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from ...cassette.model import Cassette, Record
from ...errors import CassetteError, CassetteMissError, UsageError
from .errors import EmbeddingMissError

RECORD_KIND = "embeddings"


class ReplayEmbeddings(Embeddings):
    """Embeddings that return recorded vectors for known texts.

    Strict by default: a text without a vector raises :class:`EmbeddingMissError`
    naming the closest recorded texts. With ``strict=False`` an unknown text gets a
    deterministic fallback: a unit vector seeded by the SHA-256 of the text.

    Example::

        emb = ReplayEmbeddings.from_vectors({"harrison worked at kensho": [1.0, 0.0],
                                             "where did harrison work?": [0.9, 0.1]})
        emb.embed_query("where did harrison work?")  # [0.9, 0.1]

    ``provider_name`` is what a retriever reports as ``ls_embedding_provider``
    (``"OpenAIEmbeddings"`` to read like the recorded run).
    """

    def __init__(self, vectors: Mapping[str, Sequence[float]], *, strict: bool = True,
                 dim: int | None = None, provider_name: str = "ReplayEmbeddings",
                 name: str = "embeddings") -> None:
        self.vectors: dict[str, list[float]] = {t: [float(x) for x in v] for t, v in vectors.items()}
        dims = {len(v) for v in self.vectors.values()}
        if len(dims) > 1:
            raise UsageError(f"ReplayEmbeddings({name!r}): the vectors have different lengths {sorted(dims)}; "
                             "give every text a vector of the same length")
        self.dim = dims.pop() if dims else (dim or 8)
        if dim is not None and dim != self.dim:
            raise UsageError(f"ReplayEmbeddings({name!r}): dim={dim} but the vectors have {self.dim} dimensions; "
                             "drop dim (it is only needed when there are no vectors)")
        self.strict = strict
        self.provider_name = provider_name
        self.name = name
        self.misses: list[str] = []  # texts embedded by fallback, for assertions

    @classmethod
    def from_vectors(cls, vectors: Mapping[str, Sequence[float]], **kwargs: Any) -> ReplayEmbeddings:
        """The same as the constructor; reads well next to ``from_records``."""
        return cls(vectors, **kwargs)

    @classmethod
    def from_cassette(cls, source: str | os.PathLike[str] | Cassette, **kwargs: Any) -> ReplayEmbeddings:
        """Vectors from OpenAI-style embeddings calls recorded at the wire level
        (e.g. ``OpenAIEmbeddings`` inside ``use_cassette``), keyed by their input texts."""
        from .wire import embedding_vectors, load_cassette

        cassette = load_cassette(source, "ReplayEmbeddings.from_cassette")
        kwargs.setdefault("provider_name", "OpenAIEmbeddings")
        return cls(embedding_vectors(cassette), **kwargs)

    @classmethod
    def from_records(cls, source: Cassette | Iterable[Record], *, name: str | None = None,
                     **kwargs: Any) -> ReplayEmbeddings:
        """Vectors from ``embeddings`` records (``data.vectors``: ``[{"text", "vector"}]``)."""
        path = source.path if isinstance(source, Cassette) else None
        records = source.records if isinstance(source, Cassette) else list(source)
        vectors: dict[str, list[float]] = {}
        found = False
        for n, rec in enumerate(records):
            if rec.kind != RECORD_KIND or (name is not None and rec.name != name):
                continue
            found = True
            items = rec.data.get("vectors")
            if not isinstance(items, list):
                raise CassetteError(path, f"$.records[{n}].data.vectors", "expected a list of {text, vector}")
            for i, item in enumerate(items):
                if not (isinstance(item, dict) and isinstance(item.get("text"), str)
                        and isinstance(item.get("vector"), list)):
                    raise CassetteError(path, f"$.records[{n}].data.vectors[{i}]",
                                        "expected an object with 'text' (string) and 'vector' (list)")
                vectors[item["text"]] = item["vector"]
            kwargs.setdefault("provider_name", rec.data.get("provider_name", "ReplayEmbeddings"))
            kwargs.setdefault("name", rec.name)
        if not found:
            raise CassetteMissError(f"{path or '<records>'}: no {RECORD_KIND!r} record"
                                    + (f" named {name!r}" if name else "")
                                    + "\n  hint: write one with ReplayEmbeddings.to_record()")
        return cls(vectors, **kwargs)

    def to_record(self) -> Record:
        """All vectors as one record; items are ``{"text": ..., "vector": [...]}``."""
        return Record(RECORD_KIND, self.name, {
            "provider_name": self.provider_name,
            "vectors": [{"text": t, "vector": v} for t, v in self.vectors.items()]})

    # -- Embeddings API -------------------------------------------------------------------
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_documents(texts)

    async def aembed_query(self, text: str) -> list[float]:
        return self.embed_query(text)

    def _vector(self, text: str) -> list[float]:
        vec = self.vectors.get(text)
        if vec is not None:
            return list(vec)
        if self.strict:
            close = difflib.get_close_matches(text, list(self.vectors), n=3, cutoff=0.0)
            shown = "\n".join(f"    {t!r}" for t in close) or "    (none recorded)"
            raise EmbeddingMissError(
                f"ReplayEmbeddings({self.name!r}): no recorded vector for {text!r}\n"
                f"  closest recorded texts:\n{shown}\n"
                f"  hint: add a vector for this text, or pass strict=False for a hash-seeded fallback")
        self.misses.append(text)
        return fallback_vector(text, self.dim)


def fallback_vector(text: str, dim: int) -> list[float]:
    """A unit vector that depends only on ``text`` and ``dim`` (stable across runs and OSes)."""
    seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")
    values = np.random.default_rng(seed).standard_normal(dim)
    norm = math.sqrt(float(np.dot(values, values))) or 1.0
    return [float(x) / norm for x in values]
