"""Write the results: a markdown page for people and a JSON file for tools.

Both carry the machine and the exact command, because a latency figure means nothing
without them.
"""

from __future__ import annotations

import json
import math
import os
import platform
from collections.abc import Callable
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["machine_info", "to_markdown", "write_outputs"]

_PACKAGES = (
    "torch",
    "sentence-transformers",
    "transformers",
    "scikit-learn",
    "numpy",
    "semantic-router",
    "skillroute",
)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_info() -> dict[str, Any]:
    """CPU, cores, threads and the versions that move the numbers."""
    import torch

    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average_1_5_15min": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "packages": {name: _version(name) for name in _PACKAGES},
    }


def _clean(value: Any) -> Any:
    """JSON-safe copy: non-finite floats become None (JSON has no inf or NaN)."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "item"):  # numpy scalar
        return _clean(value.item())
    return value


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _num(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


_CLINC_HEAD = (
    "| system | in-scope acc | OOS recall | OOS precision | OOS F1 | top-1 (no abstain) "
    "| top-5 | build (s) | fit (s) | p50 latency (ms) | batch (q/s) |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)
_META_HEAD = (
    "| system | top-1 | top-5 | build (s) | p50 latency (ms) | batch (q/s) |\n"
    "|---|---:|---:|---:|---:|---:|"
)


def _row(r: dict[str, Any], cells: Callable[[dict[str, Any]], list[str]]) -> str:
    """A system's table row; a system that failed gets its status and empty cells."""
    if r["status"] != "ok":
        return f"| {r['system']} | {r['status']} |" + " |" * (len(cells({})) - 1)
    return f"| {r['system']} | " + " | ".join(cells(r)) + " |"


def _clinc_cells(r: dict[str, Any]) -> list[str]:
    m, latency = r.get("metrics", {}), r.get("latency", {})
    return [
        _pct(m.get("in_scope_accuracy")),
        _pct(m.get("oos_recall")),
        _pct(m.get("oos_precision")),
        _pct(m.get("oos_f1")),
        _pct(m.get("top1_accuracy")),
        _pct(m.get("top5_accuracy")),
        _num(r.get("build_s"), ".1f"),
        _num(r.get("fit_s"), ".1f"),
        _num(latency.get("p50_ms"), ".1f"),
        _num(r.get("throughput_qps"), ".0f"),
    ]


def _meta_cells(r: dict[str, Any]) -> list[str]:
    m, latency = r.get("metrics", {}), r.get("latency", {})
    return [
        _pct(m.get("top1_accuracy")),
        _pct(m.get("top5_accuracy")),
        _num(r.get("build_s"), ".1f"),
        _num(latency.get("p50_ms"), ".1f"),
        _num(r.get("throughput_qps"), ".0f"),
    ]


def _config_note(config: dict[str, Any]) -> str:
    note = (
        f"{config['n_route_texts']} route texts. raw-encoder argmax and embedding + logreg "
        "read them from the run's embedding cache; encoding them costs "
        f"≈ {config['route_encode_est_s']:.1f} s here, which semantic-router (and skillroute, "
        "with its own encoder) pay inside build."
    )
    loads = [
        r["latency"]["load_average_1min"]
        for r in config["systems"]
        if r["status"] == "ok" and r["latency"].get("load_average_1min") is not None
    ]
    if loads:
        note += (
            f" Load average (1 min) after each latency sample: {min(loads):.1f} to "
            f"{max(loads):.1f} on {os.cpu_count()} cores (above the core count, other "
            "processes competed with the run and inflated its timings)."
        )
    return note


def _unavailable(bench: dict[str, Any]) -> list[str]:
    seen: dict[str, str] = {}
    for config in bench["configs"]:
        for r in config["systems"]:
            if r["status"] != "ok":
                seen.setdefault(r["system"], f"{r['status']}: {r.get('error')}")
    return [f"- {name}: {why}" for name, why in seen.items()]


def _section(bench: dict[str, Any]) -> list[str]:
    clinc = bench["benchmark"] == "clinc150"
    lines = [f"## {'CLINC150' if clinc else 'MetaTool'}", ""]
    lines += [f"- {key}: {value}" for key, value in bench["protocol"].items()]
    lines += [f"- encoder speed (uncached batch): {bench['encoder_texts_per_s']:.0f} texts/s", ""]
    for config in bench["configs"]:
        if clinc:
            lines += [f"### k = {config['k']} examples per intent", "", _CLINC_HEAD]
            lines += [_row(r, _clinc_cells) for r in config["systems"]]
        else:
            lines += [_META_HEAD] + [_row(r, _meta_cells) for r in config["systems"]]
        lines += ["", _config_note(config), ""]
    missing = _unavailable(bench)
    if missing:
        lines += ["Not measured:", "", *missing, ""]
    return lines


def to_markdown(results: dict[str, Any]) -> str:
    """The human-readable page (docs/benchmarks.md)."""
    machine = results["machine"]
    packages = ", ".join(f"{k} {v}" for k, v in machine["packages"].items())
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `{results['command']}` on {results['finished_utc']} "
        f"({results['elapsed_s'] / 60:.1f} min). Protocol and fairness choices: "
        "`benchmarks/README.md`.",
        "",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, torch threads "
        f"{machine['torch_threads']}, {machine['platform']}, Python {machine['python']}; "
        f"{packages}.",
        "",
    ]
    if results["benchmarks"]:
        lines += [
            "Accuracies in %. Latency: wall time of one `predict([query])` call including "
            "encoding the query (no cache), median over the sample; batch: one `predict` "
            "call over the throughput sample, queries per second. Build: index / train on "
            "the route texts. Fit: calibrate abstention on the fit split.",
            "",
        ]
    for bench in results["benchmarks"]:
        lines += _section(bench)
    if results.get("speed"):
        from benchmarks.speed.report import speed_section

        lines += speed_section(results["speed"], machine)
    return "\n".join(lines).rstrip() + "\n"


def write_outputs(results: dict[str, Any], md_out: Path, json_out: Path) -> None:
    """Write both files (parents created); called only once the whole run finished."""
    clean = _clean(results)
    for path in (md_out, json_out):
        path.parent.mkdir(parents=True, exist_ok=True)
    json_out.write_text(json.dumps(clean, indent=2, allow_nan=False) + "\n")
    md_out.write_text(to_markdown(clean))


def utc_now() -> str:
    """ISO timestamp, seconds precision."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
