"""From a message to a decision: the safety check first, then intent matching.

One pure function shared by the dialogue engine and `python -m bot eval`, so what is
measured is exactly what people get.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.nlu.matcher import Matcher
from bot.nlu.safety import SafetyDetector, SafetyVerdict

Decision = Literal["answer", "clarify", "fallback"]
OUT_OF_SCOPE = "out_of_scope"
SAFETY_INTENTS: frozenset[str] = frozenset({"crisis", "unsafe_at_home"})


@dataclass(frozen=True)
class Understanding:
    """What the bot makes of one message.

    predicted: the intent acted on when answering (the safety label when safety fired),
    otherwise "out_of_scope". candidates: the intents offered when clarifying.
    """

    decision: Decision
    predicted: str
    top: str | None
    candidates: tuple[str, ...]
    score: float
    safety: SafetyVerdict | None = None


def understand(text: str, detector: SafetyDetector, matcher: Matcher) -> Understanding:
    """Decide what a message means; a safety verdict always wins over any intent."""
    verdict = detector.check(text)
    result = matcher.match(text)
    if verdict is not None:
        return Understanding("answer", verdict.label, result.top, (), result.score, verdict)
    if result.decision == "answer" and result.intent in SAFETY_INTENTS:
        # The matcher thinks it sounds like a crisis although the detector's patterns did not fire:
        # when in doubt, err towards care.
        return Understanding("answer", result.intent, result.top, (), result.score, SafetyVerdict(result.intent, "matcher"))  # type: ignore[arg-type]
    candidates = tuple(c.intent for c in result.candidates if c.intent not in SAFETY_INTENTS)
    if result.decision == "answer" and result.intent:
        return Understanding("answer", result.intent, result.top, candidates, result.score)
    if result.decision == "clarify" and candidates:
        return Understanding("clarify", OUT_OF_SCOPE, result.top, candidates[:3], result.score)
    return Understanding("fallback", OUT_OF_SCOPE, result.top, candidates[:3], result.score)
