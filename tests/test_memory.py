"""The example memory: its kernel vote, its compact form and its place in the head."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from skillroute.calibration import Calibration, HeadParams, MemoryParams, load_calibration
from skillroute.errors import SkillrouteWarning
from skillroute.memory import MEMORY_SURE_AT, ExampleMemory, mix_vote
from skillroute.scoring import LinearHead


def _unit(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


VECTORS = _unit(np.array([[1, 0.1, 0], [1, -0.1, 0], [0, 1, 0.1], [0, 0.1, 1], [0, -0.1, 1]]))
LABELS = np.array([0, 0, 1, 3, 3])  # class 2 remembers nothing


@pytest.fixture
def memory() -> ExampleMemory:
    return ExampleMemory.remember(VECTORS, LABELS, classes=4)


def test_remember_groups_rows_by_class_and_counts_empty_classes(memory: ExampleMemory) -> None:
    assert memory.counts.tolist() == [2, 1, 0, 2]
    assert memory.classes == 4
    np.testing.assert_array_equal(memory.vectors[2], VECTORS[2])  # class 1 after class 0's two


@pytest.mark.parametrize(("query", "winner"), [([1, 0, 0], 0), ([0, 1, 0], 1), ([0, 0, 1], 3)])
def test_the_nearest_class_wins_and_every_vote_sums_to_one(
    memory: ExampleMemory, query: list[float], winner: int
) -> None:
    vote = memory.probabilities(_unit(np.array([query])))
    assert vote.shape == (1, 4)
    assert vote.sum() == pytest.approx(1.0)
    assert int(vote.argmax()) == winner
    assert vote[0, 2] == 0.0  # a class with no remembered task gets no vote


def test_temperature_sharpens_the_vote() -> None:
    query = _unit(np.array([[1.0, 0.6, 0.0]]))  # nearer class 0, not far from class 1
    soft = ExampleMemory.remember(VECTORS, LABELS, 4, temperature=2.0).probabilities(query)
    sharp = ExampleMemory.remember(VECTORS, LABELS, 4, temperature=80.0).probabilities(query)
    assert soft[0, 0] < sharp[0, 0]
    assert soft[0, 1] > sharp[0, 1]


def test_an_empty_memory_votes_evenly() -> None:
    empty = ExampleMemory.remember(np.zeros((0, 3), np.float32), np.zeros(0, np.intp), 3)
    np.testing.assert_allclose(empty.probabilities(VECTORS[:2]), np.full((2, 3), 1 / 3))


@pytest.mark.parametrize(
    ("labels", "classes", "message"),
    [
        ([0, 0, 1, 3, 4], 4, r"one label in \[0, 4\)"),
        ([0, 0, 1, 3, -1], 4, r"one label in \[0, 4\)"),
        ([0, 1], 4, r"one label in \[0, 4\)"),
    ],
)
def test_remember_rejects_labels_outside_the_classes(
    labels: list[int], classes: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        ExampleMemory.remember(VECTORS, np.array(labels), classes)


def test_the_compact_form_round_trips_within_quantisation(memory: ExampleMemory) -> None:
    text, scales = memory.encoded()
    again = ExampleMemory.decoded(text, scales, tuple(memory.counts.tolist()), memory.temperature)
    assert again.counts.tolist() == memory.counts.tolist()
    cosines = np.sum(again.vectors * memory.vectors, axis=1)
    assert (cosines > 0.9999).all()
    queries = _unit(np.random.default_rng(0).standard_normal((20, 3)))
    np.testing.assert_allclose(
        again.probabilities(queries), memory.probabilities(queries), atol=0.01
    )


def test_decoding_rejects_rows_that_do_not_split(memory: ExampleMemory) -> None:
    text, scales = memory.encoded()
    with pytest.raises(ValueError, match="do not split into 4 rows"):
        ExampleMemory.decoded(text, scales[:4], (2, 1, 0, 1), memory.temperature)


def _params(memory: ExampleMemory, **changes: object) -> MemoryParams:
    text, scales = memory.encoded()
    fields: dict[str, object] = {
        "weight": 0.3,
        "temperature": memory.temperature,
        "counts": tuple(int(c) for c in memory.counts),
        "scales": scales,
        "vectors": text,
    }
    fields.update(changes)
    return MemoryParams.model_validate(fields)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"counts": (2, 1, 0, 3)}, "counts add up to 6 rows but there are 5 scales"),
        ({"vectors": "not base64!"}, "vectors:"),
        ({"weight": 0.0}, "greater than 0"),
        ({"temperature": -1.0}, "greater than 0"),
    ],
)
def test_memory_params_say_what_is_wrong(
    memory: ExampleMemory, changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        _params(memory, **changes)


BIAS = (0.0, 0.0, 1.5, 0.0)  # the linear part alone prefers class 2


def _head(memory: ExampleMemory | None, weight: float) -> LinearHead:
    return LinearHead(
        np.zeros((4, 3), dtype=np.float32),
        np.array(BIAS, np.float32),
        True,
        memory=memory,
        memory_weight=weight,
    )


def test_the_head_mixes_the_vote_in_by_its_weight(memory: ExampleMemory) -> None:
    queries = VECTORS[:1]
    plain, plain_none = _head(None, 0.0).split(queries, ["a"])
    mixed, mixed_none = _head(memory, 0.4).split(queries, ["a"])
    vote = memory.probabilities(queries)
    linear = np.concatenate([plain, plain_none[:, None]], axis=1)
    expected = 0.6 * linear + 0.4 * vote
    np.testing.assert_allclose(mixed, expected[:, :3])
    assert mixed_none is not None
    np.testing.assert_allclose(mixed_none, expected[:, 3])
    assert int(mixed.argmax()) == 0 != int(plain.argmax())  # the vote moved the top class


def test_a_sure_row_votes_for_its_own_top_class_without_a_lookup() -> None:
    probabilities = np.array([[0.96, 0.02, 0.02], [0.5, 0.3, 0.2]])
    assert 0.5 < MEMORY_SURE_AT <= 0.96  # the first row is sure, the second is not
    asked: list[list[bool]] = []

    def vote_of(rows: np.ndarray) -> np.ndarray:
        asked.append(rows.tolist())
        return np.array([[0.0, 0.0, 1.0]])

    mixed = mix_vote(probabilities, 0.4, vote_of)
    assert asked == [[False, True]]  # only the unsure row is looked up
    np.testing.assert_allclose(mixed[0], 0.6 * probabilities[0] + 0.4 * np.array([1, 0, 0]))
    np.testing.assert_allclose(mixed[1], 0.6 * probabilities[1] + 0.4 * np.array([0, 0, 1]))
    assert mix_vote(probabilities[:1], 0.4, vote_of).argmax() == 0 and len(asked) == 1


def test_a_task_that_asks_for_several_steps_keeps_its_probabilities() -> None:
    probabilities = np.array([[0.5, 0.3, 0.2], [0.5, 0.3, 0.2], [0.97, 0.02, 0.01]])
    asked: list[list[bool]] = []

    def vote_of(rows: np.ndarray) -> np.ndarray:
        asked.append(rows.tolist())
        return np.array([[0.0, 0.0, 1.0]])

    one_ask = np.array([True, False, False])
    mixed = mix_vote(probabilities, 0.4, vote_of, one_ask)
    assert asked == [[True, False, False]]  # the multi-step rows are never looked up
    np.testing.assert_allclose(mixed[0], 0.6 * probabilities[0] + 0.4 * np.array([0, 0, 1]))
    np.testing.assert_allclose(mixed[1], probabilities[1])
    np.testing.assert_allclose(mixed[2], 0.6 * probabilities[2] + 0.4 * np.array([1, 0, 0]))


def test_the_head_rejects_a_memory_of_other_classes() -> None:
    other = ExampleMemory.remember(VECTORS, np.array([0, 0, 1, 2, 2]), classes=3)
    with pytest.raises(ValueError, match="a memory over 3 classes for a head of 4"):
        _head(other, 0.3)
    with pytest.raises(ValueError, match=r"memory weight must be in \[0, 1\]"):
        LinearHead(np.zeros((4, 3), np.float32), np.zeros(4, np.float32), memory_weight=1.5)


def _calibration(memory: MemoryParams | None) -> Calibration:
    row = (0.0, 0.0, 0.0)
    head = HeadParams(
        skills=("a", "b", "c"),
        weights=(row, row, row, row),
        bias=BIAS,
        c=1.0,
        out_of_scope=True,
        memory=memory,
    )
    return Calibration(
        platt_a=1.0, platt_b=0.0, abstain_threshold=0.3, ambiguity_margin=0.0, head=head
    )


def test_a_calibration_with_a_memory_round_trips_through_json(
    memory: ExampleMemory, tmp_path: Path
) -> None:
    calibration = _calibration(_params(memory))
    path = calibration.save(tmp_path / "calibration.json")
    loaded = load_calibration(path)
    assert loaded == calibration
    assert loaded is not None and loaded.head is not None
    head = loaded.head.to_head()
    assert head.memory is not None and head.memory_weight == 0.3
    np.testing.assert_allclose(
        head.probabilities(VECTORS, ["t"] * 5),
        _head(memory, 0.3).probabilities(VECTORS, ["t"] * 5),
        atol=0.01,
    )


def test_a_memory_with_the_wrong_class_count_is_ignored_with_a_warning(
    memory: ExampleMemory, tmp_path: Path
) -> None:
    calibration = _calibration(_params(memory))
    path = calibration.save(tmp_path / "calibration.json")
    text = path.read_text(encoding="utf-8").replace('"counts": [2, 1, 0, 2]', '"counts": [2, 1, 2]')
    path.write_text(text, encoding="utf-8")
    with pytest.warns(SkillrouteWarning, match="calibration ignored"):
        assert load_calibration(path) is None
