"""Write an `EvalReport` to a directory: ``report.json``, ``report.md`` and PNG plots.

Plots need matplotlib (the ``plots`` extra); without it the JSON and Markdown are still
written and the function says which files it could not make.  Figures are drawn with the
object API (no pyplot), so nothing global changes.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

from skillroute.errors import SkillrouteWarning
from skillroute.evaluation.gates import GateResult
from skillroute.evaluation.metrics import EvalReport

__all__ = ["markdown", "write_report"]

_HEADLINE = (
    ("top1_accuracy", "top-1 accuracy"),
    ("top3_accuracy", "top-3 accuracy"),
    ("macro_f1", "macro-F1"),
    ("oos_precision", "out-of-scope precision"),
    ("oos_recall", "out-of-scope recall"),
    ("oos_f1", "out-of-scope F1"),
    ("plan_accuracy", "plan accuracy"),
    ("unasked_plan_rate", "single asks given a plan"),
    ("ambiguity_rate", "ambiguity rate"),
    ("abstain_rate", "abstain rate"),
    ("ece", "expected calibration error"),
    ("latency_p50_ms", "latency p50 (ms)"),
    ("latency_p95_ms", "latency p95 (ms)"),
)


def write_report(
    report: EvalReport, directory: Path | str, gates: Sequence[GateResult] = ()
) -> list[Path]:
    """Write every report file into ``directory``; return the paths written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = [directory / "report.json", directory / "report.md"]
    written[0].write_text(report.model_dump_json(indent=1) + "\n", encoding="utf-8")
    written[1].write_text(markdown(report, gates), encoding="utf-8")
    try:
        written += _plots(report, directory)
    except ImportError:
        warnings.warn(
            "matplotlib is not installed: PNG plots skipped (pip install 'skillroute[plots]')",
            SkillrouteWarning,
            stacklevel=2,
        )
    return written


def _value(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}".rstrip("0").rstrip(".") if value else "0"


def markdown(report: EvalReport, gates: Sequence[GateResult] = ()) -> str:
    """A readable report: headline table, gates, per-skill table, confusions, every error."""
    lines = [
        f"# Routing evaluation: {Path(report.dataset).name}",
        "",
        f"- dataset: `{report.dataset}` ({report.items} items: {report.in_scope} in scope, "
        f"{report.out_of_scope} out of scope, {report.with_plan} with a plan)",
        f"- catalog: `{report.catalog}`",
        f"- model: `{report.model_id}` "
        f"({'fitted' if report.calibrated else 'default'} calibration)",
        "",
        "| metric | value |",
        "|---|---|",
    ]
    lines += [f"| {label} | {_value(report.metric(name))} |" for name, label in _HEADLINE]
    if gates:
        lines += ["", "## Gates", "", "| gate | verdict |", "|---|---|"]
        lines += [f"| {g.describe()} | {'pass' if g.passed else '**FAIL**'} |" for g in gates]
    lines += [
        "",
        "## Per skill",
        "",
        "| skill | precision | recall | F1 | support |",
        "|---|---|---|---|---|",
    ]
    for name, scores in report.per_skill.items():
        lines.append(
            f"| {name} | {_value(scores.precision)} | {_value(scores.recall)} | "
            f"{_value(scores.f1)} | {scores.support} |"
        )
    confusions = report.worst_confusions()
    lines += ["", "## Worst confusions", ""]
    if confusions:
        lines += ["| expected | got | count |", "|---|---|---|"]
        lines += [f"| {expected} | {got} | {count} |" for expected, got, count in confusions]
    else:
        lines.append("None.")
    lines += ["", f"## Errors ({len(report.errors)})", ""]
    if not report.errors:
        lines.append("None.")
    for error in report.errors:
        candidates = ", ".join(f"{name} {score:.3f}" for name, score in error.candidates)
        expected = "out of scope" if not error.expect else " / ".join(error.expect)
        one_line = " ⏎ ".join(error.text.splitlines())  # a pasted multi-line task
        lines.append(
            f"- **{error.kind}**: “{one_line}” — expected {expected}, got "
            f"{error.got or 'abstain'} ({error.decision}, confidence {error.confidence:.2f}); "
            f"candidates: {candidates}"
            + (
                f"; plan {' → '.join(error.plan)} vs expected {' → '.join(error.expected_plan)}"
                if error.kind == "plan"
                else ""
            )
            + (f"; rules: {', '.join(error.rules)}" if error.rules else "")
        )
    lines += [
        "",
        "Plots: `confusion.png` (confusion matrix), `reliability.png` (reliability diagram), "
        "`coverage.png` (coverage versus accuracy).",
        "",
    ]
    return "\n".join(lines)


def _plots(report: EvalReport, directory: Path) -> list[Path]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    written = []

    def save(figure: Figure, name: str) -> None:
        FigureCanvasAgg(figure)
        figure.tight_layout()
        path = directory / name
        figure.savefig(path, dpi=110)
        written.append(path)

    size = max(6.0, 0.45 * len(report.labels))
    figure = Figure(figsize=(size + 1.5, size))
    axes = figure.add_subplot()
    image = axes.imshow(report.confusion, cmap="Blues")
    axes.set_xticks(range(len(report.labels)), report.labels, rotation=60, ha="right", fontsize=8)
    axes.set_yticks(range(len(report.labels)), report.labels, fontsize=8)
    axes.set_xlabel("predicted")
    axes.set_ylabel("expected")
    for i, row in enumerate(report.confusion):
        for j, count in enumerate(row):
            if count:
                axes.text(
                    j,
                    i,
                    str(count),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if count > max(map(max, report.confusion)) / 2 else "black",
                )
    figure.colorbar(image, ax=axes, fraction=0.046)
    axes.set_title("Confusion matrix")
    save(figure, "confusion.png")

    figure = Figure(figsize=(5.5, 5))
    axes = figure.add_subplot()
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    if report.reliability:
        means, accuracies, _counts = zip(*report.reliability, strict=True)
        axes.plot(means, accuracies, marker="o", label="router")
        for mean, accuracy, count in report.reliability:
            axes.annotate(
                str(count), (mean, accuracy), fontsize=7, xytext=(3, 3), textcoords="offset points"
            )
    axes.set_xlabel("confidence of the top candidate")
    axes.set_ylabel("share of top candidates that are right")
    axes.set_title(f"Reliability (ECE {_value(report.ece)})")
    axes.legend(loc="upper left")
    save(figure, "reliability.png")

    figure = Figure(figsize=(5.5, 5))
    axes = figure.add_subplot()
    points = [p for p in report.coverage_curve if p.accuracy is not None]
    axes.plot([p.coverage for p in points], [float(p.accuracy or 0.0) for p in points], marker="o")
    for point in points[::4]:
        axes.annotate(f"t={point.threshold:.2f}", (point.coverage, point.accuracy), fontsize=7)
    axes.set_xlabel("coverage (share of tasks answered)")
    axes.set_ylabel("accuracy of answered tasks")
    axes.set_title("Coverage versus accuracy as the threshold moves")
    save(figure, "coverage.png")
    return written
