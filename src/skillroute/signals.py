"""Literal phrase signals, matched on word tokens in linear time.

Rules and lanes are triggered by phrases ("django", "background job", "secur*").  They
are data written by catalog authors and are matched against hostile text, so they are
never regular expressions: the text is split into tokens once (a single linear regex
pass) and phrases are looked up through a token index, so no input can cause
catastrophic backtracking.  A trailing ``*`` on a phrase word matches any word that
starts with it.

Punctuation (``, ; ! ? + & | >``, arrows, a sentence-ending full stop), line breaks and
the catalog's clause words ("and", "then"...) split a task into clauses, so the engine
can tell "test my celery task" (one request) from "build the API and then ship it" (two),
and reads a pasted to-do list one line per item.

Tokens inside a chunk of code (a path, a dotted or snake_case identifier, a call:
"reports/views.py", "client.login()", "test_create") are marked, so a caller can count
only what the developer wrote in prose (weak stage words: "views" in a pasted file path
asks for no view).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

__all__ = [
    "Found",
    "PhraseSet",
    "Span",
    "TokenizedText",
    "inside_longer",
    "phrase_problem",
    "tokenize",
    "without_pasted",
]

# Clause punctuation: , ; ! ? & + | > → a dash, a line break, a full stop or colon that ends
# a sentence or a label (not "asp.net", "12:30" or "http://") and the ")" of an inline
# list's "2)".  Languages spelled with symbols are one word each ("c#" reads as csharp), so a
# signal phrase can name them.
_TOKEN = re.compile(r"[^\W_]+|[,;!?&+|>→—\u2013\n]|[.:](?=\s|$)|(?<=\d)\)")
_SYMBOL_NAMES = {"c#": "csharp", "c++": "cpp", "f#": "fsharp"}
_SYMBOL = "|".join(re.escape(spelling) for spelling in _SYMBOL_NAMES)
_SYMBOL_HINT = re.compile(_SYMBOL)  # rare: only such tasks pay for the longer pattern
_TOKEN_OR_SYMBOL = re.compile(rf"(?<![\w+#])(?:{_SYMBOL})(?![\w+#])|{_TOKEN.pattern}")
_WORD = re.compile(r"[^\W_]+")
# a whitespace-delimited chunk that names code, not prose: a path, a dotted or snake_case
# identifier, a call, an assignment ("reports/views.py", "client.login()", "test_create")
_CODE_CHUNK = re.compile(r"[/\\_=]|::|\(\)|\w\.\w")
_CHUNK = re.compile(r"\S+")
# pasted material, not the ask: a markdown code fence's line, a traceback's frame, a line
# of a log that starts with its timestamp (matched on the case-folded text, line by line)
_FENCE = "```"
_PASTED_LINE = re.compile(
    r'^(?:traceback \(most recent call last\)|file "|\[?\d{4}-\d\d-\d\d[ t]\d|\[?\d\d:\d\d:\d\d)'
)
HEAD = 3  # a prefix phrase ("harden*") is tried only where a token starts with its first letters


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens (letters and digits of any script; ``_`` splits words)."""
    return _WORD.findall(text.casefold())


def phrase_problem(phrase: str) -> str | None:
    """Why ``phrase`` cannot be a signal, or None when it is fine."""
    words = phrase.split()
    if not words:
        return "a signal phrase must contain at least one word"
    for word in words:
        stem = word.removesuffix("*")
        if tokenize(stem) != [stem.casefold()]:
            return (
                f"signal word {word!r} must be letters and digits only "
                "(optionally ending in '*'); split other characters into separate words"
            )
    return None


@dataclass(frozen=True)
class _Word:
    text: str
    prefix: bool

    def matches(self, token: str) -> bool:
        return token.startswith(self.text) if self.prefix else token == self.text


def _parse(phrase: str) -> tuple[_Word, ...]:
    return tuple(
        _Word(word.removesuffix("*").casefold(), word.endswith("*")) for word in phrase.split()
    )


def _lines(folded: str) -> Iterator[tuple[int, int, bool]]:
    """Each line's character span in a case-folded text, and whether it is pasted.

    A traceback's frame is two lines: ``File "…", line 12, in f`` and its source line,
    which is indented or reads as code (prose after a frame stays prose).
    """
    start, fenced, frame = 0, False, False
    for line in folded.split("\n"):
        end = start + len(line)
        fence = line.startswith(_FENCE)
        pasted = _PASTED_LINE.match(line.lstrip())
        source = frame and (line[:1].isspace() or _CODE_CHUNK.search(line) is not None)
        yield start, end, fenced or fence or source or pasted is not None
        frame = pasted is not None and pasted[0] == 'file "'
        if fence:
            fenced = not fenced
        start = end + 1


def without_pasted(folded: str) -> str:
    """A case-folded text without its pasted lines (see `TokenizedText.pasted`)."""
    if "\n" not in folded:
        return folded
    return "\n".join(folded[start:end] for start, end, pasted in _lines(folded) if not pasted)


class TokenizedText:
    """A task's tokens, a position index and clause numbers, shared by every matcher.

    ``code``: the indices of tokens inside a chunk of code; ``pasted``: of tokens in
    pasted material (a fenced code block, a traceback, log lines).  Both are found on
    first use.
    """

    def __init__(self, text: str, clause_words: Iterable[str] = ()) -> None:
        self._folded = text.casefold()
        symbols = _SYMBOL_HINT.search(self._folded) is not None
        self._pattern = _TOKEN_OR_SYMBOL if symbols else _TOKEN
        tokens = self._pattern.findall(self._folded)
        if symbols:
            tokens = [_SYMBOL_NAMES.get(token, token) for token in tokens]
        separators = frozenset(word.casefold() for word in clause_words)
        positions: dict[str, list[int]] = {}
        clause_of: list[int] = []
        clause = 0
        for index, token in enumerate(tokens):
            if not token[0].isalnum() or token in separators:
                clause += 1
            clause_of.append(clause)
            positions.setdefault(token, []).append(index)
        self.tokens = tokens
        self.clause_of = clause_of
        self.vocabulary = frozenset(positions)
        self._positions = positions
        self._prefix_cache: dict[str, list[int]] = {}
        self._sorted: list[str] | None = None

    @cached_property
    def heads(self) -> frozenset[str]:
        """The first `HEAD` letters of every token: which prefix phrases can occur here."""
        return frozenset(token[:HEAD] for token in self._positions)

    @cached_property
    def _offsets(self) -> list[tuple[int, int]]:
        """Each token's character span in the folded text (`code`, `pasted`, `without` ask)."""
        return [match.span() for match in self._pattern.finditer(self._folded)]

    @cached_property
    def code(self) -> frozenset[int]:
        """Indices of the tokens that lie in a chunk of code (see `_CODE_CHUNK`)."""
        if _CODE_CHUNK.search(self._folded) is None:  # most tasks: one scan, no code
            return frozenset()
        chunks = _CHUNK.finditer(self._folded)
        return self._within([chunk.span() for chunk in chunks if _CODE_CHUNK.search(chunk[0])])

    @cached_property
    def pasted(self) -> frozenset[int]:
        """Indices of the tokens in pasted lines: inside a ``` fence, a traceback, a log.

        A long post quotes its log or code; the words there ("deploy", "worker", "test")
        describe what happened, not what the post asks for.  A fence left open runs to
        the end of the text, as Markdown renders it.
        """
        if "\n" not in self._folded:  # one line: nothing is pasted around an ask
            return frozenset()
        spans = [(start, end) for start, end, pasted in _lines(self._folded) if pasted]
        return self._within(spans) if spans else frozenset()

    def _within(self, spans: list[tuple[int, int]]) -> frozenset[int]:
        """Indices of the tokens inside any of ``spans`` (character spans, ascending)."""
        ends = [end for _, end in spans]
        inside = set()
        for index, (start, end) in enumerate(self._offsets):
            at = bisect_left(ends, end)  # the first span ending at or after the token
            if at < len(spans) and spans[at][0] <= start:
                inside.add(index)
        return frozenset(inside)

    @cached_property
    def not_prose(self) -> frozenset[int]:
        """Indices of the tokens in code chunks or pasted lines."""
        return self.code | self.pasted

    def without(self, spans: Iterable[Span]) -> str:
        """The (case-folded) text with the tokens of ``spans`` cut out, spaces collapsed.

        Only the matched tokens go: "torch.compile" without "torch" is ".compile".
        """
        cut = {index for span in spans for index in range(span.start, span.end)}
        pieces, last = [], 0
        for index, (start, end) in enumerate(self._offsets):
            if index in cut:
                pieces.append(self._folded[last:start])
                last = end
        pieces.append(self._folded[last:])
        return " ".join("".join(pieces).split())

    def starts(self, word: _Word) -> Sequence[int]:
        """Positions where ``word`` occurs."""
        if not word.prefix:
            return self._positions.get(word.text, ())
        found = self._prefix_cache.get(word.text)
        if found is None:
            if self._sorted is None:
                self._sorted = sorted(self._positions)
            found = []
            # tokens starting with the prefix form one run of the sorted vocabulary
            for token in self._sorted[bisect_left(self._sorted, word.text) :]:
                if not token.startswith(word.text):
                    break
                found.extend(self._positions[token])
            found.sort()
            self._prefix_cache[word.text] = found
        return found

    def occurrences(self, words: tuple[_Word, ...]) -> Sequence[int]:
        """Start positions (ascending) where the words occur consecutively."""
        starts = self.starts(words[0])
        if len(words) == 1:
            return starts
        tokens, rest = self.tokens, tuple(enumerate(words[1:], 1))
        last = len(tokens) - len(words)
        return [
            start
            for start in starts
            if start <= last and all(word.matches(tokens[start + i]) for i, word in rest)
        ]


class Span(NamedTuple):
    """One occurrence of a phrase: its first token and one past its last."""

    start: int
    end: int
    phrase: str


class Found(NamedTuple):
    """Where a `PhraseSet` occurs in a text."""

    phrases: tuple[str, ...]  # the phrases found, in declaration order
    clauses: frozenset[int]  # the clause numbers they occur in
    starts: tuple[int, ...]  # their token positions, ascending


def inside_longer(span: Span, others: Iterable[Span]) -> bool:
    """Whether ``span`` lies within a strictly longer one of ``others``.

    Example: "django" within "no django".
    """
    return any(
        other.start <= span.start
        and span.end <= other.end
        and other.end - other.start > span.end - span.start
        for other in others
    )


class PhraseSet:
    """A group of phrases; `matches` lists which occur, `find` says where."""

    def __init__(self, phrases: Iterable[str]) -> None:
        self.phrases = tuple(phrases)
        self._parsed = tuple((phrase, _parse(phrase)) for phrase in self.phrases)
        # phrases by their first word (a prefix: by its head), so a task only tries
        # phrases that can start in it
        self._by_first: dict[str, list[int]] = {}
        self._by_head: dict[str, list[int]] = {}
        self._short_prefixed: list[int] = []  # a prefix shorter than a head: always tried
        for index, (_, words) in enumerate(self._parsed):
            first = words[0]
            if not first.prefix:
                self._by_first.setdefault(first.text, []).append(index)
            elif len(first.text) >= HEAD:
                self._by_head.setdefault(first.text[:HEAD], []).append(index)
            else:
                self._short_prefixed.append(index)
        self._first_words = frozenset(self._by_first)
        self._heads = frozenset(self._by_head)

    def __bool__(self) -> bool:
        return bool(self.phrases)

    def _candidates(self, text: TokenizedText) -> list[tuple[str, tuple[_Word, ...]]]:
        """Phrases whose first word occurs in the text, in declaration order."""
        indices = list(self._short_prefixed)
        for word in self._first_words & text.vocabulary:  # a C-level set intersection
            indices.extend(self._by_first[word])
        if self._heads:
            for head in self._heads & text.heads:
                indices.extend(self._by_head[head])
        if not indices:
            return []
        indices.sort()
        return [self._parsed[index] for index in indices]

    def matches(self, text: TokenizedText) -> tuple[str, ...]:
        """The phrases that occur in ``text``, in declaration order."""
        return tuple(phrase for phrase, words in self._candidates(text) if text.occurrences(words))

    def find(
        self,
        text: TokenizedText,
        *,
        prose_only: bool = False,
        ignore: AbstractSet[int] = frozenset(),
    ) -> Found:
        """The phrases found, the clauses they occur in and their positions.

        Occurrences in pasted lines never count; with ``prose_only``, occurrences that
        start inside a chunk of code do not count either, nor do any that start at a
        position in ``ignore``.
        """
        found: list[str] = []
        starts: list[int] = []
        skip = text.not_prose if prose_only else text.pasted
        if ignore:
            skip = skip | ignore
        for phrase, words in self._candidates(text):
            here = text.occurrences(words)
            if skip:
                here = [start for start in here if start not in skip]
            if here:
                found.append(phrase)
                starts.extend(here)
        starts.sort()
        clause_of = text.clause_of
        return Found(tuple(found), frozenset(clause_of[i] for i in starts), tuple(starts))

    def spans(self, text: TokenizedText) -> list[Span]:
        """Every occurrence of every phrase, by position (for overlaps between sets)."""
        spans = [
            Span(start, start + len(words), phrase)
            for phrase, words in self._candidates(text)
            for start in text.occurrences(words)
        ]
        spans.sort()
        return spans
