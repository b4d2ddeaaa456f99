"""What `Router.fit` learns, as a versioned JSON file kept beside the catalog.

A calibration ties a catalog (by fingerprint) and an embedding model (by id) to: the
linear head's weights (for the embedding and, with a lexicon, for word features) and
its example memory, the
weight that mixes head and similarity, the Platt parameters
that turn a score into P(candidate is right), the abstain threshold, the ambiguity
margin, and the confidence above which a multi-step plan keeps the top candidate as its
primary skill (one for requests, one for questions), and the arbiter's weights
(`skillroute.arbiter`).  A file written for another catalog
or model is stale: it is ignored with a warning, never applied.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from skillroute.arbiter import ARBITER_FEATURES, Arbiter
from skillroute.errors import SkillrouteWarning
from skillroute.lexicon import Lexicon
from skillroute.memory import ExampleMemory
from skillroute.scoring import LinearHead

__all__ = [
    "CALIBRATION_FILE",
    "ArbiterParams",
    "Calibration",
    "FitSummary",
    "HeadParams",
    "LexiconParams",
    "MemoryParams",
    "load_calibration",
]

CALIBRATION_FILE = "calibration.json"


class LexiconParams(BaseModel):
    """The head's word features (`skillroute.lexicon`): terms, idf and one weight row per term.

    ``weights[i]`` holds term ``i``'s weight for each class of the head, in its order.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    terms: tuple[str, ...]
    idf: tuple[float, ...]
    scale: float = Field(gt=0)
    weights: tuple[tuple[float, ...], ...]

    @model_validator(mode="after")
    def _one_row_per_term(self) -> LexiconParams:
        if not len(self.terms) == len(self.idf) == len(self.weights):
            raise ValueError(
                f"{len(self.terms)} terms, {len(self.idf)} idf values and {len(self.weights)} "
                "weight rows: expected one of each per term"
            )
        if len(set(self.terms)) != len(self.terms):
            raise ValueError("terms repeat")
        return self

    def to_lexicon(self) -> Lexicon:
        """The lexicon the head computes word features with."""
        return Lexicon(self.terms, np.asarray(self.idf, dtype=np.float64), self.scale)


class MemoryParams(BaseModel):
    """The head's example memory (`skillroute.memory`): remembered tasks, grouped by class.

    ``vectors`` is base64 of int8 rows (row-major), ``scales`` one scale per row, and
    ``counts[c]`` the rows of class ``c`` (the head's class order), in that order.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    weight: float = Field(gt=0, le=1, description="share of the vote in the head's probabilities")
    temperature: float = Field(gt=0)
    counts: tuple[int, ...]
    scales: tuple[float, ...]
    vectors: str

    @model_validator(mode="after")
    def _rows_add_up(self) -> MemoryParams:
        if any(count < 0 for count in self.counts) or sum(self.counts) != len(self.scales):
            raise ValueError(
                f"counts add up to {sum(self.counts)} rows but there are {len(self.scales)} "
                "scales, one per row"
            )
        try:
            self.to_memory()
        except ValueError as exc:  # binascii.Error is a ValueError too
            raise ValueError(f"vectors: {exc}") from None
        return self

    def to_memory(self) -> ExampleMemory:
        """The numpy form used at routing time."""
        return ExampleMemory.decoded(self.vectors, self.scales, self.counts, self.temperature)


class HeadParams(BaseModel):
    """Weights of the linear head: one row per skill, in catalog order.

    With ``out_of_scope``, one more row for the "no skill" class comes last.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    skills: tuple[str, ...]
    weights: tuple[tuple[float, ...], ...]
    bias: tuple[float, ...]
    c: float = Field(gt=0)
    out_of_scope: bool = False
    lexicon: LexiconParams | None = None
    memory: MemoryParams | None = None

    @model_validator(mode="after")
    def _one_row_per_class(self) -> HeadParams:
        rows = len(self.skills) + self.out_of_scope
        if len(self.weights) != rows or len(self.bias) != rows:
            raise ValueError(
                f"expected {rows} weight rows and biases, got {len(self.weights)} and "
                f"{len(self.bias)}"
            )
        if len({len(row) for row in self.weights}) > 1:
            raise ValueError("weight rows differ in length")
        if self.lexicon is not None and any(len(row) != rows for row in self.lexicon.weights):
            raise ValueError(f"lexicon: every term needs {rows} weights, one per class")
        if self.memory is not None and len(self.memory.counts) != rows:
            raise ValueError(f"memory: expected {rows} class counts, got {len(self.memory.counts)}")
        return self

    def to_head(self) -> LinearHead:
        """The numpy form used at routing time."""
        lexicon = self.lexicon
        return LinearHead(
            np.asarray(self.weights, dtype=np.float32),
            np.asarray(self.bias, dtype=np.float32),
            self.out_of_scope,
            lexicon.to_lexicon() if lexicon is not None else None,
            np.asarray(lexicon.weights, dtype=np.float32).T if lexicon is not None else None,
            self.memory.to_memory() if self.memory is not None else None,
            self.memory.weight if self.memory is not None else 0.0,
        )


class ArbiterParams(BaseModel):
    """Weights of the arbiter (`skillroute.arbiter`), one per named feature."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    features: tuple[str, ...]
    weights: tuple[float, ...]
    c: float = Field(gt=0)
    groups: int = Field(ge=0, description="items it learned from (a right and a wrong option)")
    cv_gain: int = Field(
        description="fit items the arbiter got right minus those the rules alone got right, "
        "out of fold"
    )
    cv_log_likelihood_gain: float = Field(
        default=0.0,
        description="out-of-fold log-likelihood of the right options, the arbiter's minus "
        "the rules-alone model's",
    )

    @model_validator(mode="after")
    def _one_weight_per_feature(self) -> ArbiterParams:
        if len(self.weights) != len(self.features):
            raise ValueError(
                f"expected {len(self.features)} weights, one per feature, got {len(self.weights)}"
            )
        return self

    def to_arbiter(self) -> Arbiter:
        """The numpy form used at routing time."""
        return Arbiter(np.asarray(self.weights, dtype=np.float64))


class FitSummary(BaseModel):
    """How a calibration was obtained, for the record and for reports."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dataset: str
    items: int
    in_scope: int
    out_of_scope: int
    random_state: int
    utility: float = Field(description="share of fit items the fitted router gets right")
    arbiter_data: str | None = Field(
        default=None, description="where the arbiter's extra labelled tasks came from"
    )


class Calibration(BaseModel):
    """Fitted routing parameters.  `Calibration.default()` is used until `fit` runs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: str = "skillroute-calibration-v1"
    model_id: str | None = None
    catalog_fingerprint: str | None = None
    head: HeadParams | None = None
    head_weight: float = Field(default=0.0, ge=0.0, le=1.0)
    platt_a: float
    platt_b: float
    abstain_threshold: float = Field(ge=0.0, le=1.0)
    ambiguity_margin: float = Field(ge=0.0)
    plan_keep_confidence: float = Field(default=0.75, ge=0.0, le=1.01)
    question_keep_confidence: float = Field(
        default=1.01,
        ge=0.0,
        le=1.01,
        description="the same for a task that asks a question (a post with context)",
    )
    arbiter: ArbiterParams | None = None
    fit: FitSummary | None = None

    @classmethod
    def default(cls) -> Calibration:
        """Similarity-only parameters for an unfitted router.

        Measured with all-MiniLM-L6-v2 on the bundled catalog's train split, similarity
        only (`skillroute fit --dataset data/train.yaml --no-head`); they transfer roughly
        to other catalogs and models, which is why `skillroute fit` exists.
        """
        return cls(
            platt_a=8.61,
            platt_b=-3.94,
            abstain_threshold=0.27,
            ambiguity_margin=0.0,
            plan_keep_confidence=0.9,
            question_keep_confidence=0.9,
        )

    def confidence(self, score: np.ndarray) -> np.ndarray:
        """P(candidate is right) for raw scores (Platt scaling)."""
        z = np.clip(self.platt_a * score + self.platt_b, -50.0, 50.0)
        return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)

    def score_for_confidence(self, confidence: float) -> float:
        """The raw score at which confidence equals ``confidence`` (inverse Platt)."""
        confidence = min(max(confidence, 1e-12), 1 - 1e-12)
        return (math.log(confidence / (1 - confidence)) - self.platt_b) / self.platt_a

    def save(self, path: Path | str) -> Path:
        """Write as indented JSON, each list of numbers on one line (readable diffs)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.model_dump(mode="json"), indent=1)
        path.write_text(_NUMBER_LIST.sub(_one_line, text) + "\n", encoding="utf-8")
        return path

    def problem_with(self, model_id: str, fingerprint: str, skills: tuple[str, ...]) -> str | None:
        """Why this calibration does not fit a router, or None when it does."""
        if self.model_id is not None and self.model_id != model_id:
            return f"fitted with model {self.model_id!r}, router uses {model_id!r}"
        if self.catalog_fingerprint is not None and self.catalog_fingerprint != fingerprint:
            return "the catalog changed since it was fitted (rerun `skillroute fit`)"
        if self.head is not None and self.head.skills != skills:
            return "its head was trained on other skills"
        if self.arbiter is not None and self.arbiter.features != ARBITER_FEATURES:
            return (
                "its arbiter uses features this version does not compute (rerun `skillroute fit`)"
            )
        return None


_NUMBER_LIST = re.compile(r"\[[-+.\deE,\s]*\]")  # a JSON list of numbers, over many lines


def _one_line(match: re.Match[str]) -> str:
    return "[" + ", ".join(number.strip() for number in match.group(0)[1:-1].split(",")) + "]"


def load_calibration(path: Path | str) -> Calibration | None:
    """Read a calibration file; warn and return None when it is unreadable or invalid."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Calibration.model_validate(data)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValidationError) as exc:
        reason = str(exc).splitlines()[0]
        warnings.warn(
            f"{path}: calibration ignored ({reason}); using defaults",
            SkillrouteWarning,
            stacklevel=3,
        )
        return None
