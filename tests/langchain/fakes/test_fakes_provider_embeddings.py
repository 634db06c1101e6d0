"""``ReplayEmbeddings.from_cassette`` reads Gemini's and Ollama's embeddings recordings, made by
their real LangChain embeddings classes against the emulator."""

from __future__ import annotations

from pathlib import Path

from langchain_google_genai import GoogleGenerativeAIEmbeddings
from langchain_ollama import OllamaEmbeddings

from replaystream import Cassette, ReplayEmbeddings, use_cassette
from replaystream.emulator import ProviderEmulator, ScriptedResponse, gemini_embeddings, ollama_embeddings

VECTORS = [[0.25, 0.5, 0.125], [0.75, 1.0, 0.0]]


def test_gemini_and_ollama_embeddings_replay_by_text(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    with ProviderEmulator() as emu:
        emu.enqueue(ScriptedResponse(body=gemini_embeddings(VECTORS)))
        emu.enqueue(ScriptedResponse(body=ollama_embeddings(VECTORS[::-1])))
        with use_cassette(path, mode="once"):
            google = GoogleGenerativeAIEmbeddings(model="text-embedding-004", api_key="AIza-test",
                                                  base_url=emu.base_url)
            assert google.embed_documents(["polar", "bear"]) == VECTORS
            ollama = OllamaEmbeddings(model="nomic-embed-text", base_url=emu.base_url)
            assert ollama.embed_documents(["ice", "floe"]) == VECTORS[::-1]
    apis = [(i.provider, i.api) for i in Cassette.load(path).interactions]
    assert apis == [("google", "batchEmbedContents"), ("ollama", "embed")]
    replay = ReplayEmbeddings.from_cassette(path)
    assert replay.embed_documents(["bear", "polar", "floe", "ice"]) == [VECTORS[1], VECTORS[0], VECTORS[0], VECTORS[1]]
