"""Labelled intent data: tasks with the skill(s) that should handle them.

Format (YAML with a top-level ``items`` list, or JSON Lines with one item per line)::

    items:
    - {text: "schedule a nightly cleanup job with celery beat", expect: [django-celery]}
    - {text: "build and ship a Django API", expect: [django-patterns],
       plan: [django-patterns, django-tdd, django-security, django-verification]}
    - {text: "center a div with CSS", oos: true}

``expect`` lists every acceptable primary skill (preferred first); ``plan`` is the
lifecycle order the router's plan must contain as an ordered subsequence; ``oos: true``
means the router must abstain.  Errors name the file and the item's line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from skillroute.catalog import Catalog, normalise
from skillroute.errors import DatasetError
from skillroute.yamlio import load_yaml

__all__ = ["Dataset", "LabelledItem", "load_dataset"]


class LabelledItem(BaseModel):
    """One labelled task."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str = Field(min_length=1)
    expect: tuple[str, ...] = ()
    plan: tuple[str, ...] = ()
    oos: bool = False
    tags: tuple[str, ...] = ()
    line: int | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _consistent(self) -> LabelledItem:
        if not self.text.strip():
            raise ValueError("text is empty")
        if self.oos and (self.expect or self.plan):
            raise ValueError("an out-of-scope item (oos: true) cannot have expect or plan")
        if not self.oos and not self.expect:
            raise ValueError("an item needs expect: [skill, ...] or oos: true")
        return self


class Dataset(BaseModel):
    """An ordered list of labelled tasks, with where they came from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    items: tuple[LabelledItem, ...]
    source: str = "(in memory)"
    parts: tuple[int, ...] = Field(
        default=(),
        description="item counts of the files joined into this dataset, in order (empty: one)",
    )

    @model_validator(mode="after")
    def _parts_cover_the_items(self) -> Dataset:
        if self.parts and (sum(self.parts) != len(self.items) or min(self.parts) < 0):
            raise ValueError(f"parts {self.parts} do not add up to the {len(self.items)} items")
        return self

    @classmethod
    def join(cls, parts: Sequence[Dataset]) -> Dataset:
        """One dataset holding the items of ``parts`` in order; its source names them all."""
        if not parts:
            raise DatasetError("nothing to join: no datasets given")
        if len(parts) == 1:
            return parts[0]
        return cls(
            items=tuple(item for part in parts for item in part.items),
            source=" + ".join(part.source for part in parts),
            parts=tuple(size for part in parts for size in part.part_sizes),
        )

    @property
    def part_sizes(self) -> tuple[int, ...]:
        """Item counts of the files this dataset joins (one part when it was not joined)."""
        return self.parts or (len(self.items),)

    def part_of_items(self) -> list[int]:
        """For each item, the index of the file it came from (`join` order)."""
        return [index for index, size in enumerate(self.part_sizes) for _ in range(size)]

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[LabelledItem]:  # type: ignore[override]
        return iter(self.items)

    @property
    def texts(self) -> list[str]:
        """The task texts, in order."""
        return [item.text for item in self.items]

    def check_against(self, catalog: Catalog) -> None:
        """Every skill named by an item must exist in ``catalog``."""
        for item in self.items:
            for name in (*item.expect, *item.plan):
                if name not in catalog:
                    raise DatasetError(
                        f"unknown skill {name!r} (catalog has {len(catalog)} skills)",
                        path=self.source,
                        line=item.line,
                        field="expect" if name in item.expect else "plan",
                    )

    def leaked(self, catalog: Catalog) -> list[LabelledItem]:
        """Items whose text is also one of the catalog's example tasks (train/test leakage)."""
        examples = catalog.example_texts()
        return [item for item in self.items if normalise(item.text) in examples]


def load_dataset(path: Path | str) -> Dataset:
    """Load a dataset from ``.yaml`` / ``.yml`` or ``.jsonl`` (by extension)."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError("no such dataset file", path=path)
    if path.suffix == ".jsonl":
        return Dataset(items=tuple(_jsonl_items(path)), source=str(path))
    document = load_yaml(path, DatasetError)
    data = document.data
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise DatasetError("must be a mapping with an 'items' list", path=path, line=1)
    items = [
        _item(raw, path, document.line(("items", index))) for index, raw in enumerate(data["items"])
    ]
    if not items:
        raise DatasetError("has no items", path=path, line=document.line(("items",)))
    return Dataset(items=tuple(items), source=str(path))


def _jsonl_items(path: Path) -> Iterator[LabelledItem]:
    try:
        lines: Sequence[str] = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read file ({exc})", path=path) from None
    count = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"invalid JSON: {exc.msg}", path=path, line=number) from None
        count += 1
        yield _item(raw, path, number)
    if not count:
        raise DatasetError("has no items", path=path)


def _item(raw: object, path: Path, line: int | None) -> LabelledItem:
    if not isinstance(raw, dict):
        raise DatasetError(
            f"an item must be a mapping, got {type(raw).__name__}", path=path, line=line
        )
    try:
        return LabelledItem.model_validate({**raw, "line": line})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(step) for step in first["loc"]) or None
        message = str(first["msg"]).removeprefix("Value error, ")
        raise DatasetError(message, path=path, line=line, field=field) from None
