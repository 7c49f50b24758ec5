"""Match a message to an intent: answer, ask which of 2-3 topics was meant, or admit not knowing.

Messages and examples are normalised alike (`bot.nlu.normalize`: slang, concept groups,
light stemming, and, for messages, typo correction against the intents' own words).
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

The decision (`decide`) is a pure function of the scores and `MatchThresholds`.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
from rapidfuzz import fuzz, process

from bot.catalog.vocabulary_model import Vocabulary
from bot.nlu.normalize import Expander, TypoCorrector, clean, tokens

Decision = Literal["answer", "clarify", "fallback"]
Postings = Mapping[str, tuple["np.ndarray", "np.ndarray"]]


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
    """What the matcher decided, and the scores behind it.

    intent: the intent to act on (only when answering); top: the best-scoring intent
    whatever the decision; candidates: the intents to offer when clarifying, otherwise
    the closest few.
    """

    decision: Decision
    intent: str | None
    top: str | None
    score: float
    candidates: tuple[Candidate, ...]


@dataclass(frozen=True)
class Tuning:
    """How scores are made; the defaults are the measured best (see the module docstring)."""

    example: float = 0.30
    centroid: float = 0.30
    fuzzy: float = 0.25
    bayes: float = 0.15
    bayes_alpha: float = 0.5
    stopword_weight: float = 0.3
    stemming: bool = True
    typo_correction: bool = True


# Chosen on a plateau of 5-fold cross-validation over the examples and the development
# set: answering needs 50 and a 10-point lead; below 25 nothing is offered. Lowering the
# margin or the answer bar trades confident wrong answers for fewer questions.
DEFAULT_THRESHOLDS: Final = MatchThresholds(answer=50.0, clarify=25.0, margin=10.0)
DEFAULT_TUNING: Final = Tuning()
# Offer a runner-up only when it is within this many points of the best intent.
_CLARIFY_WINDOW: Final = 20.0
# Below this a "closest topic" is noise, not a suggestion.
_SUGGEST_FLOOR: Final = 15.0
# How many of the best intents get an exact score (decide() reads the first three).
_EXACT_TOP: Final = 5


def decide(scores: Sequence[Candidate], thresholds: MatchThresholds) -> MatchResult:
    """Turn scores (best first) into answer / clarify / fallback.

    A confident wrong answer is the worst outcome, so answering needs both a high score
    and a clear lead; a middling score offers the 2-3 closest topics instead.
    """
    if not scores:
        return MatchResult("fallback", None, None, 0.0, ())
    best = scores[0]
    runner_up = scores[1].score if len(scores) > 1 else 0.0
    if best.score >= thresholds.answer and best.score - runner_up >= thresholds.margin:
        return MatchResult("answer", best.intent, best.intent, best.score, tuple(scores[:3]))
    if best.score >= thresholds.clarify:
        offered = [c for c in scores[:3] if c.score >= best.score - _CLARIFY_WINDOW]
        if len(offered) < 2:
            offered = list(scores[:2])
        return MatchResult("clarify", None, best.intent, best.score, tuple(offered))
    near = tuple(c for c in scores[:3] if c.score >= _SUGGEST_FLOOR)
    return MatchResult("fallback", None, best.intent, best.score, near)


def _unit(weights: Mapping[str, float]) -> dict[str, float]:
    """Scale a sparse vector to length 1 (an empty one stays empty)."""
    norm = math.sqrt(sum(w * w for w in weights.values()))
    return {t: w / norm for t, w in weights.items()} if norm else {}


def _postings(vectors: Sequence[Mapping[str, float]]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Inverted index: word -> (rows, weights) of every row whose vector has the word, as arrays
    so a query adds a whole posting list in one vector operation."""
    index: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for row, vector in enumerate(vectors):
        for word, weight in vector.items():
            index[word].append((row, weight))
    return {
        word: (np.array([r for r, _ in rows], dtype=np.intp), np.array([w for _, w in rows], dtype=np.float64))
        for word, rows in index.items()
    }


@dataclass(frozen=True)
class _Index:
    """Everything `Matcher.scores` reads, computed once by `Matcher.build`."""

    intents: tuple[str, ...]
    idf: Mapping[str, float]
    unknown_idf: float
    example_spans: tuple[tuple[int, int], ...]
    example_starts: np.ndarray  # where each intent with examples starts (reduceat needs non-empty spans)
    example_owners: tuple[int, ...]  # the intent of each of those starts
    example_postings: Postings
    centroid_postings: Postings
    texts_by_intent: tuple[tuple[str, ...], ...]
    log_likelihood: Mapping[str, tuple[float, ...]]


def _build_index(
    example_tokens: Mapping[str, Sequence[Sequence[str]]], tuning: Tuning, stopwords: frozenset[str]
) -> _Index:
    """IDF over intents, unit example and centroid vectors, texts for rapidfuzz, word likelihoods."""
    intents = tuple(sorted(example_tokens))
    n = len(intents)
    document_frequency = Counter(
        word for intent in intents for word in {t for toks in example_tokens[intent] for t in toks}
    )
    idf = {t: math.log(1.0 + n / df) for t, df in document_frequency.items()}
    for word in stopwords & idf.keys():
        idf[word] *= tuning.stopword_weight

    spans: list[tuple[int, int]] = []
    example_vectors: list[dict[str, float]] = []
    centroid_vectors: list[dict[str, float]] = []
    counts_by_intent: list[Counter[str]] = []
    for i, intent in enumerate(intents):
        centroid: Counter[str] = Counter()
        counts: Counter[str] = Counter()
        start = len(example_vectors)
        for toks in example_tokens[intent]:
            vector = _unit({t: idf[t] for t in set(toks)})
            example_vectors.append(vector)
            centroid.update(vector)
            counts.update(toks)
        centroid_vectors.append(_unit(centroid))
        counts_by_intent.append(counts)
        spans.append((start, len(example_vectors)))

    alpha = tuning.bayes_alpha
    totals = [sum(c.values()) + alpha * len(idf) for c in counts_by_intent]
    log_likelihood = {
        t: tuple(math.log((c[t] + alpha) / total) for c, total in zip(counts_by_intent, totals))
        for t in idf
    }
    return _Index(
        intents=intents,
        idf=idf,
        unknown_idf=math.log(1.0 + n / 0.5),
        example_spans=tuple(spans),
        example_starts=np.array([start for start, end in spans if end > start], dtype=np.intp),
        example_owners=tuple(i for i, (start, end) in enumerate(spans) if end > start),
        # Filler words weigh little in a cosine but sit in most examples: leaving them out of
        # this index (not out of the vectors' lengths) saves time; measured, it moved one
        # held-out example in 1,358 and nothing on the development set.
        example_postings={t: rows for t, rows in _postings(example_vectors).items() if t not in stopwords},
        centroid_postings=_postings(centroid_vectors),
        texts_by_intent=tuple(
            tuple(sorted({" ".join(toks) for toks in example_tokens[intent]})) for intent in intents
        ),
        log_likelihood=log_likelihood,
    )


class Matcher:
    """Scores a message against every intent's examples; build once, match many times."""

    def __init__(
        self,
        index: _Index,
        expander: Expander,
        corrector: TypoCorrector | None,
        thresholds: MatchThresholds,
        tuning: Tuning,
    ) -> None:
        self._index = index
        self._expander = expander
        self._corrector = corrector
        self.thresholds = thresholds
        self._tuning = tuning

    @classmethod
    def build(
        cls,
        examples: Mapping[str, Sequence[str]],
        vocabulary: Vocabulary,
        thresholds: MatchThresholds | None = None,
        *,
        tuning: Tuning | None = None,
    ) -> Matcher:
        """Normalise every example and precompute the indexes (all intents given, safety ones too)."""
        tuning = tuning or DEFAULT_TUNING
        expander = Expander.from_vocabulary(vocabulary)
        corrector = None
        if tuning.typo_correction:
            known: Counter[str] = Counter(expander.known_words())
            for phrasings in examples.values():
                for phrasing in phrasings:
                    known.update(clean(phrasing).split())
            corrector = TypoCorrector(known)
        example_tokens = {
            intent: [tokens(p, expander, stemming=tuning.stemming) for p in phrasings]
            for intent, phrasings in examples.items()
        }
        index = _build_index(example_tokens, tuning, expander.stopwords)
        return cls(index, expander, corrector, thresholds or DEFAULT_THRESHOLDS, tuning)

    @property
    def intents(self) -> tuple[str, ...]:
        """The intent ids this matcher knows, sorted."""
        return self._index.intents

    def normalize(self, text: str) -> list[str]:
        """The message's tokens as the matcher sees them (typos corrected, concepts named)."""
        return tokens(text, self._expander, self._corrector, stemming=self._tuning.stemming)

    def scores(self, text: str) -> list[Candidate]:
        """Every intent's blended score for this message, best first (ties by id)."""
        toks = self.normalize(text)
        if not toks or not self._index.intents:
            return []
        ix, tuning = self._index, self._tuning
        query = _unit(
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
        posterior = self._posterior(toks, query)
        partial = [
            tuning.example * best_example[i] + tuning.centroid * centroid_dot[i] + tuning.bayes * posterior[i]
            for i in range(len(ix.intents))
        ]
        # rapidfuzz is the costly part and grows with the catalogue. It adds at most
        # `tuning.fuzzy` to an intent's score, so it is computed best-first and only while an
        # intent could still reach the top `_EXACT_TOP`: the decision reads no further down,
        # and intents below keep their (lower-bound) score without it. Exact where it matters,
        # sub-linear in practice.
        best_fuzzy: dict[int, float] = {}
        exact_top: list[float] = []
        for i in sorted(range(len(ix.intents)), key=lambda i: -partial[i]):
            if len(exact_top) >= _EXACT_TOP and partial[i] + tuning.fuzzy < exact_top[-1]:
                break
            # One C call per intent returns just its best example.
            hit = process.extractOne(query_text, ix.texts_by_intent[i], scorer=fuzz.ratio, processor=None)
            best_fuzzy[i] = hit[1] / 100.0 if hit is not None else 0.0
            exact_top = sorted([*exact_top, partial[i] + tuning.fuzzy * best_fuzzy[i]], reverse=True)[:_EXACT_TOP]

        ranked = [
            Candidate(intent, round(100.0 * (partial[i] + tuning.fuzzy * best_fuzzy.get(i, 0.0)), 2))
            for i, intent in enumerate(ix.intents)
        ]
        ranked.sort(key=lambda c: (-c.score, c.intent))
        return ranked

    def _posterior(self, toks: Sequence[str], query: Mapping[str, float]) -> list[float]:
        """Naive Bayes over known words, times the IDF-weighted share of the message that is known."""
        ix = self._index
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

    def match(self, text: str) -> MatchResult:
        """Decide what to do with one message."""
        return decide(self.scores(text), self.thresholds)
