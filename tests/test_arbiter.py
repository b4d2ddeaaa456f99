"""The arbiter: which options it weighs, what it sees of them, and how its choice is applied."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError
from tests.conftest import FakeEncoder

from skillroute import Router
from skillroute.arbiter import ARBITER_FEATURES, Arbiter
from skillroute.calibration import ArbiterParams, Calibration
from skillroute.errors import SkillrouteWarning
from skillroute.fitting import _fit_arbiter
from skillroute.result import FiredRule
from skillroute.rules import Outcome

PLAN_TASK = "build the vue components, test them and deploy"  # raw top: vue-testing
REPLACED_TASK = "write jest tests for a component in our vue app"  # react-testing → vue-testing


def feature(name: str) -> int:
    return ARBITER_FEATURES.index(name)


def arbiter_params(**weights: float) -> ArbiterParams:
    """An arbiter that values only the named features."""
    values = [weights.get(name, 0.0) for name in ARBITER_FEATURES]
    return ArbiterParams(
        features=ARBITER_FEATURES, weights=tuple(values), c=1.0, groups=0, cv_gain=0
    )


def with_arbiter(router: Router, params: ArbiterParams | None) -> Router:
    calibration = router.calibration.model_copy(update={"arbiter": params})
    return Router(router.catalog, encoder=FakeEncoder(), calibration=calibration, cache=False)


def outcome_of(router: Router, text: str) -> tuple[Outcome, list[str]]:
    ranked = [candidate.name for candidate in with_arbiter(router, None).route(text).candidates]
    return router.rules.apply(router.rules.detect(text), "routed", ranked), ranked


def test_options_are_the_rules_choice_the_plan_and_the_best_candidates(
    frontend_router: Router,
) -> None:
    outcome, ranked = outcome_of(frontend_router, PLAN_TASK)
    assert ranked[0] == "vue-testing" and outcome.primary == "vue-components"
    options = frontend_router.options.options(outcome, ranked)
    assert options == ["vue-components", "vue-testing", "web-release", "react-components"]


def test_a_skill_a_replace_rule_ruled_out_is_never_an_option(frontend_router: Router) -> None:
    outcome, ranked = outcome_of(frontend_router, REPLACED_TASK)
    assert ranked[0] == "react-testing" and outcome.replaced == {"react-testing"}
    assert "react-testing" not in frontend_router.options.options(outcome, ranked)
    # even an arbiter that only trusts the best-ranked candidate cannot bring it back
    router = with_arbiter(frontend_router, arbiter_params(rank_1=10.0))
    assert router.route(REPLACED_TASK).skill == "vue-testing"


def test_option_features_describe_rank_rules_lane_and_stage(frontend_router: Router) -> None:
    text = PLAN_TASK
    outcome, ranked = outcome_of(frontend_router, text)
    options = frontend_router.options.options(outcome, ranked)
    batch = frontend_router.score(frontend_router.embed_tasks([text]), [text])
    rows = frontend_router.options.matrix(
        options, batch.score[0], batch.similarity[0], frontend_router.rules.detect(text), outcome
    )
    row = dict(zip(options, rows, strict=True))
    assert rows.shape == (len(options), len(ARBITER_FEATURES))
    assert row["vue-testing"][feature("rank_1")] == 1.0 and row["vue-testing"][feature("gap")] == 0
    assert row["vue-components"][feature("rules_choice")] == 1.0
    assert row["vue-components"][feature("plan_first")] == 1.0
    assert row["vue-components"][feature("rules_choice_multi_step")] == 1.0
    assert row["web-release"][feature("in_plan")] == 1.0
    assert row["web-release"][feature("no_lane")] == 1.0
    assert row["vue-testing"][feature("lane_agrees")] == 1.0
    assert row["react-components"][feature("lane_conflicts")] == 1.0
    assert row["vue-components"][feature("stage_first")] == 1.0  # "build" comes first
    assert row["web-release"][feature("stage_asked")] == 1.0
    assert row["react-components"][feature("gap")] < 0


@pytest.mark.parametrize(
    ("weights", "skill", "plan", "overridden"),
    [
        # the top candidate is the plan's second step: the plan starts there
        ({"rank_1": 5.0}, "vue-testing", ("vue-testing", "web-release"), True),
        ({"rules_choice": 5.0}, "vue-components", None, False),
        ({}, "vue-components", None, False),  # a tie keeps the rules' choice
    ],
)
def test_the_router_follows_its_arbiter(
    frontend_router: Router,
    weights: dict[str, float],
    skill: str,
    plan: tuple[str, ...] | None,
    overridden: bool,
) -> None:
    before = with_arbiter(frontend_router, None).route(PLAN_TASK)
    result = with_arbiter(frontend_router, arbiter_params(**weights)).route(PLAN_TASK)
    assert result.skill == skill
    assert result.plan == (plan or before.plan)
    assert ("arbiter" in [rule.name for rule in result.rules]) is overridden
    if overridden:
        assert result.rules[-1].effect == "vue-components → vue-testing"
        assert result.rules[-1].kind == "learned"


def test_the_choice_does_not_depend_on_how_many_candidates_are_asked_for(
    frontend_router: Router,
) -> None:
    router = with_arbiter(frontend_router, arbiter_params(rank_1=5.0))
    assert {router.route(PLAN_TASK, k=k).skill for k in (1, 2, 3, 5)} == {"vue-testing"}


def plan_rule() -> FiredRule:
    return FiredRule(name="fan-out", kind="plan", reason="r", effect="plan: a → b")


@pytest.mark.parametrize(
    ("plan", "fired", "choice", "expected"),
    [
        (("a", "x"), [], "b", ("b",)),  # one step (+ its companion): the choice alone
        (("a", "b", "c"), [plan_rule()], "b", ("b", "c")),  # a later step: from there on
        (("a", "b", "c"), [plan_rule()], "c", ("c",)),
        (("a", "c"), [plan_rule()], "b", ("b", "a", "c")),  # outside it: leads the plan
    ],
)
def test_settle_starts_the_plan_with_the_choice(
    plan: tuple[str, ...], fired: list[FiredRule], choice: str, expected: tuple[str, ...]
) -> None:
    outcome = Outcome("routed", "a", plan, "lane", list(fired))
    settled = Arbiter(np.zeros(len(ARBITER_FEATURES))).settle(outcome, choice)
    assert (settled.primary, settled.plan) == (choice, expected)
    assert settled.fired[-1].name == "arbiter" and settled.fired[-1].effect == f"a → {choice}"
    assert outcome.primary == "a" and len(outcome.fired) == len(fired)  # not mutated


def test_arbiter_params_need_one_weight_per_feature() -> None:
    with pytest.raises(ValidationError, match="expected 1 weights, one per feature, got 2"):
        ArbiterParams(features=("score",), weights=(1.0, 2.0), c=1, groups=0, cv_gain=0)


def test_an_arbiter_with_other_features_makes_the_calibration_stale(
    frontend_router: Router,
) -> None:
    params = ArbiterParams(features=("score",), weights=(1.0,), c=1, groups=0, cv_gain=0)
    calibration = frontend_router.calibration.model_copy(update={"arbiter": params})
    with pytest.warns(
        SkillrouteWarning, match="its arbiter uses features this version does not compute"
    ):
        router = Router(
            frontend_router.catalog, encoder=FakeEncoder(), calibration=calibration, cache=False
        )
    assert router.calibration == Calibration.default()


def groups(n: int, rules_right: float, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Two options per item: the rules' choice (right with ``rules_right``) or the top one."""
    rng = np.random.default_rng(seed)
    result = []
    for _ in range(n):
        rules, top = np.zeros(len(ARBITER_FEATURES)), np.zeros(len(ARBITER_FEATURES))
        rules[feature("rules_choice")] = 1.0
        top[feature("rank_1")] = 1.0
        question = rng.random() < 0.5  # questions: the top candidate is right
        rules[feature("rules_choice_question")] = float(question)
        top[feature("top_question")] = float(question)
        right_rules = not question if rules_right < 1 else True
        result.append((np.vstack([rules, top]), np.array([right_rules, not right_rules])))
    return result


def test_fit_keeps_an_arbiter_only_when_it_beats_the_rules_out_of_fold() -> None:
    learned = _fit_arbiter(groups(60, rules_right=0.5), random_state=0)
    assert learned is not None and learned.cv_gain > 0 and learned.groups == 60
    assert learned.cv_log_likelihood_gain > 0  # likelier right options than the rules alone
    arbiter = learned.to_arbiter()
    question_row = groups(1, 0.5, seed=3)[0][0]
    question_row[:, feature("rules_choice_question")] = 1.0
    question_row[:, feature("top_question")] = [0.0, 1.0]
    assert arbiter.choose(question_row) == 1
    # the rules are always right: an arbiter that never overrules them has nothing to add
    assert _fit_arbiter(groups(60, rules_right=1.0), random_state=0) is None
    assert _fit_arbiter(groups(9, rules_right=0.5), random_state=0) is None  # too little data


TESTS_ONLY_TASK = "vitest tests for the vue pricing card"  # one stage named: test


def test_a_primary_the_arbiter_picks_gets_the_plan_the_rules_make_for_it(
    frontend_router: Router,
) -> None:
    rules_only = with_arbiter(frontend_router, None).route(TESTS_ONLY_TASK)
    assert rules_only.skill == "vue-testing" and rules_only.plan == ("vue-testing",)
    # this arbiter prefers a skill whose stage the task does not name
    picked = with_arbiter(frontend_router, arbiter_params(stage_asked=-5.0, lane_agrees=1.0))
    result = picked.route(TESTS_ONLY_TASK)
    assert result.skill == "vue-components"
    # its own stage (build) and the one the task names (test) make the lane's plan
    assert result.plan == ("vue-components", "vue-testing")
    assert [rule.name for rule in result.rules] == ["arbiter", "vue-fan-out"]


def test_replan_leaves_planned_and_one_stage_outcomes_alone(frontend_router: Router) -> None:
    rules = frontend_router.rules
    signals = rules.detect(TESTS_ONLY_TASK)
    same_stage = Outcome("routed", "vue-testing", ("vue-testing",), "vue")
    assert rules.replan(signals, same_stage) is same_stage  # its stage is the one named
    planned = Outcome("routed", "vue-components", ("vue-components",), "vue", [plan_rule()])
    assert rules.replan(signals, planned) is planned  # a plan rule already had its say


def test_a_final_route_rule_leaves_a_single_step_task_no_other_option(
    frontend_router: Router,
) -> None:
    task = "the lighthouse score dropped after the last deploy"
    outcome, ranked = outcome_of(frontend_router, task)
    assert outcome.final and outcome.primary == "web-release" != ranked[0]
    assert frontend_router.options.options(outcome, ranked) == ["web-release"]
    # even an arbiter that only trusts the best-ranked candidate cannot move it
    trusting_similarity = with_arbiter(frontend_router, arbiter_params(rank_1=10.0))
    assert trusting_similarity.route(task).skill == "web-release"
    # a route rule not marked final leaves the arbiter its options
    choice, choice_ranked = outcome_of(frontend_router, "react or vue for the admin dashboard?")
    assert choice.primary == "frontend-core" and not choice.final
    assert len(frontend_router.options.options(choice, choice_ranked)) > 1


def test_a_final_route_rule_still_lets_the_arbiter_choose_among_a_plans_steps(
    frontend_router: Router,
) -> None:
    plan = ("vue-components", "vue-testing", "web-release")
    outcome = Outcome("routed", "web-release", plan, "vue", [plan_rule()], final=True)
    options = frontend_router.options.options(outcome, ["react-components"])
    assert options == ["web-release", "vue-components", "vue-testing", "react-components"]
