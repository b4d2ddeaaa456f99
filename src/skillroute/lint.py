"""Catalog linting beyond validation: which skills could the router confuse.

Two skills are confusable when their descriptions are very similar, or when an example
of one is very close to a text (description or example) of the other: a task phrased
like that example could go either way.  Each skill pair is reported once, with its
closest texts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from skillroute.router import Router

__all__ = ["ConfusablePair", "confusable_pairs"]


class ConfusablePair(BaseModel):
    """Two skills whose texts are close, with the closest pair of texts."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["description", "example"]
    first: str
    second: str
    similarity: float
    first_text: str
    second_text: str


def confusable_pairs(router: Router, *, threshold: float = 0.8) -> list[ConfusablePair]:
    """Skill pairs whose closest texts reach ``threshold`` cosine similarity, closest first."""
    index = router.index
    texts = [text for skill_texts in router.catalog.routing_texts() for text in skill_texts]
    names = router.catalog.names
    similarity = index.embeddings @ index.embeddings.T
    owners = index.owners
    different = owners[:, None] != owners[None, :]
    pairs: dict[tuple[str, str], ConfusablePair] = {}
    rows, cols = np.nonzero(np.triu(different & (similarity >= threshold), k=1))
    for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
        first, second = sorted((names[owners[i]], names[owners[j]]))
        both_descriptions = i in index.starts and j in index.starts
        pair = ConfusablePair(
            kind="description" if both_descriptions else "example",
            first=names[owners[i]],
            second=names[owners[j]],
            similarity=round(float(similarity[i, j]), 4),
            first_text=texts[i],
            second_text=texts[j],
        )
        current = pairs.get((first, second))
        if current is None or pair.similarity > current.similarity:
            pairs[(first, second)] = pair
    return sorted(pairs.values(), key=lambda pair: (-pair.similarity, pair.first, pair.second))
