"""`fit_calibration`: learn a router's parameters from held-out labelled tasks.

What is learned, and from what:

- the **linear head** (multinomial logistic regression on frozen embeddings and, when
  that does better out of fold, on word features, `skillroute.lexicon`) from the catalog's own
  texts — descriptions and examples — and, with ``learn_from_dataset``, from the
  dataset's items too, so it generalises from examples rather than only
  matching them.  Asked to (``memory``), the head may also keep an **example memory**
  (`skillroute.memory`): the dataset's one-ask items vote for their classes by
  similarity, mixed in with a share searched out of fold (each item hearing only the
  other files' items), kept only when it does better.  The catalog's
  out-of-scope examples and the dataset's out-of-scope items train one more class, "no
  skill", so the head learns where the catalog ends.
  Everything below is then judged on *out-of-fold* scores (K-fold cross-fitting), so
  the head is never graded on what it was trained on; its regularisation ``C`` is
  chosen the same way;
- the **mixing weight** between head probability and cosine similarity;
- **Platt scaling**: score → P(candidate is right), from the dataset's top candidates;
- the **abstain threshold**, **ambiguity margin** and the confidence above which a plan
  keeps the top candidate as primary (separately for questions, whose context often names
  other stages), maximising the share of dataset items the router gets right *after
  rules* (an abstention is right for an out-of-scope item; an ambiguous answer earns half
  when the right skill is among the two offered).
- the **arbiter** (`skillroute.arbiter`): which option leads — the rules' choice, a plan
  step or a top candidate — learned from the same out-of-fold outcomes plus any
  ``arbiter_data``, and kept only when it beats the rules' choice under cross-validation
  (more likely right options, no fewer items right).

The dataset must not contain catalog examples (that would grade the head on its own
training data): fitting refuses, with a warning listing them.
"""

from __future__ import annotations

import dataclasses
import itertools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numpy.typing import NDArray

from skillroute.arbiter import ARBITER_FEATURES, OPTION_DEPTH, Arbiter
from skillroute.calibration import (
    ArbiterParams,
    Calibration,
    FitSummary,
    HeadParams,
    LexiconParams,
    MemoryParams,
)
from skillroute.errors import DatasetError, SkillrouteWarning
from skillroute.lexicon import Lexicon
from skillroute.memory import MEMORY_TEMPERATURE, ExampleMemory, mix_vote
from skillroute.scoring import LinearHead, SkillIndex

if TYPE_CHECKING:
    from skillroute.catalog import Catalog
    from skillroute.dataset import Dataset
    from skillroute.router import Router
    from skillroute.rules import TaskSignals

__all__ = ["HEAD_C_GRID", "HEAD_WEIGHT_GRID", "MEMORY_WEIGHT_GRID", "fit_calibration"]

HEAD_C_GRID = (1.0, 2.0, 4.0, 16.0, 64.0, 256.0)
HEAD_WEIGHT_GRID = (0.25, 0.5, 0.75, 1.0)
# Head-only, on the held-out development sets, shares 0.2-0.4 did best and 0.6 already
# lost items; the search runs for the chosen head only (a fit stays ~minutes).
MEMORY_WEIGHT_GRID = (0.1, 0.2, 0.3, 0.4)
# a sharper vote (40) follows the nearest remembered task; a softer one (20) its
# neighbourhood: which generalises better to other authors depends on the data
MEMORY_TEMPERATURE_GRID = (20.0, MEMORY_TEMPERATURE)
_MARGIN_GRID = np.round(np.arange(0.0, 0.0801, 0.005), 4)
_KEEP_GRID = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.01)  # 1.01: a plan always starts at step one
# A question ("how do I ...?") asks one thing, however many stages its context names.  Fit
# data rarely has a question whose plan would override a confident candidate, so the
# grid starts at the prior measured on the development sets (0.9: dev and the challenge
# sets gain 14 items, forum posts most); the fit data overrides it only when it disagrees.
_QUESTION_KEEP_GRID = (0.9, *(value for value in _KEEP_GRID if value != 0.9))
_AMBIGUOUS_CREDIT = 0.5
_WORD_DECIMALS = 4  # word weights, rounded for a smaller file: logits move by < 1e-3
# The arbiter's regularisation is fixed, not searched: on ~800 fit groups the
# cross-validated counts of C = 0.3, 1 and 3 differ by 1-3 items, so a search picks at
# random, while on the development sets the arbiter never learns from (dev, challenge,
# challenge5-11) C = 3 leaves 90 errors, C = 1 94, C = 0.3 99 and no arbiter 106.
_ARBITER_C = 3.0
_ARBITER_MIN_GROUPS = 10  # fewer items where the options disagree: keep the rules' choice
_ARBITER_FOLDS = 5
_RULES_CHOICE = ARBITER_FEATURES.index("rules_choice")  # the rules-alone baseline's feature
_RANK_DEPTH = 3  # candidates per fit item the rules and the ambiguity margin look at


@dataclass(frozen=True)
class _Outcomes:
    """Per fit item, how the rules would settle each similarity-level decision."""

    routed_right: NDArray[np.bool_]  # primary after rules is acceptable, if routed
    confident_right: NDArray[np.bool_]  # the same when the top candidate counts as confident
    top_two_right: NDArray[np.bool_]  # an acceptable skill is among the top two
    rule_abstains: NDArray[np.bool_]  # an abstain rule fires whatever the scores
    rule_forces: NDArray[np.bool_]  # a route rule fires even when similarity abstains
    tie_resolves: NDArray[np.bool_]  # rules settle an ambiguous decision


class _HeadChoice(NamedTuple):
    """A head to try: its regularisation, whether it reads word features, its memory's share."""

    c: float
    words: bool
    memory: float = 0.0
    temperature: float = MEMORY_TEMPERATURE

    @property
    def linear(self) -> _HeadChoice:
        """The same head without a memory: the key its linear part is trained and memoised by."""
        return _HeadChoice(self.c, self.words)


@dataclass(frozen=True)
class _Candidate:
    utility: float
    head: _HeadChoice | None
    head_weight: float
    platt: tuple[float, float]
    abstain_threshold: float  # the four bars under the names `DecisionBars` reads
    ambiguity_margin: float
    plan_keep_confidence: float
    question_keep_confidence: float


def fit_calibration(
    router: Router,
    dataset: Dataset,
    *,
    random_state: int = 0,
    learn_head: bool = True,
    learn_from_dataset: bool = True,
    folds: int = 5,
    arbiter_data: Dataset | None = None,
    lexical: bool = True,
    memory: bool = False,
) -> Calibration:
    """Fit a `Calibration` for ``router`` on ``dataset`` (see the module docstring).

    ``lexical``: heads that also read the task's words and word pairs (`skillroute.lexicon`)
    are tried too (their vocabulary learned with them, fold by fold) and kept when they
    do better out of fold than every embedding-only head.

    ``memory``: with ``learn_from_dataset``, the chosen head is also tried with an example
    memory of the dataset's items (`skillroute.memory`), kept when it does better out of
    fold.  Off by default: on the bundled data it did not help the sets nobody had read
    (data/README.md, "Example memory").

    ``arbiter_data``: more labelled tasks that only the arbiter learns from, scored by the
    fitted head (which never sees them); useful when they are written in other styles, or
    labelled by other hands, than the data the head should learn its classes from.
    """
    catalog = router.catalog
    for data in (dataset, *([arbiter_data] if arbiter_data is not None else [])):
        _check_held_out(data, catalog)
    expected = [set(item.expect) for item in dataset.items]
    oos = np.array([item.oos for item in dataset.items])
    if oos.all():
        raise DatasetError("needs in-scope items (with expect:) to fit", path=dataset.source)
    texts = [
        router.prepare_task(item.text, where=f"item {i}") for i, item in enumerate(dataset.items)
    ]
    queries = router.embed_tasks(texts)
    signals = [router.rules.detect(text) for text in texts]
    questions = np.array([signal.question for signal in signals])
    index = router.index
    names = catalog.names
    labels = np.array(
        [names.index(item.expect[0]) if item.expect else -1 for item in dataset.items]
    )
    learner = _HeadLearner(
        index,
        router.embed_out_of_scope(),
        router.catalog_texts(),
        _Tasks(
            queries,
            texts,
            labels if learn_from_dataset else None,
            np.asarray(dataset.part_of_items(), dtype=np.intp),
            np.array([len(item.plan) < 2 for item in dataset.items], dtype=bool),
            np.array([not signal.multi_step for signal in signals], dtype=bool),
        ),
        folds,
        random_state,
    )
    grid: list[tuple[_HeadChoice | None, float]] = [(None, 0.0)]
    if learn_head and len(names) >= 2:
        # embedding-only heads first: word features are kept only when they do better
        grid += [
            (_HeadChoice(c, words), weight)
            for words in ((False, True) if lexical else (False,))
            for c in HEAD_C_GRID
            for weight in HEAD_WEIGHT_GRID
        ]
    search = _BarSearch(
        router, learner, expected, oos, questions, signals, max(_RANK_DEPTH, router.rules.depth)
    )
    best: _Candidate | None = None
    for head, weight in grid:
        candidate = search.best(head, weight)
        if best is None or candidate.utility > best.utility + 1e-9:
            best = candidate
    assert best is not None
    if memory and learn_from_dataset and best.head is not None:
        # the memory is tried on the chosen head only, with every mixing weight
        chosen = best.head
        for share, temperature, weight in itertools.product(
            MEMORY_WEIGHT_GRID, MEMORY_TEMPERATURE_GRID, HEAD_WEIGHT_GRID
        ):
            candidate = search.best(chosen._replace(memory=share, temperature=temperature), weight)
            if candidate.utility > best.utility + 1e-9:
                best = candidate
    assert best is not None
    best_head = learner.final(best.head) if best.head is not None else None
    sources = [
        _ArbiterItems(
            learner.out_of_fold(best.head, best.head_weight),
            learner.similarity,
            signals,
            expected,
        )
    ]
    if arbiter_data is not None:
        sources.append(_score_for_arbiter(router, arbiter_data, best_head, best.head_weight))
    groups = [group for items in sources for group in _arbiter_groups(router, best, items)]
    arbiter = _fit_arbiter(groups, random_state)
    return Calibration(
        model_id=router.encoder.model_id,
        catalog_fingerprint=catalog.fingerprint(),
        head=_params(best_head, names, best.head.c if best.head is not None else None),
        head_weight=best.head_weight,
        platt_a=best.platt[0],
        platt_b=best.platt[1],
        abstain_threshold=best.abstain_threshold,
        ambiguity_margin=best.ambiguity_margin,
        plan_keep_confidence=best.plan_keep_confidence,
        question_keep_confidence=best.question_keep_confidence,
        arbiter=arbiter,
        fit=FitSummary(
            dataset=dataset.source,
            items=len(dataset),
            in_scope=int((~oos).sum()),
            out_of_scope=int(oos.sum()),
            random_state=random_state,
            utility=round(best.utility, 6),
            arbiter_data=arbiter_data.source if arbiter_data is not None else None,
        ),
    )


@dataclass(frozen=True)
class _BarSearch:
    """Finds the best bars (Platt, threshold, margin, keep levels) for one head, out of fold."""

    router: Router
    learner: _HeadLearner
    expected: Sequence[set[str]]
    oos: NDArray[np.bool_]
    questions: NDArray[np.bool_]
    signals: Sequence[TaskSignals]
    depth: int

    def best(self, head: _HeadChoice | None, weight: float) -> _Candidate:
        """The best candidate for ``head`` mixed with similarity at ``weight``."""
        names = self.router.catalog.names
        batch_score = self.learner.out_of_fold(head, weight)
        order = np.argsort(-batch_score, axis=1, kind="stable")[:, : self.depth]
        ranked = [[names[j] for j in row] for row in order]
        top = np.take_along_axis(batch_score, order, axis=1)
        platt = _platt(top, ranked, self.expected)
        outcomes = _outcomes(self.router, self.signals, ranked, self.expected)
        confidence = _sigmoid(platt[0] * top[:, 0] + platt[1])
        searched: dict[bytes, tuple[float, float, float]] = {}
        found: _Candidate | None = None
        for keep, question_keep in itertools.product(_KEEP_GRID, _QUESTION_KEEP_GRID):
            confident = confidence >= np.where(self.questions, question_keep, keep)
            routed_right = np.where(confident, outcomes.confident_right, outcomes.routed_right)
            # bars that leave the same items right give the same search: do it once
            key = routed_right.tobytes()
            if key not in searched:
                searched[key] = _thresholds(
                    confidence, top[:, 0] - top[:, 1], self.oos, outcomes, routed_right
                )
            utility, threshold, margin = searched[key]
            candidate = _Candidate(
                utility, head, weight, platt, threshold, margin, keep, question_keep
            )
            if found is None or candidate.utility > found.utility + 1e-9:
                found = candidate
        assert found is not None
        return found


@dataclass(frozen=True)
class _Tasks:
    """The fit items as the head learns from them."""

    queries: NDArray[np.float32]  # embeddings
    texts: Sequence[str]  # prepared texts (for word features)
    labels: NDArray[np.intp] | None  # skill index, -1 out of scope; None: do not learn
    parts: NDArray[np.intp] | None = None  # which joined file each item came from
    single: NDArray[np.bool_] | None = None  # asks for one thing (no plan): the memory's items
    one_ask: NDArray[np.bool_] | None = None  # the rules see one ask: it consults the memory


class _HeadLearner:
    """Trains heads and scores the fit items out of fold (memoised per ``C``)."""

    def __init__(
        self,
        index: SkillIndex,
        negatives: NDArray[np.float32],
        catalog_texts: tuple[Sequence[str], Sequence[str]],
        tasks: _Tasks,
        folds: int,
        random_state: int,
    ) -> None:
        self.index = index
        self.queries = tasks.queries
        self.texts = list(tasks.texts)
        self.random_state = random_state
        labels = tasks.labels
        has_oos_items = labels is not None and bool((labels < 0).any())
        # the "no skill" class, when there is anything to learn it from
        self.out_of_scope = len(negatives) > 0 or has_oos_items
        if labels is not None and self.out_of_scope:
            labels = np.where(labels < 0, index.n_skills, labels)
        self.labels = labels
        # every head learns from the catalog's texts and its out-of-scope examples
        none = np.full(len(negatives), index.n_skills, dtype=index.owners.dtype)
        self._fixed_x = np.vstack([index.embeddings, negatives])
        self._fixed_y = np.concatenate([index.owners, none])
        self._fixed_texts = [*catalog_texts[0], *catalog_texts[1]]
        self.similarity = index.score(self.queries).similarity
        self._probabilities: dict[_HeadChoice, NDArray[np.float64]] = {}
        self._votes: dict[float, NDArray[np.float64]] = {}  # per temperature
        n_folds = min(folds, len(self.queries)) if labels is not None else 1
        rng = np.random.default_rng(random_state)
        self.fold_of = rng.permutation(len(self.queries)) % max(n_folds, 1)
        self.n_folds = n_folds
        parts = tasks.parts
        # a multi-step item is labelled with its first stage's skill, which says where a
        # plan starts, not what a task is about: the memory keeps one-ask items only
        self.remembered = (
            tasks.single if tasks.single is not None else np.ones(len(self.queries), dtype=bool)
        )
        self.one_ask = tasks.one_ask
        # the memory is judged on tasks from files it does not hold (see `_vote_out_of_fold`)
        self.memory_fold_of = (
            parts if parts is not None and len(np.unique(parts)) > 1 else self.fold_of
        )

    def _training_set(
        self, mask: NDArray[np.bool_]
    ) -> tuple[NDArray[np.float32], NDArray[np.intp], list[str]]:
        x, y, texts = self._fixed_x, self._fixed_y, self._fixed_texts
        if self.labels is None:
            return x, y, texts
        keep = mask & (self.labels >= 0)
        return (
            np.vstack([x, self.queries[keep]]),
            np.concatenate([y, self.labels[keep]]),
            texts + [self.texts[i] for i in np.flatnonzero(keep)],
        )

    def out_of_fold(self, choice: _HeadChoice | None, weight: float) -> NDArray[np.float64]:
        """Scores of every fit item from heads that never saw it."""
        if choice is None:
            return self.similarity
        probabilities = self._linear_out_of_fold(choice.linear)
        if choice.memory:
            vote = self._vote_out_of_fold(choice.temperature)
            skills = self.index.n_skills
            if self.out_of_scope:  # "no skill" takes what the skills leave
                probabilities = np.hstack([probabilities, 1 - probabilities.sum(axis=1)[:, None]])
            probabilities = mix_vote(
                probabilities, choice.memory, lambda rows: vote[rows], self.one_ask
            )
            probabilities = probabilities[:, :skills]
        return weight * probabilities + (1.0 - weight) * self.similarity

    def _linear_out_of_fold(self, choice: _HeadChoice) -> NDArray[np.float64]:
        """P(skill) of every fit item from linear heads that never saw it (memoised)."""
        if choice not in self._probabilities:
            probabilities = np.zeros_like(self.similarity)
            for fold in range(self.n_folds):
                held_out = self.fold_of == fold
                head = self._train(~held_out, choice)
                probabilities[held_out] = head.probabilities(
                    self.queries[held_out], [self.texts[i] for i in np.flatnonzero(held_out)]
                )
            self._probabilities[choice] = probabilities
        return self._probabilities[choice]

    def _vote_out_of_fold(self, temperature: float) -> NDArray[np.float64]:
        """Every fit item's memory vote, from the labelled items of the *other files*.

        Items of one file share an author, a style and often a template: voting from
        its siblings, an item looks easier than a stranger's task will, and the memory
        would get a larger share than it earns on new authors' tasks.  So each item
        hears only the items of the other files joined into the dataset; a dataset of one
        file falls back to the random folds.
        """
        if temperature not in self._votes:
            if self.labels is None:
                raise AssertionError("a memory needs the dataset's labels")
            vote = np.zeros((len(self.queries), self._classes))
            for fold in np.unique(self.memory_fold_of):
                held_out = self.memory_fold_of == fold
                pool = ~held_out & self.remembered
                memory = ExampleMemory.remember(
                    self.queries[pool], self.labels[pool], self._classes, temperature
                )
                vote[held_out] = memory.probabilities(self.queries[held_out])
            self._votes[temperature] = vote
        return self._votes[temperature]

    @property
    def _classes(self) -> int:
        return self.index.n_skills + self.out_of_scope

    def final(self, choice: _HeadChoice) -> LinearHead:
        """The head used at routing time: trained on everything."""
        head = self._train(np.ones(len(self.queries), dtype=bool), choice.linear)
        if not choice.memory:
            return head
        memory = self._memory(choice.temperature)
        return dataclasses.replace(head, memory=memory, memory_weight=choice.memory)

    def _memory(self, temperature: float) -> ExampleMemory:
        """Every one-ask fit item: what the out-of-fold votes were drawn from.

        (Keeping only the items the linear head is unsure of halves the rows but biases
        the vote: around an easy item, the remaining neighbours are other skills' hard
        ones.)
        """
        if self.labels is None:
            raise AssertionError("a memory needs the dataset's labels")
        keep = self.remembered
        return ExampleMemory.remember(
            self.queries[keep], self.labels[keep], self._classes, temperature
        )

    def _train(self, mask: NDArray[np.bool_], choice: _HeadChoice) -> LinearHead:
        x, y, texts = self._training_set(mask)
        lexicon = Lexicon.learn(texts) if choice.words else None
        return _train_head(
            x, y, texts, self._classes, choice.c, self.random_state, self.out_of_scope, lexicon
        )


def _train_head(
    x: NDArray[np.float32],
    y: NDArray[np.intp],
    texts: Sequence[str],
    classes: int,
    c: float,
    random_state: int,
    out_of_scope: bool,
    lexicon: Lexicon | None,
) -> LinearHead:
    """Multinomial logistic regression from text embeddings (and words) to skill indices."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    features: NDArray[np.float32] | sparse.csr_matrix = x
    if lexicon is not None and len(lexicon):
        words = lexicon.features(texts)
        counts = sparse.csr_matrix((words.values, (words.rows, words.columns)), shape=words.shape)
        features = sparse.hstack([sparse.csr_matrix(x), counts], format="csr")
    model = LogisticRegression(C=c, max_iter=3000, random_state=random_state)
    model.fit(features, y)
    coef = np.asarray(model.coef_, dtype=np.float32)
    bias = np.asarray(model.intercept_, dtype=np.float32)
    if coef.shape[0] == 1:  # binary: sigmoid(w.x + b) == softmax([0, w.x + b])
        coef = np.vstack([np.zeros_like(coef), coef])
        bias = np.concatenate([np.zeros(1, dtype=np.float32), bias])
    if coef.shape[0] != classes:
        raise AssertionError(f"head has {coef.shape[0]} classes, expected {classes}")
    dim = x.shape[1]
    if coef.shape[1] == dim:
        return LinearHead(coef, bias, out_of_scope)
    return LinearHead(coef[:, :dim], bias, out_of_scope, lexicon, coef[:, dim:])


def _params(head: LinearHead | None, names: Sequence[str], c: float | None) -> HeadParams | None:
    if head is None or c is None:
        return None
    lexicon, memory = None, None
    if head.memory is not None:
        vectors, scales = head.memory.encoded()
        memory = MemoryParams(
            weight=head.memory_weight,
            temperature=head.memory.temperature,
            counts=tuple(int(count) for count in head.memory.counts),
            scales=scales,
            vectors=vectors,
        )
    if head.lexicon is not None and head.word_weights is not None:
        lexicon = LexiconParams(
            terms=head.lexicon.terms,
            idf=tuple(round(float(v), 6) for v in head.lexicon.idf),
            scale=head.lexicon.scale,
            # term by term, so a refit's diff reads as "these words moved"
            weights=tuple(
                tuple(round(float(v), _WORD_DECIMALS) for v in row) for row in head.word_weights.T
            ),
        )
    return HeadParams(
        skills=tuple(names),
        weights=tuple(tuple(round(float(v), 7) for v in row) for row in head.weights),
        bias=tuple(round(float(v), 7) for v in head.bias),
        c=c,
        out_of_scope=head.out_of_scope,
        lexicon=lexicon,
        memory=memory,
    )


def _platt(
    scores: NDArray[np.float64], ranked: Sequence[Sequence[str]], expected: Sequence[set[str]]
) -> tuple[float, float]:
    """Fit P(candidate right) = sigmoid(a * score + b).

    Fitted on each item's top candidate — the confidence that decides — so that the
    top confidence is calibrated (measured: lower ECE than fitting on the top three);
    when those are all right or all wrong, the top three are used instead.
    """
    from sklearn.linear_model import LogisticRegression

    right = np.array(
        [
            [name in wanted for name in row[: scores.shape[1]]]
            for row, wanted in zip(ranked, expected, strict=True)
        ]
    )
    x, labels = scores[:, :1].ravel(), right[:, :1].ravel()
    if labels.all() or not labels.any():
        x, labels = scores.ravel(), right.ravel()
    if labels.all() or not labels.any():
        raise DatasetError("cannot calibrate: every top candidate is right, or none is")
    model = LogisticRegression(C=100.0, max_iter=1000)
    model.fit(x.reshape(-1, 1), labels)
    return float(model.coef_[0, 0]), float(model.intercept_[0])


def _outcomes(
    router: Router,
    signals: Sequence[object],
    ranked: Sequence[Sequence[str]],
    expected: Sequence[set[str]],
) -> _Outcomes:
    routed_right, confident_right, top_two, abstains, forces, resolves = [], [], [], [], [], []
    for signal, row, wanted in zip(signals, ranked, expected, strict=True):
        routed = router.rules.apply(signal, "routed", row)  # type: ignore[arg-type]
        confident = router.rules.apply(signal, "routed", row, confident=True)  # type: ignore[arg-type]
        ambiguous = router.rules.apply(signal, "ambiguous", row)  # type: ignore[arg-type]
        routed_right.append(routed.primary in wanted)
        confident_right.append(confident.primary in wanted)
        top_two.append(bool(wanted & set(row[:2])))
        abstains.append(routed.decision == "abstain")
        forces.append(any(rule.kind == "route" for rule in routed.fired))
        resolves.append(ambiguous.decision == "routed")
    return _Outcomes(
        np.array(routed_right),
        np.array(confident_right),
        np.array(top_two),
        np.array(abstains),
        np.array(forces),
        np.array(resolves),
    )


def _thresholds(
    confidence: NDArray[np.float64],
    margin: NDArray[np.float64],
    oos: NDArray[np.bool_],
    outcomes: _Outcomes,
    routed_right: NDArray[np.bool_],
) -> tuple[float, float, float]:
    """Grid-search the abstain threshold and ambiguity margin: (utility, threshold, margin).

    ``routed_right``: whether each item's primary after rules is right when it is routed.
    """
    levels = np.unique(np.concatenate(([0.0], confidence)))
    # thresholds halfway between observed confidences generalise better than the values
    thresholds = np.concatenate(([0.0], (levels[:-1] + levels[1:]) / 2))
    # threshold k > 0 abstains on the items whose confidence is at most levels[k - 1], so
    # the utility of every threshold is one cumulative sum over the sorted levels
    # (linear in the fit set, where a threshold-by-item matrix was quadratic)
    level = np.searchsorted(levels, confidence)
    movable = ~outcomes.rule_forces & ~outcomes.rule_abstains
    out_of_scope = oos.astype(float)
    results = []
    for value in _MARGIN_GRID:
        ambiguous = (margin < value) & ~outcomes.tie_resolves
        in_scope_credit = np.where(
            ambiguous,
            _AMBIGUOUS_CREDIT * outcomes.top_two_right,
            routed_right.astype(float),
        )
        routed_credit = np.where(oos, 0.0, in_scope_credit)
        kept = np.where(outcomes.rule_abstains, out_of_scope, routed_credit).sum()
        change = np.where(movable, out_of_scope - routed_credit, 0.0)
        per_level = np.bincount(level, weights=change, minlength=len(levels))
        utility = (kept + np.concatenate(([0.0], np.cumsum(per_level)[:-1]))) / len(oos)
        ties = np.flatnonzero(utility >= utility.max() - 1e-9)
        pick = int(ties[len(ties) // 2])  # the middle of the best plateau
        results.append((float(utility[pick]), float(thresholds[pick]), float(value)))
    top = max(utility for utility, _, _ in results)
    tied = [result for result in results if result[0] >= top - 1e-9]
    return tied[len(tied) // 2]  # margins too: the middle of the best plateau, not its edge


def _check_held_out(dataset: Dataset, catalog: Catalog) -> None:
    """Refuse (with a warning naming them) fit data that repeats the catalog's examples."""
    dataset.check_against(catalog)
    leaked = dataset.leaked(catalog)
    if leaked:
        sample = "; ".join(repr(item.text) for item in leaked[:3])
        message = (
            f"refusing to fit: {len(leaked)} dataset item(s) are also catalog examples "
            f"(e.g. {sample}); fit on data held out from the examples"
        )
        warnings.warn(message, SkillrouteWarning, stacklevel=4)
        raise DatasetError(message, path=dataset.source)


def _score_for_arbiter(
    router: Router,
    dataset: Dataset,
    head: LinearHead | None,
    weight: float,
) -> _ArbiterItems:
    """Score extra arbiter data with the fitted head (it never trained on them)."""
    texts = [
        router.prepare_task(item.text, where=f"item {i}") for i, item in enumerate(dataset.items)
    ]
    signals = [router.rules.detect(text) for text in texts]
    one_ask = [not task.multi_step for task in signals]
    batch = router.index.score(router.embed_tasks(texts), head, weight, texts, one_ask)
    return _ArbiterItems(
        batch.score,
        batch.similarity,
        signals,
        [set(item.expect) for item in dataset.items],
    )


@dataclass(frozen=True)
class _ArbiterItems:
    """Labelled tasks as the arbiter sees them: scores the head never trained on."""

    score: NDArray[np.float64]  # (items, skills)
    similarity: NDArray[np.float64]
    signals: Sequence[TaskSignals]
    expected: Sequence[set[str]]


_Group = tuple[NDArray[np.float64], NDArray[np.bool_]]  # option features, which are right


def _arbiter_groups(router: Router, best: _Candidate, items: _ArbiterItems) -> list[_Group]:
    """One group of options per in-scope item the router routes, each labelled right or not.

    Items whose options are all right or all wrong teach nothing and are left out.
    """
    depth = max(OPTION_DEPTH, router.rules.depth)
    order = np.argsort(-items.score, axis=1, kind="stable")[:, :depth]
    top = np.take_along_axis(items.score, order, axis=1)
    confidence = _sigmoid(best.platt[0] * top[:, 0] + best.platt[1])
    names = router.catalog.names
    groups: list[_Group] = []
    for i, wanted in enumerate(items.expected):
        if not wanted:
            continue
        signal = items.signals[i]
        ranked = [names[j] for j in order[i]]
        outcome = router.rules.settle(signal, ranked, top[i], float(confidence[i]), best)
        if outcome.primary is None or outcome.decision == "abstain":
            continue
        options = router.options.options(outcome, ranked)
        right = np.array([option in wanted for option in options])
        if right.all() or not right.any():
            continue
        features = router.options.matrix(
            options, items.score[i], items.similarity[i], signal, outcome
        )
        groups.append((features, right))
    return groups


def _fit_arbiter(groups: Sequence[_Group], random_state: int) -> ArbiterParams | None:
    """Train the arbiter; None unless it beats the rules' choice out of fold.

    The arbiter is judged by K-fold cross-validation over the groups (their features
    already come from heads that never saw the item, so any split is fair) against the
    rules alone, as a model too: a logistic fit on the "rules' choice" feature only.  It
    must give the right options more probability (a higher log-likelihood, summed over
    the held-out groups), must not get fewer items right, and must overrule the rules at
    least once (else it has nothing to add).  The count alone moves by a few items of
    ~800 with any change to the rules, and once flipped the arbiter away while it was
    worth 4-10 items on sets it never learns from; the likelihood sees every group, not
    only the few where the best option changes.
    """
    if len(groups) < _ARBITER_MIN_GROUPS:
        return None
    baseline = sum(bool(right[0]) for _, right in groups)
    fold_of = np.arange(len(groups)) % _ARBITER_FOLDS
    c = _ARBITER_C
    correct, overrules, log_likelihood_gain = 0, 0, 0.0
    for fold in range(_ARBITER_FOLDS):
        train = [group for group, f in zip(groups, fold_of, strict=True) if f != fold]
        held_out = [group for group, f in zip(groups, fold_of, strict=True) if f == fold]
        arbiter = _train_arbiter(train, c, random_state)
        rules_only = _train_arbiter(train, c, random_state, only=_RULES_CHOICE)
        choices = [arbiter.choose(features) for features, _ in held_out]
        correct += sum(bool(right[i]) for (_, right), i in zip(held_out, choices, strict=True))
        overrules += sum(i != 0 for i in choices)
        log_likelihood_gain += _log_likelihood(arbiter, held_out) - _log_likelihood(
            rules_only, held_out
        )
    if not overrules or correct < baseline or log_likelihood_gain <= 0:
        return None  # it never overrules the rules, gets fewer right, or is no likelier
    arbiter = _train_arbiter(groups, c, random_state)
    return ArbiterParams(
        features=ARBITER_FEATURES,
        weights=tuple(round(float(v), 7) for v in arbiter.weights),
        c=c,
        groups=len(groups),
        cv_gain=correct - baseline,
        cv_log_likelihood_gain=round(log_likelihood_gain, 3),
    )


def _train_arbiter(
    groups: Sequence[_Group], c: float, random_state: int, only: int | None = None
) -> Arbiter:
    """Pointwise logistic regression: P(option is right | its features).

    ``only`` keeps one feature (the others weigh nothing): the baseline models.
    """
    from sklearn.linear_model import LogisticRegression

    x = np.vstack([features for features, _ in groups])
    y = np.concatenate([right for _, right in groups])
    model = LogisticRegression(C=c, max_iter=3000, random_state=random_state)
    if only is None:
        model.fit(x, y)
        return Arbiter(np.asarray(model.coef_[0], dtype=np.float64))
    model.fit(x[:, [only]], y)
    weights = np.zeros(x.shape[1])
    weights[only] = model.coef_[0][0]
    return Arbiter(weights)


def _log_likelihood(arbiter: Arbiter, groups: Sequence[_Group]) -> float:
    """Sum over groups of log P(a right option), options weighed by softmax of their logits."""
    total = 0.0
    for features, right in groups:
        logits = features @ arbiter.weights
        p = np.exp(logits - logits.max())
        total += float(np.log(max(p[right].sum() / p.sum(), 1e-12)))
    return total


def _sigmoid(z: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -50, 50))), dtype=np.float64)
