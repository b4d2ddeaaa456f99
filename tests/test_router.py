"""Router behaviour that does not depend on the model: types, batches, inputs, calibration."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError
from tests.conftest import FakeEncoder

from skillroute import Router, RouteResult
from skillroute.calibration import Calibration, HeadParams, load_calibration
from skillroute.catalog import Catalog
from skillroute.dataset import Dataset, LabelledItem
from skillroute.errors import DatasetError, InputError, SkillrouteWarning
from skillroute.fitting import (
    _AMBIGUOUS_CREDIT,
    _MARGIN_GRID,
    _HeadChoice,
    _HeadLearner,
    _Outcomes,
    _params,
    _Tasks,
    _thresholds,
)
from skillroute.routing_spec import OutOfScopeSpec, RoutingSpec
from skillroute.scoring import LinearHead
from skillroute.skill import Skill
from skillroute.text import MAX_TASK_CHARS

SKILLS = [
    Skill(
        name="bake-bread",
        description="Bake bread: sourdough, yeast, proofing, crust.",
        examples=("my loaf is dense", "feed a sourdough starter"),
    ),
    Skill(
        name="brew-coffee",
        description="Brew coffee: espresso, pour over, grind size.",
        examples=("espresso tastes sour", "pour over ratio"),
    ),
    Skill(
        name="grow-tomatoes",
        description="Grow tomatoes: seedlings, watering, blight.",
        examples=("tomato leaves turn yellow", "when to transplant tomato seedlings"),
    ),
]
CALIBRATION = Calibration(platt_a=12.0, platt_b=-3.0, abstain_threshold=0.3, ambiguity_margin=0.0)


@pytest.fixture
def router() -> Router:
    return Router(
        Catalog.from_skills(SKILLS), encoder=FakeEncoder(), calibration=CALIBRATION, cache=False
    )


def test_route_returns_a_complete_json_serialisable_result(router: Router) -> None:
    result = router.route("sourdough starter smells odd", k=2)
    assert isinstance(result, RouteResult)
    assert result.decision == "routed"
    assert result.skill == "bake-bread"
    assert next(c.name for c in result.candidates) == "bake-bread"
    assert len(result.candidates) == 2
    assert result.candidates[0].matched == "feed a sourdough starter"
    assert 0.0 <= result.candidates[0].confidence <= 1.0
    payload = json.loads(result.model_dump_json())
    assert list(payload) == [
        "decision",
        "skill",
        "confidence",
        "candidates",
        "lane",
        "stage",
        "plan",
        "rules",
        "implications",
        "next_action",
        "signals",
    ]
    assert RouteResult.model_validate(payload) == result


def test_route_batch_keeps_order_and_matches_single_routes(router: Router) -> None:
    texts = ["espresso grind size", "tomato blight", "dense loaf", "espresso grind size"]
    batch = router.route_batch(texts)
    assert [r.skill for r in batch] == ["brew-coffee", "grow-tomatoes", "bake-bread", "brew-coffee"]
    assert batch == [router.route(text) for text in texts]
    assert router.route_batch([]) == []


def test_unrelated_text_abstains_with_an_empty_plan(router: Router) -> None:
    result = router.route("zebra migration patterns")
    assert (result.decision, result.skill, result.plan) == ("abstain", None, ())
    assert "No skill" in result.next_action


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("", "task is empty"),
        ("   \n\t ", "task is empty"),
        ("\x00\x01\x7f", "task is empty"),
        (42, "task must be a string, got int"),
        (None, "task must be a string, got NoneType"),
        (["a list"], "task must be a string, got list"),
        ("x" * (MAX_TASK_CHARS + 1), "100,001 characters; the limit is 100,000"),
    ],
    ids=["empty", "whitespace", "control-only", "int", "none", "list", "too-long"],
)
def test_bad_task_text_is_a_typed_input_error(router: Router, text: object, pattern: str) -> None:
    with pytest.raises(InputError, match=pattern):
        router.route(text)  # type: ignore[arg-type]


def test_huge_control_and_mixed_script_texts_route_sensibly(router: Router) -> None:
    long_text = ("my sourdough loaf is dense " * 4_000)[:MAX_TASK_CHARS]
    assert router.route(long_text).skill == "bake-bread"
    assert router.route("my\x00 loaf\x1b is dense\u200b").skill == "bake-bread"
    mixed = router.route("番茄 tomato blight помидор")
    assert mixed.skill == "grow-tomatoes"


def test_batch_and_k_validation(router: Router) -> None:
    with pytest.raises(InputError, match="takes a list"):
        router.route_batch("not a list")
    with pytest.raises(InputError, match=r"texts\[1\] is empty"):
        router.route_batch(["ok text", " "])
    for k in (0, -1, True):
        with pytest.raises(InputError, match="k must be a positive integer"):
            router.route("dense loaf", k=k)


def test_stale_calibration_is_ignored_with_a_warning(tmp_path: Path) -> None:
    stale = CALIBRATION.model_copy(update={"model_id": "another-model"})
    with pytest.warns(SkillrouteWarning, match="fitted with model 'another-model'"):
        router = Router(
            Catalog.from_skills(SKILLS), encoder=FakeEncoder(), calibration=stale, cache=False
        )
    assert router.calibration == Calibration.default()
    broken = tmp_path / "calibration.json"
    broken.write_text("{not json")
    with pytest.warns(SkillrouteWarning, match="calibration ignored"):
        assert load_calibration(broken) is None


def fit_dataset() -> Dataset:
    items = [
        ("sourdough proofing takes forever", ["bake-bread"]),
        ("crust too pale", ["bake-bread"]),
        ("yeast bread did not rise", ["bake-bread"]),
        ("espresso shot too fast", ["brew-coffee"]),
        ("grind size for pour over", ["brew-coffee"]),
        ("coffee tastes bitter", ["brew-coffee"]),
        ("tomato seedlings leggy", ["grow-tomatoes"]),
        ("watering tomatoes in heat", ["grow-tomatoes"]),
        ("blight on tomato leaves", ["grow-tomatoes"]),
    ]
    labelled = [LabelledItem(text=text, expect=tuple(expect)) for text, expect in items]
    labelled += [
        LabelledItem(text=text, oos=True)
        for text in ("file my taxes", "fix the car brakes", "learn piano chords")
    ]
    return Dataset(items=tuple(labelled), source="fit-fixture")


def test_fit_is_deterministic_and_round_trips_through_json(router: Router, tmp_path: Path) -> None:
    first = router.fit(fit_dataset(), random_state=3).calibration
    assert router.fit(fit_dataset(), random_state=3).calibration == first
    assert first.fit is not None
    assert first.fit.items == 12
    path = router.save_calibration(tmp_path / "calibration.json")
    assert load_calibration(path) == first
    reloaded = Router(
        Catalog.from_skills(SKILLS), encoder=FakeEncoder(), calibration=path, cache=False
    )
    assert reloaded.route_batch(["crust too pale", "espresso shot"]) == router.route_batch(
        ["crust too pale", "espresso shot"]
    )


def _learner(router: Router, dataset: Dataset, *, learn_from_dataset: bool = True) -> _HeadLearner:
    names = router.catalog.names
    labels = np.array([names.index(i.expect[0]) if i.expect else -1 for i in dataset.items])
    texts = list(dataset.texts)
    return _HeadLearner(
        router.index,
        router.embed_out_of_scope(),
        router.catalog_texts(),
        _Tasks(router.embed_tasks(texts), texts, labels if learn_from_dataset else None),
        folds=3,
        random_state=0,
    )


def _final_head(
    router: Router, dataset: Dataset, *, learn_from_dataset: bool = True, lexical: bool = False
) -> LinearHead:
    """The head `fit` would ship for C=4 (fit itself may prefer no head on tiny data)."""
    learner = _learner(router, dataset, learn_from_dataset=learn_from_dataset)
    return learner.final(_HeadChoice(4.0, lexical))


def test_the_memory_votes_out_of_fold_and_remembers_every_item(router: Router) -> None:
    dataset = fit_dataset()
    learner = _learner(router, dataset)
    vote = learner._vote_out_of_fold(40.0)
    assert vote.shape == (len(dataset), len(SKILLS) + 1)
    np.testing.assert_allclose(vote.sum(axis=1), 1.0)
    # "crust too pale" shares no word with another item: remembered with itself, it would
    # vote ~1 for its own skill; out of fold, only the other folds' items vote
    lonely = list(dataset.texts).index("crust too pale")
    assert vote[lonely, 0] < 0.9
    head = learner.final(_HeadChoice(4.0, False, memory=0.3, temperature=20.0))
    assert head.memory is not None and head.memory_weight == 0.3
    assert head.memory.temperature == 20.0
    assert int(head.memory.counts.sum()) == len(dataset)
    assert head.memory.counts.tolist() == [3, 3, 3, 3]  # three per skill, three "no skill"
    assert learner.final(_HeadChoice(4.0, False)).memory is None


def test_the_memory_votes_with_the_other_files_only(router: Router) -> None:
    """Joined files: an item's vote comes from the other files, never its own."""
    other = Dataset(
        items=(LabelledItem(text="crust too pale and soft", expect=("grow-tomatoes",)),),
        source="other-file",
    )
    joined = Dataset.join([fit_dataset(), other])
    assert joined.part_of_items() == [0] * len(fit_dataset()) + [1]
    vote = _learner(router, joined)._vote_out_of_fold(40.0)
    crust = list(joined.texts).index("crust too pale")
    assert vote[crust].argmax() == 2  # the other file's near twin, labelled grow-tomatoes
    assert vote[-1].argmax() == 0  # and it hears "crust too pale" (bake-bread) back
    alone = Dataset(items=joined.items)  # one file: random folds, its twin may be held out
    assert alone.part_of_items() == [0] * len(joined)


def _remembering_router(router: Router) -> tuple[Router, LinearHead]:
    """A router whose calibration's head keeps a memory (share 0.4), and that head."""
    head = _learner(router, fit_dataset()).final(_HeadChoice(4.0, False, memory=0.4))
    params = _params(head, router.catalog.names, 4.0)
    assert params is not None and params.memory is not None
    calibration = CALIBRATION.model_copy(update={"head": params, "head_weight": 0.5})
    remembering = Router(
        Catalog.from_skills(SKILLS), encoder=FakeEncoder(), calibration=calibration, cache=False
    )
    return remembering, head


def test_a_fitted_memory_round_trips_through_the_calibration_file(
    router: Router, tmp_path: Path
) -> None:
    remembering, head = _remembering_router(router)
    path = remembering.save_calibration(tmp_path / "calibration.json")
    loaded = load_calibration(path)
    assert loaded == remembering.calibration and loaded is not None and loaded.head is not None
    tasks = ["crust too pale", "espresso shot", "blight on the leaves", "file my taxes"]
    queries = router.embed_tasks(tasks)
    np.testing.assert_allclose(
        loaded.head.to_head().probabilities(queries, tasks),
        head.probabilities(queries, tasks),
        atol=0.01,
    )


def test_a_multi_step_task_does_not_consult_the_memory(router: Router) -> None:
    remembering, _ = _remembering_router(router)
    forgetting = Router(
        Catalog.from_skills(SKILLS),
        encoder=FakeEncoder(),
        calibration=remembering.calibration.model_copy(
            update={"head": remembering.calibration.head.model_copy(update={"memory": None})}
            if remembering.calibration.head is not None
            else {}
        ),
        cache=False,
    )
    tasks = ["yeast coffee tomato", "grind the crust"]  # the linear part is unsure of both
    queries = router.embed_tasks(tasks)
    one_ask = [remembering.rules.detect(task) for task in tasks]
    several = [dataclasses.replace(signal, multi_step=True) for signal in one_ask]
    plain = forgetting.score(queries, tasks).score
    assert not np.allclose(remembering.score(queries, tasks, one_ask).score, plain)
    np.testing.assert_allclose(remembering.score(queries, tasks, several).score, plain)


def test_fit_keeps_no_memory_unless_asked(router: Router) -> None:
    calibration = router.fit(fit_dataset()).calibration
    assert calibration.head is None or calibration.head.memory is None


def test_out_of_scope_items_train_a_no_skill_class(router: Router) -> None:
    head = _final_head(router, fit_dataset())
    assert head.out_of_scope and head.weights.shape[0] == len(SKILLS) + 1
    in_scope_only = Dataset(items=tuple(item for item in fit_dataset().items if not item.oos))
    head = _final_head(router, in_scope_only)
    assert not head.out_of_scope and head.weights.shape[0] == len(SKILLS)


def test_catalog_out_of_scope_examples_train_the_head_without_a_dataset() -> None:
    negatives = (
        "file my taxes before april",
        "brakes squeal on my car",
        "piano chords for beginners",
    )
    catalog = Catalog.from_skills(
        SKILLS, RoutingSpec(out_of_scope=OutOfScopeSpec(examples=negatives))
    )
    router = Router(catalog, encoder=FakeEncoder(), calibration=CALIBRATION, cache=False)
    head = _final_head(router, fit_dataset(), learn_from_dataset=False)
    assert head.out_of_scope
    tasks = ["taxes and car brakes", "sourdough crust"]
    skill_mass = head.probabilities(router.embed_tasks(tasks), tasks)
    assert skill_mass.sum(axis=1)[0] < 0.5 < skill_mass.sum(axis=1)[1]
    fitted = router.fit(fit_dataset()).calibration
    if fitted.head is not None:  # when fit keeps a head, it is saved with its extra row
        assert fitted.head.out_of_scope and len(fitted.head.weights) == len(SKILLS) + 1


def test_the_head_learns_word_weights_only_when_asked(router: Router) -> None:
    plain = _final_head(router, fit_dataset())
    assert plain.lexicon is None and plain.word_weights is None
    worded = _final_head(router, fit_dataset(), lexical=True)
    assert worded.lexicon is not None and worded.word_weights is not None
    assert worded.word_weights.shape == (worded.weights.shape[0], len(worded.lexicon))
    assert len(worded.lexicon) > 0
    tasks = ["espresso shot pulls too fast"]
    queries = router.embed_tasks(tasks)
    assert not np.allclose(
        worded.probabilities(queries, tasks), plain.probabilities(queries, tasks)
    )


def test_head_params_need_one_row_per_class() -> None:
    row = (0.0, 1.0)
    with pytest.raises(ValidationError, match="expected 3 weight rows and biases, got 2"):
        HeadParams(skills=("a", "b"), weights=(row, row), bias=(0.0, 0.0), c=1.0, out_of_scope=True)
    with pytest.raises(ValidationError, match="weight rows differ in length"):
        HeadParams(skills=("a", "b"), weights=(row, (1.0,)), bias=(0.0, 0.0), c=1.0)


def _thresholds_by_definition(
    confidence: np.ndarray,
    margin: np.ndarray,
    oos: np.ndarray,
    outcomes: _Outcomes,
    routed_right: np.ndarray,
) -> tuple[float, float, float]:
    """The threshold search written out: every threshold against every item."""
    levels = np.unique(np.concatenate(([0.0], confidence)))
    thresholds = np.concatenate(([0.0], (levels[:-1] + levels[1:]) / 2))
    abstain = (confidence[None, :] < thresholds[:, None]) & ~outcomes.rule_forces[None, :]
    abstain |= outcomes.rule_abstains[None, :]
    results = []
    for value in _MARGIN_GRID:
        ambiguous = (margin < value) & ~outcomes.tie_resolves
        right = np.where(ambiguous, _AMBIGUOUS_CREDIT * outcomes.top_two_right, routed_right)
        credit = np.where(abstain, oos[None, :], np.where(oos[None, :], 0.0, right))
        utility = credit.mean(axis=1)
        ties = np.flatnonzero(utility >= utility.max() - 1e-9)
        pick = int(ties[len(ties) // 2])
        results.append((float(utility[pick]), float(thresholds[pick]), float(value)))
    best = max(utility for utility, _, _ in results)
    tied = [result for result in results if result[0] >= best - 1e-9]
    return tied[len(tied) // 2]


@pytest.mark.parametrize("seed", range(6))
def test_the_threshold_search_matches_its_definition(seed: int) -> None:
    """The linear-time sweep picks what checking every threshold on every item picks."""
    rng = np.random.default_rng(seed)
    n = 300
    confidence = rng.choice(np.linspace(0.0, 1.0, 40), n)  # repeated levels, as fitted ones
    flags = [rng.random(n) < share for share in (0.8, 0.8, 0.9, 0.1, 0.3, 0.3)]
    outcomes = _Outcomes(*flags)
    oos = rng.random(n) < 0.4
    margin = rng.random(n) * 0.1
    routed_right = rng.random(n) < 0.85
    expected = _thresholds_by_definition(confidence, margin, oos, outcomes, routed_right)
    found = _thresholds(confidence, margin, oos, outcomes, routed_right)
    assert found == pytest.approx(expected, abs=1e-12)


def test_fit_keeps_the_question_prior_when_its_data_cannot_tell(router: Router) -> None:
    calibration = router.fit(fit_dataset()).calibration  # no item is a question
    assert calibration.question_keep_confidence == 0.9


def test_fit_refuses_catalog_examples(router: Router) -> None:
    leaky = Dataset(
        items=(
            LabelledItem(text="My loaf is  DENSE", expect=("bake-bread",)),
            *fit_dataset().items,
        ),
        source="leaky",
    )
    with (
        pytest.warns(SkillrouteWarning, match="refusing to fit"),
        pytest.raises(DatasetError, match="also catalog examples"),
    ):
        router.fit(leaky)
    with (  # the arbiter's extra data is held to the same rule
        pytest.warns(SkillrouteWarning, match="refusing to fit"),
        pytest.raises(DatasetError, match="also catalog examples"),
    ):
        router.fit(fit_dataset(), arbiter_data=leaky)


def test_fit_needs_in_scope_items_and_known_skills(router: Router) -> None:
    with pytest.raises(DatasetError, match="needs in-scope items"):
        router.fit(Dataset(items=(LabelledItem(text="taxes", oos=True),)))
    with pytest.raises(DatasetError, match="unknown skill 'bake-cake'"):
        router.fit(Dataset(items=(LabelledItem(text="cake", expect=("bake-cake",)),)))


def test_save_calibration_needs_a_path_for_code_built_catalogs(router: Router) -> None:
    with pytest.raises(InputError, match="pass a path"):
        router.save_calibration()
