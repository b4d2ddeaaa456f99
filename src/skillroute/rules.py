"""The rule engine: applies a catalog's declarative rules to a similarity ranking.

It knows nothing about any framework: lanes, stages and rules all come from the
catalog's ``routing.yaml`` (see `skillroute.routing_spec`).  Order of application:

1. ``abstain`` rules (out of scope, whatever similarity says);
2. ``route`` rules (the first that holds picks the primary skill), else ``prefer`` rules
   (intent words favour a skill already among the top candidates; below the abstain bar,
   only one of the top two);
3. ``replace`` rules on the primary (e.g. tests in a Django app → django-tdd);
4. ``plan`` rules, when the task asks for several lifecycle stages in different clauses
   ("build the API, then ship it") or for three or more stages: the steps between the
   earliest and the latest stage asked for, counting the primary skill's own stage (each
   step's ``include`` can narrow or widen that), led by the step for the stage the task
   names first (a route rule's skill that is no step leads, ahead of the steps, and so
   does a question's confident top candidate of the plan's lane; "but first" hands the
   lead to the plan's first step);
5. ``companion`` rules, adding skills after a step.

Every rule that changes the outcome is reported with a one-line effect; a prefer rule
whose skill already ranked first is reported too ("confirms ..."), as the intent behind
the choice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

from skillroute.catalog import Catalog
from skillroute.result import Decision, FiredRule, Signals
from skillroute.routing_spec import (
    AbstainRule,
    CompanionRule,
    Condition,
    PlanRule,
    PlanStep,
    PreferRule,
    ReplaceRule,
    RouteRule,
)
from skillroute.signals import PhraseSet, Span, TokenizedText, inside_longer

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Scores = Sequence[float] | NDArray[np.float64]

__all__ = ["DecisionBars", "Outcome", "RuleEngine", "TaskSignals", "similarity_decision"]

AnyRule = RouteRule | PreferRule | ReplaceRule | CompanionRule | PlanRule | AbstainRule
_MAX_REPLACEMENTS = 8  # a replace chain longer than this is a cycle in the rules


class DecisionBars(Protocol):
    """The fitted bars between a ranking and an outcome (a `Calibration` has them)."""

    @property
    def abstain_threshold(self) -> float:
        """Below this top confidence, abstain."""
        ...

    @property
    def ambiguity_margin(self) -> float:
        """Best two scores closer than this: ambiguous."""
        ...

    @property
    def plan_keep_confidence(self) -> float:
        """A top candidate this confident stays primary when a plan fires."""
        ...

    @property
    def question_keep_confidence(self) -> float:
        """The same bar for a task that asks a question."""
        ...


def similarity_decision(bars: DecisionBars, top_scores: Scores, top_confidence: float) -> Decision:
    """Abstain below the confidence bar, ambiguous when the best two are too close."""
    if top_confidence < bars.abstain_threshold:
        return "abstain"
    if len(top_scores) > 1 and top_scores[0] - top_scores[1] < bars.ambiguity_margin:
        return "ambiguous"
    return "routed"


@dataclass(frozen=True)
class _Clauses:
    """Where each clause starts, and the word it opens with (fillers such as "and" skipped)."""

    start: dict[int, int]
    opening: dict[int, str]

    @classmethod
    def of(cls, text: TokenizedText) -> _Clauses:
        start: dict[int, int] = {}
        opening: dict[int, str] = {}
        for index, (token, clause) in enumerate(zip(text.tokens, text.clause_of, strict=True)):
            start.setdefault(clause, index)
            if clause not in opening and token not in _FILLERS:
                opening[clause] = token
        return cls(start, opening)


@dataclass(frozen=True)
class TaskSignals:
    """What the task's words say: lanes and lifecycle stages, with the phrases found."""

    text: TokenizedText
    lanes: dict[str, tuple[str, ...]]
    stages: dict[str, tuple[str, ...]]
    dominant_lane: str | None
    multi_step: bool
    clauses: _Clauses  # where each clause starts and the word it opens with
    asked_at: dict[str, tuple[int, ...]] = field(default_factory=dict)  # stage -> token positions
    # the task asks a question ("...?"): one ask, whatever its context says (see `_asks`)
    question: bool = False

    @cached_property
    def opening_clause(self) -> int:
        """The task's first clause, after a label ("Ticket:"; see `_opening_clause`)."""
        first = min(self.first_asked.values(), default=len(self.text.tokens))
        return _opening_clause(self.text, first)

    @cached_property
    def first_asked(self) -> dict[str, int]:
        """Where each stage is first asked for (its first token position)."""
        return {stage: starts[0] for stage, starts in self.asked_at.items()}

    @cached_property
    def reordered(self) -> bool:
        """Whether the task says that work it names later comes first.

        "Deploy at the end, but first add the tests" names its stages out of order: the
        plan's lifecycle order says what leads, not the stage named first.
        """
        return bool(_FIRST_CUES.matches(self.text))

    def public(self) -> Signals:
        """The part reported in `RouteResult.signals`."""
        return Signals(lanes=self.lanes, stages=self.stages)


@dataclass
class Outcome:
    """The decision after rules."""

    decision: Decision
    primary: str | None
    plan: tuple[str, ...]
    lane: str | None
    fired: list[FiredRule] = field(default_factory=list)
    replaced: frozenset[str] = frozenset()  # skills a replace rule ruled out for this task
    final: bool = False  # a final route rule chose the primary (see RouteRule)

    @property
    def planned(self) -> bool:
        """Whether a plan rule made this a multi-step plan (it fires only with two steps+)."""
        return any(rule.kind == "plan" for rule in self.fired)


@dataclass(frozen=True)
class _CompiledCondition:
    any: PhraseSet
    all: PhraseSet
    none: PhraseSet
    spec: Condition


class RuleEngine:
    """Compiled rules of one catalog.  `detect` reads a task; `apply` decides."""

    def __init__(self, catalog: Catalog) -> None:
        spec = catalog.routing
        self._catalog = catalog
        self._lanes = {name: PhraseSet(lane.signals) for name, lane in spec.lanes.items()}
        self._stages = {stage.name: PhraseSet(stage.signals) for stage in spec.stages}
        self._weak_stages = {
            stage.name: PhraseSet(stage.weak_signals) for stage in spec.stages if stage.weak_signals
        }
        self._order = spec.stage_order
        self._implied = spec.implied_stage
        self._clause_words = spec.clause_words
        self._conditions = {id(rule): _compile(rule.when) for rule in spec.rules}
        for rule in spec.rules:
            if isinstance(rule, PlanRule):
                self._conditions.update(
                    (id(step), _compile(step.when)) for step in rule.steps if step.when is not None
                )
        self._abstain = [rule for rule in spec.rules if isinstance(rule, AbstainRule)]
        self._route = [rule for rule in spec.rules if isinstance(rule, RouteRule)]
        self._prefer = [rule for rule in spec.rules if isinstance(rule, PreferRule)]
        self._replace = [rule for rule in spec.rules if isinstance(rule, ReplaceRule)]
        self._plans = [rule for rule in spec.rules if isinstance(rule, PlanRule)]
        self._companions = [rule for rule in spec.rules if isinstance(rule, CompanionRule)]

    @property
    def depth(self) -> int:
        """How many ranked candidates the rules look at (prefer rules may look past k)."""
        return max([2, *(rule.within for rule in self._prefer)])

    def detect(self, text: str) -> TaskSignals:
        """Find lane and stage signals in the task text."""
        tokens = TokenizedText(text, self._clause_words)
        lane_spans = self._lane_spans(tokens)
        lanes = {
            name: tuple(dict.fromkeys(span.phrase for span in spans))
            for name, spans in lane_spans.items()
            if spans
        }
        stages: dict[str, tuple[str, ...]] = {}
        where_asked: dict[str, frozenset[int]] = {}
        asked_at: dict[str, tuple[int, ...]] = {}
        for name, group in self._stages.items():
            found = group.find(tokens)
            if found.phrases:
                stages[name], where_asked[name] = found.phrases, found.clauses
                asked_at[name] = found.starts
        layout = _Clauses.of(tokens)
        reported = _reported(tokens, layout)
        for name, group in self._weak_stages.items():
            # a weak word counts only where nothing else is asked, and not as a report's subject
            found = group.find(tokens, prose_only=True, ignore=reported)
            others = frozenset().union(*(w for stage, w in where_asked.items() if stage != name))
            alone = found.clauses - others
            if found.phrases and alone:
                stages[name] = (*stages.get(name, ()), *found.phrases)
                where_asked[name] = where_asked.get(name, frozenset()) | alone
                alone_at = (i for i in found.starts if tokens.clause_of[i] in alone)
                asked_at[name] = tuple(sorted((*asked_at.get(name, ()), *alone_at)))
        implied = self._implied_first(tokens, asked_at)
        if implied is not None:
            stage, phrase = implied
            stages[stage] = (phrase,)
            where_asked[stage] = frozenset({tokens.clause_of[0]})
            asked_at[stage] = (0,)
        clauses = frozenset().union(*where_asked.values())
        # the lane mentioned most often dominates ("Django or FastAPI? ... leaning FastAPI")
        mentions = sorted(
            ((len(spans), name) for name, spans in lane_spans.items() if spans),
            reverse=True,
        )
        dominant = None
        if mentions and (len(mentions) == 1 or mentions[0][0] > mentions[1][0]):
            dominant = mentions[0][1]
        # several stages asked in different clauses ("build it, then ship it"), or three or
        # more at once ("models, tests, auth and deploy") make a multi-step request
        multi_step = len(stages) >= 3 or (len(stages) >= 2 and len(clauses) >= 2)
        question = self._asks(tokens, asked_at, multi_step)
        return TaskSignals(tokens, lanes, stages, dominant, multi_step, layout, asked_at, question)

    def _implied_first(
        self, tokens: TokenizedText, asked_at: dict[str, tuple[int, ...]]
    ) -> tuple[str, str] | None:
        """The unnamed ask before "then", when the catalog has a stage for it.

        "Make the retry decorator generic, then test it" names only the test, but asks for
        work before it: the catalog's ``implied_stage``.  Only when no stage word comes
        before the "then" (none after a condition: "if it fails, then ..."), a later stage
        comes after it, and the part before it has a few words of its own.  Returns the
        stage and the words it stands for (the signal's phrase).
        """
        implied = self._implied
        if implied is None or implied in asked_at:
            return None
        words = tokens.tokens
        then = _next_ask(words, 0, len(words))
        if then is None:
            return None
        if any(i < then for at in asked_at.values() for i in at):
            return None
        order = self._order
        if not any(stage in order and order[stage] > order[implied] for stage in asked_at):
            return None
        before = [word for word in words[:then] if any(c.isalnum() for c in word)]
        if len(before) < _IMPLIED_MIN_WORDS:
            return None
        return implied, " ".join(before[:3]) + " …"

    def _asks(
        self, tokens: TokenizedText, asked_at: dict[str, tuple[int, ...]], multi_step: bool
    ) -> bool:
        """Whether the task asks a question, not a request with a question mark.

        A polite request ("can you build it, test it and then ship it?") is a command, and
        so is a question that sequences its asks ("how do I add the model and then test
        it?"), or one that asks for the plan of the work it lists ("… tested and shipped
        by Thursday. What's the plan?"): it asks for what it lists, and the plan's order
        decides what leads.
        """
        if "?" not in tokens.vocabulary:
            return False
        start, end = _last_question(tokens.tokens)
        if _polite_request(tokens.tokens[start:end]):
            return False
        if multi_step and any(start <= i < end for i in _PLAN_QUESTIONS.find(tokens).starts):
            return False
        return not (multi_step and self._sequenced(tokens, asked_at, start, end))

    def _sequenced(
        self, tokens: TokenizedText, asked_at: dict[str, tuple[int, ...]], start: int, end: int
    ) -> bool:
        """Whether the question in tokens[start:end] moves on to a later stage.

        "Then", "after that" and "and how …" move on: "how do I add the model and then
        test it?" and "how should I structure it, and how do I test it?" list their asks
        in lifecycle order; "if it fails, then how do I retry?" is a consequence, and "a
        shadow deployment first, then a canary for the model behind an API" goes back in
        the lifecycle.
        """
        then = _next_ask(tokens.tokens, start, end)
        if then is None:
            return False
        order = self._order
        before = [
            order[s]
            for s, at in asked_at.items()
            if s in order and any(start <= i < then for i in at)
        ]
        after = [
            order[s] for s, at in asked_at.items() if s in order and any(then < i < end for i in at)
        ]
        return bool(before) and bool(after) and max(after) > min(before)

    def _lane_spans(self, tokens: TokenizedText) -> dict[str, list[Span]]:
        """Each lane's phrase occurrences, minus those inside a longer phrase of another lane.

        "plain Python, no Django" mentions the foundation lane twice and Django not at all:
        the longer phrase says what the shorter one means.
        """
        found = {name: group.spans(tokens) for name, group in self._lanes.items()}
        if sum(1 for spans in found.values() if spans) < 2:  # nothing to overlap
            return found
        return {
            name: [
                span
                for span in spans
                if not any(
                    inside_longer(span, theirs) for other, theirs in found.items() if other != name
                )
            ]
            for name, spans in found.items()
        }

    def apply(
        self,
        signals: TaskSignals,
        decision: Decision,
        ranked: Sequence[str],
        *,
        confident: bool = False,
    ) -> Outcome:
        """Apply the rules to a ranking (best first) and a similarity decision.

        ``confident`` says the top candidate is a confident match: when a plan fires and
        that skill is one of its steps, it stays the primary (the task is mostly about
        it); otherwise the primary is the plan's first step.
        """
        top = ranked[0] if ranked else None
        fired: list[FiredRule] = []
        for rule in self._abstain:
            if self._holds(rule, signals, top):
                fired.append(_fired(rule, "abstain: out of scope for this catalog"))
                return Outcome("abstain", None, (), signals.dominant_lane, fired)
        primary, forced, final = top, False, False
        for route in self._route:
            if self._holds(route, signals, top):
                primary, forced, final = route.skill, True, route.final
                fired.append(_fired(route, f"route to {route.skill}"))
                break
        if primary is None:
            return Outcome("abstain", None, (), signals.dominant_lane, fired)
        settled = forced  # a rule, not similarity, chose between the top candidates
        if not forced:
            # below the abstain bar, only an intent for one of the top two lifts the task
            lifting = decision == "abstain"
            preferred = self._preferred(signals, ranked[:2] if lifting else ranked, fired)
            if preferred is not None:
                primary = preferred
                settled = ranked.index(preferred) < 2
                decision = "routed" if lifting else decision
            elif lifting:
                return Outcome("abstain", None, (), signals.dominant_lane, fired)
        chosen_stage = self._catalog[primary].stage  # before a replace rule swaps the skill
        replaced: set[str] = set()
        primary, extras = self._replaced(primary, signals, fired, replaced)
        planned = self._plan(signals, primary, fired, replaced)
        if planned is None:
            plan = (primary, *extras)
        else:
            plan, stands_for = planned
            if chosen_stage is not None:
                stands_for.setdefault(primary, set()).add(chosen_stage)
            if primary not in plan and (
                forced or self._asked_about(primary, plan, signals, confident)
            ):
                plan = (primary, *plan)  # it anchors the plan it leads
            elif signals.reordered:
                primary = plan[0]
            elif not ((confident or forced) and primary in plan):
                primary = self._lead(plan, stands_for, signals, primary)
        plan = self._with_companions(plan, signals, fired)
        if decision == "ambiguous" and self._resolves_tie(settled, fired, signals, ranked, primary):
            decision = "routed"
        lane = signals.dominant_lane or self._catalog[primary].lane
        return Outcome(decision, primary, plan, lane, fired, frozenset(replaced), final)

    def settle(
        self,
        signals: TaskSignals,
        ranked: Sequence[str],
        top_scores: Scores,
        top_confidence: float,
        bars: DecisionBars,
    ) -> Outcome:
        """Decide with the fitted bars, then apply the rules: a route before the arbiter.

        Routing and fitting both come through here, so the arbiter learns from exactly
        the outcomes it will later be shown.
        """
        keep = bars.question_keep_confidence if signals.question else bars.plan_keep_confidence
        return self.apply(
            signals,
            similarity_decision(bars, top_scores, top_confidence),
            ranked,
            confident=top_confidence >= keep,
        )

    def _preferred(
        self, signals: TaskSignals, ranked: Sequence[str], fired: list[FiredRule]
    ) -> str | None:
        """The best-ranked skill whose prefer rule holds (None: no prefer rule applies)."""
        best: tuple[int, PreferRule] | None = None
        for rule in self._prefer:
            if rule.skill not in ranked[: rule.within] or not self._holds(rule, signals, ranked[0]):
                continue
            rank = ranked.index(rule.skill)
            if best is None or rank < best[0]:
                best = (rank, rule)
        if best is None:
            return None
        rank, rule = best
        effect = (
            f"confirms {rule.skill}"
            if rank == 0
            else f"{ranked[0]} → {rule.skill} (ranked {rank + 1})"
        )
        fired.append(_fired(rule, effect))
        return rule.skill

    def _lane(self, signals: TaskSignals, skill: str | None) -> str | None:
        """The lane conditions see: the task's dominant lane, else the skill's own."""
        if signals.dominant_lane is not None or skill is None:
            return signals.dominant_lane
        return self._catalog[skill].lane

    def _holds(self, owner: AnyRule | PlanStep, signals: TaskSignals, skill: str | None) -> bool:
        """Whether the condition of a rule (or plan step) holds for this task and skill."""
        condition = self._conditions.get(id(owner))
        if condition is None:  # a plan step without a condition of its own
            return True
        spec = condition.spec
        if spec.skill and skill not in spec.skill:
            return False
        if spec.not_skill and skill in spec.not_skill:
            return False
        if spec.stages and not any(stage in signals.stages for stage in spec.stages):
            return False
        if any(stage in signals.stages for stage in spec.not_stages):
            return False
        lane = self._lane(signals, skill)
        if spec.lane and lane not in spec.lane and not _all_within(signals, spec.lane):
            return False
        if spec.not_lane and lane in spec.not_lane:
            return False
        if spec.lanes_all and not all(name in signals.lanes for name in spec.lanes_all):
            return False
        if len(signals.stages) < spec.min_stages:
            return False
        if spec.max_stages is not None and len(signals.stages) > spec.max_stages:
            return False
        text = signals.text
        if condition.any and not _found(condition.any, text, spec.prose_only):
            return False
        if condition.all and len(_found(condition.all, text, spec.prose_only)) < len(
            condition.all.phrases
        ):
            return False
        return not (condition.none and condition.none.matches(text))

    def _replaced(
        self,
        skill: str,
        signals: TaskSignals,
        fired: list[FiredRule] | None,
        replaced: set[str] | None = None,
    ) -> tuple[str, tuple[str, ...]]:
        """Follow replace rules from ``skill``: (substitute, extra skills to add after it).

        ``replaced`` collects the skills swapped out on the way.
        """
        extras: tuple[str, ...] = ()
        for _ in range(_MAX_REPLACEMENTS):
            rule = next(
                (
                    rule
                    for rule in self._replace
                    if rule.replace == skill and self._holds(rule, signals, skill)
                ),
                None,
            )
            if rule is None:
                break
            if fired is not None:
                _fire_once(fired, rule, f"{skill} → {' + '.join(rule.with_)}")
            if replaced is not None:
                replaced.add(skill)
            skill, extras = rule.with_[0], (*rule.with_[1:], *extras)
        return skill, extras

    def replan(self, signals: TaskSignals, outcome: Outcome) -> Outcome:
        """The plan again, for a primary skill chosen after the rules (by the arbiter).

        The rules planned for their own choice: "split parse_invoice() into typed helpers,
        plus pytest cases" read to them as a testing task, one stage.  With python-patterns
        leading instead, the request asks for that skill's stage and another: a plan.
        Here the primary's own stage counts as named; the primary stays the primary.
        """
        if outcome.primary is None or outcome.planned:
            return outcome
        fired = list(outcome.fired)
        planned = self._plan(signals, outcome.primary, fired, set(outcome.replaced), chosen=True)
        if planned is None:
            return outcome
        plan = planned[0]
        if outcome.primary not in plan:
            plan = (outcome.primary, *plan)
        plan = self._with_companions(plan, signals, fired)
        return replace(outcome, plan=plan, fired=fired)

    def _plan(
        self,
        signals: TaskSignals,
        primary: str,
        fired: list[FiredRule],
        replaced: set[str],
        *,
        chosen: bool = False,
    ) -> tuple[tuple[str, ...], dict[str, set[str]]] | None:
        """Steps of the first plan rule that holds, or None for a single-step request.

        With the steps comes the stages each skill stands for in the plan: a replaced
        step's substitutes stand for its stage (outside Django, python-testing stands for
        the ship gate as well as for tests).  ``chosen``: the primary was chosen apart from
        the task's words (`replan`), so its stage and one other named make two stages.
        """
        own = self._catalog[primary].stage
        # the primary's own stage counts as asked: "add OAuth2 to the API and test it"
        asked = [stage for stage in signals.stages if stage in self._order]
        if own in self._order and own not in asked:
            asked.append(own)
        if chosen:
            if len(asked) < 2:
                return None
        elif not (signals.multi_step or self._moves_on(signals, own)):
            return None
        low = min(self._order[stage] for stage in asked)
        high = max(self._order[stage] for stage in asked)
        for rule in self._plans:
            if not self._holds(rule, signals, primary):
                continue
            steps: list[str] = []
            stands_for: dict[str, set[str]] = {}
            for step in rule.steps:
                stage = self._catalog[step.skill].stage or ""
                wanted = {
                    "always": True,
                    "asked": stage in asked,
                    "span": low <= self._order[stage] <= high,
                }[step.include]
                # the primary's own step needs no words of its own: the router chose it
                if wanted and (step.skill == primary or self._holds(step, signals, primary)):
                    skill, extras = self._replaced(step.skill, signals, fired, replaced)
                    steps.extend((skill, *extras))
                    for substitute in (skill, *extras):
                        stands_for.setdefault(substitute, set()).add(stage)
            ordered = _unique(steps)
            if len(ordered) >= 2:
                fired.append(_fired(rule, "plan: " + " → ".join(ordered)))
                return ordered, stands_for
        return None

    def _moves_on(self, signals: TaskSignals, own: str | None) -> bool:
        """Whether a one-stage request moves on from the primary's own work to a later stage.

        "Rank the candidates, then monitoring and rollback once it's live" names one stage
        (ship), but the ranking it asks for first is the primary's own (design): two steps.
        Only a stage later in the lifecycle counts, named after "then" / "after that" (not
        after a condition: "if it fails, then ...") or in a later clause that opens with a
        verb of doing ("fix the N+1 with select_related, and add a test that pins the
        query count"), so the primary still leads.
        """
        order = self._order
        if own not in order:
            return False
        tokens = signals.text.tokens
        then = _next_ask(tokens, 0, len(tokens))
        return any(
            s in order
            and order[s] > order[own]
            and any((then is not None and i > then) or _opens_with_ask(signals, i) for i in at)
            for s, at in signals.asked_at.items()
        )

    def _asked_about(
        self, primary: str, plan: tuple[str, ...], signals: TaskSignals, confident: bool
    ) -> bool:
        """Whether a question is confidently about a skill of the plan's lane that is no step.

        "How do I keep logic out of handlers, for a CLI and a queue worker?" asks the
        architecture hub; the stages it names are context, and the hub leads the plan.
        """
        lane = self._catalog[primary].lane
        return (
            confident
            and signals.question
            and lane is not None
            and lane == self._catalog[plan[0]].lane
        )

    def _lead(
        self,
        plan: tuple[str, ...],
        stands_for: dict[str, set[str]],
        signals: TaskSignals,
        primary: str,
    ) -> str:
        """The step a multi-step request leads with: the stage it names first.

        Requests narrated in lifecycle order ("build it, test it, ship it") lead with the
        plan's first step; one that opens with a later stage ("is this ready to ship? I
        just finished the feature") is about that stage, and the plan is its context.  A
        request whose opening clause names no stage ("TODO: 1) the Article model 2) tests
        3) deploy") is a list told in order: it leads with the plan's first step.
        """
        if not signals.first_asked:
            return plan[0]
        first = min(signals.first_asked.values())
        if signals.text.clause_of[first] != signals.opening_clause:
            return plan[0]  # the opening clause names no stage: a list told in order
        opening = {stage for stage, start in signals.first_asked.items() if start == first}
        leads = [step for step in plan if opening & stands_for.get(step, set())]
        if primary in leads:
            return primary
        return leads[0] if leads else plan[0]

    def _with_companions(
        self, plan: tuple[str, ...], signals: TaskSignals, fired: list[FiredRule]
    ) -> tuple[str, ...]:
        result: list[str] = []
        for step in plan:
            result.append(step)
            for rule in self._companions:
                if rule.skill == step and self._holds(rule, signals, step):
                    added = [skill for skill in rule.add if skill not in plan]
                    if added:
                        result.extend(added)
                        _fire_once(fired, rule, f"+ {' + '.join(added)} after {step}")
        return _unique(result)

    def _resolves_tie(
        self,
        settled: bool,
        fired: Sequence[FiredRule],
        signals: TaskSignals,
        ranked: Sequence[str],
        primary: str,
    ) -> bool:
        """A route or plan rule settles a tie; so do two candidates that replace to one."""
        if settled or any(rule.kind == "plan" for rule in fired):
            return True
        if len(ranked) < 2:
            return True
        runner_up, _ = self._replaced(ranked[1], signals, None)
        return runner_up == primary


def _found(phrases: PhraseSet, text: TokenizedText, prose_only: bool) -> tuple[str, ...]:
    """The phrases of a condition that occur in the task (in its prose alone, if asked)."""
    return phrases.find(text, prose_only=True).phrases if prose_only else phrases.matches(text)


def _compile(condition: Condition) -> _CompiledCondition:
    return _CompiledCondition(
        PhraseSet(condition.any), PhraseSet(condition.all), PhraseSet(condition.none), condition
    )


def _fired(rule: AnyRule, effect: str) -> FiredRule:
    return FiredRule(name=rule.name, kind=rule.kind, reason=rule.reason, effect=effect)


def _fire_once(fired: list[FiredRule], rule: ReplaceRule | CompanionRule, effect: str) -> None:
    if all(existing.name != rule.name for existing in fired):
        fired.append(_fired(rule, effect))


_SENTENCE_END = frozenset({".", "!", "?", "\n"})
_POLITE = frozenset({"can", "could", "would", "will"})
_YOU = frozenset({"you", "u"})
# what a request asks someone to do ("can you use X with Y?" is a question, not a request)
# fmt: off
_ASKS_FOR = frozenset({
    "help", "build", "write", "add", "make", "create", "implement", "set", "fix", "refactor",
    "review", "check", "look", "take", "put", "wire", "draft", "generate", "scaffold", "port",
    "migrate", "convert", "update", "clean", "move", "split", "rewrite", "design", "plan", "go",
    "lock", "test", "deploy", "ship", "release", "prepare", "finish", "sort", "get", "restructure",
    "rework", "extend", "document", "optimize", "optimise", "speed", "improve", "turn", "integrate",
    "package", "modernize", "modernise", "tidy", "harden", "secure", "cover", "outline",
})
# fmt: on
_FIRST_CUES = PhraseSet(
    ["but first", "before that", "before this", "before all that", "before any of that"]
)
# a question about the work as a whole, not about one stage of it
_PLAN_QUESTIONS = PhraseSet(
    [
        "what s the plan",
        "whats the plan",
        "what is the plan",
        "what would the plan be",
        "how would you plan",
        "how should we plan",
        "how do we plan",
        "how would you proceed",
        "how should we proceed",
        "how do we proceed",
        "where do we start",
        "where should we start",
    ]
)
_THEN = frozenset({"then", "afterwards", "afterward"})
_THAT = frozenset({"that", "this"})
_LIST_CLOSE = frozenset({")", "."})  # "2)" and "2." number a list's items
_LATER_ITEMS = frozenset("23456789")
# a ticket's criteria follow the work it asks for
_CRITERIA = frozenset({("done", "when"), ("acceptance", "criteria")})
_IMPLIED_MIN_WORDS = 3  # "ok, then test it" asks nothing before its "then"
_NEXT_QUESTION = frozenset({"how", "what", "where", "which"})
_CONDITIONS = frozenset({"if", "when", "once", "unless"})
# verbs that report how things are ("the signup view is slow", "the endpoint returns 500")
# fmt: off
_REPORTS = frozenset({
    "is", "are", "was", "were", "isn", "aren", "wasn", "weren", "has", "have", "had", "hasn",
    "haven", "does", "doesn", "did", "didn", "returns", "returned", "keeps", "kept", "shows",
    "showed", "throws", "threw", "fails", "failed", "works", "worked", "takes", "took", "seems",
    "flags", "flagged", "breaks", "broke", "crashes", "crashed", "sends", "sent", "gets", "got",
})
# fmt: on
_RELATIVE = frozenset({"that", "which", "who"})
_LABEL_WORDS = 3  # "Ticket TEL-88:" labels what follows; a longer opening is a clause
_LIST_LABELS = frozenset({"todo", "todos", "tasks", "checklist", "steps", "plan", "queue"})
_SUBJECT_REACH = 4  # "the list endpoint returns": a report's subject ends just before its verb
# fmt: off
_FILLERS = frozenset({
    "so", "please", "pls", "plz", "hey", "hi", "hello", "also", "and", "ok", ",", ";", ":", "—",
    "\u2013",
})
# fmt: on


def _last_question(tokens: Sequence[str]) -> tuple[int, int]:
    """The token span (start, index of its "?") of the task's last question sentence."""
    end = len(tokens) - 1 - tokens[::-1].index("?")
    start = end
    while start > 0 and tokens[start - 1] not in _SENTENCE_END:
        start -= 1
    return start, end


def _all_within(signals: TaskSignals, lanes: Sequence[str]) -> bool:
    """Whether a task with no dominant lane mentions only lanes among ``lanes``.

    "FastAPI service, no Django here" ties FastAPI with plain Python; a rule for either
    lane fits it.
    """
    return (
        signals.dominant_lane is None and bool(signals.lanes) and set(signals.lanes) <= set(lanes)
    )


def _sequencing_word(tokens: Sequence[str], start: int, end: int) -> int | None:
    """Where tokens[start:end] moves on to a next ask: "then", "after that", "and how ...".

    A numbered to-do list moves on at its second item: "1) the Refund model 2) tests";
    a ticket at its criteria: "a websocket feed of prices. Done when: tests cover …".
    """
    numbered = False  # a first item ("1)", "1.") came before
    for index in range(start, end):
        if tokens[index] in _THEN:
            return index
        if index + 1 < end and tokens[index + 1] in _LIST_CLOSE:
            if tokens[index] == "1":
                numbered = True
            elif numbered and tokens[index] in _LATER_ITEMS:
                return index
        if tokens[index] == "after" and index + 1 < end and tokens[index + 1] in _THAT:
            return index
        if tuple(tokens[index : index + 2]) in _CRITERIA and index + 2 <= end:
            return index
        if tokens[index] == "and" and index + 1 < end and tokens[index + 1] in _NEXT_QUESTION:
            return index
    return None


def _next_ask(tokens: Sequence[str], start: int, end: int) -> int | None:
    """The sequencing word in tokens[start:end], unless a condition comes before it.

    "If it fails, then retry" states a consequence; "build it, then test it" a next ask.
    """
    then = _sequencing_word(tokens, start, end)
    if then is None or _CONDITIONS.intersection(tokens[start:then]):
        return None
    return then


def _opens_with_ask(signals: TaskSignals, index: int) -> bool:
    """Whether tokens[index] lies in a later clause that opens with a verb of doing.

    "…, and add a test for it" asks for more work; "…, the tests pass" reports.  A
    clause that opens with "with" belongs to the ask before it in its sentence: "…, and
    cover missing and revoked keys with tests" asks for the tests.
    """
    text, clauses = signals.text, signals.clauses
    clause = text.clause_of[index]
    extending = False  # walking back from a "with" clause to the ask it belongs to
    while clause > signals.opening_clause:
        opening = clauses.opening.get(clause)
        if opening in _ASKS_FOR:
            return True
        extending = extending or opening == "with"
        before = clauses.start[clause] - 1
        if not extending or text.tokens[before] in _SENTENCE_END:
            return False
        clause = text.clause_of[before]
    return False


def _opening_clause(text: TokenizedText, first_stage: int) -> int:
    """The task's first clause, after a label such as "Ticket:", "Slack:" or "PR #12:".

    A label names no stage (``first_stage`` is where the first stage word is) and no list:
    "TDD: write the test first" and "TODO: the model / TODO: tests" open with their label.
    """
    tokens, clause_of = text.tokens, text.clause_of
    colon = next((i for i, t in enumerate(tokens[: _LABEL_WORDS + 1]) if t == ":"), None)
    if (
        colon is None
        or colon == 0
        or colon + 1 >= len(tokens)
        or first_stage < colon
        or _LIST_LABELS.intersection(tokens[:colon])
    ):
        return clause_of[0]
    return clause_of[colon]


def _reported(text: TokenizedText, clauses: _Clauses) -> frozenset[int]:
    """Token positions that are the subject of a report, not the object of an ask.

    "The signup view is slow because …" and "the list endpoint returns every claim"
    name a page or a feature as context: a weak stage word just before a verb of being
    or reporting asks for nothing.  Not in a clause that opens with a verb of doing
    ("make the login page that is shown first") nor after a relative pronoun ("a
    webhook to each partner that keeps retrying" describes the work asked for).
    """
    tokens, reported = text.tokens, set[int]()
    for index, (token, clause) in enumerate(zip(tokens, text.clause_of, strict=True)):
        if (
            token in _REPORTS
            and clauses.opening.get(clause) not in _ASKS_FOR
            and (index == 0 or tokens[index - 1] not in _RELATIVE)
        ):
            reported.update(range(max(clauses.start[clause], index - _SUBJECT_REACH), index))
    return frozenset(reported)


def _polite_request(sentence: Sequence[str]) -> bool:
    """Whether a sentence opens with "can you <do something>" (fillers such as "so" aside)."""
    words = [t for t in sentence if t not in _FILLERS]
    return len(words) >= 3 and words[0] in _POLITE and words[1] in _YOU and words[2] in _ASKS_FOR


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))
