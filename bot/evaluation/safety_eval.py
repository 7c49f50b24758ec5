"""Measure the safety check on labelled lines: how many crises it catches, how often it cries wolf.

Labels: "crisis", "unsafe_at_home", and anything else (normally "not_crisis") meaning "no safety
intent". The check answers with a tier: "alert" (the full safety answer, staff told), "check_in"
(a gentle question first) or nothing. The figures, precisely:

- caught[label]: lines of that label that got an alert or a check-in. A crisis caught as
  unsafe_at_home (or the reverse) still reaches the person, so it counts here...
- alert[label]: ...lines of that label that got an alert (the full answer at once);
- exact[label]: lines caught under their own label;
- safe_alerts / safe_check_ins: the share of lines with no safety intent that got an alert / a check-in.

A miss is far worse than a false alarm: read `misses` first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.nlu.safety import SafetyVerdict
from bot.nlu.safety_check import SafetyAssessment, from_verdict

SAFETY_LABELS: tuple[str, ...] = ("crisis", "unsafe_at_home")
NO_SAFETY = "not_crisis"
NONE = "none"


class SafetyChecker(Protocol):
    """What the evaluation needs of a detector (`SafetyCheck`, `SafetyPipeline`, a bare `SafetyDetector`)."""

    def check(self, text: str) -> SafetyAssessment | SafetyVerdict | None: ...


@dataclass(frozen=True)
class SafetyOutcome:
    """One evaluated line: what was expected, and what the check said."""

    text: str
    expected: str
    predicted: str  # crisis, unsafe_at_home or "none"
    tier: str  # alert, check_in or "none"
    score: float  # the model's probability of a safety label (1.0 for a bare verdict, 0 when nothing fired)
    evidence: str  # "pattern:<id>", "model", "matcher" or ""

    @property
    def is_safety(self) -> bool:
        """Whether the line is labelled with a safety intent."""
        return self.expected in SAFETY_LABELS

    @property
    def caught(self) -> bool:
        return self.tier != NONE

    @property
    def missed(self) -> bool:
        """A safety line on which nothing fired: the outcome that must not happen."""
        return self.is_safety and not self.caught

    @property
    def false_alarm(self) -> bool:
        """A line with no safety intent that got an alert."""
        return not self.is_safety and self.tier == "alert"

    @property
    def safe_check_in(self) -> bool:
        """A line with no safety intent that got a check-in question."""
        return not self.is_safety and self.tier == "check_in"

    @property
    def mislabelled(self) -> bool:
        """A safety line caught, but under the other safety label."""
        return self.is_safety and self.caught and self.predicted != self.expected

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "expected": self.expected, "predicted": self.predicted, "tier": self.tier, "score": self.score, "evidence": self.evidence}


@dataclass(frozen=True)
class SafetyReport:
    """Every outcome and the figures computed from them."""

    outcomes: tuple[SafetyOutcome, ...]
    counts: Mapping[str, int]
    caught: Mapping[str, float]
    alert: Mapping[str, float]
    exact: Mapping[str, float]
    safe_alerts: float
    safe_check_ins: float

    @property
    def misses(self) -> list[SafetyOutcome]:
        return [o for o in self.outcomes if o.missed]

    @property
    def false_alarms(self) -> list[SafetyOutcome]:
        return [o for o in self.outcomes if o.false_alarm]

    @property
    def safe_check_in_lines(self) -> list[SafetyOutcome]:
        return [o for o in self.outcomes if o.safe_check_in]

    @property
    def mislabelled(self) -> list[SafetyOutcome]:
        return [o for o in self.outcomes if o.mislabelled]

    def metrics(self) -> dict[str, Any]:
        """The figures as plain JSON data."""
        return {
            "n": len(self.outcomes), "counts": dict(self.counts), "caught": dict(self.caught), "alert": dict(self.alert),
            "exact": dict(self.exact), "safe_alerts": self.safe_alerts, "safe_check_ins": self.safe_check_ins,
        }


def _rate(hits: int, total: int, empty: float) -> float:
    """A fraction rounded for reports; `empty` when there is nothing to count."""
    return round(hits / total, 4) if total else empty


def outcome_of(text: str, expected: str, found: SafetyAssessment | SafetyVerdict | None) -> SafetyOutcome:
    """One line's outcome from what the check returned."""
    if isinstance(found, SafetyVerdict):
        found = from_verdict(found)
    if found is None:
        return SafetyOutcome(text, expected, NONE, NONE, 0.0, "")
    return SafetyOutcome(text, expected, found.label, found.tier, round(found.probability, 4), found.evidence)


def evaluate_safety(rows: Sequence[Mapping[str, Any]], detector: SafetyChecker) -> SafetyReport:
    """Run the safety check over rows of {"text", "intent"} and measure catches and alarms."""
    outcomes = tuple(outcome_of(str(row["text"]), str(row["intent"]), detector.check(str(row["text"]))) for row in rows)
    counts = {label: sum(o.expected == label for o in outcomes) for label in SAFETY_LABELS}
    counts[NO_SAFETY] = sum(not o.is_safety for o in outcomes)

    def share(label: str, keep: Any) -> float:
        return _rate(sum(o.expected == label and keep(o) for o in outcomes), counts[label], 1.0)

    return SafetyReport(
        outcomes=outcomes,
        counts=counts,
        caught={label: share(label, lambda o: o.caught) for label in SAFETY_LABELS},
        alert={label: share(label, lambda o: o.tier == "alert") for label in SAFETY_LABELS},
        exact={label: share(label, lambda o, label=label: o.caught and o.predicted == label) for label in SAFETY_LABELS},
        safe_alerts=_rate(sum(o.false_alarm for o in outcomes), counts[NO_SAFETY], 0.0),
        safe_check_ins=_rate(sum(o.safe_check_in for o in outcomes), counts[NO_SAFETY], 0.0),
    )


def format_safety_report(report: SafetyReport) -> str:
    """A short human summary: catches per label, alarms on safe lines, then every line that went wrong."""
    c = report.counts
    lines = [f"safety lines: {len(report.outcomes)} ({c['crisis']} crisis, {c['unsafe_at_home']} unsafe_at_home, {c[NO_SAFETY]} no safety intent)"]
    for label in SAFETY_LABELS:
        lines.append(
            f"{label}: caught {report.caught[label]:.1%} (alert {report.alert[label]:.1%}), "
            f"right label {report.exact[label]:.1%}"
        )
    lines.append(
        f"safe lines: alerts {report.safe_alerts:.1%} ({len(report.false_alarms)} of {c[NO_SAFETY]}), "
        f"check-ins {report.safe_check_ins:.1%} ({len(report.safe_check_in_lines)} of {c[NO_SAFETY]})"
    )
    groups = (("missed", report.misses), ("other safety label", report.mislabelled), ("false alarm", report.false_alarms), ("check-in on a safe line", report.safe_check_in_lines))
    for title, items in groups:
        for o in items:
            fired = f" -> {o.predicted} {o.tier} ({o.evidence} {o.score:.2f})" if o.caught else ""
            lines.append(f"  {title}: [{o.expected}{fired}] {o.text}")
    return "\n".join(lines)


def safety_report_to_jsonl(report: SafetyReport) -> list[dict[str, Any]]:
    """One object per line evaluated, in input order, then one {"metrics": ...} object."""
    return [*(o.to_json() for o in report.outcomes), {"metrics": report.metrics()}]
