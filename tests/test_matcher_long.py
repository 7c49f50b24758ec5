"""Long Hinglish messages: a story of a few sentences and one question in it.

A 5-fold over the intents' own examples, scored only on the held-out Hinglish (Latin-script)
examples of 15 words or more, where the matcher is weakest: the story's words pull towards
other topics. The floors sit a little under what was measured (issue 11, December 2026:
top-1 0.823, confident wrong 5.2% on 96 examples), so a change that makes long messages
worse is seen here even when the whole 5-fold hardly moves.
"""

from __future__ import annotations

from pathlib import Path

from bot.evaluation.intent_eval import cross_validation_folds
from bot.nlu.matcher import Matcher
from tests.test_matcher import load_intents

ROOT = Path(__file__).parents[1]
LONG = 15  # words


def _long_hinglish(matcher: Matcher, text: str) -> bool:
    _, route = matcher.analyse(text)
    return route == "hi" and len(text.split()) >= LONG and not any("\u0900" <= c <= "\u097f" for c in text)


def test_long_hinglish_examples_held_out() -> None:
    examples, vocabulary = load_intents(ROOT / "intents")
    full = Matcher.build(examples, vocabulary)
    right = wrong = total = 0
    for train, rows in cross_validation_folds(examples, 5, key=lambda s: " ".join(full.normalize(s))):
        long_rows = [row for row in rows if _long_hinglish(full, row["text"])]
        if not long_rows:
            continue
        held = Matcher.build(train, vocabulary)
        for row in long_rows:
            result = held.match(row["text"])
            total += 1
            right += result.top == row["intent"]
            wrong += result.decision == "answer" and result.intent != row["intent"]
    assert total >= 60  # there are long examples to judge by
    assert right / total >= 0.78
    assert wrong / total <= 0.07
