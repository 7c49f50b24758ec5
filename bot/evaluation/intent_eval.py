"""Measure intent understanding on labelled lines: accuracy, clarify coverage, confident wrongs.

The metrics, precisely (in-scope = every line whose expected intent is not "out_of_scope"):

- top1_accuracy: in-scope lines whose best-scoring intent (`top`) is the expected one.
- answered_or_offered: in-scope lines answered with the expected intent, or clarified with
  the expected intent among the offered candidates.
- confident_wrong: in-scope lines answered with another intent (the worst outcome).
- answered_correct: in-scope lines answered with the expected intent.
- oos_rejection: out-of-scope lines that were not answered (clarify or fallback).
- oos_confident_wrong: out-of-scope lines answered with some intent.

The trade-off curve (`tradeoff_curve`) replays the answer decision at other bars of the matcher's
calibrated confidence (`bot.nlu.matcher.Calibration`): at each bar, the in-scope lines answered
right and wrong and the out-of-scope lines answered, so the centre can choose its bar
(`MatchThresholds.confidence`). Lines the safety check answered keep their outcome.
"""

from __future__ import annotations

import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

OUT_OF_SCOPE = "out_of_scope"  # the label of off-topic lines, and the intent of off-topic examples (`bot.nlu.matcher`)


class UnderstandingLike(Protocol):
    """What the evaluation needs from a decision (bot.nlu.understand.Understanding fits)."""

    @property
    def decision(self) -> str: ...
    @property
    def predicted(self) -> str: ...
    @property
    def top(self) -> str | None: ...
    @property
    def candidates(self) -> Sequence[str]: ...
    @property
    def score(self) -> float: ...


@dataclass(frozen=True)
class Prediction:
    """One evaluated line."""

    text: str
    expected: str
    predicted: str
    top: str | None
    candidates: tuple[str, ...]
    score: float
    decision: str
    confidence: float | None = None  # the matcher's calibrated chance that `top` is right

    @property
    def in_scope(self) -> bool:
        """Whether the line names a real intent."""
        return self.expected != OUT_OF_SCOPE

    @property
    def outcome(self) -> str:
        """How this line went, in the words of the confusion table."""
        if self.decision == "answer":
            return self.predicted
        return self.decision


@dataclass(frozen=True)
class IntentReport:
    """All predictions, the headline metrics and a per-intent confusion table."""

    predictions: tuple[Prediction, ...]
    metrics: dict[str, float]
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """How many lines were evaluated."""
        return len(self.predictions)


def _rate(hits: int, total: int) -> float:
    """A fraction rounded for reports; 0 when there is nothing to count."""
    return round(hits / total, 4) if total else 0.0


def compute_metrics(predictions: Sequence[Prediction]) -> dict[str, float]:
    """The headline figures (defined in this module's docstring)."""
    inside = [p for p in predictions if p.in_scope]
    outside = [p for p in predictions if not p.in_scope]
    answered_right = sum(p.decision == "answer" and p.predicted == p.expected for p in inside)
    offered = sum(p.decision == "clarify" and p.expected in p.candidates for p in inside)
    return {
        "in_scope": len(inside),
        "out_of_scope": len(outside),
        "top1_accuracy": _rate(sum(p.top == p.expected for p in inside), len(inside)),
        "answered_correct": _rate(answered_right, len(inside)),
        "answered_or_offered": _rate(answered_right + offered, len(inside)),
        "clarify_rate": _rate(sum(p.decision == "clarify" for p in inside), len(inside)),
        "confident_wrong": _rate(
            sum(p.decision == "answer" and p.predicted != p.expected for p in inside), len(inside)
        ),
        "oos_rejection": _rate(sum(p.decision != "answer" for p in outside), len(outside)),
        "oos_confident_wrong": _rate(sum(p.decision == "answer" for p in outside), len(outside)),
    }


def confusion_table(predictions: Sequence[Prediction]) -> dict[str, dict[str, int]]:
    """expected intent -> {answered intent, or "clarify"/"fallback": count}."""
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for p in predictions:
        table[p.expected][p.outcome] += 1
    return {expected: dict(sorted(counts.items())) for expected, counts in sorted(table.items())}


def evaluate_intents(
    rows: Sequence[Mapping[str, Any]], understand: Callable[[str], UnderstandingLike]
) -> IntentReport:
    """Run `understand` over rows of {"text", "intent"} and measure the outcome."""
    predictions = []
    for row in rows:
        u = understand(str(row["text"]))
        predictions.append(
            Prediction(
                text=str(row["text"]),
                expected=str(row["intent"]),
                predicted=u.predicted,
                top=u.top,
                candidates=tuple(u.candidates),
                score=float(u.score),
                decision=u.decision,
                confidence=_confidence(u),
            )
        )
    frozen = tuple(predictions)
    return IntentReport(frozen, compute_metrics(frozen), confusion_table(frozen))


def _confidence(u: UnderstandingLike) -> float | None:
    value = getattr(u, "confidence", None)
    return None if value is None else float(value)


# Labels only the safety check answers with: their outcome is not the matcher's to replay.
_SAFETY = frozenset({"crisis", "unsafe_at_home"})
# The confidence bars the curve is shown at (the shipped bar is among them).
CURVE_BARS: tuple[float, ...] = (0.5, 0.6, 0.7, 0.75, 0.8, 0.83, 0.86, 0.88, 0.9, 0.92, 0.95)


def tradeoff_curve(predictions: Sequence[Prediction], bars: Sequence[float] = CURVE_BARS) -> list[dict[str, float]]:
    """At each confidence bar: in-scope lines answered right and wrong, out-of-scope lines answered.

    A line the matcher decided is answered with its best intent when its confidence reaches the
    bar (a line under the matcher's other floors has confidence 0); a line answered by the safety
    check keeps its outcome; a line without a confidence keeps its decision. Empty when no line
    has a confidence.
    """
    if not any(p.confidence is not None for p in predictions):
        return []
    inside = [p for p in predictions if p.in_scope]
    outside = [p for p in predictions if not p.in_scope]

    def answered(p: Prediction, bar: float) -> str | None:
        if p.confidence is None or (p.decision == "answer" and (p.predicted != p.top or p.predicted in _SAFETY)):
            return p.predicted if p.decision == "answer" else None
        return p.top if p.confidence >= bar else None

    curve = []
    for bar in bars:
        right = sum(answered(p, bar) == p.expected for p in inside)
        wrong = sum(answered(p, bar) not in (None, p.expected) for p in inside)
        curve.append(
            {
                "confidence": bar,
                "answered_correct": _rate(right, len(inside)),
                "confident_wrong": _rate(wrong, len(inside)),
                "oos_answered": _rate(sum(answered(p, bar) is not None for p in outside), len(outside)),
            }
        )
    return curve


def report_to_json(report: IntentReport) -> dict[str, Any]:
    """The report as plain JSON data (a public contract: n, metrics, predictions; added since:
    tradeoff, and each prediction's confidence)."""
    return {
        "n": report.n,
        "metrics": dict(report.metrics),
        "tradeoff": tradeoff_curve(report.predictions),
        "predictions": [
            {
                "text": p.text,
                "expected": p.expected,
                "predicted": p.predicted,
                "top": p.top,
                "candidates": list(p.candidates),
                "score": p.score,
                "decision": p.decision,
                "confidence": p.confidence,
            }
            for p in report.predictions
        ],
    }


def format_report(report: IntentReport, show_errors: int = 20) -> str:
    """A short human summary: the metrics, the intents that went wrong, a few wrong lines."""
    m = report.metrics
    lines = [
        f"lines: {report.n} ({int(m['in_scope'])} in scope, {int(m['out_of_scope'])} out of scope)",
        f"top-1 accuracy (in scope):       {m['top1_accuracy']:.1%}",
        f"answered right:                  {m['answered_correct']:.1%}",
        f"answered or offered (in scope):  {m['answered_or_offered']:.1%}",
        f"confident wrong (in scope):      {m['confident_wrong']:.1%}",
        f"out-of-scope rejection:          {m['oos_rejection']:.1%}",
    ]
    curve = tradeoff_curve(report.predictions)
    if curve:
        lines.append("trade-off (answer when the confidence is at least the bar):")
        lines.append("  bar    answered right  confident wrong  out-of-scope answered")
        for point in curve:
            lines.append(
                f"  {point['confidence']:.2f}   {point['answered_correct']:>13.1%}  {point['confident_wrong']:>15.1%}"
                f"  {point['oos_answered']:>21.1%}"
            )
    troubled = {
        expected: counts
        for expected, counts in report.confusion.items()
        if any(outcome != expected for outcome in counts)
    }
    if troubled:
        lines.append("confusions (expected -> outcomes):")
        for expected, counts in troubled.items():
            spread = ", ".join(f"{outcome} {count}" for outcome, count in counts.items())
            lines.append(f"  {expected}: {spread}")
    wrong = [
        p
        for p in report.predictions
        if (p.decision == "answer" and p.predicted != p.expected)
        or (p.in_scope and p.decision != "answer" and p.expected not in p.candidates)
    ]
    if wrong and show_errors:
        lines.append("wrong or missed lines:")
        for p in wrong[:show_errors]:
            lines.append(
                f"  [{p.decision} {p.predicted} top={p.top} {p.score:.0f}] expected {p.expected}: {p.text}"
            )
    return "\n".join(lines)


def _squash(text: str) -> str:
    """Case- and space-insensitive form of a phrasing, the default grouping key for folds."""
    return " ".join(text.casefold().split())


def cross_validation_folds(
    examples: Mapping[str, Sequence[str]],
    k: int = 5,
    key: Callable[[str], str] = _squash,
) -> Iterator[tuple[dict[str, list[str]], list[dict[str, str]]]]:
    """Hold out each fifth (1/k) of the examples in turn: yields (training examples, held-out rows).

    Phrasings with the same `key` (e.g. the same normalised text) fall in the same fold, so
    a held-out line never has its twin in training. Fold membership comes from a CRC of the
    key: deterministic across runs and machines, no random state.
    """
    for fold in range(k):
        train: dict[str, list[str]] = {}
        held_out: list[dict[str, str]] = []
        for intent, phrasings in examples.items():
            for phrasing in phrasings:
                if zlib.crc32(f"{intent}|{key(phrasing)}".encode()) % k == fold:
                    held_out.append({"text": phrasing, "intent": intent})
                else:
                    train.setdefault(intent, []).append(phrasing)
        yield train, held_out
