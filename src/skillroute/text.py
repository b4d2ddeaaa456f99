"""Validation of task texts at the API boundary.

Accepted: any string with at least one visible character, up to `MAX_TASK_CHARS`.
Control characters become spaces and runs of spaces one space.  Line breaks stay, one per
non-blank line (CR LF and the Unicode line separators become LF), because a pasted to-do
list or error says, line by line, where one ask ends and the next begins; the encoder
reads a line break as a space.  Any script is fine (the model may simply find no skill).
The encoder is given at most the first and the last `EMBED_CHARS` characters
(`encoder_text`: MiniLM reads 256 word pieces of each window anyway, and a long post's
question is often at its end), while rules scan the whole text.

`NonBlankText` is the same boundary for the catalog's own texts (examples,
implications): one visible character at least.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator

from skillroute.errors import InputError

__all__ = ["EMBED_CHARS", "MAX_TASK_CHARS", "NonBlankText", "clean_task", "encoder_text"]

MAX_TASK_CHARS = 100_000
EMBED_CHARS = 2_000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAK = re.compile(r"\r\n?|[\x85\u2028\u2029]")


def clean_task(text: object, *, where: str = "task") -> str:
    """Return the task text ready for routing, or raise `InputError` saying what is wrong."""
    if not isinstance(text, str):
        raise InputError(f"{where} must be a string, got {type(text).__name__}")
    if len(text) > MAX_TASK_CHARS:
        raise InputError(
            f"{where} is {len(text):,} characters; the limit is {MAX_TASK_CHARS:,} "
            "(route a summary of the task instead)"
        )
    lines = _LINE_BREAK.sub("\n", unicodedata.normalize("NFC", text)).split("\n")
    cleaned = "\n".join(
        joined for line in lines if (joined := " ".join(_CONTROL.sub(" ", line).split()))
    )
    if not cleaned:
        raise InputError(f"{where} is empty (only whitespace or control characters)")
    return cleaned


def encoder_text(text: str) -> str:
    """What the encoder is given of a task: all of it, or its opening and closing parts."""
    if len(text) <= 2 * EMBED_CHARS:
        return text
    return f"{text[:EMBED_CHARS]}\n{text[-EMBED_CHARS:]}"


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("must be a non-empty string")
    return text


NonBlankText = Annotated[str, AfterValidator(_not_blank)]
"""A catalog text (an example, an implication) with at least one visible character."""
