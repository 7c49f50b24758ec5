"""Fit the matcher's calibrated confidence and show what each answer bar would do.

`python -m bot.evaluation.calibration [DEV.jsonl ...]` scores, with matchers that never saw them:

- a 5-fold hold-out of the intents' own examples (phrasings that normalise alike share a fold);
- the development sets given (defaults: ../shared/eval/dev-intents*.jsonl beside the repository);
- `out_of_scope.txt` here: off-topic messages in the three languages, written for this.

It fits P(the best intent is right | score, lead over the runner-up, language route) by logistic
regression, one per route (an out-of-scope line is never right), prints the coefficients for
`bot.nlu.matcher.DEFAULT_CALIBRATION`, and, per set, the in-scope lines answered right and wrong
and the out-of-scope ones answered at each bar. Only figures are printed, never a line's text.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.catalog.vocabulary_model import Vocabulary
from bot.evaluation.intent_eval import CURVE_BARS, OUT_OF_SCOPE, cross_validation_folds
from bot.nlu.emoji_only import emoji_only_intent
from bot.nlu.matcher import Calibration, Matcher

ROOT = Path(__file__).resolve().parents[2]
OUT_OF_SCOPE_FILE = Path(__file__).with_name("out_of_scope.txt")
_DEVANAGARI = re.compile("[\u0900-\u097f]")


@dataclass(frozen=True)
class Line:
    """One scored message: what it should be, what ranked first, and the decision's inputs."""

    expected: str
    top: str
    score: float
    lead: float
    hindi: bool
    language: str  # en, hinglish or deva

    @property
    def right(self) -> bool:
        return self.top == self.expected


def out_of_scope_phrasings() -> list[str]:
    """The off-topic calibration messages (comments and blank lines skipped)."""
    text = OUT_OF_SCOPE_FILE.read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def score_lines(matcher: Matcher, rows: Sequence[Mapping[str, str]]) -> list[Line]:
    """Each row's best intent, score and lead (emoji-only messages are decided apart, so skipped)."""
    lines = []
    for row in rows:
        text = row["text"]
        if emoji_only_intent(text, matcher._emoji) is not None:  # noqa: SLF001 - the matcher's own table
            continue
        ranked = matcher.scores(text)
        if not ranked:
            continue
        _, route = matcher.analyse(text)
        lead = ranked[0].score - (ranked[1].score if len(ranked) > 1 else 0.0)
        language = "deva" if _DEVANAGARI.search(text) else "hinglish" if route == "hi" else "en"
        lines.append(Line(row["intent"], ranked[0].intent, ranked[0].score, lead, route == "hi", language))
    return lines


def holdout_lines(examples: Mapping[str, Sequence[str]], vocabulary: Vocabulary, k: int = 5) -> list[Line]:
    """Every example scored by a matcher (and learned ranker) built without its fold."""
    from bot.nlu.intent_ranker_training import fold_matcher

    full = Matcher.build(examples, vocabulary, ranker=None)
    lines: list[Line] = []
    for train, rows in cross_validation_folds(examples, k, key=lambda s: " ".join(full.normalize(s))):
        # Each fold's ranker is trained on its training examples alone, as the shipped one on all.
        lines += score_lines(fold_matcher(train, vocabulary), rows)
    return lines


def features(line: Line) -> list[float]:
    """The calibration's inputs, in `Calibration`'s order (scores on 0..1)."""
    s, m, h = line.score / 100.0, line.lead / 100.0, float(line.hindi)
    return [s, m, h, h * s, h * m]


def fit(lines: Sequence[Line]) -> Calibration:
    """Logistic regression of "the best intent is right" (scikit-learn, at fitting time only), one per
    language route: the Hindi terms are the Hindi fit less the English one, so Hindi lines (and the
    learned ranker that moves only their scores) never move an English decision."""
    from sklearn.linear_model import LogisticRegression

    terms = []
    for hindi in (False, True):
        route = [line for line in lines if line.hindi == hindi]
        model = LogisticRegression(C=10.0, max_iter=1000)
        model.fit([features(line)[:2] for line in route], [int(line.right) for line in route])
        terms.append([float(model.intercept_[0]), *(float(v) for v in model.coef_[0])])
    english, hindi_ = terms
    return Calibration(*(round(v, 2) for v in english), *(round(h - e, 2) for h, e in zip(hindi_, english)))


def curve(lines: Sequence[Line], calibration: Calibration, bars: Sequence[float] = CURVE_BARS) -> list[dict[str, float]]:
    """Per bar: in-scope answered right, answered wrong, and out-of-scope answered (fractions)."""
    inside = [x for x in lines if x.expected != OUT_OF_SCOPE]
    outside = [x for x in lines if x.expected == OUT_OF_SCOPE]
    points = []
    for bar in bars:
        passed = {id(x) for x in lines if calibration.confidence(x.score, x.lead, x.hindi) >= bar}
        points.append(
            {
                "confidence": bar,
                "answered_correct": sum(id(x) in passed and x.right for x in inside) / max(1, len(inside)),
                "confident_wrong": sum(id(x) in passed and not x.right for x in inside) / max(1, len(inside)),
                "oos_answered": sum(id(x) in passed for x in outside) / max(1, len(outside)),
            }
        )
    return points


def main(argv: Sequence[str]) -> int:
    from bot.catalog.loader import load_catalog
    from bot.evaluation import read_jsonl

    catalog = load_catalog(ROOT)
    dev_paths = [Path(a) for a in argv] or sorted((ROOT.parent / "shared" / "eval").glob("dev-intents*.jsonl"))
    full = Matcher.build(catalog.examples, catalog.vocabulary)
    sets: dict[str, list[Line]] = {}
    held = holdout_lines(catalog.examples, catalog.vocabulary)
    for language in ("en", "hinglish", "deva"):
        sets[f"5-fold {language}"] = [x for x in held if x.language == language]
    for path in dev_paths:
        sets[path.stem] = score_lines(full, read_jsonl(path))
    sets["out-of-scope phrasings"] = score_lines(full, [{"text": t, "intent": OUT_OF_SCOPE} for t in out_of_scope_phrasings()])
    calibration = fit([x for lines in sets.values() for x in lines])
    print(json.dumps({"calibration": calibration.__dict__, "lines": {k: len(v) for k, v in sets.items()}}))
    for name, lines in sets.items():
        inside = [x for x in lines if x.expected != OUT_OF_SCOPE]
        top1 = f"top-1 {sum(x.right for x in inside) / len(inside):.3f}; " if inside else ""
        print(f"{name}:  {top1}bar  answered right / wrong / out-of-scope answered")
        for point in curve(lines, calibration):
            print(
                f"  {point['confidence']:.2f}  {point['answered_correct']:.3f} / {point['confident_wrong']:.3f}"
                f" / {point['oos_answered']:.3f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
