"""Similarity of tasks to skills, plus an optional learned linear head.  Pure numpy.

Each skill owns several texts (its description and its examples), stored as one
contiguous block of rows; a skill's similarity to a task is the best cosine over its
block (`np.maximum.reduceat`, one vectorised pass for a whole batch).  A fitted linear
head (multinomial logistic regression on the same embeddings and, optionally, on the
task's word features, `skillroute.lexicon`; see `skillroute.fitting`) turns the examples
into a decision boundary instead of only matching them; the final score mixes the two
with a fitted weight.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from skillroute.encoders import Embeddings
from skillroute.lexicon import Lexicon
from skillroute.memory import ExampleMemory, mix_vote

__all__ = ["LinearHead", "ScoreBatch", "SkillIndex", "softmax"]

FloatArray = NDArray[np.float64]


def softmax(logits: NDArray[np.floating]) -> FloatArray:
    """Row-wise softmax, stable for large logits."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return np.asarray(exp / exp.sum(axis=1, keepdims=True), dtype=np.float64)


@dataclass(frozen=True)
class LinearHead:
    """``softmax(X @ weights.T + W @ word_weights.T + bias)`` over the catalog's skills.

    Rows are in catalog order.  With ``out_of_scope``, the last row is one more class, "no
    skill": it takes its share of the probability, so a task unlike every skill gets low
    probabilities for all.  With a ``lexicon``, the task's word features ``W`` count too.
    With a ``memory`` (`skillroute.memory`), its kernel vote over the same classes is mixed
    in: ``(1 - memory_weight) * softmax(...) + memory_weight * vote`` (`mix_vote`).
    """

    weights: NDArray[np.float32]  # (n_skills [+ 1], dim)
    bias: NDArray[np.float32]  # (n_skills [+ 1],)
    out_of_scope: bool = False
    lexicon: Lexicon | None = None
    word_weights: NDArray[np.float32] | None = None  # (n_skills [+ 1], len(lexicon))
    memory: ExampleMemory | None = None
    memory_weight: float = 0.0

    def __post_init__(self) -> None:
        if (self.lexicon is None) != (self.word_weights is None):
            raise ValueError("a head reads word features with both a lexicon and word weights")
        expected = (self.weights.shape[0], len(self.lexicon or ()))
        if self.word_weights is not None and self.word_weights.shape != expected:
            raise ValueError(
                f"word weights of shape {self.word_weights.shape}, expected {expected}"
            )
        if self.memory is not None and self.memory.classes != self.weights.shape[0]:
            raise ValueError(
                f"a memory over {self.memory.classes} classes for a head of {self.weights.shape[0]}"
            )
        if not 0.0 <= self.memory_weight <= 1.0:
            raise ValueError(f"memory weight must be in [0, 1], got {self.memory_weight}")

    def probabilities(
        self, queries: Embeddings, texts: Sequence[str], one_ask: Sequence[bool] | None = None
    ) -> FloatArray:
        """P(skill | task) for each row of ``queries`` (skills only, catalog order)."""
        return self.split(queries, texts, one_ask)[0]

    def split(
        self, queries: Embeddings, texts: Sequence[str], one_ask: Sequence[bool] | None = None
    ) -> tuple[FloatArray, FloatArray | None]:
        """P(skill | task) per skill, and P(no skill | task) (None without that class).

        ``texts`` are the tasks as the router reads them (`Router.prepare_task`), one per
        row of ``queries``; only a head with a lexicon reads them.  ``one_ask``: which
        tasks ask for one thing (the rules' signals); only those consult the memory
        (`skillroute.memory.mix_vote`).  None: every task does.
        """
        if len(texts) != queries.shape[0]:
            raise ValueError(f"{len(texts)} texts for {queries.shape[0]} embedded tasks")
        logits = (queries @ self.weights.T + self.bias).astype(np.float64)
        if self.lexicon is not None and self.word_weights is not None:
            logits += self.lexicon.features(texts).logits(self.word_weights)
        probabilities = softmax(logits)
        memory = self.memory
        if memory is not None and self.memory_weight > 0.0:
            probabilities = mix_vote(
                probabilities,
                self.memory_weight,
                lambda rows: memory.probabilities(queries[rows]),
                None if one_ask is None else np.asarray(one_ask, dtype=bool),
            )
        if not self.out_of_scope:
            return probabilities, None
        return probabilities[:, :-1], probabilities[:, -1]


@dataclass(frozen=True)
class ScoreBatch:
    """Scores of a batch of tasks against every skill."""

    similarity: FloatArray  # (batch, n_skills): best cosine per skill
    score: FloatArray  # (batch, n_skills): what candidates are ranked by
    text_similarity: NDArray[np.float32]  # (batch, n_texts): for "which text matched"
    no_skill: FloatArray | None = None  # (batch,): the head's P(no skill), when it has that class

    def top_k(self, k: int) -> NDArray[np.intp]:
        """Indices of the k best skills per task, best first (ties: catalog order).

        A partial sort (``argpartition``) finds the k best in linear time; only they are
        then sorted, by score and then by catalog index, so ties stay deterministic.
        """
        n = self.score.shape[1]
        k = min(k, n)
        if k >= n or n <= 64:
            return np.argsort(-self.score, axis=1, kind="stable")[:, :k]
        # widen the partition to every skill tied with the k-th best, so ties keep catalog order
        kth = -np.partition(-self.score, k - 1, axis=1)[:, k - 1 : k]
        rows = []
        for row, bound in zip(self.score, kth[:, 0], strict=True):
            chosen = np.flatnonzero(row >= bound)
            chosen = chosen[np.lexsort((chosen, -row[chosen]))]
            rows.append(chosen[:k])
        return np.asarray(rows, dtype=np.intp)


class SkillIndex:
    """The embedded routing texts of a catalog, grouped per skill."""

    def __init__(self, embeddings: Embeddings, counts: Sequence[int]) -> None:
        counts_array = np.asarray(counts, dtype=np.intp)
        if counts_array.size == 0 or (counts_array < 1).any():
            raise ValueError("every skill needs at least one routing text")
        if int(counts_array.sum()) != embeddings.shape[0]:
            raise ValueError(
                f"{embeddings.shape[0]} embeddings for {int(counts_array.sum())} routing texts"
            )
        self.embeddings = embeddings
        self.counts = counts_array
        self.starts = np.concatenate(([0], np.cumsum(counts_array)[:-1])).astype(np.intp)
        self.owners = np.repeat(np.arange(counts_array.size), counts_array)
        self._embeddings_t = np.ascontiguousarray(embeddings.T)

    @property
    def n_skills(self) -> int:
        """How many skills the index covers."""
        return int(self.counts.size)

    def score(
        self,
        queries: Embeddings,
        head: LinearHead | None = None,
        head_weight: float = 0.0,
        texts: Sequence[str] = (),
        one_ask: Sequence[bool] | None = None,
    ) -> ScoreBatch:
        """Score every task against every skill (one matrix product for the batch).

        ``texts``: the prepared tasks, one per row of ``queries``; needed with a head.
        ``one_ask``: which tasks ask for one thing (`LinearHead.split`).
        """
        text_similarity = queries @ self._embeddings_t
        similarity = np.maximum.reduceat(text_similarity, self.starts, axis=1).astype(np.float64)
        if head is None or head_weight == 0.0:
            return ScoreBatch(similarity, similarity, text_similarity)
        probabilities, no_skill = head.split(queries, texts, one_ask)
        score = head_weight * probabilities + (1.0 - head_weight) * similarity
        return ScoreBatch(similarity, score, text_similarity, no_skill)

    def best_text(self, batch: ScoreBatch, row: int, skill: int) -> int:
        """Index (within the skill's texts) of the text most similar to task ``row``."""
        start = int(self.starts[skill])
        block = batch.text_similarity[row, start : start + int(self.counts[skill])]
        return int(np.argmax(block))
