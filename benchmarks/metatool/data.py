"""Reading MetaTool's tool descriptions and labelled queries."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from benchmarks.systems import RouteSpec

__all__ = ["MetaTool", "load"]


@dataclass(frozen=True)
class MetaTool:
    """Tools (name -> description) and (query, tool) pairs."""

    tools: dict[str, str]
    queries: list[tuple[str, str]]

    def routes(self) -> dict[str, RouteSpec]:
        """One route per tool, with its description and no examples."""
        return {name: RouteSpec(description=desc) for name, desc in self.tools.items()}


def load(folder: Path) -> MetaTool:
    """Load ``tools.json`` and ``queries_dev.csv``; every query's tool must exist."""
    try:
        tools = {str(k): str(v) for k, v in json.loads((folder / "tools.json").read_text()).items()}
        with (folder / "queries_dev.csv").open(newline="") as handle:
            queries = [(row["query"], row["tool"]) for row in csv.DictReader(handle)]
    except (OSError, KeyError, ValueError) as exc:
        raise SystemExit(f"{folder}: cannot read MetaTool ({exc}); pass --data-dir") from exc
    unknown = sorted({tool for _, tool in queries} - set(tools))
    if unknown:
        raise SystemExit(f"{folder}/queries_dev.csv: tools missing from tools.json: {unknown[:5]}")
    return MetaTool(tools=tools, queries=queries)
