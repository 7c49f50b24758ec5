"""The learned half of intent ranking: a linear classifier fused with the matcher's scores.

A multinomial logistic regression over the message as the matcher normalises it
(`Matcher.normalize`: Hindi in both scripts folded to one form, typos corrected, concepts named),
with two blocks of TF-IDF features, each scaled to length 1: words and word pairs, and character
n-grams of 2 to 5 letters inside each word (scikit-learn's char_wb). It makes other mistakes than
the matcher's four similarities, so `bot.nlu.matcher` adds its probability, times a weight, to
each intent's score (Hindi route only; see the matcher's docstring for the figures).

Scikit-learn trains it (`bot.nlu.intent_ranker_training`, `python -m bot train-matcher`); what is
shipped is plain data in models/: a .npz of arrays (feature names, idf, weights, intercepts) and a
.json of metadata (the examples' fingerprint, the k-fold figures). No pickle: loading needs numpy
only. The shipped model is used only by a matcher built from exactly the examples it was trained
on (`examples_fingerprint`); any other matcher (a k-fold's, a test's) has none unless given one.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Final

import numpy as np

from bot.nlu.artifacts import read_artifact

MODELS_DIR: Final = Path(__file__).resolve().parents[2] / "models"
ARTIFACT_NAME: Final = "intent_ranker"
CHAR_NGRAMS: Final = (2, 5)
_WORD_CACHE: Final = 10_000  # words whose n-gram rows are remembered (bounded: the memory budget is 150 MB)
WORD_BLOCK: Final = 0
CHAR_BLOCK: Final = 1


def word_features(tokens: Sequence[str]) -> list[str]:
    """Words and adjacent word pairs."""
    return [*tokens, *(f"{first} {second}" for first, second in zip(tokens, tokens[1:]))]


@lru_cache(maxsize=50_000)
def _word_char_grams(word: str) -> tuple[str, ...]:
    """Character n-grams of one word padded by a space on each side (as scikit-learn's char_wb)."""
    padded = f" {word} "
    grams: list[str] = []
    for size in range(CHAR_NGRAMS[0], CHAR_NGRAMS[1] + 1):
        if len(padded) < size:
            break
        grams.extend(padded[start : start + size] for start in range(len(padded) - size + 1))
    return tuple(grams)


def char_features(tokens: Sequence[str]) -> list[str]:
    """Character n-grams inside each word."""
    return [gram for token in tokens for gram in _word_char_grams(token)]


def examples_fingerprint(examples: Mapping[str, Sequence[str]]) -> str:
    """A hash of the intents and their phrasings, order-free: which examples a model was trained on."""
    canonical = {intent: sorted(phrasings) for intent, phrasings in examples.items()}
    return hashlib.sha256(json.dumps(canonical, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class IntentRanker:
    """P(intent | message) from the matcher's normalised tokens."""

    intents: tuple[str, ...]
    index: Mapping[str, int]  # feature name -> row (word and char names cannot collide: see `feature_key`)
    idf: np.ndarray
    weights: np.ndarray  # features x intents
    intercept: np.ndarray
    metadata: dict[str, Any] = field(default_factory=dict, compare=False)
    # word -> the rows of its known character n-grams (looked up once per word; bounded below)
    _char_rows: dict[str, tuple[int, ...]] = field(default_factory=dict, compare=False, repr=False)

    def _rows_of_word(self, word: str) -> tuple[int, ...]:
        rows = self._char_rows.get(word)
        if rows is None:
            found = (self.index.get(feature_key(CHAR_BLOCK, g), -1) for g in _word_char_grams(word))
            rows = tuple(row for row in found if row >= 0)
            if len(self._char_rows) >= _WORD_CACHE:
                self._char_rows.clear()
            self._char_rows[word] = rows
        return rows

    def probabilities(self, tokens: Sequence[str]) -> dict[str, float]:
        """Every intent's probability for these (already normalised) tokens; uniform when nothing is known."""
        return dict(zip(self.intents, self.probability_vector(tokens).tolist()))

    def columns_for(self, intents: Sequence[str]) -> np.ndarray:
        """Where each of these intents sits in `probability_vector`'s result, padded with a 0 (an
        intent the ranker does not know reads the extra last entry, which is 0)."""
        position = {intent: i for i, intent in enumerate(self.intents)}
        return np.array([position.get(intent, len(self.intents)) for intent in intents], dtype=np.intp)

    def probability_vector(self, tokens: Sequence[str]) -> np.ndarray:
        """`probabilities` as an array in `intents` order, with a trailing 0 (see `columns_for`)."""
        z = self.intercept.copy()
        words = Counter(self.index.get(feature_key(WORD_BLOCK, g), -1) for g in word_features(tokens))
        words.pop(-1, None)
        chars = Counter(row for token in tokens for row in self._rows_of_word(token))
        for counts in (words, chars):
            if not counts:
                continue
            rows = np.fromiter(counts, dtype=np.intp, count=len(counts))
            tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
            values = tf * self.idf[rows]
            values /= np.sqrt(values @ values)
            z += values @ self.weights[rows]
        z -= z.max()
        p = np.exp(z)
        p /= p.sum()
        return np.append(p, 0.0)


def feature_key(block: int, gram: str) -> str:
    """The stored name of a feature: its block's letter, then the gram ("w:trust again", "c: tru")."""
    return ("w:" if block == WORD_BLOCK else "c:") + gram


def artifact_paths(directory: Path = MODELS_DIR) -> tuple[Path, Path]:
    """(arrays .npz, metadata .json) of the shipped model."""
    return directory / f"{ARTIFACT_NAME}.npz", directory / f"{ARTIFACT_NAME}.json"


def ranker_from_arrays(arrays: Mapping[str, np.ndarray], metadata: dict[str, Any]) -> IntentRanker:
    """The model from its arrays (as written by training) and its metadata."""
    names = arrays["features"].tobytes().decode("utf-8").split("\n")
    return IntentRanker(
        intents=tuple(metadata["intents"]),
        index={name: row for row, name in enumerate(names)},
        idf=arrays["idf"].astype(np.float64),
        weights=arrays["weights"].astype(np.float64),
        intercept=arrays["intercept"].astype(np.float64),
        metadata=metadata,
    )


def load_ranker(directory: Path = MODELS_DIR) -> IntentRanker:
    """Read the shipped model (numpy only, pickle refused); FileNotFoundError when it was never trained."""
    return ranker_from_arrays(*read_artifact(artifact_paths(directory)))


@cache
def shipped_ranker() -> IntentRanker | None:
    """The model in models/, loaded once per process (None when it was never trained)."""
    try:
        return load_ranker(MODELS_DIR)
    except FileNotFoundError:
        return None


def ranker_for(examples: Mapping[str, Sequence[str]]) -> IntentRanker | None:
    """The shipped model if it was trained on exactly these examples, else None."""
    ranker = shipped_ranker()
    if ranker is None or ranker.metadata.get("examples_sha256") != examples_fingerprint(examples):
        return None
    return ranker
