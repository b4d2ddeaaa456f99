"""A catalog: the skills of one folder tree (or built in code) plus its routing spec.

Loading validates everything up front — each SKILL.md, duplicate names, and every name
the routing file mentions — so routing never meets a half-valid catalog.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from skillroute.errors import CatalogError
from skillroute.routing_spec import ROUTING_FILE, RoutingSpec, load_routing_spec
from skillroute.skill import SKILL_FILE, Skill, parse_skill_file

__all__ = ["Catalog"]


class Catalog:
    """An ordered, validated set of skills with their routing rules.

    Build one with `Catalog.from_dir` (a folder tree of ``<name>/SKILL.md`` plus an optional
    ``routing.yaml``) or `Catalog.from_skills` (in code, for notebooks and tests).
    """

    def __init__(
        self,
        skills: Iterable[Skill],
        routing: RoutingSpec | None = None,
        *,
        root: Path | None = None,
        routing_lines: Callable[[tuple[str | int, ...]], int | None] | None = None,
    ) -> None:
        self.routing = routing if routing is not None else RoutingSpec()
        self.root = root
        merged = tuple(self._with_routing_data(skill) for skill in skills)
        if not merged:
            raise CatalogError("a catalog needs at least one skill", path=root)
        by_name: dict[str, Skill] = {}
        for skill in merged:
            if skill.name in by_name:
                first = by_name[skill.name].skill_file or "(built in code)"
                raise CatalogError(
                    f"duplicate skill name {skill.name!r} (also defined in {first})",
                    path=skill.skill_file,
                    field="name",
                )
            by_name[skill.name] = skill
        self.skills = merged
        self._names = tuple(by_name)
        self._by_name = by_name
        self._check_lanes_and_stages()
        self.routing.check_names(by_name, line_of=routing_lines)

    @classmethod
    def from_skills(cls, skills: Iterable[Skill], routing: RoutingSpec | None = None) -> Catalog:
        """A catalog built in code."""
        return cls(skills, routing)

    @classmethod
    def from_dir(cls, path: Path | str, *, strict: bool = False) -> Catalog:
        """Load every ``SKILL.md`` under ``path`` and the folder's ``routing.yaml`` if present."""
        root = Path(path).expanduser()
        if not root.is_dir():
            raise CatalogError("is not a directory of skills", path=root)
        files = sorted(
            file
            for file in root.rglob(SKILL_FILE)
            if not any(part.startswith(".") for part in file.relative_to(root).parts)
        )
        if not files:
            raise CatalogError(f"no {SKILL_FILE} files found", path=root)
        skills = [parse_skill_file(file, strict=strict) for file in files]
        routing_file = root / ROUTING_FILE
        if not routing_file.is_file():
            return cls(skills, root=root)
        spec, line_of = load_routing_spec(routing_file)
        return cls(skills, spec, root=root, routing_lines=line_of)

    def _with_routing_data(self, skill: Skill) -> Skill:
        extra = self.routing.skills.get(skill.name)
        if extra is None:
            return skill
        return skill.model_copy(
            update={
                "examples": (*skill.examples, *extra.examples),
                "implications": (*skill.implications, *extra.implications),
            }
        )

    def _check_lanes_and_stages(self) -> None:
        lanes, stages = set(self.routing.lanes), self.routing.stage_order
        for skill in self.skills:
            if lanes and skill.lane is not None and skill.lane not in lanes:
                raise CatalogError(
                    f"lane {skill.lane!r} is not declared in {ROUTING_FILE} (lanes: "
                    f"{', '.join(sorted(lanes))})",
                    path=skill.skill_file,
                    field="metadata.lane",
                )
            if stages and skill.stage is not None and skill.stage not in stages:
                raise CatalogError(
                    f"stage {skill.stage!r} is not declared in {ROUTING_FILE} (stages: "
                    f"{', '.join(stages)})",
                    path=skill.skill_file,
                    field="metadata.stage",
                )

    @property
    def names(self) -> tuple[str, ...]:
        """Skill names in catalog order."""
        return self._names

    def __getitem__(self, name: str) -> Skill:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"no skill named {name!r} in this catalog") from None

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[Skill]:
        return iter(self.skills)

    def __len__(self) -> int:
        return len(self.skills)

    def __repr__(self) -> str:
        where = f" from {self.root}" if self.root else ""
        return f"Catalog({len(self)} skills{where})"

    def routing_texts(self) -> tuple[tuple[str, ...], ...]:
        """Per skill, the texts a task is compared with (description, then examples)."""
        return tuple(skill.routing_texts() for skill in self.skills)

    @property
    def out_of_scope_examples(self) -> tuple[str, ...]:
        """Requests no skill should take (``routing.yaml``: ``out_of_scope.examples``)."""
        return self.routing.out_of_scope.examples

    def fingerprint(self) -> str:
        """A hash of everything routing depends on, to detect a stale calibration."""
        digest = hashlib.sha256()
        for skill, texts in zip(self.skills, self.routing_texts(), strict=True):
            digest.update(skill.name.encode())
            for text in texts:
                digest.update(b"\x00" + text.encode())
            digest.update(b"\x01")
        if self.out_of_scope_examples:  # absent: the same hash as before they existed
            digest.update(b"\x02")
            for text in self.out_of_scope_examples:
                digest.update(b"\x00" + text.encode())
        return digest.hexdigest()

    def example_texts(self) -> set[str]:
        """All example tasks (out-of-scope ones too), normalised, to detect leakage."""
        examples = (
            *(text for skill in self.skills for text in skill.examples),
            *self.out_of_scope_examples,
        )
        return {normalise(text) for text in examples}


def normalise(text: str) -> str:
    """Case- and whitespace-insensitive form of a task text, for leakage checks."""
    return " ".join(text.casefold().split())
