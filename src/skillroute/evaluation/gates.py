"""Evaluation gates: minimums and maximums per metric, checked in CI.

A gates file is YAML::

    gates:
      top1_accuracy: {min: 0.95}
      oos_recall: {min: 0.90}
      latency_p95_ms: {max: 250}

A gate on a metric the report cannot compute (no out-of-scope items, say) fails: a gate
that silently passes on missing data would hide a broken dataset.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from skillroute.errors import DatasetError
from skillroute.evaluation.metrics import EvalReport
from skillroute.yamlio import load_yaml

__all__ = ["Bound", "GateResult", "Gates", "check_gates", "load_gates"]


class Bound(BaseModel):
    """Inclusive limits for one metric."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _some_bound(self) -> Bound:
        if self.min is None and self.max is None:
            raise ValueError("a gate needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class Gates(BaseModel):
    """Bounds by metric name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    gates: dict[str, Bound]
    source: str = "(in memory)"


class GateResult(BaseModel):
    """One gate's verdict."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    metric: str
    value: float | None
    min: float | None
    max: float | None
    passed: bool

    def describe(self) -> str:
        """E.g. ``top1_accuracy = 0.9412 < min 0.95``."""
        value = "n/a" if self.value is None else f"{self.value:.4f}"
        if self.value is None:
            return f"{self.metric} = n/a (no data to compute it)"
        if self.min is not None and self.value < self.min:
            return f"{self.metric} = {value} < min {self.min}"
        if self.max is not None and self.value > self.max:
            return f"{self.metric} = {value} > max {self.max}"
        bounds = " ".join(
            part
            for part in (
                f"min {self.min}" if self.min is not None else "",
                f"max {self.max}" if self.max is not None else "",
            )
            if part
        )
        return f"{self.metric} = {value} ({bounds})"


_SCALARS = frozenset(
    name
    for name, field in EvalReport.model_fields.items()
    if field.annotation in (float | None, float, int)
)


def load_gates(path: Path | str) -> Gates:
    """Read and validate a gates file; unknown metrics are errors naming the line."""
    document = load_yaml(path, DatasetError)
    data = document.data
    if not isinstance(data, dict) or not isinstance(data.get("gates"), dict) or not data["gates"]:
        raise DatasetError("must be a mapping with a non-empty 'gates' mapping", path=path, line=1)
    for metric in data["gates"]:
        if metric not in _SCALARS:
            raise DatasetError(
                f"unknown metric {metric!r}; known: {', '.join(sorted(_SCALARS))}",
                path=path,
                line=document.line(("gates", metric)),
                field=f"gates.{metric}",
            )
    try:
        return Gates(gates=data["gates"], source=str(path))
    except ValidationError as exc:
        first = exc.errors()[0]
        location = tuple(first["loc"])
        raise DatasetError(
            str(first["msg"]).removeprefix("Value error, "),
            path=path,
            line=document.line(location),
            field=".".join(str(step) for step in location),
        ) from None


def check_gates(report: EvalReport, gates: Gates) -> list[GateResult]:
    """Check every gate against the report (in the file's order)."""
    results = []
    for metric, bound in gates.gates.items():
        value = report.metric(metric)
        passed = value is not None
        if value is not None and bound.min is not None:
            passed = passed and value >= bound.min
        if value is not None and bound.max is not None:
            passed = passed and value <= bound.max
        results.append(
            GateResult(metric=metric, value=value, min=bound.min, max=bound.max, passed=passed)
        )
    return results
