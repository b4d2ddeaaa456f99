"""`RouteResult`: the typed, JSON-serialisable answer of `Router.route`.

Field names are a public contract: agent code and CI scripts read them.  Add fields,
never rename or remove them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Candidate", "Decision", "FiredRule", "RouteResult", "Signals"]

Decision = Literal["routed", "ambiguous", "abstain"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Candidate(_Frozen):
    """One ranked skill."""

    name: str
    score: float = Field(description="ranking score (similarity mixed with the fitted head)")
    confidence: float = Field(description="calibrated probability that this skill is right")
    similarity: float = Field(description="best cosine similarity to one of the skill's texts")
    matched: str = Field(description="the skill text (description or example) closest to the task")
    lane: str | None = None
    stage: str | None = None


class FiredRule(_Frozen):
    """A rule that changed the outcome, and how."""

    name: str
    kind: str
    reason: str
    effect: str

    @classmethod
    def learned(cls, name: str, reason: str, effect: str) -> FiredRule:
        """An entry for a fitted model's decision (kind ``learned``), not a catalog rule."""
        return cls(name=name, kind="learned", reason=reason, effect=effect)


class Signals(_Frozen):
    """Words of the task that signalled lanes and lifecycle stages."""

    lanes: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    stages: dict[str, tuple[str, ...]] = Field(default_factory=dict)


class RouteResult(_Frozen):
    """Which skill(s) to load for a task, and why.

    ``decision`` is ``routed`` (load ``skill``), ``ambiguous`` (the top candidates are too
    close: ask, or let a model choose among ``candidates``) or ``abstain`` (no skill fits;
    ``skill`` is None and ``plan`` empty).
    """

    decision: Decision
    skill: str | None
    confidence: float = Field(description="calibrated confidence of the top candidate")
    candidates: tuple[Candidate, ...]
    lane: str | None = None
    stage: str | None = None
    plan: tuple[str, ...] = ()
    rules: tuple[FiredRule, ...] = ()
    implications: tuple[str, ...] = ()
    next_action: str = ""
    signals: Signals = Field(default_factory=Signals)
