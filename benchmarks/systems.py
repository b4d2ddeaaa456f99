"""The contract every benchmarked router follows, so one harness measures them all."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

__all__ = ["Prediction", "RouteSpec", "System", "route_texts"]


@dataclass(frozen=True)
class RouteSpec:
    """One route as every system sees it: a description and optional example texts."""

    description: str
    examples: tuple[str, ...] = field(default_factory=tuple)

    @property
    def texts(self) -> tuple[str, ...]:
        """Description first, then the examples: the texts a similarity router indexes.

        Every peer gets exactly these texts, so no system sees more evidence than another.
        """
        return (self.description, *self.examples)


@dataclass(frozen=True)
class Prediction:
    """A system's answer for one query.

    ``label`` is the routed name, or None when the system abstains (out of scope);
    ``ranked`` is the best-first list of route names, never affected by abstention.
    """

    label: str | None
    ranked: tuple[str, ...]


@runtime_checkable
class System(Protocol):
    """A router under test. ``build`` resets it; ``fit`` is optional calibration."""

    name: str

    def build(self, routes: Mapping[str, RouteSpec]) -> None:
        """Index the routes (and train whatever needs no calibration data)."""

    def fit(self, texts: Sequence[str], labels: Sequence[str | None]) -> None:
        """Calibrate abstention on held-out queries; a None label means out of scope."""

    def predict(self, texts: Sequence[str], k: int = 5) -> list[Prediction]:
        """Route a batch: one Prediction per text, in order, with up to ``k`` ranked."""


def route_texts(routes: Mapping[str, RouteSpec]) -> tuple[list[str], list[str]]:
    """Flatten routes into parallel (texts, owning route) lists, grouped by route."""
    texts: list[str] = []
    owners: list[str] = []
    for name, spec in routes.items():
        for text in spec.texts:
            texts.append(text)
            owners.append(name)
    return texts, owners
