"""Accuracy figures computed the same way for every system."""

from __future__ import annotations

from collections.abc import Sequence

from benchmarks.systems import Prediction

__all__ = ["abstention_metrics", "ranking_metrics"]


def _ratio(num: int, den: int) -> float | None:
    """None, not a crash or a fake 0, when there is nothing to divide by."""
    return num / den if den else None


def _check(preds: Sequence[Prediction], golds: Sequence[str | None]) -> None:
    if len(preds) != len(golds):
        raise ValueError(f"{len(preds)} predictions for {len(golds)} gold labels")


def ranking_metrics(
    preds: Sequence[Prediction], golds: Sequence[str | None], ks: Sequence[int] = (1, 5)
) -> dict[str, float | None]:
    """Top-k accuracy over in-scope queries, ignoring abstention."""
    _check(preds, golds)
    pairs = [(p, g) for p, g in zip(preds, golds, strict=True) if g is not None]
    return {
        f"top{k}_accuracy": _ratio(sum(g in p.ranked[:k] for p, g in pairs), len(pairs)) for k in ks
    }


def abstention_metrics(
    preds: Sequence[Prediction], golds: Sequence[str | None]
) -> dict[str, float | None]:
    """In-scope accuracy and out-of-scope detection (positive class = out of scope).

    Abstaining on an in-scope query counts as wrong; ``accuracy`` treats out-of-scope as
    one more class.
    """
    _check(preds, golds)
    in_scope = [(p, g) for p, g in zip(preds, golds, strict=True) if g is not None]
    tp = sum(p.label is None and g is None for p, g in zip(preds, golds, strict=True))
    fp = sum(p.label is None and g is not None for p, g in zip(preds, golds, strict=True))
    fn = sum(p.label is not None and g is None for p, g in zip(preds, golds, strict=True))
    recall = _ratio(tp, tp + fn)
    precision = _ratio(tp, tp + fp)
    f1 = (
        2 * precision * recall / (precision + recall)
        if precision is not None and recall is not None and precision + recall > 0
        else None
    )
    correct = sum(p.label == g for p, g in zip(preds, golds, strict=True))
    return {
        "in_scope_accuracy": _ratio(sum(p.label == g for p, g in in_scope), len(in_scope)),
        "oos_recall": recall,
        "oos_precision": precision,
        "oos_f1": f1,
        "accuracy": _ratio(correct, len(preds)),
        "abstain_rate": _ratio(tp + fp, len(preds)),
    }
