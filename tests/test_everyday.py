"""The everyday-sense check's parts: masking, the head's lean, the abstention it reports."""

from __future__ import annotations

import pytest

from skillroute.everyday import EverydayCheck, Masked
from skillroute.rules import Outcome
from skillroute.signals import PhraseSet, TokenizedText


@pytest.fixture
def check() -> EverydayCheck:
    return EverydayCheck(PhraseSet(["celery", "torch", "ball python"]))


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("celery juice for breakfast", Masked("juice for breakfast", ("celery",))),
        ("a torch or a celery stick?", Masked("a or a stick?", ("torch", "celery"))),
        ("Ball Python tank setup", Masked("tank setup", ("ball python",))),
        ("retry my task with backoff", None),  # no homonym: nothing to check
        ("celery?", None),  # nothing but the homonym: similarity stands
    ],
)
def test_masked_cuts_the_homonyms_and_names_them(
    check: EverydayCheck, text: str, masked: Masked | None
) -> None:
    assert check.masked(TokenizedText(text, [])) == masked


@pytest.mark.parametrize(
    ("no_skill", "leans"), [(None, False), (0.49, False), (0.5, True), (0.93, True)]
)
def test_only_a_head_that_gives_no_skill_the_majority_leans_out(
    no_skill: float | None, leans: bool
) -> None:
    assert EverydayCheck.leans_out(no_skill) == leans


def test_an_empty_list_disables_the_check() -> None:
    assert not EverydayCheck(PhraseSet([]))


def test_the_abstention_keeps_earlier_rules_and_names_the_words() -> None:
    routed = Outcome("routed", "django-celery", ("django-celery",), "django")
    outcome = EverydayCheck.abstain(routed, ("celery",))
    assert (outcome.decision, outcome.primary, outcome.plan) == ("abstain", None, ())
    assert [rule.name for rule in outcome.fired] == ["everyday-sense"]
    assert "'celery'" in outcome.fired[0].effect
    assert routed.primary == "django-celery"  # the original outcome is left alone
