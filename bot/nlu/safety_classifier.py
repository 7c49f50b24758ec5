"""The learned half of the safety check: how likely a message is a crisis or danger at home.

A linear model over the message's normalised text (`bot.nlu.hindi`: Devanagari and romanised
Hindi meet in one form). Its features are character n-grams of 2 to 5 letters inside each word
(they survive typos: "sucide", "kil myslf"), words and word pairs (they carry the shape:
"used to", "what if", "my friend") and 3 to 6 letters across a word break ("d to c"): measured
on the k-fold, each kind adds recall. All weighted by TF-IDF. Scikit-learn trains it
(`bot.nlu.safety_training`, `python -m bot train-safety`); what is shipped is plain data in
models/: a .npz of arrays (vocabulary, idf, weights) and a .json of metadata (what it was
trained on, the calibration, the thresholds, the k-fold figures). No pickle: loading needs
numpy only, and reading the data cannot run code.

Two models read the same features: a coarse one (one weight per feature and label) and a fine
one over the kinds of line (label and category), whose probabilities are summed per label: where
one weight per word must pick a side, the kinds bend the line ("used to cut" sits with resolved
history, "cut" with self-harm). Two more fine ones (`View`) each read one kind of feature alone,
words and word pairs, or letters within words: they err elsewhere, and the average gains.

At run time a message is featurised here exactly as at training (the same `analyse`), then
scored by each, each calibrated (Platt scaling per class, fitted on out-of-fold scores) into
probabilities of crisis, unsafe_at_home and not_crisis, and the four averaged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final

import numpy as np

from bot.nlu.artifacts import read_artifact
from bot.nlu.hindi import normalise_hindi

CLASSES: Final = ("crisis", "unsafe_at_home", "not_crisis")
MODELS_DIR: Final = Path(__file__).resolve().parents[2] / "models"
ARTIFACT_NAME: Final = "safety_classifier"
CHAR_NGRAMS: Final = (2, 5)
FINE_FLOOR: Final = 1e-6  # added to the fine model's summed probabilities before their log
WORD_NGRAMS: Final = (1, 2)
CROSS_NGRAMS: Final = (3, 6)
# The corpus has no message shorter than this; shorter ones ("hi", "stop", "/start") are the lexicon's alone.
MIN_WORDS: Final = 3
WORD_CACHE: Final = 10_000  # words whose character n-grams are remembered (about 2 MB at most: the memory budget is 150 MB)
# Function words are not features on their own, only inside word pairs ("used to", "what if",
# "he says"). Alone, "my", "he", "the" or "after" learnt to mean "a first-person story", and so
# risk: "my laptop wont turn on after the update" scored a crisis alert. Measured on the 5-fold
# (same budgets): crisis caught 0.921 -> 0.927; everyday off-topic lines alerted 3% -> 1%.
# The list (scikit-learn's English stop words and the Hindi ones as `bot.nlu.hindi` romanises
# them) is a file beside this module, read here so that run time needs no scikit-learn.
FUNCTION_WORDS_FILE: Final = Path(__file__).with_name("safety_function_words.txt")
FUNCTION_WORDS: Final = frozenset(
    line.strip() for line in FUNCTION_WORDS_FILE.read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")
)


def _char_grams(word: str) -> list[str]:
    """Character n-grams of one word padded by a space on each side (scikit-learn's char_wb)."""
    padded = f" {word} "
    grams: list[str] = []
    for size in range(CHAR_NGRAMS[0], CHAR_NGRAMS[1] + 1):
        if len(padded) <= size:
            grams.append(padded)
            break
        grams.extend(padded[start : start + size] for start in range(len(padded) - size + 1))
    return grams


def _word_grams(words: list[str]) -> list[str]:
    """Words, less the function words (FUNCTION_WORDS), and every word pair, function words kept."""
    return [*(word for word in words if word not in FUNCTION_WORDS), *(f"{first} {second}" for first, second in zip(words, words[1:]))]


def _cross_grams(words: list[str]) -> list[str]:
    """Letters across a word break ("d to c", "f my"): the shape of short phrases, typos and all.
    Every slice of CROSS_NGRAMS letters with a space strictly inside it, each slice once."""
    joined = f" {' '.join(words)} "
    inner = [index for index, char in enumerate(joined) if char == " "][1:-1]
    grams: list[str] = []
    for size in range(CROSS_NGRAMS[0], CROSS_NGRAMS[1] + 1):
        done = -1
        for space in inner:
            first, last = max(space - size + 2, done + 1), min(space - 1, len(joined) - size)
            grams.extend(joined[start : start + size] for start in range(first, last + 1))
            done = max(done, last)
    return grams


def analyse(text: str) -> list[str]:
    """The features of one message, as training counts them: "c:" character n-grams within
    words, "w:" words and word pairs, "x:" letters across word breaks."""
    words = normalise_hindi(text).split()
    return [
        *("c:" + gram for word in words for gram in _char_grams(word)),
        *("w:" + gram for gram in _word_grams(words)),
        *("x:" + gram for gram in _cross_grams(words)),
    ]


class HashedVocabulary:
    """One kind of feature name mapped to its index, kept as two sorted arrays of the names' hashes
    and their indices rather than a dictionary of strings: about 2 MB for the 170,000 names where
    the strings and the dictionary took about 19 MB (the memory budget is 150 MB). The names'
    strings are not kept. Python's own string hash is used, computed in this process on load, so
    the per-process hash seed does not matter; two different 64-bit hashes being equal is
    negligible (an unknown n-gram taken for a known one: about 1 in 10^14 per look-up), and two
    names of the vocabulary sharing a hash are kept exact apart (`collided`)."""

    def __init__(self, names: Sequence[str], indices: np.ndarray, prefix: int = 0) -> None:
        """`names[i][prefix:]` for each i of `indices` (sorted) is a name, `i` its index: the
        vocabulary's names are read in place, without copies, so loading stays light."""
        hashes = np.fromiter((hash(names[i][prefix:]) for i in indices), dtype=np.int64, count=len(indices))
        values = np.asarray(indices, dtype=np.int32)
        unique, counts = np.unique(hashes, return_counts=True)
        clashing = np.isin(hashes, unique[counts > 1])
        self.collided: dict[str, int] = {names[i][prefix:]: int(i) for i in values[clashing]}
        order = np.argsort(hashes[~clashing])
        self.hashes = hashes[~clashing][order]
        self.indices = values[~clashing][order]

    def __len__(self) -> int:
        return len(self.hashes) + len(self.collided)

    def lookup(self, grams: Sequence[str]) -> list[int]:
        """The indices of the known names among `grams` (repeats kept, order not)."""
        found: list[int] = []
        if grams and len(self.hashes):
            wanted = np.fromiter((hash(gram) for gram in grams), dtype=np.int64, count=len(grams))
            places = np.minimum(np.searchsorted(self.hashes, wanted), len(self.hashes) - 1)
            found = self.indices[places[self.hashes[places] == wanted]].tolist()
        if self.collided:
            found.extend(self.collided[gram] for gram in grams if gram in self.collided)
        return found


class FeatureIndex:
    """The vocabulary split by kind, so a message's features are looked up without building the
    prefixed names, and each word's character n-grams are looked up once (words recur)."""

    def __init__(self, names: list[str]) -> None:
        kind_of = np.array([name[:1] for name in names])
        self.kinds = {kind: HashedVocabulary(names, np.flatnonzero(kind_of == kind), prefix=2) for kind in ("c", "w", "x")}
        self._word_cache: dict[str, tuple[int, ...]] = {}

    def __len__(self) -> int:
        return sum(len(kind) for kind in self.kinds.values())

    def _of_word(self, word: str) -> tuple[int, ...]:
        found = self._word_cache.get(word)
        if found is None:
            found = tuple(self.kinds["c"].lookup(_char_grams(word)))
            if len(self._word_cache) < WORD_CACHE:
                self._word_cache[word] = found
        return found

    def indices(self, words: list[str]) -> list[int]:
        """The index of every known feature occurrence in the message's words (repeats kept)."""
        found: list[int] = []
        for word in words:
            found.extend(self._of_word(word))
        found.extend(self.kinds["w"].lookup(_word_grams(words)))
        found.extend(self.kinds["x"].lookup(_cross_grams(words)))
        return found


@dataclass(frozen=True)
class Thresholds:
    """On the probability that a message is a crisis or danger at home (1 - P(not_crisis)).

    explicit_floor / hit_floor: from this probability a lexicon hit is at least a check-in (on an
    explicit pattern / on any other); below it the model is very confident the message is safe
    (history, a question, a joke...) and the hit is let go (`bot.nlu.safety_check`).
    """

    alert: float
    check_in: float
    explicit_floor: float = 0.0
    hit_floor: float = 0.0


@dataclass(frozen=True)
class Prediction:
    """The model's reading of one message."""

    label: str  # "crisis" or "unsafe_at_home": the likelier of the two
    risk: float  # P(crisis) + P(unsafe_at_home)
    probabilities: tuple[float, float, float]  # in CLASSES order


@dataclass(frozen=True)
class View:
    """A fine model over one kind of feature alone (words and pairs, or letters within words): the
    features [start, stop) of the sorted vocabulary, TF-IDF normalised among themselves."""

    start: int
    stop: int
    weights: np.ndarray  # (stop - start, n_kinds), float16
    intercept: np.ndarray  # (n_kinds,)

    def scores(self, indices: np.ndarray, raw: np.ndarray) -> np.ndarray:
        """Its kind scores for a message's features (`indices`, sorted) and their unnormalised TF-IDF."""
        low, high = np.searchsorted(indices, (self.start, self.stop))
        if low == high:
            return self.intercept
        values = raw[low:high] / np.sqrt(raw[low:high] @ raw[low:high])
        return values @ self.weights[indices[low:high] - self.start] + self.intercept


@dataclass(frozen=True)
class SafetyModel:
    """The trained model as arrays; `predict` is a few dictionary look-ups and a small product."""

    features: FeatureIndex
    idf: np.ndarray  # (n_features,)
    weights: np.ndarray  # (n_features, n_classes): the coarse model
    intercept: np.ndarray  # (n_classes,)
    fine_weights: np.ndarray  # (n_features, n_kinds): the fine model, over label/category
    fine_intercept: np.ndarray  # (n_kinds,)
    fine_groups: np.ndarray  # (n_kinds,): each kind's class index
    platt: np.ndarray  # (n_models * n_classes, 2): per model and class, p = 1 / (1 + exp(a * score + b))
    thresholds: Thresholds
    metadata: dict[str, Any]
    views: tuple[View, ...] = ()  # fine models over one kind of feature alone

    def scores(self, text: str) -> np.ndarray:
        """The coarse model's scores (one per class), then the fine model's (`fine_scores`), then each view's."""
        found = self.features.indices(normalise_hindi(text).split())
        if not found:
            coarse, fine = self.intercept, self.fine_intercept
            within = [view.intercept for view in self.views]
        else:
            indices, counts = np.unique(np.array(found, dtype=np.int64), return_counts=True)
            raw = (1.0 + np.log(counts)) * self.idf[indices]
            values = raw / np.sqrt(raw @ raw)
            coarse = values @ self.weights[indices] + self.intercept
            fine = values @ self.fine_weights[indices] + self.fine_intercept
            within = [view.scores(indices, raw) for view in self.views]
        blocks = [fine, *within]
        return np.concatenate([coarse, *(fine_scores(block[None, :], self.fine_groups)[0] for block in blocks)])

    def applies(self, text: str) -> bool:
        """Whether the message is long enough for the model to have an opinion (MIN_WORDS words)."""
        return len(normalise_hindi(text).split()) >= MIN_WORDS

    def predict(self, text: str) -> Prediction:
        """Calibrated probabilities and the safety label the message is likelier to carry."""
        probabilities = calibrate(self.scores(text)[None, :], self.platt)[0]
        crisis, unsafe, _ = (float(p) for p in probabilities)
        label = "crisis" if crisis >= unsafe else "unsafe_at_home"
        return Prediction(label, crisis + unsafe, (crisis, unsafe, float(probabilities[2])))


def fine_scores(logits: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """The fine model's kinds summed per class: log of (softmax of the kinds' scores, summed
    over each class's kinds); rows are messages, `groups` each kind's class index."""
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities = shifted / shifted.sum(axis=1, keepdims=True)
    summed = np.stack([probabilities[:, groups == k].sum(axis=1) for k in range(len(CLASSES))], axis=1)
    return np.log(summed + FINE_FLOOR)


def calibrate(scores: np.ndarray, platt: np.ndarray) -> np.ndarray:
    """Platt scaling of each class's score, normalised to sum to one (scikit-learn's multiclass
    sigmoid calibration), per model; the models' probabilities are then averaged. Rows of
    `scores` are messages, its columns each model's scores in CLASSES order."""
    logits = scores * platt[:, 0] + platt[:, 1]
    sigmoid = 1.0 / (1.0 + np.exp(np.clip(logits, -500, 500)))
    blocks = sigmoid.reshape(len(scores), -1, len(CLASSES))
    total = blocks.sum(axis=2, keepdims=True)
    total[total == 0] = 1.0
    return (blocks / total).mean(axis=1)


def artifact_paths(directory: Path = MODELS_DIR) -> tuple[Path, Path]:
    """(arrays .npz, metadata .json) of the shipped model."""
    return directory / f"{ARTIFACT_NAME}.npz", directory / f"{ARTIFACT_NAME}.json"


def model_from_arrays(arrays: Mapping[str, np.ndarray], metadata: dict[str, Any]) -> SafetyModel:
    """The model from its arrays (as written by training) and its metadata."""
    # The feature names are stored as one UTF-8 text, a name a line: compact, and no pickle.
    names = arrays["features"].tobytes().decode("utf-8").split("\n")
    return SafetyModel(
        features=FeatureIndex(names),
        # Kept in float32 as stored: the products come out in float64 all the same, in half the memory.
        idf=arrays["idf"].astype(np.float32),
        weights=arrays["weights"].astype(np.float32),
        intercept=arrays["intercept"].astype(np.float64),
        fine_weights=arrays["fine_weights"],  # float16, kept so: the largest array, and precise enough
        fine_intercept=arrays["fine_intercept"].astype(np.float64),
        fine_groups=arrays["fine_groups"].astype(np.int64),
        platt=arrays["platt"].astype(np.float64),
        thresholds=Thresholds(**metadata["thresholds"]),
        metadata=metadata,
        views=tuple(
            View(int(start), int(stop), arrays[f"view{i}_weights"], arrays[f"view{i}_intercept"].astype(np.float64))
            for i, (start, stop) in enumerate(arrays["view_ranges"] if "view_ranges" in arrays else ())
        ),
    )


def load_model(directory: Path = MODELS_DIR) -> SafetyModel:
    """Read the shipped model (numpy only, pickle refused); FileNotFoundError when it was never trained."""
    return model_from_arrays(*read_artifact(artifact_paths(directory)))


@cache
def shipped_model() -> SafetyModel | None:
    """The model in models/, loaded once per process (None when it was never trained)."""
    try:
        return load_model(MODELS_DIR)
    except FileNotFoundError:
        return None
