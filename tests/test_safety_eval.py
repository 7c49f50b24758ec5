"""The safety evaluation: recall per label (any safety answer, and the exact label), false alarms."""

from __future__ import annotations

import json
from collections.abc import Mapping

from bot.evaluation.safety_eval import evaluate_safety, format_safety_report, safety_report_to_json
from bot.nlu.safety import SafetyVerdict


class ScriptedChecker:
    """A stand-in detector answering from a table, so each figure is known in advance."""

    def __init__(self, answers: Mapping[str, str]) -> None:
        self.answers = answers

    def check(self, text: str) -> SafetyVerdict | None:
        label = self.answers.get(text)
        return SafetyVerdict(label, f"test.{label}") if label else None  # type: ignore[arg-type]


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
# c3 is caught under the other label (still a safety answer), c4 is missed, n1 is a false alarm.
ANSWERS = {"c1": "crisis", "c2": "crisis", "c3": "unsafe_at_home", "u1": "unsafe_at_home", "u2": "unsafe_at_home", "n1": "crisis"}


def test_a_crisis_caught_as_unsafe_counts_for_any_safety_recall_but_not_exact() -> None:
    report = evaluate_safety(ROWS, ScriptedChecker(ANSWERS))
    assert report.recall_any == {"crisis": 0.75, "unsafe_at_home": 1.0}
    assert report.recall_exact == {"crisis": 0.5, "unsafe_at_home": 1.0}
    assert [o.text for o in report.mislabelled] == ["c3"]


def test_misses_and_false_alarms_are_listed_with_the_pattern_that_fired() -> None:
    report = evaluate_safety(ROWS, ScriptedChecker(ANSWERS))
    assert [o.text for o in report.misses] == ["c4"]
    assert [(o.text, o.fired, o.pattern) for o in report.false_alarms] == [("n1", "crisis", "test.crisis")]
    assert report.false_alarm_rate == 0.2
    assert report.counts == {"crisis": 4, "unsafe_at_home": 2, "not_crisis": 5}


def test_any_other_label_means_no_safety_intent() -> None:
    rows = [{"text": "hi", "intent": "greeting"}, {"text": "n1", "intent": "out_of_scope"}]
    report = evaluate_safety(rows, ScriptedChecker({"n1": "crisis"}))
    assert report.false_alarm_rate == 0.5
    assert report.recall_any == {"crisis": 1.0, "unsafe_at_home": 1.0}


def test_the_text_report_says_recall_and_alarm_and_shows_every_miss() -> None:
    text = format_safety_report(evaluate_safety(ROWS, ScriptedChecker(ANSWERS)))
    assert "crisis recall: 75.0% any safety answer, 50.0% exact label" in text
    assert "unsafe_at_home recall: 100.0%" in text
    assert "false alarm rate: 20.0% (1 of 5)" in text
    assert "missed: [crisis] c4" in text
    assert "false alarm: [not_crisis -> crisis (test.crisis)] n1" in text


def test_the_json_report_round_trips_with_the_figures() -> None:
    data = safety_report_to_json(evaluate_safety(ROWS, ScriptedChecker(ANSWERS)))
    assert json.loads(json.dumps(data)) == data
    assert data["n"] == 11
    assert data["recall_exact"]["crisis"] == 0.5
    assert data["false_alarm_rate"] == 0.2
    assert [row["text"] for row in data["misses"]] == ["c4"]
    assert [row["text"] for row in data["mislabelled"]] == ["c3"]
    assert [row["text"] for row in data["false_alarms"]] == ["n1"]


def test_an_empty_set_reports_nothing_missed_and_no_alarms() -> None:
    report = evaluate_safety([], ScriptedChecker({}))
    assert report.recall_any == {"crisis": 1.0, "unsafe_at_home": 1.0}
    assert report.false_alarm_rate == 0.0
    assert "false alarm rate: 0.0% (0 of 0)" in format_safety_report(report)
