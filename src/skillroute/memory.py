"""Example memory: the labelled tasks a fitted head remembers, and their kernel vote.

A linear head draws one straight boundary per pair of skills over the whole embedding
space; a task that sits among a tight group of labelled tasks on the wrong side of it is
lost ("does django have something like BackgroundTasks?" among django-celery's tasks,
with FastAPI's words).  The memory keeps the fit items' embeddings and labels and lets
each task's near neighbours vote: class ``c`` gets ``sum exp(temperature * (cos - best))``
over its remembered tasks, normalised over classes.  The head mixes that vote into its
probabilities with a share `skillroute fit --memory` chooses out of fold
(`skillroute.fitting`).  It is opt-in: what it measured on the bundled data is in
data/README.md, "Example memory".

Vectors are stored as int8 with one scale per row (cosines move by < 0.01), base64 in
the calibration file; pure numpy at routing.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

__all__ = ["MEMORY_SURE_AT", "MEMORY_TEMPERATURE", "ExampleMemory", "mix_vote"]

# Head-only on the held-out development sets (a script outside the repo), 20, 30, 40 and
# 50 were within two items of each other; `skillroute fit` picks 20 or 40 out of fold.
MEMORY_TEMPERATURE = 40.0
# A task the linear part gives this much probability is not looked up: with a memory
# share up to 0.4, no vote could move its top class (0.6 * 0.95 > 0.6 * 0.05 + 0.4), and
# three tasks in four on the development sets are that sure, so most routes skip the
# product with every remembered vector.  Such a task votes for its own top class.
MEMORY_SURE_AT = 0.95


def mix_vote(
    probabilities: NDArray[np.float64],
    weight: float,
    vote_of: Callable[[NDArray[np.bool_]], NDArray[np.float64]],
    one_ask: NDArray[np.bool_] | None = None,
) -> NDArray[np.float64]:
    """``(1 - weight) * probabilities + weight * vote`` over every class of the head.

    ``vote_of(rows)`` gives the memory's vote for the rows selected by the boolean mask
    ``rows``: the rows the linear part is unsure of (top probability below
    `MEMORY_SURE_AT`).  A sure row's vote is its top class, whatever it asks.  Unsure rows
    outside ``one_ask`` (tasks that ask for several steps) keep their probabilities: which
    skill leads a plan is a question of stages, and near tasks with other plans vote for
    other leads (on the held-out sets' 337 multi-step tasks, primaries wrong 15 → 22 with
    their vote).
    """
    top = probabilities.argmax(axis=1)
    sure = probabilities[np.arange(len(top)), top] >= MEMORY_SURE_AT
    vote = np.zeros_like(probabilities)
    vote[sure, top[sure]] = 1.0
    asked = ~sure if one_ask is None else ~sure & one_ask
    if asked.any():
        vote[asked] = vote_of(asked)
    if one_ask is not None:
        several = ~sure & ~one_ask
        vote[several] = probabilities[several]
    return (1.0 - weight) * probabilities + weight * vote


@dataclass(frozen=True, eq=False)  # arrays have no single truth value: compare fields
class ExampleMemory:
    """Unit vectors of remembered tasks, grouped by class (``counts[c]`` rows of class c)."""

    vectors: NDArray[np.float32]  # (n, dim), rows of class 0 first, then class 1, ...
    counts: NDArray[np.intp]  # (classes,): how many rows each class owns (zero allowed)
    temperature: float = MEMORY_TEMPERATURE
    _vectors_t: NDArray[np.float32] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.vectors.ndim != 2 or self.counts.ndim != 1:
            raise ValueError("a memory needs a vector matrix and one count per class")
        if (self.counts < 0).any() or int(self.counts.sum()) != self.vectors.shape[0]:
            raise ValueError(
                f"{self.vectors.shape[0]} vectors but counts add up to {int(self.counts.sum())}"
            )
        if self.temperature <= 0:
            raise ValueError(f"temperature must be positive, got {self.temperature}")
        object.__setattr__(self, "_vectors_t", np.ascontiguousarray(self.vectors.T))

    @classmethod
    def remember(
        cls,
        vectors: NDArray[np.floating],
        labels: NDArray[np.integer],
        classes: int,
        temperature: float = MEMORY_TEMPERATURE,
    ) -> ExampleMemory:
        """A memory of ``vectors`` labelled ``labels`` (class indices below ``classes``)."""
        labels = np.asarray(labels)
        if labels.shape != (len(vectors),) or (labels < 0).any() or (labels >= classes).any():
            raise ValueError(f"need one label in [0, {classes}) per vector")
        order = np.argsort(labels, kind="stable")
        counts = np.bincount(labels, minlength=classes).astype(np.intp)
        return cls(np.asarray(vectors, dtype=np.float32)[order], counts, temperature)

    @property
    def classes(self) -> int:
        """How many classes the vote covers."""
        return int(self.counts.size)

    def probabilities(self, queries: NDArray[np.float32]) -> NDArray[np.float64]:
        """The kernel vote per class for each row of ``queries`` (rows sum to 1)."""
        out = np.zeros((queries.shape[0], self.classes))
        if not len(self.vectors):
            out[:] = 1.0 / self.classes
            return out
        similarity = queries @ self._vectors_t
        weights = np.exp(self.temperature * (similarity - similarity.max(axis=1, keepdims=True)))
        owned = np.flatnonzero(self.counts)
        starts = np.concatenate(([0], np.cumsum(self.counts)[:-1]))[owned]
        out[:, owned] = np.add.reduceat(weights, starts, axis=1)
        out /= out.sum(axis=1, keepdims=True)
        return out

    def encoded(self) -> tuple[str, tuple[float, ...]]:
        """The vectors as base64 int8 (row-major) and each row's scale: compact JSON."""
        scale = np.abs(self.vectors).max(axis=1) / 127.0
        scale[scale == 0] = 1.0
        quantised = np.round(self.vectors / scale[:, None]).astype(np.int8)
        text = base64.b64encode(quantised.tobytes()).decode("ascii")
        return text, tuple(float(np.float32(value)) for value in scale)

    @classmethod
    def decoded(
        cls,
        vectors: str,
        scales: tuple[float, ...],
        counts: tuple[int, ...],
        temperature: float,
    ) -> ExampleMemory:
        """Rebuild from `encoded` output; rows are renormalised to unit length."""
        raw = np.frombuffer(base64.b64decode(vectors, validate=True), dtype=np.int8)
        rows = len(scales)
        if rows == 0 or raw.size % rows:
            raise ValueError(f"{raw.size} int8 values do not split into {rows} rows")
        matrix = raw.reshape(rows, -1).astype(np.float32) * np.asarray(scales, np.float32)[:, None]
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return cls(matrix / norms, np.asarray(counts, dtype=np.intp), temperature)
