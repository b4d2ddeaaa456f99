"""Word features for the linear head: TF-IDF over the words and word pairs of a task.

A sentence embedding is good at what a task is about and blurry on the terms that decide
a route: "factory", "django_db", "throttle", "drift", "canary".  Routing texts and
labelled tasks teach the head which of those words and word pairs point to which skill;
the head then reads the embedding and these features side by side (one logistic
regression over both, `skillroute.fitting`).

With the seventeenth session's head, the router's errors on ten held-out sets fell from
102 to 38, together with more fit data; words alone, on the older fit set, took 188
errors to 119 (data/README.md, "Word features", with the commands).  `skillroute fit`
keeps word features only when they do better out of fold.  Pure Python and numpy at
routing.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from skillroute.signals import without_pasted

__all__ = ["LEXICAL_MIN_DF", "LEXICAL_SCALE", "Lexicon", "WordFeatures", "terms_of"]

# Chosen in a head-only comparison on the development sets (a script outside the repo):
# scales 1.0 and 4.0 did worse than 2.5; a term seen in 2 texts instead of 3 doubled the
# vocabulary (and the calibration file) for no measurable gain.
LEXICAL_SCALE = 2.5
LEXICAL_MIN_DF = 3

_WORD = re.compile(r"\b\w\w+\b")  # words of two characters or more, as scikit-learn's default


def terms_of(text: str) -> list[str]:
    """The words of a text (case-folded) and its adjacent word pairs.

    Pasted lines (a traceback's frames, a fenced block, log lines) do not count: they
    say what happened, not what is asked, and a long paste would outweigh the ask.
    """
    words = _WORD.findall(without_pasted(text.casefold()))
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


@dataclass(frozen=True)
class WordFeatures:
    """Sparse TF-IDF rows, coordinate form: ``values[k]`` is at (``rows[k]``, ``columns[k]``)."""

    rows: NDArray[np.intp]
    columns: NDArray[np.intp]
    values: NDArray[np.float64]
    shape: tuple[int, int]

    def logits(self, weights: NDArray[np.floating]) -> NDArray[np.float64]:
        """``features @ weights.T`` for ``weights`` of shape (classes, terms)."""
        out = np.zeros((self.shape[0], weights.shape[0]))
        np.add.at(out, self.rows, self.values[:, None] * weights[:, self.columns].T)
        return out


@dataclass(frozen=True, eq=False)  # arrays have no single truth value: compare fields
class Lexicon:
    """The terms the head has weights for, their inverse document frequencies and scale."""

    terms: tuple[str, ...]
    idf: NDArray[np.float64]
    scale: float = LEXICAL_SCALE
    _column: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.terms) != len(self.idf):
            raise ValueError(f"{len(self.terms)} terms but {len(self.idf)} idf values")
        object.__setattr__(self, "_column", {term: i for i, term in enumerate(self.terms)})

    @classmethod
    def learn(
        cls, texts: Iterable[str], *, min_df: int = LEXICAL_MIN_DF, scale: float = LEXICAL_SCALE
    ) -> Lexicon:
        """The terms found in at least ``min_df`` texts, in sorted order (deterministic).

        idf is smoothed as if one more text held every term: ``ln((1 + n) / (1 + df)) + 1``.
        """
        counts: Counter[str] = Counter()
        n = 0
        for text in texts:
            counts.update(set(terms_of(text)))
            n += 1
        kept = sorted(term for term, df in counts.items() if df >= min_df)
        idf = np.array([math.log((1 + n) / (1 + counts[term])) + 1.0 for term in kept])
        return cls(tuple(kept), idf, scale)

    def __len__(self) -> int:
        return len(self.terms)

    def features(self, texts: Sequence[str]) -> WordFeatures:
        """Sublinear TF-IDF per text, L2-normalised, times ``scale``."""
        column = self._column
        rows: list[int] = []
        columns: list[int] = []
        values: list[float] = []
        for row, text in enumerate(texts):
            counts = Counter(j for term in terms_of(text) if (j := column.get(term)) is not None)
            if not counts:
                continue
            cols = np.fromiter(counts, dtype=np.intp, count=len(counts))
            tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
            weighted = tf * self.idf[cols]
            weighted *= self.scale / float(np.linalg.norm(weighted))
            rows.extend([row] * len(cols))
            columns.extend(cols.tolist())
            values.extend(weighted.tolist())
        return WordFeatures(
            np.asarray(rows, dtype=np.intp),
            np.asarray(columns, dtype=np.intp),
            np.asarray(values, dtype=np.float64),
            (len(texts), len(self.terms)),
        )
