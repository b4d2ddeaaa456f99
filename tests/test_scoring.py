"""Scoring: per-skill max cosine, the head mix, and deterministic top-k."""

from __future__ import annotations

import numpy as np
import pytest

from skillroute.lexicon import Lexicon
from skillroute.scoring import LinearHead, ScoreBatch, SkillIndex


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_similarity_is_the_best_text_of_each_skill() -> None:
    texts = unit(np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]], dtype=float))
    index = SkillIndex(texts, [1, 3])  # skill 0: text 0; skill 1: texts 1-3
    batch = index.score(unit(np.array([[1.0, 0.9, 0.0]])))
    assert batch.similarity[0, 0] == pytest.approx(texts[0] @ unit(np.array([[1.0, 0.9, 0.0]]))[0])
    assert index.best_text(batch, 0, 1) == 2  # [1, 1, 0] is the closest of skill 1's texts


def test_head_mix_is_a_weighted_average() -> None:
    index = SkillIndex(unit(np.eye(3)), [1, 1, 1])
    head = LinearHead(np.eye(3, dtype=np.float32) * 5, np.zeros(3, dtype=np.float32))
    query = unit(np.array([[1.0, 0.2, 0.0]]))
    plain = index.score(query)
    mixed = index.score(query, head, 0.5, ["a task"])
    expected = 0.5 * head.probabilities(query, ["a task"]) + 0.5 * plain.similarity
    assert np.allclose(mixed.score, expected)
    assert np.allclose(mixed.similarity, plain.similarity)


def test_out_of_scope_row_takes_probability_from_every_skill() -> None:
    weights = np.vstack([np.eye(3), [[0.0, 0.0, 6.0]]]).astype(np.float32) * 5
    head = LinearHead(weights, np.zeros(4, dtype=np.float32), out_of_scope=True)
    near_a_skill, near_nothing = unit(np.array([[1.0, 0.1, 0.0], [0.0, 0.1, 1.0]]))
    probabilities = head.probabilities(np.vstack([near_a_skill, near_nothing]), ["a", "b"])
    assert probabilities.shape == (2, 3)  # skills only; the "no skill" column is dropped
    assert probabilities[0].sum() > 0.95
    assert probabilities[1].sum() < 0.01  # the out-of-scope class took the mass


def test_word_weights_move_the_head_towards_the_skill_a_word_names() -> None:
    lexicon = Lexicon(("celery", "pytest"), np.ones(2))
    word_weights = np.array([[4.0, 0.0], [0.0, 4.0]], dtype=np.float32)  # skill 0: celery
    head = LinearHead(
        np.zeros((2, 3), np.float32), np.zeros(2, np.float32), False, lexicon, word_weights
    )
    query = unit(np.array([[1.0, 1.0, 0.0]] * 3))
    p = head.probabilities(query, ["retry the Celery task", "a pytest fixture", "nothing known"])
    assert p[0, 0] > 0.9 and p[1, 1] > 0.9
    assert p[2] == pytest.approx([0.5, 0.5])  # no known word: the embedding alone decides
    with pytest.raises(ValueError, match="2 texts for 3 embedded tasks"):
        head.probabilities(query, ["a", "b"])


def test_a_head_with_words_needs_one_weight_per_class_and_term() -> None:
    lexicon = Lexicon(("celery",), np.ones(1))
    with pytest.raises(ValueError, match=r"shape \(2, 2\), expected \(2, 1\)"):
        LinearHead(
            np.zeros((2, 3), np.float32),
            np.zeros(2, np.float32),
            False,
            lexicon,
            np.zeros((2, 2), np.float32),
        )
    with pytest.raises(ValueError, match="both a lexicon and word weights"):
        LinearHead(np.zeros((2, 3), np.float32), np.zeros(2, np.float32), False, lexicon)


def test_index_rejects_mismatched_counts() -> None:
    with pytest.raises(ValueError, match="every skill needs at least one"):
        SkillIndex(unit(np.eye(2)), [2, 0])
    with pytest.raises(ValueError, match="2 embeddings for 3 routing texts"):
        SkillIndex(unit(np.eye(2)), [1, 2])


@pytest.mark.parametrize("n_skills", [5, 64, 65, 3000])
def test_top_k_matches_a_stable_full_sort_including_ties(n_skills: int) -> None:
    rng = np.random.default_rng(0)
    scores = np.round(rng.random((20, n_skills)), 2)  # rounding creates many ties
    batch = ScoreBatch(scores, scores, np.zeros((20, 1), dtype=np.float32))
    expected = np.argsort(-scores, axis=1, kind="stable")[:, :7]
    assert np.array_equal(batch.top_k(7), expected)
    assert batch.top_k(n_skills + 10).shape == (20, n_skills)
