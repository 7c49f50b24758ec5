"""Fit the matcher's calibrated confidence and show what each answer bar would do.

`python -m bot.evaluation.calibration [DEV.jsonl ...]` scores, with matchers that never saw them:

- a 5-fold hold-out of the intents' own examples (phrasings that normalise alike share a fold);
- the development sets given (defaults: ../shared/eval/dev-intents*.jsonl beside the repository);
- `out_of_scope.txt` here: off-topic messages in the three languages, written for this.

It fits P(the best intent is right | score, lead over the runner-up and, on the English route, the
learned ranker's probability for the best intent) by logistic regression, one per route, plus an
English fit without the ranker for matchers that have none (an out-of-scope line is never right);
prints the coefficients for `bot.nlu.matcher.DEFAULT_CALIBRATION`, the lowest bar per route that
keeps each hold-out set (5-fold by language, development sets) at most 2% wrong, and, per set, the
in-scope lines answered right and wrong and the out-of-scope ones answered at each bar, the
matcher's floors (score, lead, known words) applied as in `decide`. Only figures are printed,
never a line's text.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from bot.catalog.vocabulary_model import Vocabulary
from bot.evaluation.intent_eval import CURVE_BARS, OUT_OF_SCOPE, cross_validation_folds
from bot.nlu.emoji_only import emoji_only_intent
from bot.nlu.matcher import Calibration, Matcher, Terms, passes_floors

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
    learned: float | None = None  # the learned ranker's probability for `top` (English route, with a ranker)
    floors: bool = True  # whether score, lead and known words clear the matcher's floors

    def confidence(self, calibration: Calibration) -> float:
        """The calibrated chance that `top` is right, 0 under a floor (as `decide` does)."""
        return calibration.confidence(self.score, self.lead, self.hindi, self.learned) if self.floors else 0.0

    @property
    def right(self) -> bool:
        return self.top == self.expected


def out_of_scope_phrasings() -> list[str]:
    """The off-topic calibration messages (comments and blank lines skipped)."""
    text = OUT_OF_SCOPE_FILE.read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def score_lines(matcher: Matcher, rows: Sequence[Mapping[str, str]]) -> list[Line]:
    """Each row's best intent and the decision's inputs (emoji-only messages are decided apart, so skipped)."""
    lines = []
    for row in rows:
        text = row["text"]
        if emoji_only_intent(text, matcher._emoji) is not None:  # noqa: SLF001 - the matcher's own table
            continue
        ranked = matcher.scores(text)
        if not ranked:
            continue
        toks, route = matcher.analyse(text)
        lead = ranked[0].score - (ranked[1].score if len(ranked) > 1 else 0.0)
        language = "deva" if _DEVANAGARI.search(text) else "hinglish" if route == "hi" else "en"
        learned = None
        if route == "en" and matcher.ranker is not None:
            learned = matcher.ranker.probabilities(toks).get(ranked[0].intent, 0.0)
        thresholds = matcher.hindi_thresholds if route == "hi" else matcher.thresholds
        # Ranked first, the off-topic examples' intent is never answered (`decide`): no bar passes it.
        floors = ranked[0].intent != OUT_OF_SCOPE and passes_floors(ranked, thresholds, matcher.known_share(text))
        lines.append(Line(row["intent"], ranked[0].intent, ranked[0].score, lead, route == "hi", language, learned, floors))
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


def features(line: Line, *, learned: bool) -> list[float]:
    """A fit's inputs, in `Terms`' order: score and lead on 0..1, then the ranker's probability."""
    values = [line.score / 100.0, line.lead / 100.0]
    return [*values, line.learned or 0.0] if learned else values


def fit_terms(lines: Sequence[Line], *, learned: bool = False) -> Terms:
    """Logistic regression of "the best intent is right" (scikit-learn, at fitting time only)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=10.0, max_iter=1000)
    model.fit([features(line, learned=learned) for line in lines], [int(line.right) for line in lines])
    weights = [round(float(v), 2) for v in model.coef_[0]]
    return Terms(round(float(model.intercept_[0]), 2), *weights)


def fit(lines: Sequence[Line]) -> Calibration:
    """One fit per language route, so Hindi lines (and the learned ranker fused into their scores)
    never move an English decision; the English route twice, with the ranker's probability (lines
    scored by a matcher that has a ranker) and without. Lines whose best intent is the off-topic
    examples' are left out: the decision never asks the calibration about them."""
    lines = [line for line in lines if line.top != OUT_OF_SCOPE]
    english = [line for line in lines if not line.hindi]
    return Calibration(
        english=fit_terms([line for line in english if line.learned is not None], learned=True),
        english_without_ranker=fit_terms(english),
        hindi=fit_terms([line for line in lines if line.hindi]),
    )


def lowest_bar(sets: Sequence[Sequence[Line]], calibration: Calibration, most_wrong: float = 0.02) -> float | None:
    """The lowest bar (0.500 to 0.995, by 0.005) at which each of these sets has at most `most_wrong`
    of its in-scope lines answered wrong; None when none is that low."""
    scored = [[(x.confidence(calibration), x.right) for x in lines if x.expected != OUT_OF_SCOPE] for lines in sets]
    scored = [lines for lines in scored if lines]
    for step in range(100, 200):
        bar = step / 200.0
        if all(sum(c >= bar and not right for c, right in lines) <= most_wrong * len(lines) for lines in scored):
            return bar
    return None


def curve(lines: Sequence[Line], calibration: Calibration, bars: Sequence[float] = CURVE_BARS) -> list[dict[str, float]]:
    """Per bar: in-scope answered right, answered wrong, and out-of-scope answered (fractions)."""
    inside = [x for x in lines if x.expected != OUT_OF_SCOPE]
    outside = [x for x in lines if x.expected == OUT_OF_SCOPE]
    points = []
    for bar in bars:
        passed = {id(x) for x in lines if x.floors and x.confidence(calibration) >= bar}
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
    held_out = [lines for name, lines in sets.items() if name != "out-of-scope phrasings"]
    bars = {
        route: lowest_bar([[x for x in lines if x.hindi == (route == "hi")] for lines in held_out], calibration)
        for route in ("en", "hi")
    }
    print(json.dumps({"calibration": asdict(calibration), "lowest_bar_2pct_wrong": bars, "lines": {k: len(v) for k, v in sets.items()}}))
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
