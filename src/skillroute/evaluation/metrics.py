"""`evaluate(router, dataset) -> EvalReport`: every routing metric from one pass.

Definitions (all fractions in [0, 1]; an empty denominator gives None, never a crash):

- **top1_accuracy**: in-scope items whose primary skill is acceptable and not abstained;
- **top3_accuracy**: in-scope items with an acceptable skill among the primary and the
  top three candidates, whatever the decision;
- **per-skill precision / recall / F1** with the preferred label (the predicted skill
  when it is acceptable, else the first of ``expect``), abstention counting as a
  prediction of "(abstain)"; **macro_f1** averages F1 over skills with support;
- **oos_precision / recall / F1**: out-of-scope is the positive class, abstention the
  positive prediction;
- **plan_accuracy**: items with a ``plan`` whose expected steps appear, in order, in the
  router's plan;
- **unasked_plan_rate**: items without a ``plan``, routed to an acceptable skill, that a
  plan rule fanned out into two steps or more (plan accuracy lets a plan hold extra steps;
  this counts the single asks that got a whole plan; a companion alone is no fan-out);
- **ambiguity_rate**: items answered ``ambiguous``;
- **ece**: expected calibration error of the top candidate's confidence (10 bins);
- **coverage_curve**: accuracy of the answered items as the abstain threshold moves;
- **latency**: per-task wall time of `Router.route` (p50 / p95, milliseconds).
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel, ConfigDict

from skillroute.result import RouteResult

if TYPE_CHECKING:
    from skillroute.dataset import Dataset, LabelledItem
    from skillroute.router import Router

__all__ = [
    "ABSTAIN",
    "CoveragePoint",
    "EvalReport",
    "ItemError",
    "SkillScores",
    "evaluate",
    "is_subsequence",
]

ABSTAIN = "(abstain)"
_BINS = 10


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SkillScores(_Model):
    """Precision, recall and F1 of one label."""

    precision: float | None
    recall: float | None
    f1: float | None
    support: int


class CoveragePoint(_Model):
    """Answered share and its accuracy at one abstain threshold."""

    threshold: float
    coverage: float
    accuracy: float | None


class ItemError(_Model):
    """A routing mistake, with what the router saw."""

    text: str
    kind: str  # "wrong-skill", "abstained", "accepted-oos", "plan"
    expect: tuple[str, ...]
    expected_plan: tuple[str, ...] = ()
    got: str | None
    plan: tuple[str, ...]
    decision: str
    confidence: float
    candidates: tuple[tuple[str, float], ...]
    rules: tuple[str, ...]


class EvalReport(_Model):
    """Everything `evaluate` measured.  Stable field names: CI gates read them."""

    dataset: str
    catalog: str
    model_id: str
    calibrated: bool
    items: int
    in_scope: int
    out_of_scope: int
    with_plan: int
    top1_accuracy: float | None
    top3_accuracy: float | None
    macro_f1: float | None
    oos_precision: float | None
    oos_recall: float | None
    oos_f1: float | None
    plan_accuracy: float | None
    unasked_plan_rate: float | None
    ambiguity_rate: float | None
    abstain_rate: float | None
    ece: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    per_skill: dict[str, SkillScores]
    labels: tuple[str, ...]
    confusion: tuple[tuple[int, ...], ...]
    coverage_curve: tuple[CoveragePoint, ...]
    reliability: tuple[tuple[float, float, int], ...]  # (mean confidence, accuracy, count)
    errors: tuple[ItemError, ...]

    def metric(self, name: str) -> float | None:
        """A scalar metric by name (what gates check)."""
        value = getattr(self, name, None)
        if value is not None and not isinstance(value, int | float):
            raise KeyError(f"{name!r} is not a scalar metric")
        return None if value is None else float(value)

    def worst_confusions(self, limit: int = 10) -> list[tuple[str, str, int]]:
        """The most frequent (expected, got, count) mistakes."""
        pairs = [
            (self.labels[i], self.labels[j], count)
            for i, row in enumerate(self.confusion)
            for j, count in enumerate(row)
            if i != j and count
        ]
        return sorted(pairs, key=lambda pair: (-pair[2], pair[0], pair[1]))[:limit]


def is_subsequence(expected: Sequence[str], actual: Sequence[str]) -> bool:
    """Whether ``expected`` appears in ``actual`` in order (not necessarily adjacent)."""
    remaining = iter(actual)
    return all(step in remaining for step in expected)


def evaluate(router: Router, dataset: Dataset, *, progress: bool = False) -> EvalReport:
    """Route every item (one at a time, to measure per-task latency) and score the results."""
    dataset.check_against(router.catalog)
    results, latencies = _route_all(router, dataset.texts, progress=progress)
    return score_results(router, dataset, results, latencies)


def _route_all(
    router: Router, texts: Sequence[str], *, progress: bool
) -> tuple[list[RouteResult], list[float]]:
    router.index  # noqa: B018 - build (or load) the index before timing anything
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(texts), desc="routing", unit="task", delay=2.0, leave=False)
    results, latencies = [], []
    try:
        for text in texts:
            start = time.perf_counter()
            results.append(router.route(text))
            latencies.append((time.perf_counter() - start) * 1000.0)
            if bar is not None:
                bar.update()
    finally:
        if bar is not None:
            bar.close()
    return results, latencies


def score_results(
    router: Router, dataset: Dataset, results: Sequence[RouteResult], latencies: Sequence[float]
) -> EvalReport:
    """Compute the report from routed results (separate from routing, for reuse in tests)."""
    items = dataset.items
    if len(results) != len(items):
        raise ValueError(f"{len(results)} results for {len(items)} items")
    in_scope = [(item, result) for item, result in zip(items, results, strict=True) if not item.oos]
    oos_pairs = [(item, result) for item, result in zip(items, results, strict=True) if item.oos]
    planned = [(item, result) for item, result in in_scope if item.plan]
    single_right = [(i, r) for i, r in in_scope if not i.plan and _routed_right(i, r)]
    labels = (*router.catalog.names, ABSTAIN)
    gold, predicted = _label_pairs(items, results)
    confusion = _confusion(labels, gold, predicted)
    per_skill = _per_skill(router.catalog.names, gold, predicted)
    supported = [scores.f1 or 0.0 for scores in per_skill.values() if scores.support]
    correct = [_top_right(item, result) for item, result in zip(items, results, strict=True)]
    confidences = [result.confidence for result in results]
    oos_predicted = sum(result.decision == "abstain" for result in results)
    oos_hits = sum(result.decision == "abstain" for _, result in oos_pairs)
    precision = _ratio(oos_hits, oos_predicted)
    recall = _ratio(oos_hits, len(oos_pairs))
    return EvalReport(
        dataset=dataset.source,
        catalog=str(router.catalog.root or "(built in code)"),
        model_id=router.encoder.model_id,
        calibrated=router.calibration.fit is not None,
        items=len(items),
        in_scope=len(in_scope),
        out_of_scope=len(oos_pairs),
        with_plan=len(planned),
        top1_accuracy=_ratio(sum(_routed_right(i, r) for i, r in in_scope), len(in_scope)),
        top3_accuracy=_ratio(sum(_top3_right(i, r) for i, r in in_scope), len(in_scope)),
        macro_f1=_round(float(np.mean(supported))) if supported else None,
        oos_precision=precision,
        oos_recall=recall,
        oos_f1=_f1(precision, recall),
        plan_accuracy=_ratio(
            sum(r.decision != "abstain" and is_subsequence(i.plan, r.plan) for i, r in planned),
            len(planned),
        ),
        unasked_plan_rate=_ratio(sum(_fanned_out(r) for _, r in single_right), len(single_right)),
        ambiguity_rate=_ratio(sum(r.decision == "ambiguous" for r in results), len(results)),
        abstain_rate=_ratio(oos_predicted, len(results)),
        ece=_ece(confidences, correct),
        latency_p50_ms=_percentile(latencies, 50),
        latency_p95_ms=_percentile(latencies, 95),
        per_skill=per_skill,
        labels=labels,
        confusion=confusion,
        coverage_curve=_coverage(items, results),
        reliability=_reliability(confidences, correct),
        errors=tuple(_errors(items, results)),
    )


def _routed_right(item: LabelledItem, result: RouteResult) -> bool:
    return result.decision != "abstain" and result.skill in item.expect


def _fanned_out(result: RouteResult) -> bool:
    """Whether a plan rule made the result a plan of two steps or more."""
    return len(result.plan) > 1 and any(rule.kind == "plan" for rule in result.rules)


def _top3_right(item: LabelledItem, result: RouteResult) -> bool:
    names = {result.skill, *(candidate.name for candidate in result.candidates[:3])}
    return bool(names & set(item.expect))


def _top_right(item: LabelledItem, result: RouteResult) -> bool:
    """Whether the top candidate is right (the event ``confidence`` predicts)."""
    return bool(result.candidates) and result.candidates[0].name in item.expect


def _label_pairs(
    items: Sequence[LabelledItem], results: Sequence[RouteResult]
) -> tuple[list[str], list[str]]:
    gold, predicted = [], []
    for item, result in zip(items, results, strict=True):
        got = result.skill if result.decision != "abstain" and result.skill else ABSTAIN
        predicted.append(got)
        if item.oos:
            gold.append(ABSTAIN)
        else:
            gold.append(got if got in item.expect else item.expect[0])
    return gold, predicted


def _confusion(
    labels: Sequence[str], gold: Sequence[str], predicted: Sequence[str]
) -> tuple[tuple[int, ...], ...]:
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), dtype=int)
    for expected, got in zip(gold, predicted, strict=True):
        matrix[index[expected], index[got]] += 1
    return tuple(tuple(int(v) for v in row) for row in matrix)


def _per_skill(
    names: Sequence[str], gold: Sequence[str], predicted: Sequence[str]
) -> dict[str, SkillScores]:
    support = Counter(gold)
    predicted_count = Counter(predicted)
    hits = Counter(g for g, p in zip(gold, predicted, strict=True) if g == p)
    scores = {}
    for name in names:
        precision = _ratio(hits[name], predicted_count[name])
        recall = _ratio(hits[name], support[name])
        scores[name] = SkillScores(
            precision=precision, recall=recall, f1=_f1(precision, recall), support=support[name]
        )
    return scores


def _coverage(
    items: Sequence[LabelledItem], results: Sequence[RouteResult]
) -> tuple[CoveragePoint, ...]:
    """Answer only items whose top confidence reaches t: how many, and how many right."""
    rule_abstained = [any(rule.kind == "abstain" for rule in r.rules) for r in results]
    right = [
        (not item.oos)
        and (r.skill or (r.candidates[0].name if r.candidates else None)) in item.expect
        for item, r in zip(items, results, strict=True)
    ]
    points = []
    for threshold in np.round(np.linspace(0.0, 0.95, 20), 2):
        answered = [
            ok
            for ok, r, ruled in zip(right, results, rule_abstained, strict=True)
            if r.confidence >= threshold and not ruled
        ]
        points.append(
            CoveragePoint(
                threshold=float(threshold),
                coverage=_round(len(answered) / len(results)) if results else 0.0,
                accuracy=_ratio(sum(answered), len(answered)),
            )
        )
    return tuple(points)


def _reliability(
    confidences: Sequence[float], correct: Sequence[bool]
) -> tuple[tuple[float, float, int], ...]:
    bins = []
    edges = np.linspace(0.0, 1.0, _BINS + 1)
    values, hits = np.asarray(confidences), np.asarray(correct, dtype=float)
    for low, high in itertools.pairwise(edges):
        mask = (values >= low) & ((values < high) if high < 1.0 else (values <= high))
        if mask.any():
            bins.append((_round(values[mask].mean()), _round(hits[mask].mean()), int(mask.sum())))
    return tuple(bins)


def _ece(confidences: Sequence[float], correct: Sequence[bool]) -> float | None:
    if not confidences:
        return None
    total = len(confidences)
    gap = sum(
        count / total * abs(mean - accuracy)
        for mean, accuracy, count in _reliability(confidences, correct)
    )
    return _round(gap)


def _errors(items: Sequence[LabelledItem], results: Sequence[RouteResult]) -> list[ItemError]:
    errors = []
    for item, result in zip(items, results, strict=True):
        if item.oos:
            kind = "accepted-oos" if result.decision != "abstain" else None
        elif result.decision == "abstain":
            kind = "abstained"
        elif result.skill not in item.expect:
            kind = "wrong-skill"
        elif item.plan and not is_subsequence(item.plan, result.plan):
            kind = "plan"
        else:
            kind = None
        if kind is None:
            continue
        errors.append(
            ItemError(
                text=item.text,
                kind=kind,
                expect=item.expect,
                expected_plan=item.plan,
                got=result.skill,
                plan=result.plan,
                decision=result.decision,
                confidence=result.confidence,
                candidates=tuple((c.name, c.score) for c in result.candidates),
                rules=tuple(rule.name for rule in result.rules),
            )
        )
    return errors


def _ratio(numerator: float, denominator: float) -> float | None:
    return _round(numerator / denominator) if denominator else None


def _f1(precision: float | None, recall: float | None) -> float | None:
    if precision is None or recall is None:
        return None
    return _round(2 * precision * recall / (precision + recall)) if precision + recall else 0.0


def _percentile(values: Sequence[float], q: float) -> float | None:
    return _round(float(np.percentile(values, q))) if values else None


def _round(value: float) -> float:
    return round(float(value), 4)
