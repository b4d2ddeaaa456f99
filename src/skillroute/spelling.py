"""One-edit typos of a catalog's key terms, read as the terms themselves.

"djnago", "jango" and "fastpi" are how people type; the encoder's word pieces make them
different words ("jango" does not embed near Django), and the rules' phrases miss them.
A catalog lists its key terms (`routing.yaml`: ``spelling``); a word one edit away from
exactly one term (a letter dropped, added, changed, or two neighbours swapped) is replaced
by that term before the task is embedded and read by the rules.

One edit is not a typo: a letter dropped or added at the end ("serialize", "pytests")
is how words inflect, so it is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["Speller", "one_edit_apart"]

_WORD = re.compile(r"[^\W\d_]+")
_MIN_WORD = 4  # shorter words are left alone: too many real words sit one edit apart
_MAX_KNOWN = 50_000  # words remembered per speller (a long-running router sees many)


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def one_edit_apart(typed: str, term: str) -> bool:
    """Whether ``typed`` is one edit from ``term``, not counting an end letter dropped or added.

    Edits: a letter deleted, inserted or substituted, or two neighbouring letters swapped.
    """
    if typed == term:
        return False
    if len(typed) == len(term):
        diff = [i for i, (a, b) in enumerate(zip(typed, term, strict=True)) if a != b]
        if len(diff) == 1:
            return True
        i = diff[0]
        return diff == [i, i + 1] and typed[i] == term[i + 1] and typed[i + 1] == term[i]
    shorter, longer = (typed, term) if len(typed) < len(term) else (term, typed)
    if len(longer) - len(shorter) != 1 or longer[:-1] == shorter:
        return False  # not one letter apart, or only the last letter (an inflection)
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer) - 1))


class Speller:
    """Corrects one-edit typos of a few terms in free text (see the module docstring)."""

    def __init__(self, terms: Iterable[str]) -> None:
        self.terms = tuple(dict.fromkeys(term.casefold() for term in terms))
        # each term and its deletions point back to the term: a typo shares one of them
        self._near: dict[str, set[str]] = {}
        for term in self.terms:
            for key in (term, *_deletions(term)):
                self._near.setdefault(key, set()).add(term)
        self._known: dict[str, str | None] = dict.fromkeys(self.terms)

    def __bool__(self) -> bool:
        return bool(self.terms)

    def term_for(self, word: str) -> str | None:
        """The term ``word`` is a typo of, or None (not a typo, or of two terms at once)."""
        word = word.casefold()
        if word in self._known:
            return self._known[word]
        found = None
        if len(word) >= _MIN_WORD:
            near = set().union(*(self._near.get(key, ()) for key in (word, *_deletions(word))))
            terms = [term for term in near if one_edit_apart(word, term)]
            found = terms[0] if len(terms) == 1 else None
        if len(self._known) >= _MAX_KNOWN + len(self.terms):
            self._known = dict.fromkeys(self.terms)
        self._known[word] = found
        return found

    def correct(self, text: str) -> str:
        """``text`` with each typo of a term replaced by the term (lower case)."""
        if not self.terms:
            return text
        known = self._known
        words = set(_WORD.findall(text.casefold()))  # most tasks: known words, no typo
        if not any(known[word] if word in known else self.term_for(word) for word in words):
            return text
        return _WORD.sub(lambda match: self.term_for(match[0]) or match[0], text)
