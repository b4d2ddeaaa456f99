"""The ``## Speed`` section of docs/benchmarks.md, from the ``speed`` entry of the JSON.

Every figure sits next to its target (when the brief set one) and a pass / fail, and
the section says how each was taken (repeats, fresh process or not, thread caps, load),
because a speed number without its conditions cannot be compared with anything.
"""

from __future__ import annotations

from typing import Any

__all__ = ["speed_section"]

_MAIN_HEAD = "| measure | value | target | result |\n|---|---:|---:|---|"
_OVERHEAD_HEAD = (
    "| catalog | routing texts | single p50 (ms) | single p99 (ms) | batch, per task (ms) "
    "| target (ms) | result | decisions (batch sample) | load (1 min) |\n"
    "|---|---:|---:|---:|---:|---:|---|---|---:|"
)
_PROFILE_HEAD = (
    "| function | calls / route | cumulative µs / route | own µs / route |\n|---|---:|---:|---:|"
)


def _verdict(passed: bool | None) -> str:
    return "" if passed is None else ("pass" if passed else "**FAIL**")


def _row(measure: str, value: str, target: str = "", passed: bool | None = None) -> str:
    return f"| {measure} | {value} | {target} | {_verdict(passed)} |"


def _group(title: str) -> str:
    return f"| **{title}** | | | |"


def _import_rows(imports: dict[str, Any]) -> list[str]:
    runs = next(iter(imports.values()))["runs"]
    rows = [_group(f"Import (fresh processes, median of {runs})")]
    for label, r in imports.items():
        rows.append(
            _row(f"`{label}`", f"{r['median_ms']:.0f} ms ({r['min_ms']:.0f}-{r['max_ms']:.0f})")
        )
    for label, r in imports.items():
        loaded = r["modules_loaded"]
        torch = loaded["torch"] or not r["modules_consistent"]
        others = ", ".join(name for name, on in loaded.items() if on) or "none"
        rows.append(
            _row(
                f"torch in `sys.modules` after `{label}`",
                f"{'yes' if torch else 'no'} (heavy modules loaded: {others})",
                "no",
                not torch,
            )
        )
    return rows


def _cold_rows(cold: dict[str, Any]) -> list[str]:
    warm, empty = cold["warm_cache"], cold["empty_cache"]
    rows = [
        _group(
            f"Cold start: spawn to first `RouteResult` (median of {warm['runs']}, "
            f"torch threads {warm['torch_threads']})"
        )
    ]
    for label, r in (("warm embedding cache", warm), ("empty embedding cache", empty)):
        value = (
            f"{r['median_spawn_to_result_s']:.2f} s ({r['min_spawn_to_result_s']:.2f}-"
            f"{r['max_spawn_to_result_s']:.2f}); interpreter {r['median_interpreter_s']:.2f}, "
            f"import {r['median_import_s']:.2f}, `from_catalog` {r['median_router_s']:.2f}, "
            f"first `route` {r['median_first_route_s']:.2f} (of which importing "
            f"sentence-transformers and torch {r['median_import_model_libraries_s']:.2f}, "
            f"loading the model {r['median_load_model_s']:.2f})"
        )
        rows.append(_row(label, value))
    only_task = warm["encoder_batches"] == [1] and warm["encoder_batches_consistent"]
    rows.append(
        _row(
            "texts encoded at start-up, warm cache",
            f"{warm['texts_encoded']} (encoder calls: {warm['encoder_batches']})",
            "1 (the task only)",
            only_task,
        )
    )
    rows.append(
        _row(
            "texts encoded at start-up, empty cache",
            f"{empty['texts_encoded']} (encoder calls: {empty['encoder_batches']}; "
            f"{empty['skill_texts']} skill texts)",
        )
    )
    return rows


def _latency_rows(latency: dict[str, Any]) -> list[str]:
    route, enc = latency["route"], latency["encoder"]
    return [
        _group(
            f"Warm single-task latency, default model ({latency['texts']} tasks x "
            f"{latency['rounds']} rounds, interleaved; load {_load(latency['load_average_1min'])})"
        ),
        _row("`router.route(text)` p50 / p99", f"{route['p50_ms']:.1f} / {route['p99_ms']:.1f} ms"),
        _row(
            "`router.encoder.encode([text])` p50 / p99",
            f"{enc['p50_ms']:.1f} / {enc['p99_ms']:.1f} ms",
        ),
        _row(
            "difference: p50 of paired (route - encode)",
            f"{latency['paired_difference_p50_ms']:.2f} ms",
        ),
    ]


def _throughput_rows(t: dict[str, Any]) -> list[str]:
    ratios = t["paired_ratios"]
    return [
        _group(
            f"Batch throughput ({t['texts']} tasks in one call, median of {t['repeats']}; "
            f"load {_load(t['load_average_1min'])})"
        ),
        _row("`router.route_batch(texts)`", f"{t['route_batch_tasks_per_s']:.0f} tasks/s"),
        _row("`router.encoder.encode(texts)`", f"{t['encoder_texts_per_s']:.0f} texts/s"),
        _row(
            "skillroute / bare encoder",
            f"{100 * t['ratio']:.1f}% (median of {len(ratios)} back-to-back pairs: "
            f"{100 * min(ratios):.0f}-{100 * max(ratios):.0f}%; ratio of the medians "
            f"{100 * t['ratio_of_medians']:.1f}%)",
            "≥ 95%",
            t["ratio"] >= 0.95,
        ),
        _row(
            "`route_batch` outside its encoder call (skillroute's own work)",
            f"{100 * t['outside_encoder_share']:.1f}% of its time "
            f"({t['outside_encoder_ms_per_task']:.2f} ms per task)",
        ),
        _row(
            "`route_batch`'s encoder call / the pair's bare encoder call",
            f"{100 * t['inside_vs_bare_encoder']:.1f}% (median of the pairs)",
        ),
    ]


def _memory_rows(speed: dict[str, Any]) -> list[str]:
    memory, imports = speed["memory"], speed["imports"]
    warm = speed["cold_start"]["warm_cache"]
    large = memory["large_router"]
    rows = [
        _group(
            "Peak memory of a fresh process (`VmHWM`; `getrusage` inherits the parent's "
            "peak, JSON keeps it)"
        ),
        _row("bare interpreter (floor)", f"{memory['interpreter']['peak_rss_mb']:.0f} MB"),
    ]
    rows += [_row(f"`{label}`", f"{r['peak_rss_mb']:.0f} MB") for label, r in imports.items()]
    rows.append(
        _row(
            "bundled router, default model, routed one task (warm cache)",
            f"{warm['peak_rss_mb']:.0f} MB (empty cache: "
            f"{speed['cold_start']['empty_cache']['peak_rss_mb']:.0f} MB)",
        )
    )
    rows.append(
        _row(
            f"{large['skills']:,}-skill router, routed one task (instant encoder, no model)",
            f"{large['peak_rss_mb']:.0f} MB (before the router: "
            f"{large['peak_before_router_mb']:.0f} MB; includes the "
            f"{large['encoder_table_mb']:.0f} MB vector table; torch loaded: "
            f"{'yes' if large['torch_loaded'] else 'no'})",
        )
    )
    return rows


def _overhead_row(r: dict[str, Any], label: str | None = None) -> str:
    s = r["single"]
    target = r["target_ms"]
    passed = None if target is None else bool(r["single_p50_pass"] and r["batch_pass"])
    decisions = ", ".join(f"{k} {v}" for k, v in sorted(r["decisions"].items()))
    cells = [
        label or f"{r['skills']:,} skills",
        f"{r['routing_texts']:,}",
        f"{s['p50_ms']:.3f}",
        f"{s['p99_ms']:.3f}",
        f"{r['batch_per_task_ms']:.3f}",
        "-" if target is None else f"≤ {target:g}",
        _verdict(passed),
        decisions,
        _load(r.get("load_average_1min")),
    ]
    return "| " + " | ".join(cells) + " |"


def _load(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _overhead_table(speed: dict[str, Any]) -> list[str]:
    rows = speed["overhead"]
    lines = [
        "### Routing overhead beyond the encoder",
        "",
        "Instant encoder (precomputed unit vectors, same `model_id`): the time is cleaning, "
        "encoder checks, scoring (cosine + linear head), calibration, rules and the "
        f"`RouteResult`. Single: {rows[0]['single']['n']} routes per catalog "
        f"({speed['config']['overhead_rounds']} rounds over the latency sample); batch: one "
        f"`route_batch` over {rows[0]['batch_texts']} tasks, median of the rounds. The target "
        "applies to the single p50 and the batch figure. Catalogs above 12 skills are the 12 "
        "bundled skills and their rules plus generated skills with random vectors and a head "
        "widened to every skill (`benchmarks/speed/synthetic.py`).",
        "",
        _OVERHEAD_HEAD,
        *[_overhead_row(r) for r in rows],
    ]
    extra = speed.get("overhead_blas_default")
    if extra is not None:
        pools = ", ".join(f"{k} {v}" for k, v in extra["blas_threads"].items())
        lines.append(_overhead_row(extra, f"{extra['skills']:,} skills, BLAS default ({pools})"))
    floor = rows[0]["instant_encoder"]["p50_ms"]
    lines += [
        "",
        f"Of these, `router.encoder.encode([text])` (the table lookup plus skillroute's "
        f"`Encoder.encode` checks) costs {1000 * floor:.0f} µs (p50, 12 skills).",
        "",
    ]
    return lines + _stage_table(rows)


def _stage_table(rows: list[dict[str, Any]]) -> list[str]:
    """Per-stage p50 in µs, one column per catalog (no profiler: see stages.py)."""
    head = "| stage (p50, µs) | " + " | ".join(f"{r['skills']:,} skills" for r in rows) + " |"
    lines = [
        "Single-task overhead by stage, timed one step at a time without a profiler "
        "(`benchmarks/speed/stages.py`):",
        "",
        head,
        "|---|" + "---:|" * len(rows),
    ]
    for stage in rows[0]["stages"]["p50_us"]:
        cells = [f"{r['stages']['p50_us'][stage]:.0f}" for r in rows]
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    extra = [
        ("candidates + `RouteResult` (remainder)", "candidates_and_result_p50_us"),
        ("full `route` p50", "route_p50_us"),
    ]
    for label, key in extra:
        lines.append(f"| {label} | " + " | ".join(f"{r['stages'][key]:.0f}" for r in rows) + " |")
    return [*lines, ""]


def _profile_table(profile: dict[str, Any], key: str, title: str) -> list[str]:
    lines = [f"{title}:", "", _PROFILE_HEAD]
    for r in profile[key]:
        calls = r["ncalls"] / profile["routes"]
        lines.append(
            f"| `{r['function']}` | {calls:.1f} | {r['cum_us_per_route']:.0f} | "
            f"{r['tot_us_per_route']:.0f} |"
        )
    return [*lines, ""]


def _profiles(speed: dict[str, Any]) -> list[str]:
    lines = ["### Profile of the hot path", ""]
    for p in speed["profiles"]:
        lines += [
            f"cProfile of {p['routes']:,} `router.route` calls, {p['skills']:,} skills, instant "
            f"encoder ({p['profiled_ms_per_route']:.2f} ms per route under the profiler).",
            "",
        ]
        lines += _profile_table(p, "by_cumulative", "Top by cumulative time")
        lines += _profile_table(p, "by_total", "Top by own time")
    return lines


def speed_section(speed: dict[str, Any], machine: dict[str, Any]) -> list[str]:
    """Markdown lines of the ``## Speed`` section."""
    pools = ", ".join(f"{k} {v}" for k, v in speed["blas_threads"].items()) or "unknown"
    loads = (speed["load_average_start"], speed["load_average_end"])
    load_text = "unknown" if None in loads else f"{loads[0]:.1f} at start, {loads[1]:.1f} at end"
    lines = [
        "## Speed",
        "",
        "skillroute alone: the bundled 12-skill catalog and the default model "
        "(all-MiniLM-L6-v2) unless stated. "
        f"Machine: {machine['cpu']}, {machine['cores']} cores; torch threads "
        f"{speed['threads'] or 'default'} (children: same), BLAS threads: {pools}; load "
        f"average (1 min) {load_text}. Timings are medians over repeats because other "
        "processes may share the machine; fresh-process figures come from `python -c` "
        "children with a bytecode cache. Tasks: seeded samples of the "
        f"{speed['task_texts']['pool']} distinct texts of `data/*.yaml`.",
        "",
        _MAIN_HEAD,
        *_import_rows(speed["imports"]),
        *_cold_rows(speed["cold_start"]),
        *_latency_rows(speed["latency"]),
        *_throughput_rows(speed["throughput"]),
        *_memory_rows(speed),
        "",
    ]
    return lines + _overhead_table(speed) + _profiles(speed)
