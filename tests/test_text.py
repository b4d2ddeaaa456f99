"""Task text at the boundary: what `clean_task` keeps and what it refuses."""

from __future__ import annotations

import pytest

from skillroute.errors import InputError
from skillroute.text import EMBED_CHARS, clean_task, encoder_text


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("  add   retries\tto my task  ", "add retries to my task"),
        ("todo:\r\n1) model\r\n\r\n2) tests", "todo:\n1) model\n2) tests"),
        ("one\rtwo\u2028three\u2029four\x85five", "one\ntwo\nthree\nfour\nfive"),
        ("  \n  indented line \n\n\n", "indented line"),
        ("bell\x07 and\x0bvertical\x0ctab", "bell and vertical tab"),
        ("cafe\u0301", "caf\u00e9"),  # NFC
    ],
    ids=["spaces", "crlf-and-blank-lines", "unicode-line-breaks", "blank-edges", "controls", "nfc"],
)
def test_clean_task_keeps_one_line_break_per_line_and_collapses_spaces(
    raw: str, cleaned: str
) -> None:
    assert clean_task(raw) == cleaned


def test_a_text_of_line_breaks_only_is_empty() -> None:
    with pytest.raises(InputError, match="task is empty"):
        clean_task("\r\n \n\u2028\t")


def test_the_encoder_is_given_both_ends_of_a_very_long_task() -> None:
    post = "ask first. " + "log line\n" * 2_000 + "ask last?"
    given = encoder_text(post)
    assert given == f"{post[:EMBED_CHARS]}\n{post[-EMBED_CHARS:]}"
    assert given.startswith("ask first.") and given.endswith("ask last?")
    fits = "x" * (2 * EMBED_CHARS)
    assert encoder_text(fits) is fits
