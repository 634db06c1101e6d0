"""ReplayEmbeddings: recorded vectors, strict misses, deterministic fallback, records."""

from __future__ import annotations

import math
from typing import Any

import pytest

from replaystream import Cassette, Interaction, Request, Response
from replaystream.errors import CassetteError, CassetteMissError, UsageError
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
    with pytest.raises(UsageError, match="different lengths") as info:
        ReplayEmbeddings.from_vectors({"a": [1.0], "b": [1.0, 2.0]})
    assert isinstance(info.value, ValueError)  # what it raised before it was typed
    with pytest.raises(UsageError, match="dim=2 but the vectors have 1 dimensions"):
        ReplayEmbeddings.from_vectors({"a": [1.0]}, dim=2)


def _embeddings_cassette(tmp_path: Any, request_input: Any, response_body: bytes) -> Cassette:
    inter = Interaction(Request("POST", "/v1/embeddings", body={"input": request_input, "model": "m"}),
                        Response(200, {"content-type": "application/json"}, body=response_body),
                        provider="openai", api="embeddings")
    cassette = Cassette([Interaction(Request("GET", "/v1/models"), Response(200, body=b"{}")), inter])
    cassette.save(tmp_path / "emb.json")
    return cassette


@pytest.mark.parametrize("body", [b"not json", b'{"object": "list"}', b'{"data": [{"index": 0}]}'])
def test_an_unreadable_embeddings_recording_names_the_file_and_interaction(tmp_path: Any, body: bytes) -> None:
    cassette = _embeddings_cassette(tmp_path, ["a"], body)
    with pytest.raises(CassetteError) as info:
        ReplayEmbeddings.from_cassette(cassette)
    assert not isinstance(info.value, CassetteMissError)  # damaged, not missing
    assert info.value.path == tmp_path / "emb.json"
    assert info.value.position == "$.interactions[1].response"
    assert "is not a readable embeddings response" in str(info.value) and "hint: record" in str(info.value)


def test_token_id_input_says_how_to_record_texts(tmp_path: Any) -> None:
    cassette = _embeddings_cassette(tmp_path, [[1, 2, 3]], b'{"data": [{"index": 0, "embedding": [0.5]}]}')
    with pytest.raises(CassetteError) as info:
        ReplayEmbeddings.from_cassette(cassette)
    assert info.value.position == "$.interactions[1].request.body.input"
    assert "check_embedding_ctx_length=False" in str(info.value)


def test_record_round_trip(tmp_path: Any) -> None:
    emb = ReplayEmbeddings.from_vectors(VECTORS, provider_name="OpenAIEmbeddings", name="docs")
    path = Cassette(records=[emb.to_record()]).save(tmp_path / "emb.json")
    loaded = ReplayEmbeddings.from_records(Cassette.load(path))
    assert loaded.vectors == emb.vectors
    assert loaded.provider_name == "OpenAIEmbeddings" and loaded.name == "docs"
    with pytest.raises(CassetteMissError, match="no 'embeddings' record named 'other'"):
        ReplayEmbeddings.from_records(Cassette.load(path), name="other")
