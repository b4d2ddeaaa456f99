"""Parsing SKILL.md: the Agent Skills format, lenient and strict, with located errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import write_skill

from skillroute.errors import SkillFormatError, SkillrouteWarning
from skillroute.skill import Skill, parse_skill_file


def test_parses_every_spec_field(tmp_path: Path) -> None:
    path = write_skill(
        tmp_path,
        "pdf-tools",
        "Extract text from PDFs. Use when the user mentions PDF files.",
        extra=(
            "license: Apache-2.0\ncompatibility: Needs poppler\n"
            "metadata:\n  lane: docs\n  stage: implement\nallowed-tools: Bash(pdftotext:*) Read\n"
        ),
        body="# PDF tools\n\nStep one.\n",
    )
    skill = parse_skill_file(path, strict=True)
    assert skill.name == "pdf-tools"
    assert skill.license == "Apache-2.0"
    assert skill.compatibility == "Needs poppler"
    assert skill.allowed_tools == "Bash(pdftotext:*) Read"
    assert (skill.lane, skill.stage) == ("docs", "implement")
    assert skill.body.startswith("# PDF tools")
    assert skill.path == path.parent


def test_lenient_mode_keeps_unknown_fields_with_a_warning(tmp_path: Path) -> None:
    path = write_skill(tmp_path, "alpha", "Does alpha things.", extra="when_to_use: always\n")
    with pytest.warns(
        SkillrouteWarning, match=r"SKILL.md:4: when_to_use: is not an Agent Skills field"
    ):
        skill = parse_skill_file(path)
    assert skill.extra == {"when_to_use": "always"}


def test_strict_mode_rejects_unknown_fields(tmp_path: Path) -> None:
    path = write_skill(tmp_path, "alpha", "Does alpha things.", extra="when_to_use: always\n")
    with pytest.raises(SkillFormatError, match=r"SKILL.md:4: when_to_use: .*strict"):
        parse_skill_file(path, strict=True)


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        ("no frontmatter here\n", r":1: must start with YAML frontmatter"),
        ("---\nname: alpha\ndescription: x\n", r":1: frontmatter is not closed"),
        ("---\nname: alpha\ndescription: [unclosed\n---\n", r":4: invalid YAML"),
        ("---\n- a list\n---\n", r":2: frontmatter must be a mapping"),
        ("---\ndescription: Does things.\n---\n", r":1: name: is required"),
        ("---\nname: alpha\n---\n", r":1: description: is required"),
        (
            "---\nname: alpha\ndescription: ''\n---\n",
            r":3: description: must be 1-1024 characters \(got 0\)",
        ),
        (
            "---\nname: alpha\ndescription: " + "x" * 1025 + "\n---\n",
            r":3: description: must be 1-1024",
        ),
        ("---\nname: alpha\ndescription: 42\n---\n", r":3: description: must be a string, got int"),
        ("---\nname: Alpha_1\ndescription: x\n---\n", r":2: name: 'Alpha_1' must be lowercase"),
        (
            "---\nname: beta\ndescription: x\n---\n",
            r":2: name: 'beta' must match its folder name 'alpha'",
        ),
        (
            "---\nname: alpha\ndescription: x\nmetadata: [1, 2]\n---\n",
            r":4: metadata: must be a mapping",
        ),
        (
            "---\nname: alpha\ndescription: x\nmetadata:\n  tags: [a]\n---\n",
            r":4: metadata.tags: must be a string",
        ),
        (
            "---\nname: alpha\ndescription: x\ncompatibility: ''\n---\n",
            r":4: compatibility: must be 1-500",
        ),
        (
            "---\nname: alpha\ndescription: x\nallowed-tools: 3\n---\n",
            r":4: allowed-tools: must be a space",
        ),
    ],
    ids=[
        "no-frontmatter",
        "unclosed",
        "broken-yaml",
        "not-a-mapping",
        "missing-name",
        "missing-description",
        "empty-description",
        "long-description",
        "description-type",
        "bad-name",
        "name-folder-mismatch",
        "metadata-type",
        "metadata-value-type",
        "empty-compatibility",
        "allowed-tools-type",
    ],
)
def test_bad_skill_files_name_file_line_and_field(
    tmp_path: Path, content: str, pattern: str
) -> None:
    path = tmp_path / "alpha" / "SKILL.md"
    path.parent.mkdir()
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SkillFormatError, match=pattern) as caught:
        parse_skill_file(path)
    assert str(path) in str(caught.value)


def test_non_string_metadata_values_are_converted_leniently_and_rejected_strictly(
    tmp_path: Path,
) -> None:
    path = write_skill(tmp_path, "alpha", "x", extra="metadata:\n  version: 2\n")
    with pytest.warns(SkillrouteWarning, match="metadata.version: should be a string"):
        assert parse_skill_file(path).metadata == {"version": "2"}
    with pytest.raises(SkillFormatError, match=r"metadata\.version: must be a string, got int"):
        parse_skill_file(path, strict=True)


def test_unreadable_bytes_are_a_typed_error(tmp_path: Path) -> None:
    path = tmp_path / "alpha" / "SKILL.md"
    path.parent.mkdir()
    path.write_bytes(b"---\nname: alpha\ndescription: \xff\xfe\n---\n")
    with pytest.raises(SkillFormatError, match="not UTF-8"):
        parse_skill_file(path)


def test_skill_built_in_code_validates_its_name() -> None:
    with pytest.raises(ValueError, match="lowercase"):
        Skill(name="Not Valid", description="x")
    skill = Skill(name="ok-name", description="Does it.", examples=("do it",))
    assert skill.routing_texts() == ("ok name: Does it.", "do it")
