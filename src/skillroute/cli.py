"""The ``skillroute`` command: a thin adapter that parses arguments and calls the library.

Exit codes: 0 success; 1 an evaluation gate failed (``eval``) or confusable skills were
found with ``lint --fail-on-confusable``; 2 bad usage or bad input (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from skillroute import __version__
from skillroute.errors import InputError, SkillrouteError, SkillrouteWarning

if TYPE_CHECKING:
    from skillroute.calibration import Calibration
    from skillroute.result import RouteResult
    from skillroute.router import Router

__all__ = ["main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_BROKEN_PIPE = 141  # what a shell reports for a process killed by SIGPIPE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skillroute",
        description="Route a task to the right Agent Skill, and measure how well routing works.",
    )
    parser.add_argument("--version", action="version", version=f"skillroute {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def catalog_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--catalog", metavar="DIR", help="skills folder (default: the bundled catalog)"
        )
        sub.add_argument(
            "--model", metavar="MODEL", help="sentence-transformers model id or folder"
        )

    route = commands.add_parser("route", help="route a task (or '-' for one task per stdin line)")
    route.add_argument(
        "text", metavar="TEXT", help="the task; '-' reads one task per line from stdin"
    )
    route.add_argument("-k", type=int, default=3, help="candidates to show (default 3)")
    route.add_argument("--json", action="store_true", help="print the RouteResult as JSON")
    route.add_argument(
        "--one-task",
        action="store_true",
        help="with '-': standard input is one task (a pasted error, a checklist)",
    )
    catalog_options(route)

    skills = commands.add_parser("skills", help="list the skills of a catalog")
    skills.add_argument("--json", action="store_true", help="print as JSON")
    skills.add_argument(
        "--catalog", metavar="DIR", help="skills folder (default: the bundled catalog)"
    )

    lint = commands.add_parser("lint", help="validate a catalog and report confusable skills")
    lint.add_argument(
        "--strict", action="store_true", help="reject fields the Agent Skills spec lacks"
    )
    lint.add_argument(
        "--threshold", type=float, default=0.8, help="similarity that counts as confusable"
    )
    lint.add_argument(
        "--fail-on-confusable", action="store_true", help="exit 1 when pairs are found"
    )
    lint.add_argument("--json", action="store_true", help="print as JSON")
    catalog_options(lint)

    evaluate = commands.add_parser("eval", help="evaluate routing on a labelled dataset")
    evaluate.add_argument(
        "--dataset", required=True, metavar="PATH", help="YAML or JSON Lines dataset"
    )
    evaluate.add_argument("--gates", metavar="FILE", help="gates YAML: exit 1 if any gate fails")
    evaluate.add_argument(
        "--report", metavar="DIR", help="write report.json, report.md and plots here"
    )
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON")
    catalog_options(evaluate)

    fit = commands.add_parser(
        "fit",
        help="fit the head, calibration and thresholds on a dataset",
        description="Arguments may also come from a file: `skillroute fit @FILE` reads one "
        "argument per line (data/fit.args holds the bundled catalog's fit).",
        fromfile_prefix_chars="@",
    )
    fit.add_argument(
        "--dataset",
        action="append",
        required=True,
        metavar="PATH",
        help="labelled tasks to fit on (YAML or JSONL; repeatable: the files are joined)",
    )
    fit.add_argument(
        "--out", metavar="FILE", help="where to write (default: <catalog>/calibration.json)"
    )
    fit.add_argument("--random-state", type=int, default=0, help="seed for the cross-fitting folds")
    fit.add_argument("--no-head", action="store_true", help="similarity only: no learned head")
    fit.add_argument(
        "--no-words",
        action="store_true",
        help="the head reads the embedding only, not the task's words and word pairs",
    )
    fit.add_argument(
        "--memory",
        action="store_true",
        help="also try an example memory: the dataset's one-ask items vote by similarity "
        "(kept when it does better out of fold)",
    )
    fit.add_argument(
        "--examples-only",
        action="store_true",
        help="the head learns from the catalog's examples only, not from the dataset",
    )
    fit.add_argument(
        "--arbiter-data",
        action="append",
        default=[],
        metavar="PATH",
        help="more labelled tasks only the arbiter learns from (repeatable)",
    )
    catalog_options(fit)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = _parser().parse_args(argv)
    with warnings.catch_warnings():
        warnings.simplefilter("always", SkillrouteWarning)  # shown once each, never raised
        warnings.showwarning = _show_warning
        try:
            handler = {
                "route": _route,
                "skills": _skills,
                "lint": _lint,
                "eval": _eval,
                "fit": _fit,
            }[args.command]
            return handler(args, sys.stdout)
        except SkillrouteError as exc:
            print(f"skillroute: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except BrokenPipeError:  # the reader went away (`skillroute eval ... | head`)
            # point stdout at devnull so the interpreter's final flush cannot fail again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_BROKEN_PIPE
        except KeyboardInterrupt:  # pragma: no cover
            return 130


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    print(f"skillroute: warning: {message}", file=sys.stderr)


def _router(args: argparse.Namespace) -> Router:
    from skillroute.router import Router

    return Router.from_catalog(args.catalog, model=args.model)


def _route(args: argparse.Namespace, out: TextIO) -> int:
    if args.k < 1:
        raise InputError(f"-k must be a positive integer (got {args.k})")
    if args.one_task and args.text != "-":
        raise InputError("--one-task reads standard input: pass '-' as the task")
    router = _router(args)
    if args.text == "-":
        stdin = sys.stdin.read()
        texts = [stdin] if args.one_task else stdin.splitlines()
        texts = [text for text in texts if text.strip()]
        if not texts:
            raise InputError("no task on standard input")
        results = router.route_batch(texts, k=args.k)
    else:
        results = [router.route(args.text, k=args.k)]
    for result in results:
        out.write(result.model_dump_json() + "\n" if args.json else _table(result) + "\n")
    return EXIT_OK


def _table(result: RouteResult) -> str:
    head = f"decision: {result.decision}"
    if result.skill:
        head += f"   skill: {result.skill}   lane: {result.lane}   stage: {result.stage}"
    head += f"   confidence: {result.confidence:.2f}"
    lines = [head]
    if result.plan:
        lines.append("plan: " + " → ".join(result.plan))
    lines.append(f"{'#':>2}  {'candidate':<28}{'score':>7}{'conf':>7}  closest text")
    for rank, candidate in enumerate(result.candidates, start=1):
        matched = (
            candidate.matched if len(candidate.matched) <= 60 else candidate.matched[:57] + "..."
        )
        lines.append(
            f"{rank:>2}  {candidate.name:<28}{candidate.score:>7.3f}"
            f"{candidate.confidence:>7.2f}  {matched}"
        )
    for rule in result.rules:
        lines.append(f"rule {rule.name}: {rule.effect} ({rule.reason})")
    for implication in result.implications:
        lines.append(f"- {implication}")
    lines.append(f"next: {result.next_action}")
    return "\n".join(lines)


def _skills(args: argparse.Namespace, out: TextIO) -> int:
    from skillroute.bundled import bundled_catalog_path
    from skillroute.catalog import Catalog

    catalog = Catalog.from_dir(args.catalog or bundled_catalog_path())
    rows = [
        {
            "name": skill.name,
            "lane": skill.lane,
            "stage": skill.stage,
            "examples": len(skill.examples),
            "description": " ".join(skill.description.split()),
            "path": str(skill.skill_file) if skill.skill_file else None,
        }
        for skill in catalog
    ]
    if args.json:
        out.write(json.dumps(rows, indent=1) + "\n")
        return EXIT_OK
    out.write(f"{len(rows)} skills in {catalog.root}\n")
    for row in rows:
        description = str(row["description"])
        summary = description if len(description) <= 90 else description[:87] + "..."
        out.write(f"{row['name']:<28}{row['lane'] or '-':<12}{row['stage'] or '-':<11}{summary}\n")
    return EXIT_OK


def _lint(args: argparse.Namespace, out: TextIO) -> int:
    from skillroute.lint import confusable_pairs

    if not 0.0 < args.threshold <= 1.0:
        raise InputError(f"--threshold must be in (0, 1] (got {args.threshold})")
    from skillroute.bundled import bundled_catalog_path
    from skillroute.router import Router

    router = Router.from_catalog(
        args.catalog or bundled_catalog_path(), model=args.model, strict=args.strict
    )
    pairs = confusable_pairs(router, threshold=args.threshold)
    if args.json:
        out.write(json.dumps([pair.model_dump() for pair in pairs], indent=1) + "\n")
    else:
        mode = "strict" if args.strict else "lenient"
        out.write(
            f"{len(router.catalog)} skills valid ({mode}); "
            f"rules: {len(router.catalog.routing.rules)}\n"
        )
        if not pairs:
            out.write(f"no confusable pairs at similarity >= {args.threshold}\n")
        for pair in pairs:
            out.write(
                f"confusable ({pair.kind}, {pair.similarity:.3f}): {pair.first} ~ {pair.second}\n"
                f"    {pair.first_text!r}\n    {pair.second_text!r}\n"
            )
    return EXIT_FAILED if pairs and args.fail_on_confusable else EXIT_OK


def _eval(args: argparse.Namespace, out: TextIO) -> int:
    from skillroute.dataset import load_dataset
    from skillroute.evaluation import check_gates, evaluate, load_gates, write_report

    gates = load_gates(args.gates) if args.gates else None
    dataset = load_dataset(args.dataset)
    router = _router(args)
    report = evaluate(router, dataset, progress=sys.stderr.isatty())
    verdicts = check_gates(report, gates) if gates is not None else []
    if args.report:
        write_report(report, args.report, verdicts)
    if args.json:
        payload: dict[str, Any] = report.model_dump(mode="json")
        payload["gates"] = [verdict.model_dump() for verdict in verdicts]
        out.write(json.dumps(payload, indent=1) + "\n")
    else:
        out.write(_summary(report))
        for verdict in verdicts:
            out.write(f"gate {'pass' if verdict.passed else 'FAIL'}: {verdict.describe()}\n")
    failed = [verdict for verdict in verdicts if not verdict.passed]
    for verdict in failed:
        print(f"skillroute: gate failed: {verdict.describe()}", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


def _summary(report: Any) -> str:
    names = (
        "top1_accuracy",
        "top3_accuracy",
        "macro_f1",
        "oos_precision",
        "oos_recall",
        "oos_f1",
        "plan_accuracy",
        "unasked_plan_rate",
        "ambiguity_rate",
        "ece",
        "latency_p50_ms",
        "latency_p95_ms",
    )
    lines = [
        f"{report.items} items ({report.in_scope} in scope, {report.out_of_scope} out of scope, "
        f"{report.with_plan} with a plan) from {report.dataset}"
    ]
    width = max(map(len, names)) + 2
    for name in names:
        value = report.metric(name)
        lines.append(f"  {name:<{width}}{'n/a' if value is None else f'{value:.4f}'}")
    lines.append(f"  {'errors':<{width}}{len(report.errors)}")
    return "\n".join(lines) + "\n"


def _arbiter_summary(calibration: Calibration) -> str:
    arbiter = calibration.arbiter
    if arbiter is None:
        return "none (it did not beat the rules' choice out of fold)"
    return (
        f"C={arbiter.c}, learned from {arbiter.groups} items, "
        f"{arbiter.cv_gain:+d} items right and log-likelihood "
        f"{arbiter.cv_log_likelihood_gain:+.1f} out of fold against the rules alone"
    )


def _fit(args: argparse.Namespace, out: TextIO) -> int:
    from skillroute.dataset import Dataset, load_dataset

    router = _router(args)
    dataset = Dataset.join([load_dataset(path) for path in args.dataset])
    extra = [load_dataset(path) for path in args.arbiter_data]
    arbiter_data = Dataset.join(extra) if extra else None
    router.fit(
        dataset,
        random_state=args.random_state,
        learn_head=not args.no_head,
        learn_from_dataset=not args.examples_only,
        arbiter_data=arbiter_data,
        lexical=not args.no_words,
        memory=args.memory,
    )
    path = router.save_calibration(Path(args.out) if args.out else None)
    calibration = router.calibration
    summary = calibration.fit
    head = "none"
    if calibration.head is not None:
        no_skill = " + no skill" if calibration.head.out_of_scope else ""
        lexicon = calibration.head.lexicon
        words = f", {len(lexicon.terms)} word features" if lexicon is not None else ""
        memory = calibration.head.memory
        remembered = (
            f", memory of {len(memory.scales)} tasks (share {memory.weight}, "
            f"temperature {memory.temperature})"
            if memory is not None
            else ""
        )
        head = (
            f"C={calibration.head.c}, {len(calibration.head.skills)} skills{no_skill}{words}"
            f"{remembered}"
        )
    out.write(
        f"fitted on {summary.items if summary else '?'} items → {path}\n"
        f"  head: {head} (weight {calibration.head_weight})\n"
        f"  abstain below confidence {calibration.abstain_threshold:.4f}; "
        f"ambiguous within {calibration.ambiguity_margin:.3f}\n"
        f"  share of fit items right (out of fold): "
        f"{summary.utility if summary else float('nan'):.4f}\n"
        f"  arbiter: {_arbiter_summary(calibration)}\n"
    )
    return EXIT_OK
