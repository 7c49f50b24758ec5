"""The safety evaluation: caught (alert or check-in) and alert-only per label, alarms on safe lines."""

from __future__ import annotations

import json
from collections.abc import Mapping

from bot.evaluation.safety_eval import evaluate_safety, format_safety_report, safety_report_to_jsonl
from bot.nlu.safety import SafetyVerdict
from bot.nlu.safety_check import SafetyAssessment


class ScriptedChecker:
    """A stand-in check answering from a table of (label, tier), so each figure is known in advance."""

    def __init__(self, answers: Mapping[str, tuple[str, str]]) -> None:
        self.answers = answers

    def check(self, text: str) -> SafetyAssessment | None:
        found = self.answers.get(text)
        if found is None:
            return None
        label, tier = found
        return SafetyAssessment(label, 0.9, "model", tier, "model")  # type: ignore[arg-type]


ROWS = [
    {"text": "c1", "intent": "crisis"},
    {"text": "c2", "intent": "crisis"},
    {"text": "c3", "intent": "crisis"},
    {"text": "c4", "intent": "crisis"},
    {"text": "u1", "intent": "unsafe_at_home"},
    {"text": "u2", "intent": "unsafe_at_home"},
    {"text": "n1", "intent": "not_crisis"},
    {"text": "n2", "intent": "not_crisis"},
    {"text": "n3", "intent": "not_crisis"},
    {"text": "n4", "intent": "not_crisis"},
    {"text": "n5", "intent": "not_crisis"},
]
# c2 only gets a check-in, c3 is caught under the other label, c4 is missed;
# n1 is a false alarm, n2 gets a check-in.
ANSWERS = {
    "c1": ("crisis", "alert"), "c2": ("crisis", "check_in"), "c3": ("unsafe_at_home", "alert"),
    "u1": ("unsafe_at_home", "alert"), "u2": ("unsafe_at_home", "alert"),
    "n1": ("crisis", "alert"), "n2": ("crisis", "check_in"),
}


def test_a_check_in_counts_as_caught_but_not_as_an_alert() -> None:
    report = evaluate_safety(ROWS, ScriptedChecker(ANSWERS))
    assert report.caught == {"crisis": 0.75, "unsafe_at_home": 1.0}
    assert report.alert == {"crisis": 0.5, "unsafe_at_home": 1.0}
    assert report.exact == {"crisis": 0.5, "unsafe_at_home": 1.0}
    assert [o.text for o in report.mislabelled] == ["c3"]


def test_alerts_and_check_ins_on_safe_lines_are_counted_apart() -> None:
    report = evaluate_safety(ROWS, ScriptedChecker(ANSWERS))
    assert [o.text for o in report.misses] == ["c4"]
    assert [o.text for o in report.false_alarms] == ["n1"]
    assert [o.text for o in report.safe_check_in_lines] == ["n2"]
    assert (report.safe_alerts, report.safe_check_ins) == (0.2, 0.2)
    assert report.counts == {"crisis": 4, "unsafe_at_home": 2, "not_crisis": 5}


def test_any_other_label_means_no_safety_intent() -> None:
    rows = [{"text": "hi", "intent": "greeting"}, {"text": "n1", "intent": "out_of_scope"}]
    report = evaluate_safety(rows, ScriptedChecker({"n1": ("crisis", "alert")}))
    assert report.safe_alerts == 0.5
    assert report.caught == {"crisis": 1.0, "unsafe_at_home": 1.0}


def test_a_bare_lexicon_verdict_is_an_alert_with_its_pattern() -> None:
    class Bare:
        def check(self, text: str) -> SafetyVerdict | None:
            return SafetyVerdict("crisis", "crisis.want_to_die") if text == "c1" else None

    report = evaluate_safety(ROWS[:1], Bare())
    assert report.outcomes[0].tier == "alert"
    assert report.outcomes[0].evidence == "pattern:crisis.want_to_die"


def test_the_text_report_says_catches_and_alarms_and_shows_every_line_that_went_wrong() -> None:
    text = format_safety_report(evaluate_safety(ROWS, ScriptedChecker(ANSWERS)))
    assert "crisis: caught 75.0% (alert 50.0%), right label 50.0%" in text
    assert "safe lines: alerts 20.0% (1 of 5), check-ins 20.0% (1 of 5)" in text
    assert "missed: [crisis] c4" in text
    assert "false alarm: [not_crisis -> crisis alert (model 0.90)] n1" in text
    assert "check-in on a safe line: [not_crisis -> crisis check_in (model 0.90)] n2" in text


def test_the_json_lines_follow_the_input_order_then_the_metrics() -> None:
    items = safety_report_to_jsonl(evaluate_safety(ROWS, ScriptedChecker(ANSWERS)))
    assert [json.loads(json.dumps(item)) for item in items] == items
    predictions, metrics = items[:-1], items[-1]["metrics"]
    assert [p["text"] for p in predictions] == [row["text"] for row in ROWS]
    assert predictions[1] == {"text": "c2", "expected": "crisis", "predicted": "crisis", "tier": "check_in", "score": 0.9, "evidence": "model"}
    assert predictions[3] == {"text": "c4", "expected": "crisis", "predicted": "none", "tier": "none", "score": 0.0, "evidence": ""}
    assert metrics["caught"]["crisis"] == 0.75 and metrics["alert"]["crisis"] == 0.5
    assert (metrics["safe_alerts"], metrics["safe_check_ins"], metrics["n"]) == (0.2, 0.2, 11)


def test_an_empty_set_reports_nothing_missed_and_no_alarms() -> None:
    report = evaluate_safety([], ScriptedChecker({}))
    assert report.caught == {"crisis": 1.0, "unsafe_at_home": 1.0}
    assert report.safe_alerts == 0.0
    assert "alerts 0.0% (0 of 0)" in format_safety_report(report)
