"""ReplayEmbeddings: recorded vectors, strict misses, deterministic fallback, records."""

from __future__ import annotations

import math
from typing import Any

import pytest

from replaystream import Cassette
from replaystream.errors import CassetteMissError
from replaystream.langchain.fakes import EmbeddingMissError, ReplayEmbeddings

VECTORS = {"harrison worked at langchain": [1.0, 0.0, 0.0], "harrison likes spicy food": [0.0, 1.0, 0.0]}


async def test_known_texts_sync_and_async() -> None:
    emb = ReplayEmbeddings.from_vectors(VECTORS)
    assert emb.embed_documents(list(VECTORS)) == list(VECTORS.values())
    assert emb.embed_query("harrison likes spicy food") == [0.0, 1.0, 0.0]
    assert await emb.aembed_documents(["harrison worked at langchain"]) == [[1.0, 0.0, 0.0]]
    assert await emb.aembed_query("harrison worked at langchain") == [1.0, 0.0, 0.0]


def test_returned_vectors_are_copies() -> None:
    emb = ReplayEmbeddings.from_vectors(VECTORS)
    emb.embed_query("harrison worked at langchain")[0] = 9.0
    assert emb.embed_query("harrison worked at langchain") == [1.0, 0.0, 0.0]


def test_strict_miss_names_the_closest_texts() -> None:
    emb = ReplayEmbeddings.from_vectors(VECTORS, name="openai-small")
    with pytest.raises(EmbeddingMissError) as info:
        emb.embed_query("harrison worked at langchian")
    text = str(info.value)
    assert "ReplayEmbeddings('openai-small'): no recorded vector for 'harrison worked at langchian'" in text
    assert text.index("'harrison worked at langchain'") < text.index("'harrison likes spicy food'")
    assert "strict=False" in text
    assert isinstance(info.value, CassetteMissError)


def test_fallback_is_deterministic_and_normalised() -> None:
    emb = ReplayEmbeddings.from_vectors(VECTORS, strict=False)
    a = emb.embed_query("an unknown text")
    assert a == ReplayEmbeddings.from_vectors(VECTORS, strict=False).embed_query("an unknown text")
    assert len(a) == 3 and math.isclose(sum(x * x for x in a), 1.0)
    assert a != emb.embed_query("another unknown text")
    assert emb.misses == ["an unknown text", "another unknown text"]


def test_unequal_dimensions_rejected() -> None:
    with pytest.raises(ValueError, match="different lengths"):
        ReplayEmbeddings.from_vectors({"a": [1.0], "b": [1.0, 2.0]})


def test_record_round_trip(tmp_path: Any) -> None:
    emb = ReplayEmbeddings.from_vectors(VECTORS, provider_name="OpenAIEmbeddings", name="docs")
    path = Cassette(records=[emb.to_record()]).save(tmp_path / "emb.json")
    loaded = ReplayEmbeddings.from_records(Cassette.load(path))
    assert loaded.vectors == emb.vectors
    assert loaded.provider_name == "OpenAIEmbeddings" and loaded.name == "docs"
    with pytest.raises(CassetteMissError, match="no 'embeddings' record named 'other'"):
        ReplayEmbeddings.from_records(Cassette.load(path), name="other")
