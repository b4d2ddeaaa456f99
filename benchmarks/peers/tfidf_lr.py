"""Peer 3: a lexical learned baseline, no neural encoder at all."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from benchmarks.peers._logreg import LogRegSystem

__all__ = ["TfidfLogReg"]


class TfidfLogReg(LogRegSystem):
    """TF-IDF over word 1-2 grams (sublinear tf) + logistic regression, as one pipeline."""

    name = "tfidf + logreg"

    def _inputs(self, texts: Sequence[str]) -> list[str]:
        return list(texts)

    def _estimator(self, c: float) -> Any:
        return make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
            LogisticRegression(C=c, max_iter=1000),
        )
