"""Word features of the head: terms, idf, TF-IDF rows, and how a calibration stores them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from skillroute.calibration import Calibration, HeadParams, LexiconParams, load_calibration
from skillroute.lexicon import Lexicon, terms_of

TEXTS = [
    "Add retries to my Celery task",
    "celery task retries with backoff",
    "pytest fixture for the celery worker",
    "a pytest fixture, a pytest marker",
    "retries in a pytest fixture",
]


def test_terms_are_case_folded_words_of_two_letters_and_their_pairs() -> None:
    assert terms_of("Add a Celery task!") == ["add", "celery", "task", "add celery", "celery task"]
    assert terms_of("?") == []


def test_learn_keeps_terms_found_in_enough_texts_in_sorted_order() -> None:
    lexicon = Lexicon.learn(TEXTS, min_df=2)
    assert lexicon.terms == tuple(sorted(lexicon.terms))
    assert {"celery", "pytest", "retries", "pytest fixture"} <= set(lexicon.terms)
    assert "backoff" not in lexicon.terms  # one text only
    again = Lexicon.learn(reversed(TEXTS), min_df=2)  # order-independent, deterministic
    assert again.terms == lexicon.terms and np.array_equal(again.idf, lexicon.idf)


def test_features_match_scikit_learns_sublinear_tfidf_times_the_scale() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    expected = vectorizer.fit_transform(TEXTS).toarray()
    lexicon = Lexicon.learn(TEXTS, min_df=2, scale=2.5)
    assert lexicon.terms == tuple(vectorizer.get_feature_names_out())
    words = lexicon.features(TEXTS)
    dense = np.zeros(words.shape)
    dense[words.rows, words.columns] = words.values
    assert np.allclose(dense, 2.5 * expected)


def test_a_text_without_known_terms_has_no_features() -> None:
    lexicon = Lexicon.learn(TEXTS, min_df=2)
    words = lexicon.features(["sourdough crust", "celery"])
    assert words.shape == (2, len(lexicon))
    assert set(words.rows.tolist()) == {1}
    assert np.allclose(words.logits(np.ones((3, len(lexicon))))[0], 0.0)


def test_logits_are_the_dense_product_whichever_rows_have_no_terms() -> None:
    lexicon = Lexicon.learn(TEXTS, min_df=2)
    batch = ["sourdough", *TEXTS[:2], "nothing known", TEXTS[3], "crust"]
    words = lexicon.features(batch)
    dense = np.zeros(words.shape)
    dense[words.rows, words.columns] = words.values
    weights = np.random.default_rng(0).normal(size=(4, len(lexicon)))
    assert np.allclose(words.logits(weights), dense @ weights.T, atol=1e-12)
    assert words.logits(weights)[[0, 3, 5]].tolist() == [[0.0] * 4] * 3
    nothing = lexicon.features(["sourdough crust"])
    assert nothing.logits(weights).tolist() == [[0.0] * 4]


def test_lexicon_rejects_mismatched_idf() -> None:
    with pytest.raises(ValueError, match="2 terms but 1 idf values"):
        Lexicon(("a", "b"), np.ones(1))


def _calibration(lexicon: LexiconParams | None) -> Calibration:
    head = HeadParams(
        skills=("a", "b"),
        weights=((0.1, -0.2), (0.3, 0.4)),
        bias=(0.0, 0.5),
        c=2.0,
        lexicon=lexicon,
    )
    return Calibration(
        head=head, head_weight=0.5, platt_a=8.0, platt_b=-4.0, abstain_threshold=0.2,
        ambiguity_margin=0.0,
    )  # fmt: skip


def test_a_calibration_with_word_weights_round_trips_with_one_line_per_term(
    tmp_path: Path,
) -> None:
    lexicon = LexiconParams(
        terms=("celery", "celery task", "pytest"),
        idf=(1.2, 1.7, 1.1),
        scale=2.5,
        weights=((1.5, -1.5), (0.25, -0.25), (-2.0, 2.0)),
    )
    calibration = _calibration(lexicon)
    path = calibration.save(tmp_path / "calibration.json")
    assert load_calibration(path) == calibration
    text = path.read_text()
    assert "[1.5, -1.5],\n" in text and "[1.2, 1.7, 1.1]" in text  # number lists on one line
    head = calibration.head
    assert head is not None
    probabilities = head.to_head().probabilities(np.zeros((1, 2), np.float32), ["celery"])
    assert probabilities[0, 0] > 0.9  # the word weights are applied, term by term


@pytest.mark.parametrize(
    ("lexicon", "message"),
    [
        (
            {"terms": ("a", "b"), "idf": (1.0,), "scale": 1.0, "weights": ((0.0, 0.0),) * 2},
            "2 terms, 1 idf values and 2 weight rows",
        ),
        (
            {"terms": ("a", "a"), "idf": (1.0, 1.0), "scale": 1.0, "weights": ((0.0, 0.0),) * 2},
            "terms repeat",
        ),
    ],
)
def test_lexicon_params_are_validated(lexicon: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        LexiconParams.model_validate(lexicon)


def test_head_params_need_word_weights_for_every_class() -> None:
    lexicon = LexiconParams(terms=("a",), idf=(1.0,), scale=1.0, weights=((0.0,),))
    with pytest.raises(ValidationError, match="every term needs 2 weights, one per class"):
        _calibration(lexicon)


def test_pasted_lines_are_not_read_as_words() -> None:
    """A traceback's frames or a fenced block say what happened; the ask is the prose."""
    post = (
        "Traceback (most recent call last):\n"
        '  File "/srv/app/tasks.py", line 12, in sync\n'
        "    push_rows(batch)\n"  # the frame's source line
        "```\nworker crashed\n```\n"
        "ValueError: bad row\n"
        "how do I retry the task?"
    )
    assert terms_of(post) == terms_of("ValueError: bad row\nhow do I retry the task?")
    assert not {"tasks", "push_rows", "worker"} & set(terms_of(post))
    assert terms_of("how do I retry the task?") == terms_of("How do I retry the task?")
