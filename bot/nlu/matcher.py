"""Match a message to an intent: answer, ask which of 2-3 topics was meant, or admit not knowing.

How a score is made (each part kept because it measurably helped on held-out phrasings):
messages and examples are normalised the same way (`bot.nlu.normalize`), with typos
corrected against the intents' own words; then, per intent, three similarities on 0..100
are blended:

- the best TF-IDF cosine with any one example (IDF over intents, so a word every intent
  uses weighs little and a word no intent uses weighs a lot: unknown words pull a
  message towards "out of scope");
- the TF-IDF cosine with the intent's centroid (all its examples together), which rewards
  the informative words of a topic even in a phrasing no example resembles;
- rapidfuzz's best whole-string similarity with any example (processor None: the text is
  already normalised), which catches near-verbatim phrasings and word order.

The decision is a pure function of the scores and `MatchThresholds`.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from rapidfuzz import fuzz, process

from bot.catalog.vocabulary_model import Vocabulary
from bot.nlu.normalize import Expander, TypoCorrector, clean, tokens

Decision = Literal["answer", "clarify", "fallback"]


@dataclass(frozen=True)
class Candidate:
    """One intent and its score (0..100)."""

    intent: str
    score: float


@dataclass(frozen=True)
class MatchThresholds:
    """answer: lowest score to answer; clarify: lowest score to offer topics; margin: the lead
    the best intent needs over the second to be answered without asking."""

    answer: float
    clarify: float
    margin: float


@dataclass(frozen=True)
class MatchResult:
    """What the matcher decided and why (the scores behind it)."""

    decision: Decision
    intent: str | None
    top: str | None
    score: float
    candidates: tuple[Candidate, ...]


@dataclass(frozen=True)
class Blend:
    """How scores are made: weights of the three similarities (they sum to 1), the weight
    of filler words, light stemming, bigram features and typo correction."""

    example: float = 0.35
    centroid: float = 0.35
    fuzzy: float = 0.30
    stopword_weight: float = 0.3
    stemming: bool = True
    bigram_weight: float = 0.0
    typo_correction: bool = True
    neighbours: int = 1


DEFAULT_THRESHOLDS: Final = MatchThresholds(answer=50.0, clarify=35.0, margin=6.0)
DEFAULT_BLEND: Final = Blend()
_FUZZY_SCORER: Final[Callable[..., float]] = fuzz.ratio
_CLARIFY_WINDOW: Final = 15.0


def _unit(weights: Mapping[str, float]) -> dict[str, float]:
    """Scale a sparse vector to length 1 (an empty one stays empty)."""
    norm = math.sqrt(sum(w * w for w in weights.values()))
    return {t: w / norm for t, w in weights.items()} if norm else {}


def _features(toks: Sequence[str], bigram_weight: float) -> list[tuple[str, float]]:
    """Words, plus adjacent word pairs at a lower weight when asked (they keep some word order)."""
    feats = [(t, 1.0) for t in toks]
    if bigram_weight > 0:
        feats.extend((f"{a}_{b}", bigram_weight) for a, b in zip(toks, toks[1:]))
    return feats


def decide(scores: Sequence[Candidate], thresholds: MatchThresholds) -> MatchResult:
    """Turn scores (best first) into answer / clarify / fallback.

    A confident wrong answer is the worst outcome, so answering needs both a high score
    and a clear lead; a middling score offers the closest 2-3 topics instead.
    """
    if not scores:
        return MatchResult("fallback", None, None, 0.0, ())
    best = scores[0]
    runner_up = scores[1].score if len(scores) > 1 else 0.0
    closest = tuple(scores[:3])
    if best.score >= thresholds.answer and best.score - runner_up >= thresholds.margin:
        return MatchResult("answer", best.intent, best.intent, best.score, closest)
    if best.score >= thresholds.clarify:
        offered = [c for c in scores[:3] if c.score >= best.score - _CLARIFY_WINDOW]
        offered = offered if len(offered) >= 2 else list(scores[:2])
        return MatchResult("clarify", None, best.intent, best.score, tuple(offered))
    return MatchResult("fallback", None, best.intent, best.score, closest)


class Matcher:
    """Scores a message against every intent's examples; build once, match many times."""

    def __init__(
        self,
        *,
        intents: tuple[str, ...],
        expander: Expander,
        corrector: TypoCorrector | None,
        idf: Mapping[str, float],
        unknown_idf: float,
        example_texts: list[str],
        example_intent: list[int],
        example_index: Mapping[str, list[tuple[int, float]]],
        centroid_index: Mapping[str, list[tuple[int, float]]],
        thresholds: MatchThresholds,
        blend: Blend,
    ) -> None:
        self._intents = intents
        self._expander = expander
        self._corrector = corrector
        self._idf = idf
        self._unknown_idf = unknown_idf
        self._example_texts = example_texts
        by_intent: list[list[str]] = [[] for _ in intents]
        for text, owner in zip(example_texts, example_intent):
            by_intent[owner].append(text)
        self._texts_by_intent = tuple(tuple(sorted(set(texts))) for texts in by_intent)
        self._example_intent = example_intent
        self._example_index = example_index
        self._centroid_index = centroid_index
        self.thresholds = thresholds
        self._blend = blend

    @classmethod
    def build(
        cls,
        examples: Mapping[str, Sequence[str]],
        vocabulary: Vocabulary,
        thresholds: MatchThresholds | None = None,
        *,
        blend: Blend | None = None,
    ) -> Matcher:
        """Precompute normalised examples, IDF weights and inverted indexes."""
        blend = blend or DEFAULT_BLEND
        expander = Expander.from_vocabulary(vocabulary)
        intents = tuple(sorted(examples))
        raw_counts: Counter[str] = Counter()
        for phrasings in examples.values():
            for phrasing in phrasings:
                raw_counts.update(clean(phrasing).split())
        for word in expander.known_words():
            raw_counts[word] += 1
        corrector = TypoCorrector(raw_counts) if blend.typo_correction else None

        example_tokens: list[list[str]] = []
        example_intent: list[int] = []
        for i, intent in enumerate(intents):
            for phrasing in examples[intent]:
                example_tokens.append(tokens(phrasing, expander, stemming=blend.stemming))
                example_intent.append(i)

        example_features = [dict(_features(toks, blend.bigram_weight)) for toks in example_tokens]
        document_frequency: Counter[str] = Counter()
        for i in range(len(intents)):
            seen = {t for feats, owner in zip(example_features, example_intent) if owner == i for t in feats}
            document_frequency.update(seen)
        n = len(intents)
        idf = {t: math.log(1.0 + n / df) for t, df in document_frequency.items()}
        for word in expander.stopwords:
            if word in idf:
                idf[word] *= blend.stopword_weight
        unknown_idf = math.log(1.0 + n / 0.5)

        example_index: dict[str, list[tuple[int, float]]] = defaultdict(list)
        centroids: list[Counter[str]] = [Counter() for _ in intents]
        for k, (feats, owner) in enumerate(zip(example_features, example_intent)):
            vector = _unit({t: idf[t] * w for t, w in feats.items()})
            for t, w in vector.items():
                example_index[t].append((k, w))
                centroids[owner][t] += w
        centroid_index: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, centroid in enumerate(centroids):
            for t, w in _unit(centroid).items():
                centroid_index[t].append((i, w))

        return cls(
            intents=intents,
            expander=expander,
            corrector=corrector,
            idf=idf,
            unknown_idf=unknown_idf,
            example_texts=[" ".join(toks) for toks in example_tokens],
            example_intent=example_intent,
            example_index=dict(example_index),
            centroid_index=dict(centroid_index),
            thresholds=thresholds or DEFAULT_THRESHOLDS,
            blend=blend,
        )

    @property
    def intents(self) -> tuple[str, ...]:
        """The intent ids this matcher knows, sorted."""
        return self._intents

    def normalize(self, text: str) -> list[str]:
        """The message's tokens as the matcher sees them (typos corrected, concepts named)."""
        return tokens(text, self._expander, self._corrector, stemming=self._blend.stemming)

    def scores(self, text: str) -> list[Candidate]:
        """Every intent's blended score for this message, best first (ties by id)."""
        toks = self.normalize(text)
        if not toks:
            return []
        weights: dict[str, float] = defaultdict(float)
        for t, w in _features(toks, self._blend.bigram_weight):
            weights[t] += w
        query = _unit(
            {t: (1.0 + math.log(w) if w > 1 else w) * self._idf.get(t, self._unknown_idf) for t, w in weights.items()}
        )
        example_dot: dict[int, float] = defaultdict(float)
        centroid_dot: dict[int, float] = defaultdict(float)
        for t, qw in query.items():
            for k, w in self._example_index.get(t, ()):
                example_dot[k] += qw * w
            for i, w in self._centroid_index.get(t, ()):
                centroid_dot[i] += qw * w

        per_intent: list[list[float]] = [[] for _ in self._intents]
        for k, dot in example_dot.items():
            per_intent[self._example_intent[k]].append(dot)
        top_k = self._blend.neighbours
        best_example = [sum(sorted(dots, reverse=True)[:top_k]) / top_k for dots in per_intent]
        query_text = " ".join(toks)
        best_fuzzy = []
        for texts in self._texts_by_intent:
            # One C call per intent returns just its best example: far cheaper than scoring
            # every example into Python objects.
            hit = process.extractOne(query_text, texts, scorer=_FUZZY_SCORER, processor=None)
            best_fuzzy.append(hit[1] / 100.0 if hit else 0.0)

        b = self._blend
        ranked = [
            Candidate(
                intent,
                round(
                    100.0
                    * (
                        b.example * best_example[i]
                        + b.centroid * centroid_dot.get(i, 0.0)
                        + b.fuzzy * best_fuzzy[i]
                    ),
                    2,
                ),
            )
            for i, intent in enumerate(self._intents)
        ]
        ranked.sort(key=lambda c: (-c.score, c.intent))
        return ranked

    def match(self, text: str) -> MatchResult:
        """Decide what to do with one message."""
        return decide(self.scores(text), self.thresholds)
