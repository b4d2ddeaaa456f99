"""Peer 1: semantic-router 1.1.1, configured as its README recommends, fully offline.

Configuration: ``IndexedRouter`` with its defaults (``LocalIndex``, ``top_k=5``,
``aggregation="mean"``) over a ``LocalEncoder`` that loads the same MiniLM folder as every
other embedding peer; one ``Route`` per route whose utterances are the route texts
(description, then examples) and whose ``description`` is the description. Calibration is
its own ``router.fit(X, y)`` on the shared fit split (None = out of scope). Two bars:

- ``documented``: ``confidence_threshold = 0.5`` on the calibrated probability, the value
  the 1.1.1 README sets after ``fit`` ("act only when it's more likely right than wrong").
- ``tuned``: the bar on that probability fitted like every other peer's
  (``benchmarks.thresholds``), so the comparison does not hinge on the default.

API gotchas found in the 1.1.1 source (site-packages/semantic_router):

1. ``fit`` no longer optimises per-route thresholds (that was 0.x). In 1.x it fits a Platt
   (or isotonic) calibrator mapping the *top raw score* to P(top route is correct) and
   leaves ``confidence_threshold`` at None, i.e. it never abstains until you set a bar.
   ``Calibrator.fit`` raises ValueError when the fit split has no wrong (or no right) top-1
   answers; when higher scores are not more often right it falls back to the base rate for
   every score (so a 0.5 bar then routes everything or nothing).
2. A route's score is the *mean* of its hits among the ``top_k=5`` nearest utterances of the
   whole index; routes without a hit score 0.0, so ranks past the hit routes are in index
   order, not by similarity. A route with one close hit can beat one with four slightly
   less close hits.
3. There is no public batch route call: ``router(query)`` routes one query. Batch scoring
   uses the private ``_scores_many`` + ``_choose``, the same path its ``fit``/``evaluate``
   use (one encoder call for the batch). ``router(query)`` runs the same two calls on a
   one-item batch, so single-query latency measures its real per-call path.
4. ``HuggingFaceEncoder`` re-implements mean pooling over ``AutoModel`` with the tokenizer's
   512-token limit; ``LocalEncoder`` runs sentence-transformers itself (256 tokens), so its
   vectors are identical to the other peers'. We use ``LocalEncoder`` for that reason.
5. ``LocalIndex.query`` recomputes the norm of every stored vector on every query, so its
   latency grows with the number of utterances (100 per route here).
6. Sync calls hop onto a background event-loop thread (``routers.base.run``) and encoder
   calls go through ``asyncio.to_thread``; that overhead is part of its measured latency.
7. It logs through its own coloured stderr handler at INFO unless
   ``SEMANTIC_ROUTER_LOG_LEVEL`` says otherwise; ``fit`` warns when fit queries are stored
   utterances (3 CLINC val texts also occur in train).
8. ``router(query, limit=1)`` (and ``_choose(..., 1, ...)``) returns one ``RouteChoice``
   (``name=None`` when nothing clears the bar); any other limit returns a list, possibly
   empty. The return type depends on the argument, so ``_choices`` never asks for 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from benchmarks.systems import Prediction, RouteSpec
from benchmarks.thresholds import fit_abstain_threshold

__all__ = ["DOCUMENTED_BAR", "SemanticRouterSystem", "import_error", "make_encoder"]

DOCUMENTED_BAR = 0.5
Bar = Literal["documented", "tuned"]


def import_error() -> str | None:
    """Why semantic-router cannot be used here, or None when it can."""
    try:
        import semantic_router  # noqa: F401
        from semantic_router.encoders import LocalEncoder  # noqa: F401
    except ImportError as exc:
        return (
            f"semantic-router is not installed ({exc}); pip install -r benchmarks/requirements.txt"
        )
    return None


def make_encoder(model_path: Path) -> Any:
    """Its own encoder object over our MiniLM folder (loaded once, shared by its variants)."""
    from semantic_router.encoders import LocalEncoder

    return LocalEncoder(name=str(model_path), device="cpu")


class SemanticRouterSystem:
    """Adapter from semantic-router's ``IndexedRouter`` to the benchmark ``System``."""

    def __init__(self, encoder: Any, bar: Bar = "documented") -> None:
        self.encoder = encoder
        self.bar = bar
        self.name = "semantic-router" if bar == "documented" else "semantic-router (tuned bar)"
        self.router_: Any = None
        self.fit_report_: Any = None

    def build(self, routes: Mapping[str, RouteSpec]) -> None:
        """Build a fresh router; this embeds every utterance through its own encoder."""
        from semantic_router import IndexedRouter, Route

        self.fit_report_ = None
        self.router_ = IndexedRouter(
            encoder=self.encoder,
            routes=[
                Route(name=name, utterances=list(spec.texts), description=spec.description)
                for name, spec in routes.items()
            ],
        )

    def fit(self, texts: Sequence[str], labels: Sequence[str | None]) -> None:
        """Its own calibration, then the bar (documented 0.5, or fitted like the others)."""
        router = self._router()
        self.fit_report_ = router.fit(X=list(texts), y=list(labels))
        if self.bar == "documented":
            router.confidence_threshold = DOCUMENTED_BAR
            return
        router.confidence_threshold = None
        best = [self._choices(s, 1)[0] for s in self._scores(texts)]
        confidence = [c.confidence for c in best]
        top = [c.name for c in best]
        router.confidence_threshold = fit_abstain_threshold(confidence, top, labels)

    def predict(self, texts: Sequence[str], k: int = 5) -> list[Prediction]:
        """Batch-score, then let the router's own ``_choose`` apply its bar."""
        router = self._router()
        out = []
        for scores in self._scores(texts):
            pick = router._choose(scores, 1, None)  # private: its decision, verbatim
            ranked = tuple(c.name for c in self._choices(scores, k))
            out.append(Prediction(label=pick.name, ranked=ranked))
        return out

    def describe(self) -> dict[str, object]:
        """The bar and what its calibration reported."""
        report = self.fit_report_
        return {
            "threshold": None if self.router_ is None else self.router_.confidence_threshold,
            "calibration": None
            if report is None
            else {"method": report.method, "n": report.n, "ece": report.ece},
        }

    def _router(self) -> Any:
        if self.router_ is None:
            raise RuntimeError(f"{self.name} is not built; call build() first")
        return self.router_

    def _scores(self, texts: Sequence[str]) -> list[dict[str, float]]:
        from semantic_router.routers.base import run

        if not texts:
            return []
        return run(self._router()._scores_many(list(texts)))  # private: no public batch call

    def _choices(self, scores: dict[str, float], k: int) -> list[Any]:
        # threshold=-inf: every route passes, so this is the plain ranking by raw score.
        # limit=1 would return a bare RouteChoice instead of a list, so ask for >= 2
        return self._router()._choose(scores, max(k, 2), float("-inf"))[:k]
