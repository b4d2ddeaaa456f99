"""The command line: output formats, exit codes, stdin, and every subcommand."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from skillroute import Router, __version__
from skillroute.bundled import bundled_data_path
from skillroute.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_version_comes_from_package_metadata(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"skillroute {__version__}"


def test_route_json_names_django_celery(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "route", "--json", "add retries with exponential backoff to my celery task"
    )
    payload = json.loads(out)
    assert code == 0
    assert (payload["decision"], payload["skill"]) == ("routed", "django-celery")
    assert payload["candidates"][0]["name"] == "django-celery"


def test_route_table_is_readable(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "route", "-k", "2", "a recipe for banana bread")
    assert code == 0
    assert out.startswith("decision: abstain")
    assert "next: No skill" in out
    assert len([line for line in out.splitlines() if line[:2].strip().isdigit()]) == 2


def test_route_reads_one_task_per_stdin_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr(
        sys, "stdin", io.StringIO("celery beat runs twice\n\nrefactor this python function\n")
    )
    code, out, _ = run(capsys, "route", "--json", "-")
    skills = [json.loads(line)["skill"] for line in out.splitlines()]
    assert code == 0 and skills == ["django-celery", "python-patterns"]


def test_route_one_task_reads_all_of_stdin_as_one_task(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    pasted = "TODO for our django shop:\nWishlist model and views\ntests with pytest-django\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(pasted))
    code, out, _ = run(capsys, "route", "--json", "--one-task", "-")
    results = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(results) == 1
    assert results[0]["plan"][:2] == ["django-patterns", "django-tdd"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["route", "   "], "task is empty"),
        (["route", "--one-task", "celery"], "--one-task reads standard input"),
        (["route", "x" * 100_001], "limit is 100,000"),
        (["route", "-k", "0", "celery"], "-k must be a positive integer"),
        (["route", "--catalog", "/nonexistent/skills", "celery"], "is not a directory of skills"),
        (["eval", "--dataset", "/nonexistent.yaml"], "no such dataset file"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("skillroute: error:") and message in err


def test_usage_errors_exit_2() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "skillroute"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert "usage: skillroute" in done.stderr


def test_a_closed_pipe_ends_quietly() -> None:
    """`skillroute skills | head -1`: no BrokenPipeError traceback, the shell's SIGPIPE code."""
    script = (
        "import os, sys\n"
        "from skillroute.cli import main\n"
        "read, write = os.pipe()\n"
        "os.close(read)\n"
        "sys.stdout = os.fdopen(write, 'w', buffering=1)\n"
        "sys.exit(main(['skills']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 141
    assert "Traceback" not in done.stderr


def test_skills_lists_the_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "skills", "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 12
    assert {"name", "lane", "stage", "examples", "description", "path"} <= set(rows[0])


def test_lint_reports_confusable_pairs_and_can_fail(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "lint", "--strict", "--threshold", "0.8")
    assert code == 0
    assert "12 skills valid (strict)" in out
    assert "confusable (description" in out and "django-tdd ~ python-testing" in out
    code, out, _ = run(capsys, "lint", "--json", "--threshold", "0.8", "--fail-on-confusable")
    assert code == 1
    assert all(pair["similarity"] >= 0.8 for pair in json.loads(out))


def test_lint_strict_rejects_unknown_fields(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    skill = tmp_path / "alpha" / "SKILL.md"
    skill.parent.mkdir()
    skill.write_text("---\nname: alpha\ndescription: Alpha.\nwhen_to_use: always\n---\nBody\n")
    code, _, err = run(capsys, "lint", "--catalog", str(tmp_path), "--strict")
    assert code == 2 and "SKILL.md:4: when_to_use" in err
    code, _, err = run(capsys, "lint", "--catalog", str(tmp_path))
    assert code == 0 and "skillroute: warning:" in err


def test_eval_with_an_impossible_gate_exits_1_naming_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    gates = tmp_path / "gates.yaml"
    gates.write_text("gates:\n  top1_accuracy: {min: 1.01}\n  oos_recall: {min: 0.0}\n")
    dataset = tmp_path / "small.yaml"
    dataset.write_text(
        'items:\n- {text: "celery beat fires twice after deploy", expect: [django-celery]}\n'
        '- {text: "best pizza dough hydration", oos: true}\n'
    )
    code, out, err = run(capsys, "eval", "--dataset", str(dataset), "--gates", str(gates))
    assert code == 1
    assert "gate FAIL: top1_accuracy = 1.0000 < min 1.01" in out
    assert "gate pass: oos_recall" in out
    assert "skillroute: gate failed: top1_accuracy" in err


def test_eval_report_directory_and_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    dataset = tmp_path / "small.jsonl"
    dataset.write_text(
        '{"text": "my pytorch model overfits after epoch 3", "expect": ["pytorch-patterns"]}\n'
        '{"text": "how do I knit a scarf", "oos": true}\n'
    )
    code, out, _ = run(
        capsys, "eval", "--dataset", str(dataset), "--report", str(tmp_path / "r"), "--json"
    )
    assert code == 0
    assert json.loads(out)["top1_accuracy"] == 1.0
    written = {path.name for path in (tmp_path / "r").iterdir()}
    assert written == {
        "report.json",
        "report.md",
        "confusion.png",
        "reliability.png",
        "coverage.png",
    }


@pytest.mark.parametrize(
    ("arbiter_sets", "flags"),
    [
        ((), ()),
        (("challenge4", "challenge5"), ()),
        # no labels for the head: one fold only, which the arbiter's own folds must survive
        (("challenge4", "challenge5"), ("--examples-only",)),
    ],
)
def test_fit_writes_a_calibration_the_router_picks_up(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    arbiter_sets: tuple[str, ...],
    flags: tuple[str, ...],
) -> None:
    out_file = tmp_path / "calibration.json"
    extra = [
        arg
        for name in arbiter_sets
        for arg in ("--arbiter-data", str(bundled_data_path() / f"{name}.yaml"))
    ]
    code, out, _ = run(
        capsys,
        "fit",
        "--dataset",
        str(bundled_data_path() / "train.yaml"),
        "--out",
        str(out_file),
        "--no-head",
        *extra,
        *flags,
    )
    assert code == 0 and "fitted on 274 items" in out and "head: none" in out
    saved = json.loads(out_file.read_text())
    assert saved["head"] is None and saved["fit"]["items"] == 274
    if not arbiter_sets:  # train alone: the arbiter cannot beat the rules tuned on it
        assert "arbiter: none" in out and saved["arbiter"] is None
        assert saved["fit"]["arbiter_data"] is None
    else:  # other styles teach it when similarity or the rules are wrong
        assert "arbiter: C=" in out and saved["arbiter"]["cv_gain"] > 0
        assert saved["fit"]["arbiter_data"].endswith("challenge5.yaml")
        assert " + " in saved["fit"]["arbiter_data"]


@pytest.mark.parametrize(
    ("flags", "lexical", "memory"),
    [((), True, False), (("--no-words",), False, False), (("--memory",), True, True)],
)
def test_fit_reads_words_unless_told_not_to_and_remembers_when_told(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    flags: tuple[str, ...],
    lexical: bool,
    memory: bool,
) -> None:
    seen: dict[str, object] = {}

    def fake_fit(self: Router, dataset: object, **options: object) -> Router:
        seen.update(options)
        return self

    monkeypatch.setattr(Router, "fit", fake_fit)
    train = str(bundled_data_path() / "train.yaml")
    code, _, _ = run(capsys, "fit", "--dataset", train, "--out", str(tmp_path / "c.json"), *flags)
    assert code == 0 and seen["lexical"] is lexical and seen["memory"] is memory


def test_fit_joins_repeated_datasets(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_file = tmp_path / "calibration.json"
    sets = [str(bundled_data_path() / f"{name}.yaml") for name in ("train", "challenge20")]
    code, out, _ = run(
        capsys,
        "fit",
        *(arg for path in sets for arg in ("--dataset", path)),
        "--out",
        str(out_file),
        "--no-head",
    )
    assert code == 0 and "fitted on 345 items" in out
    assert json.loads(out_file.read_text())["fit"]["dataset"] == " + ".join(sets)
