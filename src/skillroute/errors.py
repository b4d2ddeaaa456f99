"""Typed errors and warnings: everything skillroute raises for bad input lives here.

Every error a user can cause derives from `SkillrouteError`, so agent code and the CLI can
catch one class.  Errors tied to a file render as ``path:line: field: message`` — the
form compilers use — so the user can jump straight to the fault.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "CatalogError",
    "DatasetError",
    "EncoderError",
    "InputError",
    "LocatedError",
    "ModelNotFoundError",
    "NotFittedError",
    "RulesError",
    "SkillFormatError",
    "SkillrouteError",
    "SkillrouteWarning",
    "located",
]


class SkillrouteError(Exception):
    """Base class of every error skillroute raises on purpose."""


class SkillrouteWarning(UserWarning):
    """Something was accepted but deserves attention (unknown field, stale cache...)."""


def located(path: Path | str | None, line: int | None, field: str | None, message: str) -> str:
    """Render ``path:line: field: message``, leaving out the parts that are unknown."""
    head = ""
    if path is not None:
        head = f"{path}:{line}: " if line is not None else f"{path}: "
    if field:
        head += f"{field}: "
    return head + message


class LocatedError(SkillrouteError):
    """An error that points at a place in a file: path, line (1-based) and field."""

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line
        self.field = field
        super().__init__(located(self.path, line, field, message))


class SkillFormatError(LocatedError):
    """A SKILL.md file breaks the Agent Skills format."""


class CatalogError(LocatedError):
    """A catalog as a whole is invalid (duplicate names, missing folder, no skills)."""


class RulesError(LocatedError):
    """A catalog's routing file (routing.yaml) is invalid."""


class DatasetError(LocatedError):
    """A labelled dataset or gates file is invalid."""


class InputError(SkillrouteError, ValueError):
    """A task text or argument given to the API is unusable (wrong type, empty, too long)."""


class EncoderError(SkillrouteError):
    """The embedding model failed or returned something unusable."""


class ModelNotFoundError(EncoderError):
    """The embedding model could not be found locally or fetched."""


class NotFittedError(SkillrouteError):
    """An operation needs a fitted calibration and none is available."""
