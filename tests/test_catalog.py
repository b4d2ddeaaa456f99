"""Catalogs: loading folder trees, routing.yaml validation, the bundled catalog."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import write_skill

from skillroute.bundled import bundled_catalog_path
from skillroute.catalog import Catalog
from skillroute.errors import CatalogError, RulesError
from skillroute.skill import Skill

SEED_SKILLS = {
    "python-backend-core",
    "python-patterns",
    "python-testing",
    "django-patterns",
    "django-tdd",
    "django-security",
    "django-celery",
    "django-verification",
    "fastapi-patterns",
    "pytorch-patterns",
    "recsys-pipeline-architect",
    "mle-workflow",
}


@pytest.fixture
def two_skills(tmp_path: Path) -> Path:
    write_skill(
        tmp_path, "alpha", "Alpha things.", extra="metadata:\n  lane: one\n  stage: build\n"
    )
    write_skill(tmp_path, "beta", "Beta things.", extra="metadata:\n  lane: two\n  stage: check\n")
    return tmp_path


def write_routing(root: Path, text: str) -> Path:
    path = root / "routing.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_catalog_is_the_seed_cluster_and_passes_strict_validation() -> None:
    catalog = Catalog.from_dir(bundled_catalog_path(), strict=True)
    assert set(catalog.names) == SEED_SKILLS
    for skill in catalog:
        assert skill.lane in {"foundation", "django", "fastapi", "ml"}
        assert skill.stage in {"design", "implement", "test", "secure", "async", "ship"}
        assert len(skill.examples) >= 10, skill.name
        assert len([line for line in skill.body.splitlines() if line.strip()]) >= 40, skill.name
        assert "use when" in skill.description.lower(), skill.name


def test_catalog_merges_examples_from_routing_file(two_skills: Path) -> None:
    write_routing(
        two_skills, "skills:\n  alpha:\n    examples: ['do alpha']\n    implications: ['careful']\n"
    )
    catalog = Catalog.from_dir(two_skills)
    assert catalog["alpha"].examples == ("do alpha",)
    assert catalog["alpha"].implications == ("careful",)
    assert catalog.names == ("alpha", "beta")


def test_catalog_without_routing_file_loads(two_skills: Path) -> None:
    catalog = Catalog.from_dir(two_skills)
    assert len(catalog) == 2
    assert catalog.routing.rules == ()


def test_duplicate_names_are_rejected_naming_both_files(tmp_path: Path) -> None:
    write_skill(tmp_path / "a", "alpha", "One.")
    write_skill(tmp_path / "b", "alpha", "Two.")
    with pytest.raises(
        CatalogError,
        match=r"b/alpha/SKILL.md: name: duplicate skill name 'alpha' \(also defined in .*a/alpha/SKILL.md\)",
    ):
        Catalog.from_dir(tmp_path)


def test_empty_and_missing_folders_are_errors(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"no SKILL\.md files found"):
        Catalog.from_dir(tmp_path)
    with pytest.raises(CatalogError, match="is not a directory"):
        Catalog.from_dir(tmp_path / "missing")


def test_hidden_folders_are_skipped(two_skills: Path) -> None:
    write_skill(two_skills / ".git", "gamma", "Hidden.")
    assert Catalog.from_dir(two_skills).names == ("alpha", "beta")


@pytest.mark.parametrize(
    ("routing", "pattern"),
    [
        (
            "rules:\n  - name: r1\n    kind: route\n    skill: nope\n    reason: x\n",
            r"routing.yaml:2: rules\[0\] \(r1\): names unknown skill 'nope'",
        ),
        (
            "lanes: {one: {}, two: {}}\nrules:\n  - name: r1\n    kind: replace\n    replace: alpha\n    with: beta\n    reason: x\n    when: {lane: three}\n",
            r"routing.yaml:3: rules\[0\] \(r1\): names unknown lane 'three'",
        ),
        (
            "rules:\n  - name: r1\n    kind: route\n    skill: alpha\n    reason: x\n"
            "    when: {not_stages: [ship]}\n",
            r"routing.yaml:2: rules\[0\] \(r1\): names unknown stage 'ship'",
        ),
        (
            "lanes: {one: {}, two: {}}\nstages: [{name: build}, {name: check}]\nrules:\n"
            "  - name: p1\n    kind: plan\n    reason: x\n"
            "    steps: [{skill: alpha, when: {lane: three}}]\n",
            r"routing.yaml:4: rules\[0\] \(p1\): names unknown lane 'three'",
        ),
        (
            "rules:\n  - name: r1\n    kind: teleport\n    reason: x\n",
            r"routing.yaml:3: rules.0.kind: .*does not match any of the expected tags",
        ),
        (
            "rules:\n  - name: r1\n    kind: route\n    skill: alpha\n    reason: x\n    when: {any: ['a.*b']}\n",
            r"routing.yaml:\d+: rules.0.when.any: .*letters and digits only",
        ),
        (
            "stages: [{name: build}, {name: check}]\nimplied_stage: ship\n",
            r"routing.yaml:2: implied_stage: names unknown stage 'ship'",
        ),
        (
            "skills:\n  ghost:\n    examples: [x]\n",
            r"routing.yaml:2: skills.ghost: unknown skill 'ghost'",
        ),
        (
            "rules:\n  - name: r1\n    kind: route\n    skill: alpha\n    reason: x\n  - name: r1\n    kind: route\n    skill: beta\n    reason: y\n",
            r"routing.yaml:6: rules\[1\] \(r1\): duplicate rule name 'r1'",
        ),
        (
            "rules:\n  - name: r1\n    kind: route\n    skill: alpha\n    skill: beta\n    reason: x\n",
            r"routing.yaml:5: duplicate key 'skill'",
        ),
        (
            "rules:\n  - name: r1\n    kind: route\n    skill: alpha\n    reason: x\n"
            "    when: {min_stages: 2, max_stages: 1}\n",
            r"routing.yaml:\d+: rules.0.when: .*max_stages 1 < min_stages 2",
        ),
        (
            "out_of_scope:\n  examples: ['  ']\n",
            r"routing.yaml:\d+: out_of_scope.examples.0: must be a non-empty string",
        ),
        (
            "skills:\n  alpha:\n    examples: [ok, '  ']\n",
            r"routing.yaml:\d+: skills.alpha.examples.1: must be a non-empty string",
        ),
        (
            "out_of_scope:\n  exemples: [x]\n",
            r"routing.yaml:\d+: out_of_scope.exemples: Extra inputs",
        ),
        (
            "out_of_scope:\n  homonyms: [celery, 'c++']\n",
            r"routing.yaml:\d+: out_of_scope.homonyms: .*letters and digits only",
        ),
        (
            "spelling: [django, Flask]\n",
            r"routing.yaml:\d+: spelling: .*'Flask' must be one lower-case word",
        ),
        ("spelling: [mypy]\n", r"routing.yaml:\d+: spelling: .*at least 5 long"),
        ("spelling: [rest framework]\n", r"routing.yaml:\d+: spelling: .*letters only"),
        ("rules: [\n", r"routing.yaml:2: invalid YAML"),
        ("- just a list\n", r"routing.yaml:1: must be a mapping"),
    ],
    ids=[
        "unknown-skill",
        "unknown-lane",
        "unknown-not-stage",
        "unknown-lane-in-a-plan-step",
        "unknown-kind",
        "regex-signal",
        "unknown-implied-stage",
        "unknown-skill-entry",
        "duplicate-rule",
        "duplicate-key",
        "unsatisfiable-stages",
        "blank-out-of-scope-example",
        "blank-skill-example",
        "misspelt-out-of-scope-key",
        "non-literal-homonym",
        "capitalised-spelling-term",
        "short-spelling-term",
        "two-word-spelling-term",
        "broken-yaml",
        "not-a-mapping",
    ],
)
def test_bad_routing_files_name_file_line_and_rule(
    two_skills: Path, routing: str, pattern: str
) -> None:
    write_routing(two_skills, routing)
    with pytest.raises(RulesError, match=pattern):
        Catalog.from_dir(two_skills)


def test_plan_step_needs_a_skill_with_a_declared_stage(two_skills: Path) -> None:
    write_skill(two_skills, "gamma", "Gamma things, no stage.")
    write_routing(
        two_skills,
        "stages: [{name: build}, {name: check}]\nrules:\n  - name: r1\n    kind: plan\n"
        "    reason: x\n    steps: [alpha, gamma]\n",
    )
    with pytest.raises(RulesError, match=r"rules\[0\] \(r1\): step 'gamma' needs a stage declared"):
        Catalog.from_dir(two_skills)


def test_undeclared_lane_in_skill_metadata_is_rejected(two_skills: Path) -> None:
    write_routing(two_skills, "lanes: {one: {}}\n")
    with pytest.raises(
        CatalogError, match=r"beta/SKILL.md: metadata.lane: lane 'two' is not declared"
    ):
        Catalog.from_dir(two_skills)


def test_catalog_from_skills_in_code() -> None:
    catalog = Catalog.from_skills(
        [Skill(name="a", description="A."), Skill(name="b", description="B.")]
    )
    assert catalog.root is None
    assert "a" in catalog
    assert "c" not in catalog
    with pytest.raises(KeyError, match="no skill named 'c'"):
        catalog["c"]
    with pytest.raises(CatalogError, match="at least one skill"):
        Catalog.from_skills([])


def test_fingerprint_tracks_routing_texts(two_skills: Path) -> None:
    before = Catalog.from_dir(two_skills).fingerprint()
    assert Catalog.from_dir(two_skills).fingerprint() == before
    write_routing(two_skills, "skills:\n  alpha:\n    examples: ['new example']\n")
    assert Catalog.from_dir(two_skills).fingerprint() != before


def test_out_of_scope_examples_join_the_fingerprint_and_the_leakage_check(
    two_skills: Path,
) -> None:
    before = Catalog.from_dir(two_skills).fingerprint()
    write_routing(two_skills, "out_of_scope:\n  examples: []\n")
    assert Catalog.from_dir(two_skills).fingerprint() == before  # none: the old hash
    write_routing(two_skills, "out_of_scope:\n  examples: ['Boil an EGG', 'tune a guitar']\n")
    catalog = Catalog.from_dir(two_skills)
    assert catalog.out_of_scope_examples == ("Boil an EGG", "tune a guitar")
    assert catalog.fingerprint() != before
    assert "boil an egg" in catalog.example_texts()


def test_a_single_phrase_may_be_written_without_a_list(two_skills: Path) -> None:
    write_routing(
        two_skills,
        "lanes:\n  one: {signals: alpha}\n  two: {}\nstages:\n  - {name: build, signals: build it, "
        "weak_signals: add a}\n  - {name: check}\nout_of_scope:\n  homonyms: celery\nrules:\n"
        "  - {name: r1, kind: route, skill: beta, reason: x, when: {any: 'secur*'}}\n",
    )
    spec = Catalog.from_dir(two_skills).routing
    assert spec.lanes["one"].signals == ("alpha",)
    assert (spec.stages[0].signals, spec.stages[0].weak_signals) == (("build it",), ("add a",))
    assert spec.out_of_scope.homonyms == ("celery",)
    assert spec.rules[0].when.any == ("secur*",)
