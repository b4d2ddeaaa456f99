"""The benchmark harness: its metrics, splits, loaders, report and skillroute adapter.

The benchmarks themselves run for half an hour on real data (`python -m benchmarks`);
these tests check, on small hand-made inputs, the pieces every reported number goes
through, so a broken metric or split cannot produce a plausible-looking table.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from benchmarks.clinc150.data import fit_report_split, routes_for
from benchmarks.clinc150.data import load as load_clinc
from benchmarks.metatool.data import load as load_metatool
from benchmarks.metrics import abstention_metrics, ranking_metrics
from benchmarks.report import to_markdown
from benchmarks.skillroute_system import SkillrouteSystem, sanitize_names
from benchmarks.speed import latency, overhead
from benchmarks.speed.overhead import measure_overhead
from benchmarks.speed.report import _throughput_rows
from benchmarks.speed.run import _reference
from benchmarks.speed.synthetic import build_catalog, overhead_router, widened_calibration
from benchmarks.speed.texts import TaskTexts
from benchmarks.splits import seeded_sample, stratified_halves
from benchmarks.systems import Prediction, RouteSpec
from benchmarks.thresholds import fit_abstain_threshold
from tests.conftest import FakeEncoder

from skillroute import Router
from skillroute.bundled import bundled_catalog_path
from skillroute.calibration import CALIBRATION_FILE, MemoryParams, load_calibration
from skillroute.memory import ExampleMemory


def prediction(label: str | None, *ranked: str) -> Prediction:
    return Prediction(label=label, ranked=ranked)


def test_metrics_count_abstention_as_out_of_scope_detection() -> None:
    preds = [
        prediction("a", "a", "b"),  # in scope, right
        prediction("b", "b", "a"),  # in scope (gold a), wrong; a is second
        prediction(None, "a", "b"),  # in scope, abstained: wrong, a false OOS alarm
        prediction(None, "b", "a"),  # out of scope, abstained: right
        prediction("a", "a", "b"),  # out of scope, routed: a missed OOS
    ]
    golds = ["a", "a", "a", None, None]
    m = abstention_metrics(preds, golds)
    assert m["in_scope_accuracy"] == pytest.approx(1 / 3)
    assert (m["oos_recall"], m["oos_precision"]) == (0.5, 0.5)
    assert m["oos_f1"] == pytest.approx(0.5)
    assert m["accuracy"] == pytest.approx(2 / 5)
    assert m["abstain_rate"] == pytest.approx(2 / 5)
    ranks = ranking_metrics(preds, golds, ks=(1, 2))
    assert ranks == {"top1_accuracy": pytest.approx(2 / 3), "top2_accuracy": 1.0}


def test_metrics_say_none_when_undefined_and_reject_misaligned_input() -> None:
    m = abstention_metrics([prediction("a", "a")], ["a"])
    assert m["oos_recall"] is None and m["oos_precision"] is None and m["oos_f1"] is None
    with pytest.raises(ValueError, match="2 predictions for 1 gold"):
        ranking_metrics([prediction("a", "a")] * 2, ["a"])


def test_stratified_halves_are_deterministic_disjoint_and_cover_every_label() -> None:
    labels = ["x"] * 5 + ["y"] * 4 + [None] * 3
    first, second = stratified_halves(labels, seed=0)
    assert (first, second) == stratified_halves(labels, seed=0)
    assert sorted(first + second) == list(range(len(labels)))
    for label in ("x", "y", None):
        assert any(labels[i] == label for i in first)
        assert any(labels[i] == label for i in second)
    assert stratified_halves(labels, seed=1) != (first, second)


def test_seeded_sample_keeps_order_and_size() -> None:
    items = list(range(100))
    sample = seeded_sample(items, 10, seed=3)
    assert len(sample) == 10 and sample == sorted(sample)
    assert sample == seeded_sample(items, 10, seed=3)
    assert seeded_sample(items, 500, seed=3) == items


def test_abstain_threshold_separates_hits_from_out_of_scope() -> None:
    scores = [0.9, 0.8, 0.3, 0.2, 0.7]
    top = ["a", "b", "a", "b", "b"]
    labels: list[str | None] = ["a", "b", None, None, "a"]  # the 0.7 row is a wrong route
    bar = fit_abstain_threshold(scores, top, labels)
    assert 0.3 < bar <= 0.8
    # all out of scope: abstain on everything
    assert fit_abstain_threshold([0.5, 0.6], ["a", "a"], [None, None]) > 0.6
    # all right: never abstain (ties go to the lowest bar)
    assert fit_abstain_threshold([0.5, 0.6], ["a", "a"], ["a", "a"]) == -math.inf
    with pytest.raises(ValueError, match="align"):
        fit_abstain_threshold([0.5], ["a", "b"], ["a"])


def test_route_names_become_valid_skill_names_without_collisions() -> None:
    mapping = sanitize_names(["credit_limit_change", "ResearchHelper", "PDF&URLTool"])
    assert mapping == {
        "credit_limit_change": "credit-limit-change",
        "ResearchHelper": "research-helper",
        "PDF&URLTool": "pdf-url-tool",
    }
    with pytest.raises(ValueError, match="both map to skill"):
        sanitize_names(["foo_bar", "foo-bar"])


def write_clinc(folder: Path) -> Path:
    path = folder / "clinc150" / "clinc150_dev.json"
    path.parent.mkdir(parents=True)
    data = {
        "train": [
            ["what's my balance", "balance"],
            ["how much money do I have", "balance"],
            ["money left in checking", "balance"],
            ["book a table for two", "restaurant_reservation"],
            ["reserve dinner at eight", "restaurant_reservation"],
            ["tell me a story about dragons", "oos"],
        ],
        "val": [
            ["balance in savings", "balance"],
            ["checking account balance", "balance"],
            ["table for four tonight", "restaurant_reservation"],
            ["reserve a booth", "restaurant_reservation"],
        ],
        "oos_val": [["how tall is everest", "oos"], ["sing a song", "oos"]],
    }
    path.write_text(json.dumps(data))
    return path


def test_clinc_loader_routes_and_splits(tmp_path: Path) -> None:
    clinc = load_clinc(write_clinc(tmp_path))
    assert clinc.intents == ["balance", "restaurant_reservation"]  # oos train not loaded
    assert sum(label is None for _, label in clinc.val) == 2
    routes = routes_for(clinc, clinc.intents, k=2)
    assert routes["restaurant_reservation"].description == "restaurant reservation"
    assert routes["balance"].examples == ("what's my balance", "how much money do I have")
    fit, report = fit_report_split(clinc.val, seed=0)
    assert sorted(fit + report) == sorted(clinc.val)
    assert {label for _, label in fit} == {label for _, label in report}


def test_clinc_loader_names_a_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "clinc150_dev.json"
    path.write_text("{not json")
    with pytest.raises(SystemExit, match=r"clinc150_dev\.json: cannot read CLINC150"):
        load_clinc(path)


def write_metatool(folder: Path, queries: list[tuple[str, str]]) -> Path:
    root = folder / "metatool"
    root.mkdir()
    tools = {"WeatherTool": "Current weather and forecasts.", "NewsTool": "Latest headlines."}
    (root / "tools.json").write_text(json.dumps(tools))
    with (root / "queries_dev.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["query", "tool"])
        writer.writerows(queries)
    return root


def test_metatool_loader_reads_tools_and_rejects_unknown_ones(tmp_path: Path) -> None:
    data = load_metatool(write_metatool(tmp_path, [("will it rain", "WeatherTool")]))
    assert data.routes()["WeatherTool"] == RouteSpec(description="Current weather and forecasts.")
    assert data.queries == [("will it rain", "WeatherTool")]
    other = tmp_path / "other"
    other.mkdir()
    with pytest.raises(SystemExit, match=r"tools missing from tools\.json"):
        load_metatool(write_metatool(other, [("stock price", "StockTool")]))


def test_skillroute_adapter_builds_fits_and_predicts() -> None:
    routes = {
        "weather_today": RouteSpec(
            "weather today", ("will it rain tomorrow", "forecast for the weekend")
        ),
        "play_music": RouteSpec("play music", ("put on some jazz", "play my running playlist")),
        "set_alarm": RouteSpec("set alarm", ("wake me at six", "alarm for seven tomorrow")),
    }
    system = SkillrouteSystem(FakeEncoder())
    system.build(routes)
    fit_texts = [
        "rain forecast for tomorrow",
        "weekend weather forecast",
        "play some jazz music",
        "my playlist please play",
        "alarm at six please",
        "wake me at seven",
        "quantum chromodynamics lecture notes",
        "knitting a wool scarf pattern",
        "put on some jazz",  # repeats a route example: left out of fit, and counted
    ]
    labels: list[str | None] = [
        "weather_today",
        "weather_today",
        "play_music",
        "play_music",
        "set_alarm",
        "set_alarm",
        None,
        None,
        "play_music",
    ]
    system.fit(fit_texts, labels)
    assert system.describe()["fit_items_dropped_as_examples"] == 1
    preds = system.predict(["forecast rain this weekend", "play jazz", "zebra marmalade"], k=2)
    assert [p.label for p in preds[:2]] == ["weather_today", "play_music"]
    assert all(len(p.ranked) == 2 and set(p.ranked) <= set(routes) for p in preds)
    assert preds[2].label is None  # nothing shares a word with it: out of scope
    assert system.predict([]) == []


def test_report_renders_each_system_and_names_failures() -> None:
    system_ok = {
        "system": "skillroute",
        "status": "ok",
        "metrics": {
            "in_scope_accuracy": 0.9,
            "oos_recall": 0.5,
            "oos_precision": 0.25,
            "oos_f1": 1 / 3,
            "top1_accuracy": 0.91,
            "top5_accuracy": 0.99,
        },
        "build_s": 1.25,
        "fit_s": 2.0,
        "latency": {"p50_ms": 12.34, "load_average_1min": 0.5},
        "throughput_qps": 150.0,
    }
    failed = {"system": "semantic-router", "status": "unavailable", "error": "not installed"}
    results = {
        "command": "python -m benchmarks --clinc",
        "finished_utc": "2026-01-01T00:00:00+00:00",
        "elapsed_s": 90.0,
        "machine": {
            "cpu": "cpu",
            "cores": 2,
            "torch_threads": 1,
            "platform": "linux",
            "python": "3.11",
            "packages": {"numpy": "2"},
        },
        "benchmarks": [
            {
                "benchmark": "clinc150",
                "protocol": {"split": "halves"},
                "encoder_texts_per_s": 100.0,
                "configs": [
                    {
                        "k": 5,
                        "n_route_texts": 10,
                        "route_encode_est_s": 0.1,
                        "systems": [system_ok, failed],
                    }
                ],
            }
        ],
    }
    page = to_markdown(results)
    assert "Generated by `python -m benchmarks --clinc`" in page
    assert (
        "| skillroute | 90.0 | 50.0 | 25.0 | 33.3 | 91.0 | 99.0 | 1.2 | 2.0 | 12.3 | 150 |" in page
    )
    assert "| semantic-router | unavailable | | | | | | | | | |" in page
    assert "- semantic-router: unavailable: not installed" in page


@pytest.mark.parametrize("n_skills", [12, 40])
def test_speed_routers_have_real_vectors_for_every_text_a_route_embeds(
    bundled_router: Router, n_skills: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the everyday-sense check embeds "is juice worth drinking..." a second time, and a
    # typo is embedded spelled right ("celary"): the instant encoder must know those texts
    # too, or the overhead benchmark stops
    tasks = [
        "is celery juice worth drinking every morning",
        "add retries to my celery task",
        "my celary beat schedule runs twice",
    ]
    reference = _reference(bundled_router, TaskTexts(tasks, latency_n=3, batch_n=3, seed=0))
    router = overhead_router(n_skills, reference, seed=0)
    juice, retries, typo = router.route_batch(tasks)
    assert juice.decision == "abstain" and "everyday-sense" in [r.name for r in juice.rules]
    assert retries.skill == "django-celery" and typo.skill == "django-celery"
    monkeypatch.setattr(overhead, "_WARMUP_S", 0.0)  # the warm-up has its own test below
    row = measure_overhead(router, tasks, tasks, rounds=1)  # times the encoder alone too
    assert row["skills"] == n_skills


def test_a_widened_head_keeps_its_memory_under_the_new_class_numbers() -> None:
    """The overhead of a remembering head includes the vote, on every catalog size."""
    fitted = load_calibration(bundled_catalog_path() / CALIBRATION_FILE)
    assert fitted is not None and fitted.head is not None
    classes = len(fitted.head.skills) + fitted.head.out_of_scope
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((3 * classes, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    labels = np.arange(3 * classes) % classes
    memory = ExampleMemory.remember(vectors, labels, classes)
    encoded, scales = memory.encoded()
    params = MemoryParams(
        weight=0.4,
        temperature=memory.temperature,
        counts=tuple(int(c) for c in memory.counts),
        scales=scales,
        vectors=encoded,
    )
    remembering = fitted.model_copy(
        update={"head": fitted.head.model_copy(update={"memory": params})}
    )
    catalog = build_catalog(40, seed=0)
    widened = widened_calibration(catalog, remembering, seed=0)
    assert widened.head is not None and widened.head.memory is not None
    wide = widened.head.memory.to_memory()
    assert wide.classes == len(catalog) + 1 and int(wide.counts.sum()) == 3 * classes
    for row, name in enumerate(fitted.head.skills):  # each bundled skill keeps its rows
        start = int(wide.counts[: catalog.names.index(name)].sum())
        np.testing.assert_allclose(
            wide.vectors[start : start + 3], memory.vectors[3 * row : 3 * row + 3], atol=0.02
        )
    assert wide.counts[-1] == 3  # "no skill" stays last
    head = widened.head.to_head()
    assert head.memory is not None and head.memory_weight == 0.4


def test_overhead_warm_up_routes_untimed_until_its_time_is_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Counting:
        def __init__(self) -> None:
            self.routed: list[str] = []

        def route(self, text: str) -> None:
            self.routed.append(text)

    router = Counting()
    monkeypatch.setattr(overhead, "_WARMUP_S", 0.0)  # the count alone: at least _WARMUP tasks
    overhead._warm_up(router, ["a", "b", "c"])  # type: ignore[arg-type]
    assert router.routed == [("a", "b", "c")[i % 3] for i in range(overhead._WARMUP)]
    # past the count, the clock decides: five more readings under a second, then one at it
    clock = iter([0.0, *([0.5] * 5), 1.0])
    monkeypatch.setattr(overhead, "_WARMUP_S", 1.0)
    monkeypatch.setattr(overhead.time, "perf_counter", lambda: next(clock))
    router = Counting()
    overhead._warm_up(router, ["a", "b", "c"])  # type: ignore[arg-type]
    assert len(router.routed) == overhead._WARMUP + 5
    overhead._warm_up(router, [])  # type: ignore[arg-type]  # nothing to route: no loop


def test_throughput_ratio_is_the_median_of_back_to_back_pairs(
    frontend_router: Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a machine that speeds up during the run: each pair is 1-4% apart, yet the medians of
    # the two sides come from different pairs and are ~9% apart
    timings = iter([(5.55, 5.48), (5.46, 4.95), (5.72, 5.49), (4.98, 4.69), (4.49, 4.34)])

    def pair(
        first: Callable[[], object], second: Callable[[], object], swap: bool
    ) -> tuple[float, float]:
        first()  # route_batch, timing its own encoder call
        second()
        return next(timings)

    monkeypatch.setattr(latency, "_pair", pair)
    encoder = frontend_router.encoder
    result = latency.measure_throughput(frontend_router, ["a task"], repeats=5)
    assert result["ratio"] == pytest.approx(5.49 / 5.72)
    assert result["ratio_of_medians"] == pytest.approx(4.95 / 5.46)
    ratio_row, outside_row, inside_row = _throughput_rows(result)[-3:]
    assert "96.0% (median of 5 back-to-back pairs: 91-99%" in ratio_row
    assert "ratio of the medians 90.7%" in ratio_row and ratio_row.endswith("| pass |")
    # each route_batch timed its encoder call (an instant one here): nearly all of its
    # reported time is outside it, and the clock is gone afterwards
    assert len(result["route_batch_encoder_s"]) == 5
    assert 0.99 < result["outside_encoder_share"] <= 1.0
    assert result["inside_vs_bare_encoder"] < 0.01
    assert "% of its time (" in outside_row and "(median of the pairs)" in inside_row
    assert "encode" not in vars(encoder)  # the bare method again
