"""Labelled datasets: formats, located errors, and the bundled dataset's own guarantees."""

from __future__ import annotations

from pathlib import Path

import pytest

from skillroute.bundled import bundled_catalog_path, bundled_data_path
from skillroute.catalog import Catalog, normalise
from skillroute.dataset import Dataset, load_dataset
from skillroute.errors import DatasetError

SPLITS = ("train", "dev", "test")
CHALLENGE_SETS = (
    "challenge",
    "challenge2",
    "challenge3",
    "challenge4",
    "challenge5",
    "challenge6",
    "challenge7",
    "challenge8",
    "challenge9",
    "challenge10",
    "challenge11",
    "challenge12",
    "challenge13",
    "challenge14",
    "challenge15",
    "challenge16",
    "challenge17",
    "challenge18",
    "challenge19",
    "challenge20",
    "challenge21",
    "challenge22",
    "challenge23",
    "challenge24",
    "challenge25",
    "challenge26",
    "challenge27",
    "challenge28",
    "challenge29",
    "challenge30",
    "challenge31",
    "challenge32",
    "challenge33",
    "challenge34",
    "challenge35",
    "challenge36",
    "challenge37",
    "challenge38",
    "challenge39",
    "challenge40",
    "challenge41",
    "challenge42",
    "challenge43",
    "challenge44",
    "challenge45",
    "challenge46",
    "challenge47",
    "challenge48",
    "challenge49",
    "challenge50",
    "challenge51",
    "challenge52",
    "challenge53",
    "challenge54",
    "challenge55",
    "challenge56",
    "challenge57",
    "challenge58",
    "challenge59",
    "challenge60",
    "challenge61",
    "challenge62",
    "challenge63",
    "challenge64",
    "challenge65",
    "challenge66",
    "challenge67",
    "challenge68",
    "challenge69",
    "challenge70",
    "challenge71",
    "challenge72",
    "challenge73",
    "challenge74",
    "challenge75",
    "challenge76",
    "challenge77",
    "challenge78",
    "challenge79",
    "challenge80",
    "challenge81",
    "challenge82",
    "challenge83",
    "challenge84",
)  # development sets by other authors


def test_yaml_and_jsonl_load_the_same_items(tmp_path: Path) -> None:
    (tmp_path / "d.yaml").write_text(
        'items:\n- {text: "celery beat twice", expect: [django-celery]}\n- {text: "center a div", oos: true}\n'
    )
    (tmp_path / "d.jsonl").write_text(
        '{"text": "celery beat twice", "expect": ["django-celery"]}\n\n{"text": "center a div", "oos": true}\n'
    )
    as_yaml = [item.model_dump() for item in load_dataset(tmp_path / "d.yaml")]
    as_jsonl = [item.model_dump() for item in load_dataset(tmp_path / "d.jsonl")]
    assert as_yaml == as_jsonl
    assert len(as_yaml) == 2


def test_joined_datasets_keep_order_and_name_every_source(tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.jsonl"
    first.write_text('items:\n- {text: "one", expect: [s]}\n- {text: "two", oos: true}\n')
    second.write_text('{"text": "three", "expect": ["s"]}\n')
    joined = Dataset.join([load_dataset(first), load_dataset(second)])
    assert joined.texts == ["one", "two", "three"]
    assert joined.source == f"{first} + {second}"
    assert Dataset.join([load_dataset(first)]).source == str(first)
    with pytest.raises(DatasetError, match="no datasets"):
        Dataset.join([])
    # each item knows its file, also through a join of joins (what fitting groups by)
    assert joined.part_of_items() == [0, 0, 1]
    again = Dataset.join([joined, load_dataset(second)])
    assert again.parts == (2, 1, 1) and again.part_of_items() == [0, 0, 1, 2]
    assert load_dataset(first).part_of_items() == [0, 0]
    with pytest.raises(ValueError, match=r"parts \(2, 2\) do not add up to the 3 items"):
        Dataset(items=joined.items, parts=(2, 2))


@pytest.mark.parametrize(
    ("name", "content", "pattern"),
    [
        (
            "d.yaml",
            "items:\n- {text: a, expect: [x]}\n- {text: b}\n",
            r"d.yaml:3: an item needs expect",
        ),
        (
            "d.yaml",
            "items:\n- {text: a, oos: true, expect: [x]}\n",
            r"d.yaml:2: .*cannot have expect",
        ),
        ("d.yaml", "items:\n- {text: a, expec: [x]}\n", r"d.yaml:2: expec: Extra inputs"),
        ("d.yaml", "items: []\n", r"has no items"),
        ("d.yaml", "- a\n", r"d.yaml:1: must be a mapping with an 'items' list"),
        ("d.jsonl", '{"text": "a", "expect": ["x"]}\n{broken\n', r"d.jsonl:2: invalid JSON"),
        ("d.jsonl", '["a"]\n', r"d.jsonl:1: an item must be a mapping"),
    ],
)
def test_bad_datasets_name_file_and_line(
    tmp_path: Path, name: str, content: str, pattern: str
) -> None:
    (tmp_path / name).write_text(content)
    with pytest.raises(DatasetError, match=pattern):
        load_dataset(tmp_path / name)


def test_unknown_skill_names_the_item_line(tmp_path: Path) -> None:
    (tmp_path / "d.yaml").write_text(
        "items:\n- {text: a, expect: [django-celery]}\n- {text: b, expect: [nope]}\n"
    )
    with pytest.raises(DatasetError, match=r"d.yaml:3: expect: unknown skill 'nope'"):
        load_dataset(tmp_path / "d.yaml").check_against(Catalog.from_dir(bundled_catalog_path()))


@pytest.fixture(scope="module")
def bundled_splits() -> dict[str, list]:  # type: ignore[type-arg]
    return {
        split: list(load_dataset(bundled_data_path() / f"{split}.yaml").items) for split in SPLITS
    }


def test_bundled_dataset_has_the_promised_coverage(bundled_splits: dict[str, list]) -> None:  # type: ignore[type-arg]
    catalog = Catalog.from_dir(bundled_catalog_path())
    items = [item for split in SPLITS for item in bundled_splits[split]]
    for name in catalog.names:
        assert sum(not item.plan and item.expect[:1] == (name,) for item in items) >= 30, name
    assert sum(bool(item.plan) for item in items) >= 30
    oos = [item for item in items if item.oos]
    assert len(oos) >= 80
    assert sum("near-miss" in item.tags for item in oos) >= 40
    for split in (*SPLITS, *CHALLENGE_SETS):
        load_dataset(bundled_data_path() / f"{split}.yaml").check_against(catalog)


def test_every_bundled_dataset_is_checked() -> None:
    """A new set in data/ must join the lists above, or the leakage checks skip it."""
    on_disk = {path.stem for path in bundled_data_path().glob("*.yaml")} - {"gates"}
    assert on_disk == {*SPLITS, *CHALLENGE_SETS}


def test_no_dataset_text_is_a_skill_example_or_repeated() -> None:
    examples = Catalog.from_dir(bundled_catalog_path()).example_texts()  # out-of-scope ones too
    seen: dict[str, str] = {}
    for split in (*SPLITS, *CHALLENGE_SETS):
        for item in load_dataset(bundled_data_path() / f"{split}.yaml").items:
            key = normalise(item.text)
            assert key not in examples, f"{split}: {item.text!r} is also a SKILL example (leakage)"
            assert key not in seen, f"{item.text!r} is in both {seen.get(key)} and {split}"
            seen[key] = split
