"""One skill: a parsed Agent Skills ``SKILL.md`` (frontmatter + body) plus its routing data.

The Agent Skills format is YAML frontmatter between ``---`` lines followed by Markdown.
Lenient mode (the default) keeps fields the spec does not define, with a warning, because
real skill folders carry extras such as ``when_to_use``; strict mode rejects them, which is
what a catalog author wants in CI.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from skillroute.errors import SkillFormatError, SkillrouteWarning, located
from skillroute.text import NonBlankText

__all__ = ["MAX_DESCRIPTION", "MAX_NAME", "SKILL_FILE", "Skill", "parse_skill_file"]

SKILL_FILE = "SKILL.md"
MAX_NAME = 64
MAX_DESCRIPTION = 1024
MAX_COMPATIBILITY = 500
_NAME_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_SPEC_FIELDS = frozenset(
    {"name", "description", "license", "compatibility", "metadata", "allowed-tools"}
)


def name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid skill name, or None when it is."""
    if not 1 <= len(name) <= MAX_NAME:
        return f"must be 1-{MAX_NAME} characters (got {len(name)})"
    if not _NAME_RE.fullmatch(name):
        return (
            f"{name!r} must be lowercase letters, digits and single hyphens, "
            "not starting or ending with a hyphen"
        )
    return None


class Skill(BaseModel):
    """A validated skill.  Build it in code (notebooks, tests) or parse it from a SKILL.md.

    ``examples`` and ``implications`` are routing data: they come from the catalog's
    ``routing.yaml`` (the spec's ``metadata`` holds strings only), or are passed in code.
    Lane and stage are read from ``metadata`` (string values, as the spec requires).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str
    license: str | None = None
    compatibility: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    allowed_tools: str | None = None
    body: str = ""
    path: Path | None = None
    examples: tuple[NonBlankText, ...] = ()
    implications: tuple[NonBlankText, ...] = ()
    extra: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        problem = name_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("description")
    @classmethod
    def _valid_description(cls, value: str) -> str:
        if not value.strip() or len(value) > MAX_DESCRIPTION:
            raise ValueError(f"must be 1-{MAX_DESCRIPTION} characters (got {len(value.strip())})")
        return value

    @property
    def lane(self) -> str | None:
        """The skill's lane (``metadata.lane``), e.g. ``django``."""
        return self.metadata.get("lane")

    @property
    def stage(self) -> str | None:
        """The skill's lifecycle stage (``metadata.stage``), e.g. ``test``."""
        return self.metadata.get("stage")

    @property
    def skill_file(self) -> Path | None:
        """Where the SKILL.md lives, when the skill came from disk."""
        return self.path / SKILL_FILE if self.path is not None else None

    def routing_texts(self) -> tuple[str, ...]:
        """The texts a task is compared with: the description first, then the examples."""
        title = self.name.replace("-", " ")
        return (f"{title}: {self.description.strip()}", *self.examples)


def parse_skill_file(path: Path | str, *, strict: bool = False) -> Skill:
    """Parse and validate one SKILL.md.  Errors name the file, the line and the field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SkillFormatError(f"not UTF-8 text ({exc.reason})", path=path) from None
    except OSError as exc:
        raise SkillFormatError(f"cannot read file ({exc.strerror})", path=path) from None
    frontmatter, body = _split_frontmatter(text, path)
    where = _Where(path, _key_lines(frontmatter))
    fields = _spec_fields(_load_frontmatter(frontmatter, path), where, strict=strict)
    problem = name_problem(fields["name"])
    if problem:
        raise where.error("name", problem)
    folder = path.parent.name
    if fields["name"] != folder:
        raise where.error("name", f"{fields['name']!r} must match its folder name {folder!r}")
    try:
        return Skill(**fields, body=body, path=path.parent)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "frontmatter"
        field = "allowed-tools" if field == "allowed_tools" else field
        raise where.error(field, str(first["msg"]).removeprefix("Value error, ")) from None


class _Where:
    """A SKILL.md being parsed: builds errors and warnings that point at a field's line."""

    def __init__(self, path: Path, lines: Mapping[str, int]) -> None:
        self.path = path
        self.lines = lines

    def line(self, field: str) -> int | None:
        return self.lines.get(field.split(".", maxsplit=1)[0])

    def error(self, field: str, message: str) -> SkillFormatError:
        return SkillFormatError(message, path=self.path, line=self.line(field), field=field)

    def warn(self, field: str, message: str) -> None:
        warnings.warn(
            located(self.path, self.line(field), field, message), SkillrouteWarning, stacklevel=5
        )


def _split_frontmatter(text: str, path: Path) -> tuple[str, str]:
    """Split the ``---`` frontmatter from the Markdown body."""
    text = text.removeprefix("\ufeff")
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise SkillFormatError(
            "must start with YAML frontmatter: a first line '---'", path=path, line=1
        )
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            return "".join(lines[1:index]), "".join(lines[index + 1 :]).strip()
    raise SkillFormatError("frontmatter is not closed by a '---' line", path=path, line=1)


def _load_frontmatter(frontmatter: str, path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(frontmatter)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else None  # +1 for 1-based, +1 for '---'
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SkillFormatError(f"invalid YAML: {problem}", path=path, line=line) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SkillFormatError(
            f"frontmatter must be a mapping of fields, got {type(data).__name__}",
            path=path,
            line=2,
        )
    return data


def _key_lines(frontmatter: str) -> dict[str, int]:
    """Line numbers (1-based, in the whole file) of the frontmatter's top-level keys."""
    found: dict[str, int] = {}
    for offset, line in enumerate(frontmatter.splitlines()):
        match = re.match(r"([A-Za-z0-9_-]+)\s*:", line)
        if match and not line[0].isspace():
            found.setdefault(match.group(1), offset + 2)
    return found


def _spec_fields(data: Mapping[str, Any], where: _Where, *, strict: bool) -> dict[str, Any]:
    """Check the spec's fields and types; collect unknown fields (or reject them)."""
    for required in ("name", "description"):
        if data.get(required) is None:
            error = where.error(required, "is required")
            if error.line is None:
                error = SkillFormatError("is required", path=where.path, line=1, field=required)
            raise error
    fields: dict[str, Any] = {}
    for key in ("name", "description", "license", "compatibility"):
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise where.error(key, f"must be a string, got {type(value).__name__}")
        fields[key] = value
    compatibility = fields.get("compatibility")
    if compatibility is not None and not 1 <= len(compatibility) <= MAX_COMPATIBILITY:
        raise where.error(
            "compatibility", f"must be 1-{MAX_COMPATIBILITY} characters (got {len(compatibility)})"
        )
    fields["metadata"] = _metadata(data.get("metadata"), where, strict=strict)
    tools = data.get("allowed-tools")
    if tools is not None:
        if isinstance(tools, list) and not strict and all(isinstance(t, str) for t in tools):
            where.warn("allowed-tools", "should be a space-separated string; joined")
            tools = " ".join(tools)
        if not isinstance(tools, str):
            message = f"must be a space-separated string, got {type(tools).__name__}"
            raise where.error("allowed-tools", message)
        fields["allowed_tools"] = tools
    unknown = {str(key): value for key, value in data.items() if key not in _SPEC_FIELDS}
    for key in unknown:
        if strict:
            raise where.error(
                key, "is not an Agent Skills field (strict mode); move it to metadata"
            )
        where.warn(key, "is not an Agent Skills field; kept in Skill.extra")
    fields["extra"] = unknown
    return fields


def _metadata(value: Any, where: _Where, *, strict: bool) -> dict[str, str]:
    """The spec's ``metadata``: a mapping of string keys to string values."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise where.error("metadata", f"must be a mapping of strings, got {type(value).__name__}")
    result: dict[str, str] = {}
    for key, item in value.items():
        field = f"metadata.{key}"
        if isinstance(item, str):
            result[str(key)] = item
        elif strict or item is None or isinstance(item, dict | list):
            raise where.error(field, f"must be a string, got {type(item).__name__}")
        else:
            where.warn(field, f"should be a string; {item!r} converted")
            result[str(key)] = str(item)
    return result
