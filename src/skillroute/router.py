"""`Router`: the typed entry point — catalog + encoder + calibration + rules → `RouteResult`.

Routing a batch is one encoder call for the task texts, one matrix product against the
cached skill embeddings, a fitted calibration for confidences and thresholds, and the
catalog's rules for lanes, replacements and plans.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from skillroute.arbiter import OPTION_DEPTH, OptionFeatures
from skillroute.bundled import bundled_catalog_path
from skillroute.cache import EmbeddingCache
from skillroute.calibration import CALIBRATION_FILE, Calibration, load_calibration
from skillroute.catalog import Catalog
from skillroute.encoders import Embeddings, Encoder, SentenceTransformerEncoder
from skillroute.errors import InputError, SkillrouteWarning
from skillroute.everyday import EverydayCheck
from skillroute.result import Candidate, RouteResult
from skillroute.rules import Outcome, RuleEngine, TaskSignals
from skillroute.scoring import ScoreBatch, SkillIndex
from skillroute.signals import PhraseSet
from skillroute.spelling import Speller
from skillroute.text import clean_task, encoder_text

if TYPE_CHECKING:
    from skillroute.dataset import Dataset

__all__ = ["Router"]

CalibrationSource = Calibration | Path | str | Literal["auto"] | None


class Router:
    """Routes free-text tasks to the skills of one catalog.

    >>> router = Router.from_catalog()                     # the bundled catalog
    >>> router.route("add retries to my celery task").skill
    'django-celery'
    """

    def __init__(
        self,
        catalog: Catalog,
        *,
        encoder: Encoder | None = None,
        calibration: CalibrationSource = "auto",
        cache: EmbeddingCache | bool = True,
    ) -> None:
        self.catalog = catalog
        self.encoder = encoder if encoder is not None else SentenceTransformerEncoder()
        if cache is True:
            self.cache: EmbeddingCache | None = EmbeddingCache()
        else:
            self.cache = cache or None
        self.rules = RuleEngine(catalog)
        self.speller = Speller(catalog.routing.spelling)
        self.everyday = EverydayCheck(PhraseSet(catalog.routing.out_of_scope.homonyms))
        self.options = OptionFeatures(catalog)
        self.calibration = self._usable(self._resolve(calibration))
        self._index: SkillIndex | None = None
        self._texts = catalog.routing_texts()
        self._lock = threading.Lock()

    @classmethod
    def from_catalog(
        cls,
        path: Path | str | None = None,
        *,
        encoder: Encoder | None = None,
        model: str | Path | None = None,
        strict: bool = False,
        calibration: CalibrationSource = "auto",
        cache: EmbeddingCache | bool = True,
    ) -> Router:
        """A router over the catalog folder at ``path`` (None: the bundled catalog).

        ``model`` picks the sentence-transformers model when no ``encoder`` is given.
        ``calibration="auto"`` uses the catalog's ``calibration.json`` when it matches.
        """
        if encoder is not None and model is not None:
            raise InputError("pass either encoder= or model=, not both")
        catalog = Catalog.from_dir(
            path if path is not None else bundled_catalog_path(), strict=strict
        )
        chosen = encoder if encoder is not None else SentenceTransformerEncoder(model)
        return cls(catalog, encoder=chosen, calibration=calibration, cache=cache)

    def __repr__(self) -> str:
        fitted = "fitted" if self.calibration.fit is not None else "default calibration"
        return f"Router({self.catalog!r}, {self.encoder.model_id}, {fitted})"

    # -- calibration ---------------------------------------------------------------------

    def _resolve(self, source: CalibrationSource) -> Calibration | None:
        if isinstance(source, Calibration) or source is None:
            return source
        if source == "auto":
            root = self.catalog.root
            if root is None or not (root / CALIBRATION_FILE).is_file():
                return None
            return load_calibration(root / CALIBRATION_FILE)
        return load_calibration(source)

    def _usable(self, calibration: Calibration | None) -> Calibration:
        if calibration is None:
            return Calibration.default()
        problem = calibration.problem_with(
            self.encoder.model_id, self.catalog.fingerprint(), self.catalog.names
        )
        if problem is None:
            return calibration
        warnings.warn(
            f"calibration ignored: {problem}; using default thresholds",
            SkillrouteWarning,
            stacklevel=3,
        )
        return Calibration.default()

    @property
    def calibration(self) -> Calibration:
        """The fitted (or default) parameters in use."""
        return self._calibration

    @calibration.setter
    def calibration(self, value: Calibration) -> None:
        self._calibration = value
        self._head = value.head.to_head() if value.head is not None else None
        self._arbiter = value.arbiter.to_arbiter() if value.arbiter is not None else None

    def fit(
        self,
        dataset: Dataset,
        *,
        random_state: int = 0,
        learn_head: bool = True,
        learn_from_dataset: bool = True,
        arbiter_data: Dataset | None = None,
        lexical: bool = True,
        memory: bool = False,
    ) -> Router:
        """Learn the head, mixing weight, confidence calibration, thresholds and arbiter.

        The head learns from the catalog's examples and (``learn_from_dataset``) the
        dataset's in-scope items, reading their embeddings and (``lexical``) their words
        (`skillroute.lexicon`), and (``memory``) may remember those items for a similarity
        vote (`skillroute.memory`); thresholds are chosen on out-of-fold scores; the
        arbiter learns from the dataset and ``arbiter_data``.  No dataset may repeat catalog
        examples.  Returns ``self``, like scikit-learn.
        """
        from skillroute.fitting import fit_calibration

        self.calibration = fit_calibration(
            self,
            dataset,
            random_state=random_state,
            learn_head=learn_head,
            learn_from_dataset=learn_from_dataset,
            arbiter_data=arbiter_data,
            lexical=lexical,
            memory=memory,
        )
        return self

    def save_calibration(self, path: Path | str | None = None) -> Path:
        """Write the current calibration (default: ``<catalog>/calibration.json``)."""
        if path is None:
            if self.catalog.root is None:
                raise InputError("this catalog was built in code: pass a path to save to")
            path = self.catalog.root / CALIBRATION_FILE
        return self.calibration.save(path)

    # -- the index -----------------------------------------------------------------------

    @property
    def index(self) -> SkillIndex:
        """The skills' embeddings, computed (or read from the cache) on first use."""
        if self._index is None:
            with self._lock:
                if self._index is None:
                    vectors = self._encode_catalog_texts(self.catalog_texts()[0])
                    self._index = SkillIndex(vectors, [len(texts) for texts in self._texts])
        return self._index

    def embed_out_of_scope(self) -> Embeddings:
        """Embeddings of the catalog's out-of-scope examples (what fitting the head needs)."""
        examples = self.catalog_texts()[1]
        if not examples:
            return np.zeros((0, self.index.embeddings.shape[1]), dtype=np.float32)
        return self._encode_catalog_texts(examples)

    def catalog_texts(self) -> tuple[list[str], list[str]]:
        """The routing texts (skill by skill, as `index` rows) and out-of-scope examples.

        They are spelled like tasks (`prepare_task`): a typo in an example teaches nothing.
        """
        flat = [text for texts in self._texts for text in texts]
        examples = self.catalog.out_of_scope_examples
        return (
            [self.speller.correct(text) for text in flat],
            [self.speller.correct(text) for text in examples],
        )

    def _encode_catalog_texts(self, texts: list[str]) -> Embeddings:
        """Catalog texts (`catalog_texts`) change rarely: their embeddings are cached on disk."""
        if self.cache is not None:
            return self.cache.encode(self.encoder, texts)
        return self.encoder.encode(texts)

    def embed_tasks(self, texts: Sequence[str]) -> Embeddings:
        """Embeddings of prepared task texts (`prepare_task`; what the encoder reads)."""
        return self.encoder.encode([encoder_text(text) for text in texts])

    def score(
        self,
        queries: Embeddings,
        texts: Sequence[str],
        signals: Sequence[TaskSignals] | None = None,
    ) -> ScoreBatch:
        """Score embedded tasks with the current calibration's head and weight.

        ``texts`` are the prepared tasks (`prepare_task`), one per row of ``queries``;
        ``signals``, their `RuleEngine.detect` signals: a multi-step task does not
        consult the head's example memory (`skillroute.memory.mix_vote`).
        """
        one_ask = None if signals is None else [not task.multi_step for task in signals]
        return self.index.score(queries, self._head, self.calibration.head_weight, texts, one_ask)

    # -- routing -------------------------------------------------------------------------

    def prepare_task(self, text: object, *, where: str = "task") -> str:
        """A task as the router reads it: cleaned (`clean_task`), key terms spelled right.

        Raises `InputError` for a non-string, empty or oversized text.
        """
        return self.speller.correct(clean_task(text, where=where))

    def route(self, text: str, k: int = 3) -> RouteResult:
        """Route one task.  Raises `InputError` for a non-string, empty or oversized text."""
        return self._route_clean([self.prepare_task(text)], k)[0]

    def route_batch(self, texts: Sequence[str], k: int = 3) -> list[RouteResult]:
        """Route many tasks with one encoder call; results are in input order."""
        if isinstance(texts, str):
            raise InputError("route_batch() takes a list of texts; use route() for one text")
        prepared = [self.prepare_task(text, where=f"texts[{i}]") for i, text in enumerate(texts)]
        return self._route_clean(prepared, k) if prepared else []

    def _route_clean(self, texts: list[str], k: int) -> list[RouteResult]:
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise InputError(f"k must be a positive integer (got {k!r})")
        signals = [self.rules.detect(text) for text in texts]
        batch = self.score(self.embed_tasks(texts), texts, signals)
        order = batch.top_k(max(k, self.rules.depth, OPTION_DEPTH))
        rows = np.arange(len(texts))[:, None]
        top_scores = batch.score[rows, order]
        confidences = self.calibration.confidence(top_scores)
        names = self.catalog.names
        outcomes = []
        for row, task in enumerate(signals):
            ranked = [names[j] for j in order[row]]
            outcome = self.rules.settle(
                task, ranked, top_scores[row], float(confidences[row][0]), self.calibration
            )
            outcomes.append(self.arbitrate(outcome, ranked, batch, row, task))
        self.check_everyday(batch, signals, outcomes)
        return [
            self._result(
                outcome,
                self._candidates(batch, row, order[row][:k], confidences[row]),
                signals[row],
                float(confidences[row][0]),
            )
            for row, outcome in enumerate(outcomes)
        ]

    def arbitrate(
        self, outcome: Outcome, ranked: list[str], batch: ScoreBatch, row: int, task: TaskSignals
    ) -> Outcome:
        """The fitted arbiter's last word on the primary skill (unchanged without one).

        A primary it picks over the rules' choice gets the plan the rules would make for it.
        """
        if self._arbiter is None or outcome.primary is None:
            return outcome
        options = self.options.options(outcome, ranked)
        features = self.options.matrix(
            options, batch.score[row], batch.similarity[row], task, outcome
        )
        settled = self._arbiter.settle(outcome, options[self._arbiter.choose(features)])
        return settled if settled is outcome else self.rules.replan(task, settled)

    def check_everyday(
        self, batch: ScoreBatch, signals: list[TaskSignals], outcomes: list[Outcome]
    ) -> None:
        """Abstain on routed tasks that lean out of scope and stand only on homonyms.

        Replaces those entries of ``outcomes`` in place.  The few suspects are embedded
        again, without their homonyms, in one encoder call.
        """
        if not self.everyday or batch.no_skill is None:
            return
        suspects = []
        for row, outcome in enumerate(outcomes):
            if outcome.primary is None or not self.everyday.leans_out(float(batch.no_skill[row])):
                continue
            masked = self.everyday.masked(signals[row].text)
            if masked is not None:
                suspects.append((row, masked))
        if not suspects:
            return
        masked_texts = [masked.text for _, masked in suspects]
        rescored = self.score(
            self.embed_tasks(masked_texts), masked_texts, [signals[row] for row, _ in suspects]
        )
        confidences = self.calibration.confidence(rescored.score.max(axis=1))
        for (row, masked), confidence in zip(suspects, confidences, strict=True):
            if confidence < self.calibration.abstain_threshold:
                outcomes[row] = self.everyday.abstain(outcomes[row], masked.words)

    def _candidates(
        self, batch: ScoreBatch, row: int, indices: np.ndarray, confidences: np.ndarray
    ) -> tuple[Candidate, ...]:
        # one conversion per array, not one numpy scalar per field
        scores = batch.score[row, indices].round(6).tolist()
        similarities = batch.similarity[row, indices].round(6).tolist()
        calibrated = confidences[: len(indices)].round(6).tolist()
        candidates = []
        for rank, j in enumerate(indices.tolist()):
            skill = self.catalog.skills[j]
            candidates.append(
                Candidate(  # validating is cheaper than model_construct in pydantic-core
                    name=skill.name,
                    score=scores[rank],
                    confidence=calibrated[rank],
                    similarity=similarities[rank],
                    matched=self._texts[j][self.index.best_text(batch, row, j)],
                    lane=skill.lane,
                    stage=skill.stage,
                )
            )
        return tuple(candidates)

    def _result(
        self,
        outcome: Outcome,
        candidates: tuple[Candidate, ...],
        signals: TaskSignals,
        confidence: float,
    ) -> RouteResult:
        primary = outcome.primary
        stage = self.catalog[primary].stage if primary is not None else None
        implications = tuple(
            dict.fromkeys(text for name in outcome.plan for text in self.catalog[name].implications)
        )
        return RouteResult(
            decision=outcome.decision,
            skill=primary,
            confidence=round(confidence, 6),
            candidates=candidates,
            lane=outcome.lane if primary is not None else None,
            stage=stage,
            plan=outcome.plan,
            rules=tuple(outcome.fired),
            implications=implications,
            next_action=self._next_action(outcome, candidates),
            signals=signals.public(),
        )

    def _next_action(self, outcome: Outcome, candidates: tuple[Candidate, ...]) -> str:
        if outcome.decision == "abstain" or outcome.primary is None:
            return "No skill in this catalog fits: answer without one, or ask the user to clarify."
        if outcome.decision == "ambiguous":
            names = " or ".join(f"'{c.name}'" for c in candidates[:2])
            return f"Ask the user (or let the model choose) between {names}, then load that skill."
        where = self.catalog[outcome.primary].skill_file
        action = f"Load '{outcome.primary}'" + (f" ({where})" if where is not None else "")
        rest = outcome.plan[1:]
        if rest:
            action += ", then " + " → ".join(rest)
        return action + "."
