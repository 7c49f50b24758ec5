"""From a message to a decision: the safety check first, then intent matching.

One pure function shared by the dialogue engine and `python -m bot eval`, so what is
measured is exactly what people get.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.nlu.matcher import Matcher, MatchResult
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


# The matcher's closest intent being a safety one at this score is enough to answer with care:
# a missed crisis is far worse than a false alarm. 45 was chosen on a grid (see README "In a crisis"):
# it adds recall on indirect wording while false alarms on hard negatives stay near 10%.
SAFETY_BACKSTOP_SCORE: float = 45.0


def assess_safety(text: str, detector: SafetyDetector, result: MatchResult) -> SafetyVerdict | None:
    """The safety decision: the detector's patterns first; then, as a backstop for indirect
    wording, the matcher's crisis and unsafe examples, unless the detector recognises an
    idiom or a denial in the message."""
    verdict = detector.check(text)
    if verdict is not None:
        return verdict
    if result.top in SAFETY_INTENTS and result.score >= SAFETY_BACKSTOP_SCORE and not detector.explained_away(text):
        return SafetyVerdict(result.top, "matcher.closest_examples")  # type: ignore[arg-type]
    return None


def understand(text: str, detector: SafetyDetector, matcher: Matcher) -> Understanding:
    """Decide what a message means; a safety verdict always wins over any intent."""
    result = matcher.match(text)
    verdict = assess_safety(text, detector, result)
    if verdict is not None:
        return Understanding("answer", verdict.label, result.top, (), result.score, verdict)
    candidates = tuple(c.intent for c in result.candidates if c.intent not in SAFETY_INTENTS)
    if result.decision == "answer" and result.intent:
        return Understanding("answer", result.intent, result.top, candidates, result.score)
    if result.decision == "clarify" and candidates:
        return Understanding("clarify", OUT_OF_SCOPE, result.top, candidates[:3], result.score)
    return Understanding("fallback", OUT_OF_SCOPE, result.top, candidates[:3], result.score)


@dataclass(frozen=True)
class SafetyPipeline:
    """The engine's whole safety decision behind the detector's `check` interface (for evaluation)."""

    detector: SafetyDetector
    matcher: Matcher

    def check(self, text: str) -> SafetyVerdict | None:
        return assess_safety(text, self.detector, self.matcher.match(text))
