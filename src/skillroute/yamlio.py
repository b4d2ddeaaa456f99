"""Safe YAML loading that remembers where every value came from.

Catalog, rules, dataset and gates files are all YAML written by people; an error must
point at the line.  ``yaml.safe_load`` loses positions, so we compose the node tree once
and construct from it, keeping a way back from a data path to a line number.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from skillroute.errors import LocatedError

__all__ = ["YamlDocument", "load_yaml"]


class YamlDocument:
    """Parsed YAML data plus the node tree, to find the line of any nested item."""

    def __init__(self, data: Any, root: yaml.Node | None, path: Path) -> None:
        self.data = data
        self.path = path
        self._root = root

    def line(self, location: Sequence[str | int]) -> int | None:
        """1-based line of the item at ``location`` (keys and list indices), or its parent.

        A mapping entry is located at its key, a list item at its first line.
        """
        node = self._root
        found = node.start_mark.line + 1 if node is not None else None
        for step in location:
            child = _child(node, step)
            if child is None:
                break
            anchor, node = child
            found = anchor.start_mark.line + 1
        return found


def _child(node: yaml.Node | None, step: str | int) -> tuple[yaml.Node, yaml.Node] | None:
    """(the node to point at, the node to descend into) for one step of a location."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(step):
                return key, value
    if isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
        item: yaml.Node = node.value[step]
        return item, item
    return None


def _first_duplicate_key(node: yaml.Node | None) -> tuple[str, int] | None:
    """The first mapping key that appears twice in its mapping, with its line."""
    stack = [node] if node is not None else []
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in current.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in seen:
                        return key.value, key.start_mark.line + 1
                    seen.add(key.value)
                stack.append(value)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
    return None


def load_yaml(path: Path | str, error: type[LocatedError]) -> YamlDocument:
    """Read ``path`` with the safe loader; raise ``error`` (with the line) on any problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"not UTF-8 text ({exc.reason})", path=path) from None
    except OSError as exc:
        raise error(f"cannot read file ({exc.strerror})", path=path) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        duplicate = _first_duplicate_key(root)
        if duplicate is not None:
            key, line = duplicate
            raise error(
                f"duplicate key {key!r} (YAML keeps only the last one)", path=path, line=line
            )
        data = yaml.safe_load(text) if root is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        where = mark.line + 1 if mark is not None else None
        raise error(f"invalid YAML: {problem}", path=path, line=where) from None
    return YamlDocument(data, root, path)
