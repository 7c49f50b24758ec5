"""Reading typed answers in a flow: a number, a label, a list of labels, "1"-"5", "stop"."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from bot.engine.flow_model import Option

STOP_WORDS: Final = frozenset({"stop", "cancel", "quit", "exit", "enough"})
BACK_WORDS: Final = frozenset({"back", "go back", "previous"})
DONE_WORDS: Final = frozenset({"done", "that's all", "thats all", "finished", "next"})
NEXT_WORDS: Final = frozenset({"next", "ok", "okay", "continue", "go on", "yes"})
SKIP_WORDS: Final = frozenset({"skip", "pass"})
_SPLIT: Final = re.compile(r"\s*(?:,|;|/|&|\band\b|\n)\s*")
_NON_WORD: Final = re.compile(r"[^\w\s']+")
_SCALE: Final = re.compile(r"([1-5])(?:\s*(?:/|out of|of)\s*5)?")


def typed(text: str) -> str:
    """Typed text reduced for comparing with labels: lower case, no emoji or punctuation."""
    return " ".join(_NON_WORD.sub(" ", text.casefold()).split())


def option_index(options: Sequence[Option], said: str) -> int | None:
    """A typed option (already `typed`): its number, or its label."""
    # isdecimal, not isdigit: "²" and "①" are digits to Python but int() refuses them; and
    # int() refuses more than 4,300 digits, so only a short number can name an option.
    if said.isdecimal() and len(said) <= 3 and 1 <= int(said) <= len(options):
        return int(said) - 1
    for index, option in enumerate(options):
        if said and said == typed(option.label):
            return index
    return None


def option_indexes(options: Sequence[Option], text: str) -> list[int] | None:
    """"hurt, confused and anxious" -> their indexes; None unless every part names an option."""
    parts = [typed(part) for part in _SPLIT.split(text.casefold())]
    picks = [option_index(options, part) for part in parts if part]
    if not picks or any(index is None for index in picks):
        return None
    return [index for index in picks if index is not None]


def scale_answer(said: str) -> int | None:
    """"3", "3/5", "3 out of 5" -> 3."""
    match = _SCALE.fullmatch(said)
    return int(match.group(1)) if match else None
