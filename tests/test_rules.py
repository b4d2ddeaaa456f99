"""The rule engine is generic: a front-end catalog with its own lanes, stages and rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import FRONTEND_ROUTING, FakeEncoder, write_skill

from skillroute import Router
from skillroute.calibration import Calibration
from skillroute.catalog import Catalog
from skillroute.rules import RuleEngine, similarity_decision
from skillroute.signals import TokenizedText


def fired(result: object) -> list[str]:
    return [rule.name for rule in result.rules]  # type: ignore[attr-defined]


def test_similarity_alone_routes_and_companions_are_added(frontend_router: Router) -> None:
    result = frontend_router.route("make a react component with hooks and props")
    assert result.skill == "react-components"
    assert result.plan == ("react-components", "react-testing")
    assert fired(result) == ["components-need-tests"]
    assert result.lane == "react"
    assert result.implications == ("Keep components pure.",)


def test_replace_rule_follows_the_lane(frontend_router: Router) -> None:
    result = frontend_router.route("write jest tests for a component in our vue app")
    assert result.skill == "vue-testing"
    assert "vue-tests-not-react" in fired(result)
    assert result.lane == "vue"


def test_route_rule_settles_a_framework_choice(frontend_router: Router) -> None:
    result = frontend_router.route("react or vue for a dashboard?")
    assert result.skill == "frontend-core"
    assert fired(result)[0] == "framework-choice"
    assert result.decision == "routed"


def test_a_route_rules_skill_anchors_the_plan_it_is_not_a_step_of(
    frontend_router: Router,
) -> None:
    result = frontend_router.route("react or vue? in vue we'd build components, then add tests")
    assert result.skill == "frontend-core"  # the choice comes first, then the lane's steps
    assert result.plan == ("frontend-core", "vue-components", "vue-testing")
    assert fired(result)[:2] == ["framework-choice", "vue-fan-out"]


def test_abstain_rule_overrides_similarity(frontend_router: Router) -> None:
    result = frontend_router.route("test django components")
    assert result.decision == "abstain"
    assert result.skill is None
    assert result.plan == ()
    assert fired(result) == ["backend-is-out-of-scope"]


@pytest.mark.parametrize("prose_only", [False, True])
def test_prose_only_conditions_ignore_phrases_inside_code(
    frontend_router: Router, tmp_path: Path, prose_only: bool
) -> None:
    """``prose_only``: a phrase inside an identifier (``load_django_fixtures()``) is code,
    not the task's subject, so it cannot fire the rule; in prose it still does."""
    routing = tmp_path / "routing.yaml"
    when = "when: {any: [django, rails], none: [react, vue]}"
    assert when in routing.read_text(encoding="utf-8")
    if prose_only:
        routing.write_text(
            FRONTEND_ROUTING.replace(when, when[:-1] + ", prose_only: true}"), encoding="utf-8"
        )
    router = Router(
        Catalog.from_dir(tmp_path),
        encoder=frontend_router.encoder,
        calibration=frontend_router.calibration,
        cache=False,
    )
    in_code = router.route("write jest tests for the components that call load_django_fixtures()")
    assert ("backend-is-out-of-scope" in fired(in_code)) is not prose_only
    in_prose = router.route("write jest tests for the components of our django site")
    assert fired(in_prose) == ["backend-is-out-of-scope"]


def test_plan_fans_out_in_lifecycle_order_with_asked_steps_only(frontend_router: Router) -> None:
    built = frontend_router.route("build vue components, then add tests")
    assert built.plan == ("vue-components", "vue-testing")
    assert "vue-fan-out" in fired(built)
    shipped = frontend_router.route("build vue components, add tests and deploy the release")
    assert shipped.plan == ("vue-components", "vue-testing", "web-release")
    assert shipped.skill == "vue-components"


def test_a_plan_leads_with_the_stage_the_task_names_first(frontend_router: Router) -> None:
    # narrated in lifecycle order: the plan's first step leads
    built = frontend_router.route("build vue components, add tests, then release")
    assert built.skill == "vue-components"
    # opening with a later stage: that stage is the point, the plan its context
    released = frontend_router.route("release the vue app now: we built the components and tests")
    assert released.plan == ("vue-components", "vue-testing", "web-release")
    assert released.skill == "web-release"
    # an opening clause without a stage: a list told in lifecycle order, led by step one
    listed = frontend_router.route(
        "todo for the vue app. release it once tests and components exist"
    )
    assert listed.plan == ("vue-components", "vue-testing", "web-release")
    assert listed.skill == "vue-components"


def test_the_lane_mentioned_most_often_dominates(frontend_router: Router) -> None:
    leaning = frontend_router.route("react or vue? the team knows vue and the vue docs are great")
    assert leaning.skill == "frontend-core"
    assert leaning.lane == "vue"
    tied = frontend_router.route("react or vue for a dashboard?")
    assert tied.lane is None


def test_stages_in_one_clause_do_not_make_a_plan(frontend_router: Router) -> None:
    result = frontend_router.route("test the vue component")
    assert result.plan == ("vue-testing",)
    assert "vue-fan-out" not in fired(result)


def test_a_to_do_list_over_lines_is_a_multi_step_request(frontend_router: Router) -> None:
    engine = frontend_router.rules
    assert engine.detect("todo for the vue app:\nheader component\ntests").multi_step
    assert not engine.detect("todo for the vue app: header component tests").multi_step


@pytest.mark.parametrize(
    ("task", "stages"),
    [
        ("add a pricing page\nthen tests for it", {"build", "test"}),
        ("tests fail\nsee src/pages/pricing.vue line 12", {"test"}),  # a path, not a request
        ("tests fail\nin render_pricing_page()", {"test"}),
        # a page named in a report is context; one asked for (or listed) is work
        ("the pricing page is slow on phones, deploy the fix today", {"ship"}),
        ("the pricing page keeps flickering, release a fix", {"ship"}),
        ("make the pricing page that is shown first, then deploy it", {"build", "ship"}),
        ("a pricing page that is shown first, then deploy it", {"build", "ship"}),
        ("pricing page, then deploy it", {"build", "ship"}),
    ],
)
def test_weak_stage_words_count_in_prose_only(
    frontend_router: Router, task: str, stages: set[str]
) -> None:
    assert set(frontend_router.rules.detect(task).stages) == stages


@pytest.mark.parametrize(
    ("task", "stages"),
    [
        ("the build breaks:\n```\n$ npm run deploy\nrelease failed\n```\nfix it", {"build"}),
        ("tests fail:\n2024-05-01 10:02:11 deploy step: release v2\nwhy?", {"test"}),
        ("tests fail, then deploy the fix", {"test", "ship"}),
    ],
)
def test_stage_words_in_pasted_logs_and_code_ask_for_nothing(
    frontend_router: Router, task: str, stages: set[str]
) -> None:
    signals = frontend_router.rules.detect(task)
    assert set(signals.stages) == stages
    assert signals.multi_step == (len(stages) > 1)


def test_prefer_rule_lifts_a_plausible_candidate_whatever_k(frontend_router: Router) -> None:
    task = "hooks and state in react, served from a cdn"
    ranked = [c.name for c in frontend_router.route(task, k=6).candidates]
    assert ranked.index("web-release") in (1, 2)  # similarity alone would not pick it
    for k in (1, 3):
        result = frontend_router.route(task, k=k)
        assert result.skill == "web-release"
        assert fired(result)[0] == "release-intent"
        assert len(result.candidates) == k


def test_catalog_without_rules_routes_by_similarity(tmp_path: Path) -> None:
    write_skill(tmp_path, "bake-bread", "Bake bread: sourdough, yeast, proofing, crust.")
    write_skill(tmp_path, "brew-coffee", "Brew coffee: espresso, pour over, grind size.")
    calibration = Calibration(
        platt_a=12.0, platt_b=-3.0, abstain_threshold=0.3, ambiguity_margin=0.0
    )
    router = Router(
        Catalog.from_dir(tmp_path), encoder=FakeEncoder(), calibration=calibration, cache=False
    )
    result = router.route("my sourdough crust is too pale")
    assert (result.skill, result.plan, result.rules) == ("bake-bread", ("bake-bread",), ())
    assert router.route("zebra migration patterns").decision == "abstain"


@pytest.mark.parametrize(
    ("task", "primary"),
    [
        ("why does this jsx component render twice", "react-components"),
        ("jest snapshot of the component changes", "react-testing"),  # names its tests
        ("build the component, then release it", "react-testing"),  # two stages: stands aside
    ],
)
def test_max_stages_limits_a_rule_to_single_stage_tasks(
    frontend_router: Router, task: str, primary: str
) -> None:
    engine = frontend_router.rules
    outcome = engine.apply(engine.detect(task), "routed", ["react-testing", "react-components"])
    assert outcome.primary == primary
    replaced = "testing-needs-a-test" in [rule.name for rule in outcome.fired]
    assert replaced == (primary == "react-components")


@pytest.mark.parametrize(
    ("task", "fires"),
    [
        ("the lighthouse score dropped after the last deploy", True),
        ("create the react header, then fix its lighthouse score", False),  # asks for a build
    ],
)
def test_not_stages_keeps_a_rule_off_tasks_that_ask_for_those_stages(
    frontend_router: Router, task: str, fires: bool
) -> None:
    engine = frontend_router.rules
    outcome = engine.apply(engine.detect(task), "routed", ["react-components", "web-release"])
    names = [rule.name for rule in outcome.fired]
    assert ("audit-without-a-build-is-release" in names) == fires
    assert (outcome.primary == "web-release") == fires


def test_a_question_keeps_its_confident_candidate(frontend_router: Router) -> None:
    """A question's context may name other stages; its confident candidate stays primary."""
    calibration = frontend_router.calibration.model_copy(update={"question_keep_confidence": 0.0})
    router = Router(
        frontend_router.catalog, encoder=FakeEncoder(), calibration=calibration, cache=False
    )
    request = router.route("release the vue app: we built the components and tests")
    question = router.route("release the vue app: we built the components and tests?")
    assert request.plan == question.plan == ("vue-components", "vue-testing", "web-release")
    assert request.skill == "web-release"  # a request leads with the stage it names first
    assert question.skill == question.candidates[0].name != "web-release"


@pytest.mark.parametrize(
    ("scores", "confidence", "decision"),
    [
        ((0.80, 0.40), 0.90, "routed"),
        ((0.80, 0.79), 0.90, "ambiguous"),  # the best two closer than the margin
        ((0.80, 0.40), 0.20, "abstain"),  # below the confidence bar, whatever the margin
        ((0.80,), 0.90, "routed"),  # a one-skill catalog has no runner-up
    ],
)
def test_similarity_decision_applies_the_fitted_bars(
    scores: tuple[float, ...], confidence: float, decision: str
) -> None:
    bars = Calibration(platt_a=1.0, platt_b=0.0, abstain_threshold=0.5, ambiguity_margin=0.05)
    assert similarity_decision(bars, scores, confidence) == decision


@pytest.mark.parametrize(
    ("task", "leads_with_first_stage"),
    [
        ("release the vue app: we built the components and tests", True),
        ("release the vue app: we built the components and tests?", False),  # a question
        ("can you release the vue app? we built the components and tests", True),  # a request
    ],
)
def test_settle_reads_the_keep_bar_that_fits_the_task(
    frontend_router: Router, task: str, leads_with_first_stage: bool
) -> None:
    """The one decision step routing and fitting share: questions keep a confident top."""
    bars = frontend_router.calibration.model_copy(
        update={"plan_keep_confidence": 1.01, "question_keep_confidence": 0.0}
    )
    engine = frontend_router.rules
    ranked = ["vue-components", "web-release", "vue-testing"]
    outcome = engine.settle(engine.detect(task), ranked, (0.9, 0.5), 0.9, bars)
    assert outcome.plan == ("vue-components", "vue-testing", "web-release")
    assert (outcome.primary == "web-release") == leads_with_first_stage


@pytest.mark.parametrize(
    ("task", "question"),
    [
        ("how do I test a vue component?", True),
        ("can you use pinia with vue 2?", True),  # "you" is anyone: a question
        ("the tests fail. Can you fix them? also, why does the build warn?", True),  # last one
        ("build the components and test them", False),
        ("can you build the components and then test them?", False),  # a polite request
        ("hi! could you please add tests for the cart component?", False),
        ("we have a vue app. so can u help me release it?", False),
        ("how do I build the vue components and then test them?", False),  # asks, in order
        ("how should I build the components, and how do I test them?", False),
        ("if the tests fail, then how do I release?", True),  # a consequence, not a sequence
        ("how do I release first and then build the components?", True),  # back in the lifecycle
        ("how do I test it and then test it again?", True),  # one stage: nothing to order
        ("how do I build the components, and after that how do I test them?", False),
        # a question about the plan of the work it lists asks for that work
        ("build the components, test them and release on friday. what's the plan?", False),
        ("how do I test the vue card? what's the plan?", True),  # one stage: one ask
    ],
)
def test_a_request_with_a_question_mark_is_no_question(
    frontend_router: Router, task: str, question: bool
) -> None:
    """ "Can you build it and test it?" and "how do I build it and then test it?" ask for
    what they list; a plan's order decides their lead."""
    assert frontend_router.rules.detect(task).question is question


@pytest.mark.parametrize(
    ("task", "clauses"),
    [
        (
            "Ticket: build it — then test it",
            [["ticket"], [":", "build", "it"], ["—"], ["then", "test", "it"]],
        ),
        ("at 12:30 see http://x.io/a", [["at", "12", "30", "see", "http", "x", "io", "a"]]),
    ],
)
def test_a_colon_or_dash_ends_a_clause_but_a_time_or_url_does_not(
    task: str, clauses: list[list[str]]
) -> None:
    text = TokenizedText(task, ["then"])
    split: dict[int, list[str]] = {}
    for token, clause in zip(text.tokens, text.clause_of, strict=True):
        split.setdefault(clause, []).append(token)
    assert list(split.values()) == clauses


@pytest.mark.parametrize(
    ("task", "primary"),
    [
        # a label before the colon is no clause of the task: its first ask leads
        ("Ticket: release the vue app, we built the components and tests", "web-release"),
        # ... but a to-do list's label opens a list told in order
        ("todo: release the vue app / build the components / tests", "vue-components"),
    ],
)
def test_a_label_does_not_open_the_task(frontend_router: Router, task: str, primary: str) -> None:
    engine = frontend_router.rules
    ranked = ["vue-components", "vue-testing", "web-release"]
    outcome = engine.apply(engine.detect(task), "routed", ranked)
    assert outcome.plan == ("vue-components", "vue-testing", "web-release")
    assert outcome.primary == primary


@pytest.mark.parametrize(
    ("task", "primary"),
    [
        (
            "release the vue app at the end, but first build the components and tests",
            "vue-components",
        ),
        ("release the vue app: we built the components and tests", "web-release"),
    ],
)
def test_but_first_hands_the_lead_to_the_plans_first_step(
    frontend_router: Router, task: str, primary: str
) -> None:
    """Named out of order ("ship at the end, but first build it"), lifecycle order leads,
    even over a confident top candidate that is a step of the plan."""
    engine = frontend_router.rules
    ranked = ["web-release", "vue-components", "vue-testing"]
    outcome = engine.apply(engine.detect(task), "routed", ranked, confident=True)
    assert outcome.plan == ("vue-components", "vue-testing", "web-release")
    assert outcome.primary == primary


@pytest.mark.parametrize(
    ("ranked", "primary"),
    [
        (["react-components", "web-release", "react-testing"], "web-release"),  # second: lifted
        (["react-components", "react-testing", "web-release"], None),  # third: stays abstained
    ],
)
def test_an_intent_lifts_an_abstain_only_for_the_top_two(
    frontend_router: Router, ranked: list[str], primary: str | None
) -> None:
    """Below the abstain bar, a prefer rule's words vouch for one of the two best matches;
    further down the ranking, similarity's doubt stands."""
    engine = frontend_router.rules
    outcome = engine.apply(engine.detect("put it behind a cdn"), "abstain", ranked)
    assert outcome.primary == primary
    assert outcome.decision == ("routed" if primary else "abstain")
    assert ("release-intent" in [rule.name for rule in outcome.fired]) is (primary is not None)


@pytest.mark.parametrize(
    "task",
    [
        "a vue pricing card with slots, then release it",
        "a vue pricing card with slots, and release it",  # a later clause that asks for it
        "a vue pricing card with slots, and please release it on friday",
    ],
)
def test_one_stage_asked_next_moves_on_from_the_primarys_own_work(
    frontend_router: Router, task: str
) -> None:
    # one stage word (release), but the task moves on from what it asks for first
    moved = frontend_router.route(task)
    assert moved.skill != "web-release"
    assert moved.plan[0] == moved.skill and moved.plan[-1] == "web-release"
    assert "vue-fan-out" in fired(moved)


@pytest.mark.parametrize(
    "task",
    [
        "a vue pricing card with slots for the release",
        "a vue pricing card with slots; if it breaks, then release a fix",
        "a vue pricing card with slots, the release is on friday",  # a later clause reports
        "a vue pricing card with slots, the one with the release notes",  # "with" extends a report
    ],
)
def test_a_stage_named_as_context_asks_for_no_step(frontend_router: Router, task: str) -> None:
    result = frontend_router.route(task)
    assert result.plan == (result.skill,)


@pytest.mark.parametrize(
    "task",
    [
        "a vue pricing card with slots, and cover the card and its slots with tests",
        "a vue pricing card with slots; please cover it with tests",
    ],
)
def test_a_with_clause_belongs_to_the_ask_before_it(frontend_router: Router, task: str) -> None:
    """ "…, and cover X with tests" asks for the tests its "with" clause names; "…, the
    one with the tests" names them as context."""
    engine = frontend_router.rules
    ranked = ["vue-components", "vue-testing", "web-release"]
    outcome = engine.apply(engine.detect(task), "routed", ranked)
    assert outcome.plan == ("vue-components", "vue-testing")
    context = "a vue pricing card with slots, the one with the tests"
    assert engine.apply(engine.detect(context), "routed", ranked).plan == ("vue-components",)


def test_the_primarys_own_step_needs_no_words_of_its_own(
    frontend_router: Router, tmp_path: Path
) -> None:
    """A step's ``when`` decides whether another skill's work is part of the plan; the
    primary's work is, whatever words the task uses for it."""
    conditional = "steps: [{skill: vue-components, when: {any: [storybook]}}, vue-testing,"
    routing = FRONTEND_ROUTING.replace("steps: [vue-components, vue-testing,", conditional)
    assert routing != FRONTEND_ROUTING
    (tmp_path / "routing.yaml").write_text(routing)
    engine = RuleEngine(Catalog.from_dir(tmp_path))
    signals = engine.detect("the vue card with slots, then test it and release it")
    led = engine.apply(signals, "routed", ["vue-components", "vue-testing", "web-release"])
    assert led.plan == ("vue-components", "vue-testing", "web-release")
    tested = engine.apply(signals, "routed", ["vue-testing", "vue-components", "web-release"])
    assert tested.plan == ("vue-testing", "web-release")  # no storybook: no component step


def test_an_unnamed_ask_before_then_stands_for_the_implied_stage(
    frontend_router: Router, tmp_path: Path
) -> None:
    task = "make the vue pricing card generic over its slots, then test it"
    assert frontend_router.route(task).plan == ("vue-testing",)  # no implied_stage: one step
    (tmp_path / "routing.yaml").write_text(FRONTEND_ROUTING + "implied_stage: build\n")
    router = Router(
        Catalog.from_dir(tmp_path),
        encoder=FakeEncoder(),
        calibration=frontend_router.calibration,
        cache=False,
    )
    implied = router.route(task)
    assert implied.plan == ("vue-components", "vue-testing")
    assert implied.skill == "vue-components"  # the first ask leads
    assert "build" in implied.signals.stages
    for listed in (
        "1) make the vue pricing card generic over its slots 2) tests for it",
        "(1) make the vue pricing card generic over its slots (2) tests for it",
        "1. make the vue pricing card generic over its slots 2. tests for it",
        # a ticket moves on at its criteria
        "vue pricing card generic over its slots. Done when: tests cover every slot",
        "vue pricing card generic over its slots. Acceptance criteria: tests for every slot",
    ):  # a numbered list moves on at its second item
        assert router.route(listed).plan == ("vue-components", "vue-testing"), listed
    for task in (
        "make the vue pricing card generic over its slots 2) tests for it",  # no first item
        "ok then test the vue card",  # nothing asked before "then"
        "if the vue card breaks, then test it",  # a consequence, not a next ask
        "the vue card tests, then more tests",  # a stage is named before "then"
    ):
        assert "build" not in router.route(task).signals.stages, task
