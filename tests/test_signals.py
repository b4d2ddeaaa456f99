"""Phrase signals: tokenisation, prefix words, clauses, and no catastrophic backtracking."""

from __future__ import annotations

import threading

import pytest

from skillroute.signals import (
    PhraseSet,
    Span,
    TokenizedText,
    inside_longer,
    phrase_problem,
    tokenize,
)


def test_tokenize_splits_words_of_any_script_and_underscores() -> None:
    assert tokenize("Django_REST  framework, naïve Ünïcode 日本語 v2") == [
        "django",
        "rest",
        "framework",
        "naïve",
        "ünïcode",
        "日本語",
        "v2",
    ]


@pytest.mark.parametrize(
    ("phrase", "text", "found"),
    [
        ("celery", "Add retries to my Celery task", True),
        ("background job", "run a background job nightly", True),
        ("background job", "job in the background", False),
        ("secur*", "securing the admin", True),
        ("secur*", "insecure defaults", False),
        ("asp net", "ASP.NET Core middleware", True),
        ("node js", "a node.js service", True),
        ("ship test", "ship, test", False),
    ],
)
def test_phrase_matching(phrase: str, text: str, found: bool) -> None:
    assert bool(PhraseSet([phrase]).matches(TokenizedText(text))) is found


@pytest.mark.parametrize("phrase", ["a.*b", "", "(x|y)", "c++", "  "])
def test_non_literal_phrases_are_rejected(phrase: str) -> None:
    assert phrase_problem(phrase) is not None


def test_clauses_are_split_by_punctuation_and_clause_words() -> None:
    text = TokenizedText("build the API, add tests and then ship it", ["and", "then"])
    build = PhraseSet(["build"]).find(text).clauses
    tests = PhraseSet(["tests"]).find(text).clauses
    ship = PhraseSet(["ship"]).find(text).clauses
    assert len(build | tests | ship) == 3
    one_clause = TokenizedText("test my celery task retries", ["and"])
    found = PhraseSet(["test", "celery"]).find(one_clause)
    assert found.clauses == frozenset({0})
    assert found.starts == (0, 2)


@pytest.mark.parametrize(
    "task",
    [
        "todo:\n1) the order model\n2) tests for it",  # a line break
        "todo: 1) the order model 2) tests for it",  # an inline list's "2)"
    ],
)
def test_a_list_item_is_a_clause(task: str) -> None:
    text = TokenizedText(task, ["and"])
    model = PhraseSet(["model"]).find(text).clauses
    tests = PhraseSet(["tests"]).find(text).clauses
    assert model and tests and not model & tests


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("read a file in C#?", ["read", "a", "file", "in", "csharp", "?"]),
        ("C++ or F#", ["cpp", "or", "fsharp"]),
        ("a+b, abc#d", ["a", "+", "b", ",", "abc", "d"]),  # a symbol inside a word names nothing
    ],
)
def test_languages_spelled_with_symbols_are_one_word(text: str, tokens: list[str]) -> None:
    assert TokenizedText(text).tokens == tokens


def test_a_closing_parenthesis_after_words_is_not_a_list_marker() -> None:
    text = TokenizedText("the order model (with tests) is done", ["and"])
    assert len(set(text.clause_of)) == 1


@pytest.mark.parametrize(
    ("chunk", "code"),
    [
        ("reports/views.py:57", True),
        ("client.login()", True),
        ("test_create_invoice", True),
        ("page=2", True),
        ("tests\\api", True),
        ("Tests::test_create", True),
        ("views", False),
        ("pytest-django", False),
        ("done.", False),
        ("(views)", False),
    ],
)
def test_tokens_inside_a_chunk_of_code_are_marked(chunk: str, code: bool) -> None:
    text = TokenizedText(f"fix the {chunk} now")
    inner = range(2, len(text.tokens) - 1)
    assert all((index in text.code) == code for index in inner)
    assert {0, 1, len(text.tokens) - 1}.isdisjoint(text.code)  # the prose around it


def test_prose_only_skips_occurrences_inside_code() -> None:
    text = TokenizedText("views fail at reports/views.py line 57")
    views = PhraseSet(["views"])
    assert views.find(text).starts == (0, 4)
    assert views.find(text, prose_only=True).starts == (0,)
    assert views.find(TokenizedText("see reports/views.py"), prose_only=True).phrases == ()


@pytest.mark.parametrize(
    ("pasted", "is_pasted"),
    [
        ('File "/app/orders/tasks.py", line 41, in deploy_release', True),
        ("Traceback (most recent call last):", True),
        ("2024-06-03 02:14:09,471 ERROR worker deploy failed", True),
        ("[2024-06-03T02:14:09] worker deploy failed", True),
        ("02:14:09 worker deploy failed", True),
        ("the worker deploy failed", False),  # prose on a line of its own
        ("1) deploy the worker", False),  # a to-do line asks
    ],
)
def test_traceback_and_log_lines_are_pasted(pasted: str, is_pasted: bool) -> None:
    text = TokenizedText(f"why does this happen?\n{pasted}\nplease help")
    line = range(text.tokens.index("\n") + 1, len(text.tokens) - 3)
    assert all((index in text.pasted) == is_pasted for index in line)
    assert {0, len(text.tokens) - 1}.isdisjoint(text.pasted)  # the prose around it


@pytest.mark.parametrize(
    "source", ["    push_rows(batch)", "push_rows(batch)", "conn.request(url)"]
)
def test_a_traceback_frames_source_line_is_pasted(source: str) -> None:
    """Its second line is the code that ran: indented, or code even when pasted flat."""
    text = TokenizedText(f'why?\nFile "a.py", line 3, in sync\n{source}\nplease help')
    pasted = {text.tokens[index] for index in text.pasted}
    assert {"sync", *tokenize(source)} <= pasted
    assert pasted.isdisjoint({"why", "please", "help"})


def test_a_fenced_block_is_pasted_up_to_its_closing_fence() -> None:
    text = TokenizedText("deploy fails:\n```\nstep deploy: worker test\n```\nhow do I test it?")
    asks = PhraseSet(["deploy", "test"]).find(text)
    assert asks.phrases == ("deploy", "test")
    assert [text.tokens[start] for start in asks.starts] == ["deploy", "test"]
    assert len(asks.starts) == 2  # the fenced "deploy" and "test" do not count
    assert not TokenizedText("deploy it ```inline``` then test").pasted  # one line


def test_phrases_starting_with_a_short_prefix_are_still_found() -> None:
    phrases = PhraseSet(["ab*", "abc*", "retr* task", "celery"])
    assert phrases.matches(TokenizedText("the abacus and the abcde, retry task")) == (
        "ab*",
        "abc*",
        "retr* task",
    )
    assert phrases.matches(TokenizedText("a celery task")) == ("celery",)


def test_spans_cover_every_occurrence_of_each_phrase() -> None:
    text = TokenizedText("no django here just django free python", [])
    phrases = PhraseSet(["django", "no django"])
    assert phrases.spans(text) == [
        Span(0, 2, "no django"),
        Span(1, 2, "django"),
        Span(4, 5, "django"),
    ]
    assert phrases.find(text).starts == (0, 1, 4)


@pytest.mark.parametrize(
    ("text", "phrases", "expected"),
    [
        ("Is celery juice good for you?", ["celery"], "is juice good for you?"),
        ("torch.compile is slow", ["torch"], ".compile is slow"),  # only the token goes
        ("a pipeline for crude oil pipelines", ["pipeline*"], "a for crude oil"),
        ("ball python, corn snake", ["ball python"], ", corn snake"),
        ("nothing to cut here", ["celery"], "nothing to cut here"),
    ],
)
def test_without_cuts_only_the_matched_tokens(text: str, phrases: list[str], expected: str) -> None:
    tokens = TokenizedText(text, [])
    assert tokens.without(PhraseSet(phrases).spans(tokens)) == expected


@pytest.mark.parametrize(
    ("span", "inside"),
    [
        (Span(1, 2, "django"), True),  # within "no django"
        (Span(4, 5, "django"), False),  # elsewhere
        (Span(0, 2, "without django"), False),  # the same extent is not strictly longer
    ],
)
def test_inside_longer_needs_a_strictly_longer_span_around_it(span: Span, inside: bool) -> None:
    assert inside_longer(span, [Span(0, 2, "no django")]) == inside


@pytest.mark.parametrize(
    "hostile",
    [
        "a" * 100_000,
        "secur" * 20_000,
        ("ab " * 33_334)[:100_000],
        ("background " * 9_091)[:100_000],
        ("x," * 50_000),
    ],
    ids=[
        "one-long-word",
        "repeated-prefix",
        "many-short-words",
        "repeated-signal",
        "all-separators",
    ],
)
def test_hostile_100kb_texts_are_matched_in_linear_time(hostile: str) -> None:
    """A catastrophic pattern would hang here; the guard only catches a hang, not slowness."""
    phrases = PhraseSet(["secur*", "background job", "a*", "ab ab ab ab ab x", "x y"])
    result: list[object] = []
    worker = threading.Thread(
        target=lambda: result.append(phrases.find(TokenizedText(hostile, ["and"])))
    )
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "phrase matching did not finish on a 100 kB input"
    assert result
