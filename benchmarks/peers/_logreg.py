"""Logistic-regression peers: C chosen by cross-validation on the route texts only.

C comes from a small fixed grid, scored by accuracy under stratified k-fold CV over the
route texts (never the fit or report splits). To keep CV affordable at 100 examples per
route, CV uses at most ``cv_max_per_class`` texts of each route (the first ones, in order:
the description, then the examples); the final model is trained on all route texts. With
fewer than two texts per route (MetaTool: descriptions only) CV is impossible and
scikit-learn's default C=1.0 is used. Abstention: a bar on the top class probability.
"""

from __future__ import annotations

import warnings
from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold, cross_val_score

from benchmarks.peers._scored import ScoredSystem
from benchmarks.systems import RouteSpec, route_texts

__all__ = ["LogRegSystem", "select_c"]

DEFAULT_C_GRID: tuple[float, ...] = (1.0, 10.0, 100.0)
FALLBACK_C = 1.0


def _cv_subset(labels: Sequence[str], max_per_class: int) -> np.ndarray:
    """Indices of the first ``max_per_class`` items of each label, in input order."""
    seen: dict[str, int] = {}
    keep = []
    for i, label in enumerate(labels):
        if seen.get(label, 0) < max_per_class:
            seen[label] = seen.get(label, 0) + 1
            keep.append(i)
    return np.array(keep, dtype=np.int64)


def select_c(
    make_estimator: Callable[[float], Any],
    inputs: Any,
    labels: Sequence[str],
    grid: Sequence[float] = DEFAULT_C_GRID,
    folds: int = 3,
    max_per_class: int = 20,
    random_state: int = 0,
) -> tuple[float, dict[str, float]]:
    """Pick C by CV accuracy (ties: the first in ``grid``); return it and the CV scores.

    ``make_estimator(C)`` returns an unfitted estimator (a pipeline when it has a
    vectoriser, so each fold fits its own vocabulary); ``inputs`` is indexable by rows.
    """
    idx = _cv_subset(labels, max_per_class)
    y = np.array([labels[i] for i in idx])
    _, counts = np.unique(y, return_counts=True)
    n_splits = min(folds, int(counts.min()))
    if n_splits < 2:
        return FALLBACK_C, {}
    x = [inputs[i] for i in idx] if isinstance(inputs, list) else inputs[idx]
    cv = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    scores = {str(c): float(cross_val_score(make_estimator(c), x, y, cv=cv).mean()) for c in grid}
    best = max(grid, key=lambda c: scores[str(c)])  # max() keeps the first of equal scores
    return float(best), scores


class LogRegSystem(ScoredSystem):
    """Multinomial logistic regression over some featurisation of the route texts."""

    def __init__(
        self,
        random_state: int = 0,
        c_grid: Sequence[float] = DEFAULT_C_GRID,
        cv_max_per_class: int = 20,
    ) -> None:
        super().__init__()
        self.random_state = random_state
        self.c_grid = tuple(c_grid)
        self.cv_max_per_class = cv_max_per_class
        self.c_: float = FALLBACK_C
        self.cv_scores_: dict[str, float] = {}
        self.model_: Any = None

    @abstractmethod
    def _inputs(self, texts: Sequence[str]) -> Any:
        """What the estimator consumes: raw texts or their embeddings."""

    @abstractmethod
    def _estimator(self, c: float) -> Any:
        """An unfitted classifier exposing ``predict_proba`` and ``classes_``."""

    def _build(self, routes: Mapping[str, RouteSpec]) -> None:
        texts, owners = route_texts(routes)
        inputs = self._inputs(texts)
        self.c_, self.cv_scores_ = select_c(
            self._estimator,
            inputs,
            owners,
            grid=self.c_grid,
            max_per_class=self.cv_max_per_class,
            random_state=self.random_state,
        )
        with warnings.catch_warnings():
            # one text per route (MetaTool) is a valid, if extreme, classification problem
            warnings.filterwarnings("ignore", message="The number of unique classes")
            self.model_ = self._estimator(self.c_).fit(inputs, owners)

    def _score(self, texts: Sequence[str]) -> np.ndarray:
        if self.model_ is None:
            raise RuntimeError(f"{self.name} is not built; call build() first")
        proba = self.model_.predict_proba(self._inputs(texts))
        # predict_proba's columns follow classes_ (sorted); reorder them to names_
        column = {c: i for i, c in enumerate(self.model_.classes_)}
        return proba[:, [column[n] for n in self.names_]]

    def describe(self) -> dict[str, object]:
        """Threshold plus the chosen C and its CV evidence."""
        return {**super().describe(), "C": self.c_, "cv_accuracy_by_C": self.cv_scores_}
