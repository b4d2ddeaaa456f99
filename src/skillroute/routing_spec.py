"""The schema of a catalog's ``routing.yaml``: lanes, stages, per-skill data and rules.

Routing knowledge the Agent Skills format has no field for lives here, as data: which
words signal a lane or a lifecycle stage, example tasks per skill, and named rules.  Rules
are declarative (never code) and each kind does one thing:

- ``route``: send the task to a skill when a condition holds (e.g. a framework choice);
- ``prefer``: favour a skill among the top candidates when its intent words appear;
- ``replace``: swap one skill for others under a condition (Django tests → django-tdd);
- ``companion``: add skills after a primary (python-patterns → + python-testing);
- ``plan``: fan a multi-stage request out into steps in lifecycle order;
- ``abstain``: declare a request out of scope (e.g. another language's stack).

The engine that applies them is `skillroute.rules`; this module only validates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from skillroute.errors import RulesError
from skillroute.signals import phrase_problem
from skillroute.text import NonBlankText
from skillroute.yamlio import load_yaml

__all__ = [
    "AbstainRule",
    "CompanionRule",
    "Condition",
    "LaneSpec",
    "OutOfScopeSpec",
    "PlanRule",
    "PlanStep",
    "PreferRule",
    "ReplaceRule",
    "RouteRule",
    "RoutingSpec",
    "Rule",
    "SkillRouting",
    "StageSpec",
    "load_routing_spec",
]

ROUTING_FILE = "routing.yaml"


def _as_tuple(value: Any) -> Any:
    """Let authors write a single string where a list is expected."""
    return (value,) if isinstance(value, str) else value


def _check_phrases(phrases: tuple[str, ...]) -> tuple[str, ...]:
    for phrase in phrases:
        problem = phrase_problem(phrase)
        if problem:
            raise ValueError(problem)
    return phrases


# Signal phrases: a single string is a list of one; each must be literal words.
Phrases = Annotated[tuple[str, ...], BeforeValidator(_as_tuple), AfterValidator(_check_phrases)]


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Condition(_Spec):
    """When a rule applies.  Every field given must hold (an empty condition always holds).

    Phrases are literal words matched case-insensitively; ``*`` ends a prefix word.
    """

    any: Phrases = ()
    all: Phrases = ()
    none: Phrases = ()
    lane: tuple[str, ...] = ()
    not_lane: tuple[str, ...] = ()
    lanes_all: tuple[str, ...] = ()
    skill: tuple[str, ...] = ()
    not_skill: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    not_stages: tuple[str, ...] = ()
    min_stages: int = Field(default=0, ge=0)
    max_stages: int | None = Field(default=None, ge=0)
    # ``any`` and ``all`` phrases count only in prose: not inside a chunk of code
    # (``group_by_assignee()`` asks for no SQL GROUP BY) nor in pasted lines
    prose_only: bool = False

    coerce_lists = field_validator(
        "lane",
        "not_lane",
        "lanes_all",
        "skill",
        "not_skill",
        "stages",
        "not_stages",
        mode="before",
    )(_as_tuple)

    @model_validator(mode="after")
    def _satisfiable(self) -> Condition:
        if self.max_stages is not None and self.max_stages < self.min_stages:
            raise ValueError(
                f"max_stages {self.max_stages} < min_stages {self.min_stages}: it never holds"
            )
        return self


class _RuleBase(_Spec):
    name: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    when: Condition = Field(default_factory=Condition)


class RouteRule(_RuleBase):
    """Route to ``skill`` when the condition holds (overrides similarity).

    ``final`` states a fact of the catalog ("outside Django, the ship gate is
    python-testing"): the fitted arbiter may not move a single-step task off it.
    """

    kind: Literal["route"]
    skill: str
    final: bool = False


class PreferRule(_RuleBase):
    """Prefer ``skill`` when the condition holds and it ranks within the top ``within``.

    Intent words ("celery", "training loop") re-rank plausible candidates; they never
    pull in a skill that similarity finds implausible.  When several prefer rules hold,
    the best-ranked of their skills wins.
    """

    kind: Literal["prefer"]
    skill: str
    within: int = Field(default=3, ge=1)


class ReplaceRule(_RuleBase):
    """Where ``replace`` would be used, use ``with_`` instead (first = the substitute)."""

    kind: Literal["replace"]
    replace: str
    with_: tuple[str, ...] = Field(alias="with", min_length=1)

    coerce_lists = field_validator("with_", mode="before")(_as_tuple)


class CompanionRule(_RuleBase):
    """When ``skill`` is in the plan, add ``add`` right after it."""

    kind: Literal["companion"]
    skill: str
    add: tuple[str, ...] = Field(min_length=1)

    coerce_lists = field_validator("add", mode="before")(_as_tuple)


class PlanStep(_Spec):
    """One step of a fan-out and when it is included.

    ``span`` (default): when its stage lies between the earliest and the latest stage the
    task asks for; ``asked``: only when the task asks for its stage (e.g. background
    jobs "if async"); ``always``: whenever the plan applies.  ``when`` adds a condition
    of its own (e.g. the PyTorch step only when the task names PyTorch), which the
    task's primary skill does not need: the router chose it.
    """

    skill: str
    include: Literal["span", "asked", "always"] = "span"
    when: Condition | None = None


class PlanRule(_RuleBase):
    """Fan a request that names several lifecycle stages out into ordered steps."""

    kind: Literal["plan"]
    steps: tuple[PlanStep, ...] = Field(min_length=1)

    @field_validator("steps", mode="before")
    @classmethod
    def _bare_names(cls, value: Any) -> Any:
        """A step may be written as just the skill name."""
        if isinstance(value, list | tuple):
            return tuple({"skill": step} if isinstance(step, str) else step for step in value)
        return value


class AbstainRule(_RuleBase):
    """Declare the request out of scope when the condition holds."""

    kind: Literal["abstain"]


Rule = Annotated[
    RouteRule | PreferRule | ReplaceRule | CompanionRule | PlanRule | AbstainRule,
    Field(discriminator="kind"),
]


class LaneSpec(_Spec):
    """A lane (a framework or domain) and the phrases that signal it in a task."""

    signals: Phrases = ()


class StageSpec(_Spec):
    """A lifecycle stage; its signals tell which stages a multi-step request spans.

    ``weak_signals`` (generic words such as "add a") count only in a clause that asks
    for no other stage: in "add a nightly celery task" the clause is about the task.
    """

    name: str = Field(min_length=1)
    signals: Phrases = ()
    weak_signals: Phrases = ()


class SkillRouting(_Spec):
    """Routing data for one skill that SKILL.md frontmatter cannot hold."""

    examples: tuple[NonBlankText, ...] = ()
    implications: tuple[NonBlankText, ...] = ()


class OutOfScopeSpec(_Spec):
    """Where the catalog ends: example requests no skill should take, and homonyms.

    The examples are never matched by similarity: they train the linear head's
    out-of-scope class, so the router learns where the catalog ends instead of relying on
    a threshold alone.  ``homonyms`` are domain words with an everyday sense ("celery",
    "torch", "flask"): a task that leans out of scope and would be abstained on without
    them is out of scope (see `skillroute.everyday`).
    """

    examples: tuple[NonBlankText, ...] = ()
    homonyms: Phrases = ()


SPELLING_MIN_TERM = 5
DEFAULT_CLAUSE_WORDS = ("and", "then", "with", "plus", "also", "before", "after")


class RoutingSpec(_Spec):
    """The whole routing file.  Names are checked against the catalog by `Catalog`.

    ``clause_words`` (with punctuation) split a task into clauses: a plan needs lifecycle
    stages asked for in different clauses.  ``spelling``: key terms whose one-edit typos
    ("djnago", "jango") are read as the term (`skillroute.spelling`).  ``implied_stage``:
    the stage a request's unnamed first ask stands for ("make the decorator generic, then
    test it" asks for it before the test), when no stage word precedes its "then".
    """

    version: Literal[1] = 1
    clause_words: tuple[str, ...] = DEFAULT_CLAUSE_WORDS
    spelling: tuple[str, ...] = ()
    stages: tuple[StageSpec, ...] = ()
    implied_stage: str | None = None
    lanes: dict[str, LaneSpec] = Field(default_factory=dict)
    skills: dict[str, SkillRouting] = Field(default_factory=dict)
    out_of_scope: OutOfScopeSpec = Field(default_factory=OutOfScopeSpec)
    rules: tuple[Rule, ...] = ()
    path: Path | None = Field(default=None, exclude=True)

    @field_validator("clause_words")
    @classmethod
    def _single_words(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for word in value:
            if len(word.split()) != 1 or phrase_problem(word) or word.endswith("*"):
                raise ValueError(f"clause word {word!r} must be a single plain word")
        return value

    @field_validator("spelling")
    @classmethod
    def _plain_terms(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for term in value:
            if not (term.isalpha() and term.islower() and len(term) >= SPELLING_MIN_TERM):
                raise ValueError(
                    f"spelling term {term!r} must be one lower-case word of letters only, "
                    f"at least {SPELLING_MIN_TERM} long (shorter words have real words one "
                    "edit away)"
                )
        return value

    @property
    def stage_order(self) -> dict[str, int]:
        """Position of each stage in the lifecycle."""
        return {stage.name: index for index, stage in enumerate(self.stages)}

    def check_names(
        self,
        skills: Mapping[str, Any],
        *,
        line_of: Callable[[tuple[str | int, ...]], int | None] | None = None,
    ) -> None:
        """Every rule, step, skill entry and the implied stage must name known names."""
        lanes = set(self.lanes)

        def fail(where: tuple[str | int, ...], field: str, message: str) -> RulesError:
            line = line_of(where) if line_of is not None else None
            return RulesError(message, path=self.path, line=line, field=field)

        for name in self.skills:
            if name not in skills:
                raise fail(("skills", name), f"skills.{name}", f"unknown skill {name!r}")
        if self.implied_stage is not None and self.implied_stage not in self.stage_order:
            stage = self.implied_stage
            raise fail(("implied_stage",), "implied_stage", f"names unknown stage {stage!r}")
        seen: set[str] = set()
        for index, rule in enumerate(self.rules):
            where = ("rules", index)
            label = f"rules[{index}] ({rule.name})"
            if rule.name in seen:
                raise fail(where, label, f"duplicate rule name {rule.name!r}")
            seen.add(rule.name)
            for skill in _rule_skills(rule):
                if skill not in skills:
                    raise fail(where, label, f"names unknown skill {skill!r}")
            for condition in _conditions(rule):
                for lane in (*condition.lane, *condition.not_lane, *condition.lanes_all):
                    if lane not in lanes:
                        raise fail(where, label, f"names unknown lane {lane!r}")
                for stage in (*condition.stages, *condition.not_stages):
                    if stage not in self.stage_order:
                        raise fail(where, label, f"names unknown stage {stage!r}")
            if isinstance(rule, PlanRule):
                for step in rule.steps:
                    if skills[step.skill].stage not in self.stage_order:
                        message = (
                            f"step {step.skill!r} needs a stage declared in 'stages' "
                            f"(its metadata.stage is {skills[step.skill].stage!r})"
                        )
                        raise fail(where, label, message)


def _conditions(rule: Any) -> tuple[Condition, ...]:
    """A rule's condition and its plan steps' own conditions."""
    steps = rule.steps if isinstance(rule, PlanRule) else ()
    return (rule.when, *(step.when for step in steps if step.when is not None))


def _rule_skills(rule: Any) -> tuple[str, ...]:
    """Every skill name a rule mentions, in its conditions and in its action."""
    named = tuple(
        skill
        for condition in _conditions(rule)
        for skill in (*condition.skill, *condition.not_skill)
    )
    if isinstance(rule, RouteRule | PreferRule):
        return (*named, rule.skill)
    if isinstance(rule, ReplaceRule):
        return (*named, rule.replace, *rule.with_)
    if isinstance(rule, CompanionRule):
        return (*named, rule.skill, *rule.add)
    if isinstance(rule, PlanRule):
        return (*named, *(step.skill for step in rule.steps))
    return named


def load_routing_spec(
    path: Path | str,
) -> tuple[RoutingSpec, Callable[[tuple[str | int, ...]], int | None]]:
    """Load and validate ``routing.yaml``; return it and a ``line_of(location)`` helper."""
    document = load_yaml(path, RulesError)
    data = document.data if document.data is not None else {}
    if not isinstance(data, dict):
        raise RulesError(
            f"must be a mapping with stages / lanes / skills / rules, got {type(data).__name__}",
            path=document.path,
            line=1,
        )
    try:
        spec = RoutingSpec.model_validate({**data, "path": document.path})
    except ValidationError as exc:
        first = exc.errors()[0]
        location = tuple(step for step in first["loc"] if not _is_union_tag(step))
        if first["type"] in {"union_tag_invalid", "union_tag_not_found"}:
            location += ("kind",)
        field = ".".join(str(step) for step in location) or "routing"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise RulesError(
            message, path=document.path, line=document.line(location), field=field
        ) from None
    return spec, document.line


def _is_union_tag(step: Any) -> bool:
    """Pydantic inserts the discriminator value (e.g. 'replace') into error locations."""
    return step in {"route", "prefer", "replace", "companion", "plan", "abstain"}
