"""skillroute itself, as a benchmark system.

Fairness: ``build`` gives skillroute exactly what every peer gets (each route's
description and its k examples) and embeds them inside ``build`` with the on-disk cache
off, so the encoding cost is timed.  ``fit`` gets the same fit split as every peer.  By
default skillroute's head learns from the route examples only (``learn_from_dataset=False``),
like the embedding + logreg peer, and the fit split only calibrates it; the row
"skillroute (+fit split)" also lets the head learn from the fit split's labels, which
no peer does, and is reported separately for that reason.  Query embeddings are never
cached: every ``route_batch`` call runs the encoder.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks.systems import Prediction, RouteSpec

__all__ = ["SkillrouteSystem", "import_error", "make_encoder", "sanitize_names"]

_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def import_error() -> str | None:
    """Why skillroute cannot be benchmarked here, or None when it can."""
    try:
        from skillroute import Catalog, Dataset, LabelledItem, Router, Skill  # noqa: F401
        from skillroute.encoders import SentenceTransformerEncoder  # noqa: F401
    except ImportError as exc:
        return f"skillroute is not importable ({exc}); pip install -e . from the repo root"
    return None


def make_encoder(model_path: Path) -> Any:
    """skillroute's own encoder over our MiniLM folder, created once per run."""
    from skillroute.encoders import SentenceTransformerEncoder

    return SentenceTransformerEncoder(model_path)


def sanitize_names(names: Sequence[str]) -> dict[str, str]:
    """Map each route name to a valid skill name (``^[a-z0-9]+(-[a-z0-9]+)*$``).

    "credit_limit_change" -> "credit-limit-change"; "ResearchHelper" -> "research-helper";
    "PDF&URLTool" -> "pdf-url-tool".  CamelCase is split so that the name, which
    skillroute embeds with the description, stays readable words.
    Raises ValueError on a collision, because two routes sharing one skill would silently
    merge them and inflate accuracy.
    """
    out: dict[str, str] = {}
    seen: dict[str, str] = {}
    for name in names:
        words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", name)
        skill = re.sub(r"[^a-z0-9]+", "-", words.lower()).strip("-")[:64].strip("-")
        if not _NAME.match(skill):
            raise ValueError(f"route {name!r} has no valid skill name (got {skill!r})")
        if skill in seen:
            raise ValueError(f"routes {seen[skill]!r} and {name!r} both map to skill {skill!r}")
        seen[skill] = name
        out[name] = skill
    return out


class SkillrouteSystem:
    """Adapter from ``skillroute.Router`` to the benchmark ``System``."""

    name = "skillroute"

    def __init__(
        self, encoder: Any, random_state: int = 0, *, learn_from_dataset: bool = False
    ) -> None:
        self.encoder = encoder
        self.random_state = random_state
        self.learn_from_dataset = learn_from_dataset
        self.dropped_ = 0
        self.router_: Any = None
        self.to_skill_: dict[str, str] = {}
        self.to_route_: dict[str, str] = {}

    def build(self, routes: Mapping[str, RouteSpec]) -> None:
        """Catalog from the routes (examples as skill examples) and a fresh Router."""
        from skillroute import Catalog, Router, Skill

        self.to_skill_ = sanitize_names(list(routes))
        self.to_route_ = {skill: route for route, skill in self.to_skill_.items()}
        skills = [
            Skill(
                name=self.to_skill_[route],
                description=spec.description,
                examples=tuple(spec.examples),
            )
            for route, spec in routes.items()
        ]
        # cache=False: a warm on-disk skill cache would hide the encoding cost of build
        self.router_ = Router(Catalog.from_skills(skills), encoder=self.encoder, cache=False)
        _ = self.router_.index  # embed the skill texts now, inside build, not on first use

    def fit(self, texts: Sequence[str], labels: Sequence[str | None]) -> None:
        """Calibrate on the shared fit split; None labels become ``oos=True`` items.

        skillroute refuses to fit on texts that are also route examples (that would grade
        its head on its own training data); CLINC150's val repeats a few train texts, so
        those items are left out here and counted in ``describe()``.
        """
        from skillroute import Dataset, LabelledItem
        from skillroute.catalog import normalise

        examples = self._router().catalog.example_texts()
        items = [
            LabelledItem(text=text, oos=True)
            if label is None
            else LabelledItem(text=text, expect=(self.to_skill_[label],))
            for text, label in zip(texts, labels, strict=True)
            if normalise(text) not in examples
        ]
        self.dropped_ = len(texts) - len(items)
        self._router().fit(
            Dataset(items=tuple(items)),
            random_state=self.random_state,
            learn_from_dataset=self.learn_from_dataset,
        )

    def predict(self, texts: Sequence[str], k: int = 5) -> list[Prediction]:
        """``abstain`` -> None; ``ambiguous`` counts as its top candidate."""
        if not texts:
            return []
        results = self._router().route_batch(list(texts), k=k)
        return [self._prediction(result, k) for result in results]

    def describe(self) -> dict[str, object]:
        """What fit chose: head C and weight, Platt parameters, thresholds."""
        if self.router_ is None:
            return {}
        calibration = self.router_.calibration
        return {
            "head_c": calibration.head.c if calibration.head is not None else None,
            "head_weight": calibration.head_weight,
            "platt": [round(calibration.platt_a, 4), round(calibration.platt_b, 4)],
            "abstain_threshold": round(calibration.abstain_threshold, 4),
            "ambiguity_margin": calibration.ambiguity_margin,
            "learn_from_dataset": self.learn_from_dataset,
            "fit_items_dropped_as_examples": self.dropped_,
        }

    def _prediction(self, result: Any, k: int) -> Prediction:
        ranked = tuple(self.to_route_[c.name] for c in result.candidates[:k])
        if result.decision == "abstain":
            label = None
        elif result.decision == "ambiguous" or result.skill is None:
            label = ranked[0] if ranked else None
        else:
            label = self.to_route_[result.skill]
        return Prediction(label=label, ranked=ranked)

    def _router(self) -> Any:
        if self.router_ is None:
            raise RuntimeError("skillroute is not built; call build() first")
        return self.router_
