"""On-disk cache of skill embeddings, so a warm start encodes only the task.

A cache file is keyed by the model id and a hash of the exact texts, and stores both
again inside; a file that fails any check (unreadable, wrong model, wrong texts, wrong
shape, non-finite or non-unit rows) is never trusted: it is rebuilt with a warning.
Files are written atomically and read without pickle.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from skillroute.encoders import Embeddings, Encoder
from skillroute.errors import SkillrouteWarning

__all__ = ["CACHE_ENV", "EmbeddingCache", "default_cache_dir"]

CACHE_ENV = "SKILLROUTE_CACHE_DIR"
_FORMAT = "skillroute-embeddings-v2"  # v2: long texts read as two windows


def default_cache_dir() -> Path:
    """``$SKILLROUTE_CACHE_DIR``, else ``$XDG_CACHE_HOME/skillroute``, else ``~/.cache/...``."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "skillroute"


def _text_hashes(texts: Sequence[str]) -> list[str]:
    return [hashlib.sha256(text.encode()).hexdigest()[:32] for text in texts]


class EmbeddingCache:
    """A directory of ``.npz`` files, one per (model, list of texts)."""

    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory).expanduser() if directory else default_cache_dir()

    def __repr__(self) -> str:
        return f"EmbeddingCache({str(self.directory)!r})"

    def path_for(self, model_id: str, texts: Sequence[str]) -> Path:
        """The file that holds (or will hold) these texts' embeddings for this model."""
        digest = hashlib.sha256(f"{_FORMAT}\n{model_id}\n".encode())
        for text_hash in _text_hashes(texts):
            digest.update(text_hash.encode())
        return self.directory / f"{digest.hexdigest()[:40]}.npz"

    def load(self, model_id: str, texts: Sequence[str]) -> Embeddings | None:
        """Cached embeddings, or None on a miss or an untrustworthy file (with a warning)."""
        path = self.path_for(model_id, texts)
        if not path.exists():
            return None
        problem, vectors = _read(path, model_id, texts)
        if problem is None:
            return vectors
        warnings.warn(
            f"{path}: embedding cache ignored ({problem}); it will be rebuilt",
            SkillrouteWarning,
            stacklevel=3,
        )
        return None

    def store(self, model_id: str, texts: Sequence[str], vectors: Embeddings) -> Path | None:
        """Write atomically; an unwritable cache only costs speed, so it warns, not fails."""
        path = self.path_for(model_id, texts)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
            with os.fdopen(handle, "wb") as stream:
                np.savez(
                    stream,
                    format=np.array(_FORMAT),
                    model_id=np.array(model_id),
                    text_hashes=np.array(_text_hashes(texts)),
                    embeddings=vectors.astype(np.float32),
                )
            os.replace(temporary, path)
        except OSError as exc:
            warnings.warn(
                f"{self.directory}: cannot write the embedding cache ({exc.strerror}); "
                "skill embeddings will be recomputed next time",
                SkillrouteWarning,
                stacklevel=3,
            )
            return None
        return path

    def encode(self, encoder: Encoder, texts: Sequence[str]) -> Embeddings:
        """Embeddings of ``texts`` from the cache, computing and storing them on a miss."""
        cached = self.load(encoder.model_id, texts)
        if cached is not None:
            return cached
        vectors = encoder.encode(texts)
        self.store(encoder.model_id, texts, vectors)
        return vectors


def _read(path: Path, model_id: str, texts: Sequence[str]) -> tuple[str | None, Embeddings]:
    """Load and verify a cache file: (None, vectors) when sound, else (reason, empty)."""
    empty = np.zeros((0, 0), dtype=np.float32)
    try:
        with np.load(path, allow_pickle=False) as archive:
            fields = {name: archive[name] for name in archive.files}
    except Exception as exc:  # zip, npy and OS errors all mean "corrupt"
        return f"unreadable: {type(exc).__name__}", empty
    if str(fields.get("format", "")) != _FORMAT:
        return "unknown format", empty
    if str(fields.get("model_id", "")) != model_id:
        return f"written by model {fields.get('model_id')!s}, not {model_id}", empty
    if list(fields.get("text_hashes", [])) != _text_hashes(texts):
        return "texts differ", empty
    vectors = fields.get("embeddings")
    if vectors is None or vectors.ndim != 2 or vectors.shape[0] != len(texts):
        return "wrong shape", empty
    if vectors.dtype != np.float32 or not np.isfinite(vectors).all():
        return "non-finite or non-float32 values", empty
    if not np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3):
        return "rows are not unit vectors", empty
    return None, np.ascontiguousarray(vectors)
