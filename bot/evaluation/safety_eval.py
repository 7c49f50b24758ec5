"""Measure the safety check on labelled lines: how many crises it catches, how often it cries wolf.

Labels: "crisis", "unsafe_at_home", and anything else (normally "not_crisis") meaning "no safety
intent". The figures, precisely:

- recall_any[label]: lines of that label on which the check fired at all. A crisis caught as
  unsafe_at_home (or the reverse) still gets the person a safety answer with emergency lines,
  so it counts here...
- recall_exact[label]: ...but only lines given the right label count here.
- false_alarm_rate: lines with no safety intent on which the check fired.

A miss is far worse than a false alarm: read `misses` first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.nlu.safety import SafetyVerdict

SAFETY_LABELS: tuple[str, ...] = ("crisis", "unsafe_at_home")
NO_SAFETY = "not_crisis"


class SafetyChecker(Protocol):
    """What the evaluation needs of a detector (`bot.nlu.safety.SafetyDetector` fits)."""

    def check(self, text: str) -> SafetyVerdict | None: ...


@dataclass(frozen=True)
class SafetyOutcome:
    """One evaluated line: what was expected, what fired (label and pattern id) if anything."""

    text: str
    expected: str
    fired: str | None
    pattern: str | None

    @property
    def is_safety(self) -> bool:
        """Whether the line is labelled with a safety intent."""
        return self.expected in SAFETY_LABELS

    @property
    def missed(self) -> bool:
        """A safety line on which nothing fired: the outcome that must not happen."""
        return self.is_safety and self.fired is None

    @property
    def false_alarm(self) -> bool:
        """A line with no safety intent on which the check fired."""
        return not self.is_safety and self.fired is not None

    @property
    def mislabelled(self) -> bool:
        """A safety line caught, but under the other safety label."""
        return self.is_safety and self.fired is not None and self.fired != self.expected


@dataclass(frozen=True)
class SafetyReport:
    """Every outcome and the figures computed from them."""

    outcomes: tuple[SafetyOutcome, ...]
    counts: Mapping[str, int]
    recall_any: Mapping[str, float]
    recall_exact: Mapping[str, float]
    false_alarm_rate: float

    @property
    def misses(self) -> list[SafetyOutcome]:
        """Safety lines nothing fired on."""
        return [o for o in self.outcomes if o.missed]

    @property
    def false_alarms(self) -> list[SafetyOutcome]:
        """Lines with no safety intent that fired."""
        return [o for o in self.outcomes if o.false_alarm]

    @property
    def mislabelled(self) -> list[SafetyOutcome]:
        """Safety lines caught under the other label."""
        return [o for o in self.outcomes if o.mislabelled]


def _rate(hits: int, total: int) -> float:
    """A fraction rounded for reports; 1.0 when there is nothing to catch (nothing was missed)."""
    return round(hits / total, 4) if total else 1.0


def evaluate_safety(rows: Sequence[Mapping[str, Any]], detector: SafetyChecker) -> SafetyReport:
    """Run the safety check over rows of {"text", "intent"} and measure recall and false alarms."""
    outcomes = []
    for row in rows:
        verdict = detector.check(str(row["text"]))
        outcomes.append(
            SafetyOutcome(
                text=str(row["text"]),
                expected=str(row["intent"]),
                fired=verdict.label if verdict else None,
                pattern=verdict.pattern if verdict else None,
            )
        )
    counts = {label: sum(o.expected == label for o in outcomes) for label in SAFETY_LABELS}
    counts[NO_SAFETY] = sum(not o.is_safety for o in outcomes)
    recall_any = {
        label: _rate(sum(o.expected == label and o.fired is not None for o in outcomes), counts[label])
        for label in SAFETY_LABELS
    }
    recall_exact = {
        label: _rate(sum(o.expected == label and o.fired == label for o in outcomes), counts[label])
        for label in SAFETY_LABELS
    }
    alarms = sum(o.false_alarm for o in outcomes)
    return SafetyReport(
        outcomes=tuple(outcomes),
        counts=counts,
        recall_any=recall_any,
        recall_exact=recall_exact,
        false_alarm_rate=round(alarms / counts[NO_SAFETY], 4) if counts[NO_SAFETY] else 0.0,
    )


def format_safety_report(report: SafetyReport) -> str:
    """A short human summary: recall per label, the false-alarm rate, then every miss and alarm."""
    c = report.counts
    lines = [f"safety lines: {len(report.outcomes)} ({c['crisis']} crisis, {c['unsafe_at_home']} unsafe_at_home, {c[NO_SAFETY]} no safety intent)"]
    for label in SAFETY_LABELS:
        lines.append(
            f"{label} recall: {report.recall_any[label]:.1%} any safety answer, "
            f"{report.recall_exact[label]:.1%} exact label"
        )
    alarms = len(report.false_alarms)
    lines.append(f"false alarm rate: {report.false_alarm_rate:.1%} ({alarms} of {c[NO_SAFETY]})")
    for title, items in (("missed", report.misses), ("other safety label", report.mislabelled), ("false alarm", report.false_alarms)):
        for o in items:
            fired = f" -> {o.fired} ({o.pattern})" if o.fired else ""
            lines.append(f"  {title}: [{o.expected}{fired}] {o.text}")
    return "\n".join(lines)


def safety_report_to_json(report: SafetyReport) -> dict[str, Any]:
    """The report as plain JSON data: counts, the figures, and every line that went wrong."""

    def row(o: SafetyOutcome) -> dict[str, Any]:
        return {"text": o.text, "expected": o.expected, "fired": o.fired, "pattern": o.pattern}

    return {
        "n": len(report.outcomes),
        "counts": dict(report.counts),
        "recall_any": dict(report.recall_any),
        "recall_exact": dict(report.recall_exact),
        "false_alarm_rate": report.false_alarm_rate,
        "misses": [row(o) for o in report.misses],
        "mislabelled": [row(o) for o in report.mislabelled],
        "false_alarms": [row(o) for o in report.false_alarms],
    }
