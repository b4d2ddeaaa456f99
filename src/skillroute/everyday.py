"""The everyday-sense check: a task that looks in scope only because of one word.

"Is celery juice good for blood pressure?" shares "celery" with the catalog, and
similarity alone routes it to the Celery skill.  A word list of everyday topics (soups,
driving tests) never ends; the catalog's homonyms (``routing.yaml``:
``out_of_scope.homonyms``) are a short, closed list.  The check asks the model twice, and
both answers must agree:

1. the head already leans out of scope: P(no skill | task) ≥ 1/2;
2. the task with its homonyms cut out would be abstained on (its top confidence is below
   the fitted abstain threshold).

A real task that uses a homonym in its domain sense keeps its route: the head gives
"celery beat runs the job twice" a low P(no skill), and "is ``torch.compile`` slow"
without "torch" still reads as code.  Only tasks that pass (1) are embedded a second
time, so routing costs nothing extra for almost every task.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from skillroute.result import FiredRule
from skillroute.rules import Outcome
from skillroute.signals import PhraseSet, TokenizedText

__all__ = ["NO_SKILL_MAJORITY", "EverydayCheck", "Masked"]

NO_SKILL_MAJORITY = 0.5  # the head gives "no skill" at least as much as all skills together


class Masked(NamedTuple):
    """A task's text without its homonyms, and the homonyms cut out."""

    text: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class EverydayCheck:
    """The catalog's homonyms and the two-answer test above."""

    homonyms: PhraseSet

    def __bool__(self) -> bool:
        return bool(self.homonyms)

    @staticmethod
    def leans_out(no_skill: float | None) -> bool:
        """Answer (1): the head has a "no skill" class and gives it the majority."""
        return no_skill is not None and no_skill >= NO_SKILL_MAJORITY

    def masked(self, text: TokenizedText) -> Masked | None:
        """The task without its homonyms; None when it has none, or nothing else."""
        spans = self.homonyms.spans(text)
        if not spans:
            return None
        rest = text.without(spans)
        if not any(character.isalnum() for character in rest):
            return None  # "celery?" alone: nothing left to judge, so similarity stands
        words = tuple(dict.fromkeys(" ".join(text.tokens[s.start : s.end]) for s in spans))
        return Masked(rest, words)

    @staticmethod
    def abstain(outcome: Outcome, words: tuple[str, ...]) -> Outcome:
        """The outcome turned into an abstention that names the homonyms."""
        quoted = ", ".join(f"'{word}'" for word in words)
        fired = FiredRule.learned(
            "everyday-sense",
            reason="the task leans out of scope and shares only homonyms with the catalog",
            effect=f"abstain: out of scope without {quoted} (everyday sense)",
        )
        return Outcome("abstain", None, (), outcome.lane, [*outcome.fired, fired])
