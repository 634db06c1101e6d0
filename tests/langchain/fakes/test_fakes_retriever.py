"""FaissRetriever on real FAISS, and the seed's "harrison" retrieval chain, offline."""

from __future__ import annotations

import pytest
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnablePassthrough

from replaystream.langchain.fakes import FaissRetriever, ReplayChatModel, ReplayEmbeddings

TEXTS = ["harrison worked at langchain", "harrison likes spicy food"]
QUESTION = "Where did harrison work? Write 3 made up sentences about this place."

# Vectors chosen by hand (not recorded): the questions lie nearer the first text, so
# the order matches the seed's output; 3 dimensions keep the L2 distances readable.
VECTORS = {
    TEXTS[0]: [1.0, 0.0, 0.0],
    TEXTS[1]: [0.0, 1.0, 0.0],
    "where did harrison work?": [0.8, 0.3, 0.1],
    QUESTION: [0.7, 0.2, 0.3],
}

# The seed's ChatAnthropic answer, chunk boundaries exactly as printed there.
ANSWER = ("|According| to the context, Harrison worked at| Langchain.\n\nHere are |3 made up sentences "
          "about Langchain|:\n1. Langchain| is a bustling tech company locate|d in a modern office "
          "building with floor|-to-ceiling windows.\n2. The| company's collaborative workspace features "
          "comfortable loun|ges where employees often brainstorm innovative| ideas.\n3. Langchain's "
          "office| is known for its well-stocked coffee| bar and weekly team-building activities.||")


@pytest.fixture
def retriever() -> FaissRetriever:
    return FaissRetriever.from_texts(TEXTS, ReplayEmbeddings.from_vectors(VECTORS, provider_name="OpenAIEmbeddings"))


def test_stream_yields_one_list_of_documents(retriever: FaissRetriever) -> None:
    chunks = list(retriever.stream("where did harrison work?"))
    assert len(chunks) == 1
    assert [d.page_content for d in chunks[0]] == TEXTS
    assert [d.metadata for d in chunks[0]] == [{}, {}]


def test_ids_are_deterministic_and_uuid_shaped(retriever: FaissRetriever) -> None:
    again = FaissRetriever.from_texts(TEXTS, retriever.embeddings)
    ids = [d.id for d in retriever.invoke("where did harrison work?")]
    assert ids == [d.id for d in again.invoke("where did harrison work?")]
    assert all(isinstance(i, str) and len(i) == 36 and i.count("-") == 4 for i in ids)


def test_l2_scores_like_faiss_from_texts(retriever: FaissRetriever) -> None:
    results = retriever.search([0.8, 0.3, 0.1])
    # squared Euclidean distances, as IndexFlatL2 reports them
    assert [round(s, 4) for _, s in results] == [0.14, 1.14]


def test_inner_product_and_metadata() -> None:
    emb = ReplayEmbeddings.from_vectors({"a": [1.0, 0.0], "b": [0.6, 0.8], "q": [0.0, 1.0]})
    r = FaissRetriever.from_texts(["a", "b"], emb, metadatas=[{"n": 1}, {"n": 2}], distance="inner_product", k=1)
    docs = r.invoke("q")
    assert [(d.page_content, d.metadata) for d in docs] == [("b", {"n": 2})]


def test_k_larger_than_the_index(retriever: FaissRetriever) -> None:
    assert len(retriever.invoke("where did harrison work?", k=10)) == 2


async def test_events_carry_vector_store_metadata(retriever: FaissRetriever) -> None:
    events = [e async for e in retriever.with_config(run_name="Docs").astream_events(
        "where did harrison work?", version="v2")]
    assert [e["event"] for e in events] == ["on_retriever_start", "on_retriever_end"]
    meta = events[0]["metadata"]
    assert (meta["ls_retriever_name"], meta["ls_vector_store_provider"], meta["ls_embedding_provider"]) == (
        "vectorstore", "FAISS", "OpenAIEmbeddings")
    assert events[0]["name"] == "Docs"


def _chain(retriever: FaissRetriever, model: ReplayChatModel):  # type: ignore[no-untyped-def]
    prompt = ChatPromptTemplate.from_template(
        "Answer the question based only on the following context:\n{context}\n\nQuestion: {question}\n")
    return ({"context": retriever.with_config(run_name="Docs"), "question": RunnablePassthrough()}
            | prompt | model | StrOutputParser())


def test_retrieval_chain_streams_the_recorded_answer(retriever: FaissRetriever) -> None:
    model = ReplayChatModel.from_text(ANSWER, name="ChatAnthropic", provider="anthropic",
                                      model="claude-3-5-sonnet-latest")
    chunks = list(_chain(retriever, model).stream(QUESTION))
    assert chunks == ANSWER.split("|")
    assert "".join(chunks).startswith("According to the context, Harrison worked at Langchain.")
    # the model saw the retrieved documents in its prompt
    prompt_text = model.received[0][0]["content"]
    assert "page_content='harrison worked at langchain'" in prompt_text
    assert prompt_text.index("worked at langchain") < prompt_text.index("likes spicy food")


async def test_retrieval_chain_events_order(retriever: FaissRetriever) -> None:
    model = ReplayChatModel.from_text(ANSWER, name="ChatAnthropic")
    kinds = [(e["event"], e["name"]) async for e in _chain(retriever, model).astream_events(QUESTION, version="v2")
             if e["event"] in ("on_retriever_end", "on_chat_model_stream")]
    assert kinds[0] == ("on_retriever_end", "Docs")
    assert kinds[1:] == [("on_chat_model_stream", "ChatAnthropic")] * len(ANSWER.split("|"))
