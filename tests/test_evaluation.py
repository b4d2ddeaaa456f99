"""Evaluation: metric definitions, gates, reports, and the bundled catalog's quality gate."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import FakeEncoder

from skillroute import Router
from skillroute.bundled import bundled_data_path
from skillroute.calibration import Calibration
from skillroute.catalog import Catalog
from skillroute.dataset import Dataset, LabelledItem, load_dataset
from skillroute.errors import DatasetError
from skillroute.evaluation import check_gates, evaluate, load_gates, write_report
from skillroute.evaluation.gates import Bound, Gates
from skillroute.evaluation.metrics import is_subsequence
from skillroute.skill import Skill

SKILLS = [
    Skill(name="bake-bread", description="Bake bread: sourdough, yeast, proofing, crust."),
    Skill(name="brew-coffee", description="Brew coffee: espresso, pour over, grind size."),
]
CALIBRATION = Calibration(platt_a=12.0, platt_b=-3.0, abstain_threshold=0.3, ambiguity_margin=0.0)


@pytest.fixture
def small_router() -> Router:
    return Router(
        Catalog.from_skills(SKILLS), encoder=FakeEncoder(), calibration=CALIBRATION, cache=False
    )


def dataset(*items: LabelledItem) -> Dataset:
    return Dataset(items=items, source="inline")


def test_metrics_on_a_hand_checked_example(small_router: Router) -> None:
    report = evaluate(
        small_router,
        dataset(
            LabelledItem(text="sourdough crust", expect=("bake-bread",)),
            LabelledItem(text="espresso grind size", expect=("brew-coffee",)),
            LabelledItem(text="espresso pour over", expect=("bake-bread",)),  # a miss
            LabelledItem(text="zebra migration patterns", oos=True),
        ),
    )
    assert (report.items, report.in_scope, report.out_of_scope) == (4, 3, 1)
    assert report.top1_accuracy == pytest.approx(2 / 3, abs=1e-4)
    assert report.oos_recall == 1.0 and report.oos_precision == 1.0
    assert report.plan_accuracy is None  # no item has a plan: n/a, not a crash
    assert report.per_skill["brew-coffee"].precision == 0.5
    assert report.worst_confusions() == [("bake-bread", "brew-coffee", 1)]
    assert [error.kind for error in report.errors] == ["wrong-skill"]
    assert len(report.coverage_curve) == 20 and report.latency_p50_ms is not None


def test_a_single_ask_given_a_whole_plan_is_counted(frontend_router: Router) -> None:
    """Plan accuracy lets a plan hold extra steps; the unasked-plan rate counts the single
    asks a plan rule fanned out (labelled one step, routed right, planned anyway)."""
    report = evaluate(
        frontend_router,
        dataset(
            LabelledItem(text="build vue components, then add tests", expect=("vue-components",)),
            LabelledItem(text="vue components with slots", expect=("vue-components",)),
            LabelledItem(
                text="build vue components, then add tests",
                expect=("vue-components",),
                plan=("vue-components", "vue-testing"),
            ),
        ),
    )
    assert report.plan_accuracy == 1.0
    assert report.unasked_plan_rate == 0.5  # of the two single asks, the first got a plan
    assert evaluate(frontend_router, dataset()).unasked_plan_rate is None


def test_out_of_scope_metrics_are_none_without_such_items(small_router: Router) -> None:
    report = evaluate(small_router, dataset(LabelledItem(text="sourdough", expect=("bake-bread",))))
    assert report.oos_recall is None and report.oos_f1 is None
    verdicts = check_gates(report, Gates(gates={"oos_recall": Bound(min=0.5)}))
    assert not verdicts[0].passed and "n/a" in verdicts[0].describe()


@pytest.mark.parametrize(
    ("expected", "actual", "ok"),
    [
        (("a", "c"), ("a", "b", "c"), True),
        (("c", "a"), ("a", "b", "c"), False),
        ((), ("a",), True),
        (("a", "a"), ("a",), False),
    ],
)
def test_plan_is_checked_as_an_ordered_subsequence(
    expected: tuple[str, ...], actual: tuple[str, ...], ok: bool
) -> None:
    assert is_subsequence(expected, actual) is ok


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        ("gates:\n  top1: {min: 0.9}\n", r"gates.yaml:2: gates.top1: unknown metric 'top1'"),
        ("gates:\n  ece: {}\n", r"gates.yaml:2: gates.ece: .*needs min, max or both"),
        ("gates:\n  ece: {min: 0.5, max: 0.1}\n", r"min 0.5 is above max 0.1"),
        ("gates: {}\n", r"non-empty 'gates' mapping"),
    ],
)
def test_bad_gate_files_are_located_errors(tmp_path: Path, content: str, pattern: str) -> None:
    (tmp_path / "gates.yaml").write_text(content)
    with pytest.raises(DatasetError, match=pattern):
        load_gates(tmp_path / "gates.yaml")


def test_report_files_are_written(small_router: Router, tmp_path: Path) -> None:
    report = evaluate(
        small_router,
        dataset(
            LabelledItem(text="sourdough crust", expect=("bake-bread",)),
            LabelledItem(text="espresso pour over", expect=("bake-bread",)),
            LabelledItem(text="zebra migration", oos=True),
            LabelledItem(text="grind size\nfor a moka pot", expect=("bake-bread",)),
        ),
    )
    verdicts = check_gates(report, Gates(gates={"top1_accuracy": Bound(min=0.9)}))
    written = write_report(report, tmp_path / "report", verdicts)
    assert {path.name for path in written} == {
        "report.json",
        "report.md",
        "confusion.png",
        "reliability.png",
        "coverage.png",
    }
    text = (tmp_path / "report" / "report.md").read_text()
    assert "**FAIL**" in text and "espresso pour over" in text and "## Worst confusions" in text
    assert "“grind size ⏎ for a moka pot”" in text  # one error, one bullet line
    assert all(path.stat().st_size > 0 for path in written)


def test_bundled_catalog_passes_its_quality_gates_on_the_test_split(bundled_router: Router) -> None:
    """The CI quality gate: a routing regression on held-out tasks fails the build."""
    report = evaluate(bundled_router, load_dataset(bundled_data_path() / "test.yaml"))
    verdicts = check_gates(report, load_gates(bundled_data_path() / "gates.yaml"))
    failed = [verdict.describe() for verdict in verdicts if not verdict.passed]
    assert not failed, f"quality gates failed on data/test.yaml: {failed}"
    assert report.calibrated
