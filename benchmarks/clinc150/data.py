"""Reading CLINC150's development splits and turning them into routes and splits."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from benchmarks.splits import stratified_halves
from benchmarks.systems import RouteSpec

__all__ = ["OOS", "Clinc", "fit_report_split", "load", "routes_for"]

OOS = "oos"
Pair = tuple[str, str | None]


@dataclass(frozen=True)
class Clinc:
    """The splits this benchmark uses; ``oos_train`` is deliberately not loaded."""

    train: list[tuple[str, str]]
    val: list[Pair]  # in-scope val + oos_val, oos labelled None

    @property
    def intents(self) -> list[str]:
        """Intents in order of first appearance in ``train`` (the file's order)."""
        return list(dict.fromkeys(label for _, label in self.train))


def load(path: Path) -> Clinc:
    """Load ``clinc150_dev.json``; out-of-scope rows get the label None."""
    try:
        data = json.loads(path.read_text())
        train = [(str(t), str(y)) for t, y in data["train"]]
        rows = [(str(t), str(y)) for t, y in data["val"] + data["oos_val"]]
    except (OSError, KeyError, ValueError) as exc:
        raise SystemExit(f"{path}: cannot read CLINC150 ({exc}); pass --data-dir") from exc
    val: list[Pair] = [(t, None if y == OOS else y) for t, y in rows]
    return Clinc(train=[p for p in train if p[1] != OOS], val=val)


def routes_for(clinc: Clinc, intents: list[str], k: int) -> dict[str, RouteSpec]:
    """One route per intent: its name (underscores as spaces) + its first k train texts."""
    wanted = set(intents)
    examples: dict[str, list[str]] = {i: [] for i in intents}
    for text, label in clinc.train:
        if label in wanted and len(examples[label]) < k:
            examples[label].append(text)
    return {
        intent: RouteSpec(description=intent.replace("_", " "), examples=tuple(examples[intent]))
        for intent in intents
    }


def fit_report_split(rows: list[Pair], seed: int) -> tuple[list[Pair], list[Pair]]:
    """Stratified halves of val + oos_val: thresholds are fitted on one, reported on the other."""
    first, second = stratified_halves([label for _, label in rows], seed)
    return [rows[i] for i in first], [rows[i] for i in second]
