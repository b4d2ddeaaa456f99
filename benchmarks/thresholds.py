"""One abstention rule for every peer that needs one: a threshold on its top score.

The threshold maximises accuracy on the fit split with out-of-scope as a class: an
in-scope query is right when its top route is correct *and* the score clears the bar; an
out-of-scope query is right when the score falls below it. The grid is exhaustive: every
midpoint between consecutive distinct scores observed on the fit split, plus "never
abstain" (-inf) and "always abstain" (+inf). Ties go to the lowest threshold.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["fit_abstain_threshold"]


def fit_abstain_threshold(
    scores: Sequence[float] | np.ndarray,
    top: Sequence[str],
    labels: Sequence[str | None],
) -> float:
    """Return the bar (route iff score >= bar) that maximises fit-split accuracy."""
    s = np.asarray(scores, dtype=float)
    if not (len(s) == len(top) == len(labels)):
        raise ValueError(
            f"scores, top and labels must align (got {len(s)}, {len(top)}, {len(labels)})"
        )
    if len(s) == 0:
        raise ValueError("cannot fit a threshold on an empty fit split")
    hit = np.array([y is not None and t == y for t, y in zip(top, labels, strict=True)])
    oos = np.array([y is None for y in labels])
    distinct = np.unique(s)
    candidates = np.concatenate(([-np.inf], (distinct[:-1] + distinct[1:]) / 2, [np.inf]))
    hit_scores = np.sort(s[hit])
    oos_scores = np.sort(s[oos])
    routed_hits = len(hit_scores) - np.searchsorted(hit_scores, candidates, side="left")
    abstained_oos = np.searchsorted(oos_scores, candidates, side="left")
    return float(candidates[int(np.argmax(routed_hits + abstained_oos))])
