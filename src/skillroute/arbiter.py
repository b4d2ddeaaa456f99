"""The arbiter: a small learned model that settles the primary skill.

Similarity says what a task is about; the rules say what its words ask for (a lane, a
stage, a plan).  Each is wrong in its own way: a forum post whose context mentions a
deploy reads to the rules as a plan, and a terse "test the IsOwner permission" reads to
similarity as plain testing.  The arbiter learns from labelled tasks how far to trust each.
Its *options* are the best-ranked candidates, the rules' choice and the plan's steps; each
option is described by a few features (its score and rank, whether the rules chose it,
whether it agrees with the task's lane and stages, whether the task is a question or a long
post); a logistic model scores every option and the best one becomes the primary skill.

`skillroute.fitting` trains it on out-of-fold scores and keeps it only when it beats the
rules' choice under cross-validation; without one, the rules' choice stands.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from skillroute.catalog import Catalog
from skillroute.result import FiredRule
from skillroute.rules import Outcome, TaskSignals

__all__ = ["ARBITER_FEATURES", "OPTION_DEPTH", "Arbiter", "OptionFeatures"]

OPTION_DEPTH = 3  # best-ranked candidates the arbiter may choose besides the rules' picks

ARBITER_FEATURES = (
    "score",  # the option's score (head and similarity mixed)
    "similarity",  # its best cosine
    "gap",  # score minus the best score (0 for the top candidate)
    "rank_1",
    "rank_2",
    "rank_3",
    "rules_choice",  # the rules made it the primary
    "in_plan",  # one step of a multi-step plan
    "plan_first",  # the plan's first step
    "lane_agrees",  # its lane is the task's dominant lane
    "lane_conflicts",  # the task names another lane
    "no_lane",  # a lane-free skill (the hub, plain Python)
    "stage_asked",  # the task's words ask for its stage
    "stage_first",  # ... and name that stage first
    "rules_choice_question",
    "rules_choice_multi_step",
    "rules_choice_long",
    "top_question",
    "top_multi_step",
    "top_long",
    "rules_choice_routed",  # the rules' choice came from a route rule
    "rules_choice_preferred",  # ... a prefer rule
    "rules_choice_replaced",  # ... a replace rule
)
_FEATURE = {name: i for i, name in enumerate(ARBITER_FEATURES)}
_LONG_WORDS = 40.0  # "long" features grow with log(words) and reach 1 at this length


class OptionFeatures:
    """Describes the options for one catalog: the same features at fit and route time."""

    def __init__(self, catalog: Catalog) -> None:
        self._index = {name: i for i, name in enumerate(catalog.names)}
        self._lane = {skill.name: skill.lane for skill in catalog.skills}
        self._stage = {skill.name: skill.stage for skill in catalog.skills}

    def options(self, outcome: Outcome, ranked: Sequence[str]) -> list[str]:
        """The skills the arbiter chooses among (rules' choice first, no repeats).

        A skill a replace rule swapped out is not an option, and a final route rule leaves
        a single-step task no other: such rules state facts of the catalog ("outside
        Django, the ship gate is python-testing"), not guesses.
        """
        assert outcome.primary is not None
        if outcome.final and not outcome.planned:
            return [outcome.primary]
        candidates = (outcome.primary, *outcome.plan, *ranked[:OPTION_DEPTH])
        return [name for name in dict.fromkeys(candidates) if name not in outcome.replaced]

    def matrix(
        self,
        options: Sequence[str],
        score: NDArray[np.float64],
        similarity: NDArray[np.float64],
        signals: TaskSignals,
        outcome: Outcome,
    ) -> NDArray[np.float64]:
        """One feature row per option; ``score`` and ``similarity`` cover every skill."""
        features = np.zeros((len(options), len(ARBITER_FEATURES)))
        best = float(score.max())
        planned = outcome.planned
        first_stage = min(signals.first_asked, key=signals.first_asked.__getitem__, default=None)
        long = min(math.log1p(len(signals.text.tokens)) / math.log1p(_LONG_WORDS), 1.5)
        kinds = {rule.kind for rule in outcome.fired}
        lane = signals.dominant_lane
        question, many = float(signals.question), float(signals.multi_step)
        for row, name in enumerate(options):
            j = self._index[name]
            f = features[row]
            rank = int((score > score[j]).sum())
            chosen = float(name == outcome.primary)
            top = float(rank == 0)
            f[_FEATURE["score"]] = score[j]
            f[_FEATURE["similarity"]] = similarity[j]
            f[_FEATURE["gap"]] = score[j] - best
            if rank < 3:
                f[_FEATURE[f"rank_{rank + 1}"]] = 1.0
            f[_FEATURE["rules_choice"]] = chosen
            f[_FEATURE["in_plan"]] = float(planned and name in outcome.plan)
            f[_FEATURE["plan_first"]] = float(planned and name == outcome.plan[0])
            own_lane, own_stage = self._lane[name], self._stage[name]
            f[_FEATURE["lane_agrees"]] = float(own_lane is not None and own_lane == lane)
            f[_FEATURE["lane_conflicts"]] = float(
                lane is not None and own_lane is not None and own_lane != lane
            )
            f[_FEATURE["no_lane"]] = float(own_lane is None)
            f[_FEATURE["stage_asked"]] = float(
                own_stage is not None and own_stage in signals.stages
            )
            f[_FEATURE["stage_first"]] = float(own_stage is not None and own_stage == first_stage)
            f[_FEATURE["rules_choice_question"]] = chosen * question
            f[_FEATURE["rules_choice_multi_step"]] = chosen * many
            f[_FEATURE["rules_choice_long"]] = chosen * long
            f[_FEATURE["top_question"]] = top * question
            f[_FEATURE["top_multi_step"]] = top * many
            f[_FEATURE["top_long"]] = top * long
            f[_FEATURE["rules_choice_routed"]] = chosen * float("route" in kinds)
            f[_FEATURE["rules_choice_preferred"]] = chosen * float("prefer" in kinds)
            f[_FEATURE["rules_choice_replaced"]] = chosen * float("replace" in kinds)
        return features


@dataclass(frozen=True)
class Arbiter:
    """A fitted linear scorer over option features (see the module docstring)."""

    weights: NDArray[np.float64]  # (len(ARBITER_FEATURES),); a bias would not change argmax

    def choose(self, features: NDArray[np.float64]) -> int:
        """Index of the best option (ties: the first, i.e. the rules' choice)."""
        return int(np.argmax(features @ self.weights))

    def settle(self, outcome: Outcome, choice: str) -> Outcome:
        """The outcome with ``choice`` as primary, which the plan now starts with.

        A plan without it gains it as a first step.  A later step of the plan drops the
        steps before it: they are what the arbiter overruled (a Django fan-out that reads
        "how do I test the retry of this Celery task?" as build, test and secure first).
        """
        if choice == outcome.primary:
            return outcome
        plan = outcome.plan
        if not outcome.planned:
            plan = (choice,)
        elif choice not in plan:
            plan = (choice, *plan)
        else:
            plan = plan[plan.index(choice) :]
        fired = FiredRule.learned(
            "arbiter",
            reason="learned from labelled tasks how far to trust the rules and similarity",
            effect=f"{outcome.primary} → {choice}",
        )
        return replace(outcome, primary=choice, plan=plan, fired=[*outcome.fired, fired])
