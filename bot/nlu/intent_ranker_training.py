"""Train the intent ranker (`bot.nlu.intent_ranker`) from intents/*.yaml: `python -m bot train-matcher`.

Scikit-learn is needed here only. The examples are normalised by a matcher built from them (the
form the ranker sees at run time), featurised by the run-time module's own functions, weighted by
TF-IDF (sublinear term frequency, smooth IDF, each block scaled to length 1) and fitted by a
multinomial logistic regression (newton-cg: lbfgs's optimum, 3 times faster; C below). The arrays
are written as float32 in a fixed order with fixed timestamps, so retraining on the same inputs
gives the same bytes.

C and the fusion weight (`bot.nlu.matcher.Tuning.ranker_hindi`) were picked on the 5-fold over
the examples (figures in the matcher's docstring and in models/intent_ranker.json).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TextIO

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot.nlu.artifacts import stored_inputs, write_artifact
from bot.nlu.intent_ranker import (
    CHAR_BLOCK,
    MODELS_DIR,
    WORD_BLOCK,
    IntentRanker,
    artifact_paths,
    char_features,
    examples_fingerprint,
    feature_key,
    ranker_from_arrays,
    word_features,
)

if TYPE_CHECKING:
    from bot.catalog.vocabulary_model import Vocabulary
    from bot.nlu.matcher import Matcher

ROOT: Final = Path(__file__).resolve().parents[2]
INTENTS_DIR: Final = ROOT / "intents"
C: Final = 30.0
FOLDS: Final = 5
_DEVANAGARI: Final = re.compile("[\u0900-\u097f]")


def _split(text: str) -> list[str]:
    return text.split(" ") if text else []


def _vectorizer(analyser: Any) -> TfidfVectorizer:
    return TfidfVectorizer(analyzer=analyser, sublinear_tf=True, dtype=np.float64)


def train_ranker(examples: Mapping[str, Sequence[str]], matcher: Matcher, c: float = C) -> IntentRanker:
    """Fit on the examples as `matcher` normalises them; returns the run-time model (float32 weights, as shipped)."""
    arrays, intents = _fit_arrays(examples, matcher, c)
    return ranker_from_arrays(arrays, {"intents": intents})


def _fit_arrays(examples: Mapping[str, Sequence[str]], matcher: Matcher, c: float) -> tuple[dict[str, np.ndarray], list[str]]:
    texts: list[str] = []
    labels: list[str] = []
    for intent in sorted(examples):
        for phrasing in sorted(examples[intent]):
            texts.append(" ".join(matcher.normalize(phrasing)))
            labels.append(intent)
    words = _vectorizer(lambda t: word_features(_split(t)))
    chars = _vectorizer(lambda t: char_features(_split(t)))
    x = sparse.hstack([words.fit_transform(texts), chars.fit_transform(texts)]).tocsr()
    model = LogisticRegression(C=c, solver="newton-cg", max_iter=1000)
    model.fit(x, labels)
    names = [feature_key(WORD_BLOCK, n) for n in words.get_feature_names_out()]
    names += [feature_key(CHAR_BLOCK, n) for n in chars.get_feature_names_out()]
    arrays = {
        "features": np.frombuffer("\n".join(names).encode("utf-8"), dtype=np.uint8),
        "idf": np.concatenate([words.idf_, chars.idf_]).astype(np.float32),
        "weights": model.coef_.T.astype(np.float32),
        "intercept": model.intercept_.astype(np.float32),
    }
    return arrays, [str(c_) for c_ in model.classes_]


def fold_matcher(train: Mapping[str, Sequence[str]], vocabulary: Vocabulary) -> Matcher:
    """A matcher over these examples with a ranker trained on them alone (for k-fold hold-outs)."""
    from bot.nlu.matcher import Matcher

    bare = Matcher.build(train, vocabulary, ranker=None)
    return bare.with_ranker(train_ranker(train, bare))


def kfold_top1(examples: Mapping[str, Sequence[str]], vocabulary: Vocabulary) -> dict[str, dict[str, float]]:
    """Top-1 on the 5-fold per language (en, hinglish, deva), the matcher alone and fused, over the
    topics' examples (the off-topic ones are held out too; how often they are answered is the
    calibration's figure, `bot.evaluation.calibration`)."""
    from bot.evaluation.intent_eval import cross_validation_folds
    from bot.nlu.matcher import OUT_OF_SCOPE, Matcher

    full = Matcher.build(examples, vocabulary, ranker=None)
    hits: dict[str, list[int]] = {}
    for train, rows in cross_validation_folds(examples, FOLDS, key=lambda s: " ".join(full.normalize(s))):
        fused = fold_matcher(train, vocabulary)
        bare = fused.with_ranker(None)
        for row in (row for row in rows if row["intent"] != OUT_OF_SCOPE):
            _, route = fused.analyse(row["text"])
            language = "deva" if _DEVANAGARI.search(row["text"]) else "hinglish" if route == "hi" else "en"
            counts = hits.setdefault(language, [0, 0, 0])
            for slot, matcher in ((0, bare), (1, fused)):
                ranked = matcher.scores(row["text"])
                counts[slot] += bool(ranked) and ranked[0].intent == row["intent"]
            counts[2] += 1
    return {lang: {"n": n, "matcher": round(a / n, 4), "fused": round(b / n, 4)} for lang, (a, b, n) in sorted(hits.items())}


def intents_fingerprint(folder: Path = INTENTS_DIR) -> str:
    """A hash of every intents/*.yaml (examples, vocabulary, Hindi spellings: all shape the features)."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.yaml")):
        digest.update(path.name.encode("utf-8") + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def train(root: Path = ROOT, out_dir: Path = MODELS_DIR, *, with_kfold: bool = True) -> dict[str, Any]:
    """Train on the catalogue's examples, write the artifact, return its metadata."""
    from bot.catalog.loader import load_catalog
    from bot.nlu.matcher import Matcher

    catalog = load_catalog(root)
    examples = catalog.examples
    bare = Matcher.build(examples, catalog.vocabulary, ranker=None)
    arrays, intents = _fit_arrays(examples, bare, C)
    metadata: dict[str, Any] = {
        "inputs": {"intents_sha256": intents_fingerprint(root / "intents")},
        "examples_sha256": examples_fingerprint(examples),
        "intents": intents,
        "C": C,
        "examples": sum(len(p) for p in examples.values()),
        "features": int(len(arrays["idf"])),
        "libraries": {name: version(name) for name in ("scikit-learn", "numpy", "scipy")},
    }
    if with_kfold:
        metadata["kfold_top1"] = kfold_top1(examples, catalog.vocabulary)
    write_artifact(artifact_paths(out_dir), arrays, metadata)
    return metadata


def staleness(root: Path = ROOT, out_dir: Path = MODELS_DIR) -> str | None:
    """Why the shipped artifact does not match intents/*.yaml, or None when it is current."""
    stored = stored_inputs(artifact_paths(out_dir))
    if stored is None:
        return f"no trained intent ranker in {out_dir}: run python -m bot train-matcher"
    if stored.get("intents_sha256") != intents_fingerprint(root / "intents"):
        return "the intent ranker is stale (intents/*.yaml changed since it was trained): run python -m bot train-matcher"
    return None


def run_train_matcher(check: bool, out: TextIO) -> int:
    """`python -m bot train-matcher [--check]`: retrain and report, or say in one line whether it is stale."""
    if check:
        problem = staleness()
        print(problem or "the intent ranker is current", file=out)
        return 1 if problem else 0
    metadata = train()
    print(f"trained on {metadata['examples']} examples, {metadata['features']} features -> {artifact_paths()[0].parent}", file=out)
    for language, row in metadata.get("kfold_top1", {}).items():
        print(f"{FOLDS}-fold top-1 {language} ({row['n']}): matcher {row['matcher']:.3f}, fused {row['fused']:.3f}", file=out)
    return 0
