"""Training the safety model from the corpus: `python -m bot train-safety` (scikit-learn).

Deterministic: fixed folds and seeds, a sorted vocabulary, arrays written into a zip with fixed
timestamps, so the same corpus gives byte-identical artifacts. The steps:

1. featurise every line with `safety_classifier.analyse`, counted once (CountVectorizer); each
   fit weighs the counts by TF-IDF from its own lines (sublinear tf, features seen in at least
   MIN_DF lines, words weighing WORD_WEIGHT times more);
2. 5-fold cross-validation (stratified by label) of four models on the same features (`fit`):
   - the coarse one: two logistic regressions averaged into one linear model, a multinomial one
     (crisis / danger at home / safe) and a binary one (any risk / safe);
   - the fine one: a multinomial logistic regression over the kinds of line (label and
     category: "crisis/euphemism", "not_crisis/resolved_history"...), its probabilities summed
     per label;
   - two views (VIEWS): the fine one again over words and word pairs alone, and over letters
     within words alone, each TF-IDF normalised within its own features;
   all balanced per language and label (each cell weighs the same, so that no language becomes
   a cue for a label just because more crises were written in it; everyday traffic is a cell of
   its own): out-of-fold scores for every line;
3. Platt scaling per class and model fitted on those out-of-fold scores; the four models'
   calibrated probabilities are averaged (`safety_classifier.calibrate`);
4. thresholds picked on the out-of-fold probabilities fused with the lexicon (`pick_thresholds`),
   a lexicon hit lifting a line to a check-in above its floor as in `safety_check.fuse`;
5. the model refitted on every line, written to models/ with the figures of step 4.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from collections import Counter
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any, Final, TextIO

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import normalize

from bot.nlu.artifacts import stored_inputs, write_artifact
from bot.nlu.safety import SafetyDetector, load_safety_lexicon
from bot.nlu.safety_check import EXPLICIT_PATTERNS, SafetyCheck
from bot.nlu.safety_classifier import CHAR_NGRAMS, CLASSES, FUNCTION_WORDS_FILE, CROSS_NGRAMS, MODELS_DIR, WORD_NGRAMS, Thresholds, analyse, artifact_paths, calibrate, fine_scores
from bot.nlu.safety_corpus import CORPUS_DIR, README, ROOT, Example, corpus_files, counts_table, fingerprint, read_examples, write_counts

SEED: Final = 20240601
FOLDS: Final = 5
C: Final = 30.0
TOLERANCE: Final = 1e-3
# Measured on the 5-fold (same budgets, same lexicon): the coarse model alone caught crisis 0.927
# and danger at home 0.936; the fine one alone 0.952 / 0.964; the two averaged 0.952 / 0.958, and
# the average kept every line of the first development set that the fine one alone lost (hold-outs:
# crisis 0.979 -> 0.986, 0.987 -> 0.994). The fine model costs its weights (kinds x features,
# float16) and a minute and a half of training per fit. Then 700 everyday lines were added
# (corpus/safety/everyday_errands.jsonl: errands, commuting, places; the model had read "going to
# the market to buy vegetables" as a plan): 5-fold 0.944 / 0.952 (the new safe errands near a
# means count among the hard lines), and the neutral hold-out (150 lines) flagged 50% -> 16%.
# The binary model's share of the coarse one. Measured on the 5-fold (crisis caught at the same
# budgets): multinomial alone 0.86, binary alone 0.85, the two averaged 0.90 (weights 0.3 and
# 0.7: flat); the multinomial one tells crisis from danger at home, the binary one draws a
# cleaner line between any risk and safe. An average of linear models is linear, so the run time
# is unchanged: one weight matrix.
BINARY_SHARE: Final = 0.5
# Two more fine models, each over one kind of feature alone (words and word pairs; letters within
# words), averaged with the others: each sees the message another way and errs elsewhere. Measured on
# the 5-fold (same budgets): crisis caught 0.946 -> 0.953, danger at home 0.956 -> 0.959, alerts on
# crises 0.734 -> 0.759; letters across word breaks alone made it worse (0.932). Small weights:
# about 26,000 and 30,000 features by 40 kinds, float16.
VIEWS: Final = ("w", "c")
# Words and word pairs against the many character n-grams: measured on the k-fold, 3 catches
# 1-2 points more at the same alarms than 1 (2 and 4 in between / the same).
WORD_WEIGHT: Final = 3.0
MIN_DF: Final = 2
# The budgets of the threshold rule (`pick_thresholds`), on the k-fold, a little under the targets
# (alerts on safe lines <= 5%, check-ins <= 20%) since other people's messages will differ:
ALERT_BUDGET: Final = 0.04
CHECK_IN_BUDGET: Final = 0.19
# How confident the model must be that a line is safe to let a lexicon hit go (`safety_check`):
# P(risk) under 0.1 for an explicit pattern, under 0.2 for another. Policy, not picked: picked on
# the k-fold they would rise to "the model alone" (measured: 5-fold crisis caught 0.744 with hits
# standing, 0.865 with these floors, 0.899 with the model alone, all at the same budgets).
EXPLICIT_FLOOR: Final = 0.1
HIT_FLOOR: Final = 0.2
# Lines of everyday traffic (the intents' example phrasings, snapshot in extra_classifier.jsonl):
# learnt from, so that "hi" or "tell me more" look safe, but left out of the threshold rule and
# the figures, which are about the hard cases.
EVERYDAY: Final = frozenset({"ordinary", "intent_example"})
GRID: Final = tuple(round(0.01 * step, 2) for step in range(1, 100))
SPELLING_FILE: Final = ROOT / "intents" / "hindi_spelling.yaml"
LEXICON_FILE: Final = ROOT / "intents" / "safety.yaml"
TRAINING_VERSION: Final = 9  # bump when this module changes what it produces


def parameters() -> dict[str, Any]:
    """Everything that decides the model besides its data (stored, and part of the freshness check)."""
    return {
        "training_version": TRAINING_VERSION, "seed": SEED, "folds": FOLDS, "C": C, "min_df": MIN_DF,
        "char_ngrams": list(CHAR_NGRAMS), "word_ngrams": list(WORD_NGRAMS), "cross_ngrams": list(CROSS_NGRAMS),
        "weights": "balanced per (lang, label or everyday)", "solver": "newton-cg + liblinear; fine: lbfgs over label/category", "binary_share": BINARY_SHARE, "views": list(VIEWS), "tol": TOLERANCE, "word_weight": WORD_WEIGHT,
        "calibration": "platt per class on out-of-fold scores",
        "alert_budget": ALERT_BUDGET, "check_in_budget": CHECK_IN_BUDGET, "explicit_floor": EXPLICIT_FLOOR, "hit_floor": HIT_FLOOR,
    }


def inputs_fingerprint(corpus_dir: Path = CORPUS_DIR) -> dict[str, Any]:
    """What the artifact must have been trained on to be current."""
    return {
        "corpus_sha256": fingerprint(corpus_files(corpus_dir)),
        "hindi_spelling_sha256": hashlib.sha256(SPELLING_FILE.read_bytes()).hexdigest(),
        "safety_lexicon_sha256": hashlib.sha256(LEXICON_FILE.read_bytes()).hexdigest(),
        "function_words_sha256": hashlib.sha256(FUNCTION_WORDS_FILE.read_bytes()).hexdigest(),
        "parameters": parameters(),
    }


class Counts:
    """Every line's feature counts, counted once (scikit-learn's CountVectorizer over `analyse`);
    each fold then weighs them by TF-IDF from its own training lines, exactly as
    `safety_classifier.SafetyModel.scores` does at run time: sublinear tf, smoothed idf, l2 rows."""

    def __init__(self, features: Sequence[list[str]]) -> None:
        counter = CountVectorizer(analyzer=_identity, dtype=np.float64)
        self.matrix = counter.fit_transform(features).tocsr()
        self.names: list[str] = counter.get_feature_names_out().tolist()
        self.kind = np.array([name[0] for name in self.names])
        self.is_word = self.kind == "w"

    def idf(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(columns kept: seen in at least MIN_DF of the rows, their idf) from these rows alone;
        words and word pairs weigh WORD_WEIGHT times more (the idf carries it to run time)."""
        seen = np.asarray((self.matrix[rows] > 0).sum(axis=0)).ravel()
        columns = np.flatnonzero(seen >= MIN_DF)
        idf = np.log((1.0 + len(rows)) / (1.0 + seen[columns])) + 1.0
        return columns, np.where(self.is_word[columns], WORD_WEIGHT * idf, idf)

    def tfidf(self, rows: np.ndarray, columns: np.ndarray, idf: np.ndarray) -> sparse.csr_matrix:
        matrix = self.matrix[rows][:, columns].tocsr()
        matrix.data = 1.0 + np.log(matrix.data)
        matrix = matrix @ sparse.diags(idf)
        return normalize(matrix, norm="l2", copy=False).tocsr()


@dataclass(frozen=True)
class Fitted:
    """A model fitted on some lines: the features it kept, their idf, the coarse linear model
    (`coef`: classes x features, `intercept`: per class, in CLASSES order) and the fine one
    (`fine_coef`: kinds x features, `fine_intercept`, `fine_groups`: each kind's class index)."""

    counts: Counts
    columns: np.ndarray
    idf: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    fine_coef: np.ndarray
    fine_intercept: np.ndarray
    fine_groups: np.ndarray
    views: tuple[View, ...] = ()

    def scores(self, rows: np.ndarray) -> np.ndarray:
        """Per row, the coarse model's three scores, then the fine model's, then each view's
        (`safety_classifier.SafetyModel.scores`)."""
        matrix = self.counts.tfidf(rows, self.columns, self.idf)
        coarse = np.asarray(matrix @ self.coef.T) + self.intercept
        fine = np.asarray(matrix @ self.fine_coef.T) + self.fine_intercept
        blocks = [coarse, fine_scores(fine, self.fine_groups)]
        for view in self.views:
            within = self.counts.tfidf(rows, self.columns[view.start : view.stop], self.idf[view.start : view.stop])
            blocks.append(fine_scores(np.asarray(within @ view.coef.T) + view.intercept, self.fine_groups))
        return np.hstack(blocks)


@dataclass(frozen=True)
class View:
    """A fine model over one kind of feature alone: the kept columns [start, stop) (a kind's
    columns are contiguous, the vocabulary being sorted), TF-IDF normalised within them."""

    kind: str
    start: int
    stop: int
    coef: np.ndarray
    intercept: np.ndarray


def balance(cells: Sequence[str]) -> np.ndarray:
    """Sample weights giving each cell the same total weight; they average 1."""
    sizes = Counter(cells)
    weights = np.array([1.0 / sizes[cell] for cell in cells])
    return weights * len(cells) / weights.sum()


def fit(counts: Counts, rows: np.ndarray, labels: Sequence[str], cells: Sequence[str], kinds: Sequence[str]) -> Fitted:
    """TF-IDF over the given rows, then two models, each balancing cell (`groups_of`) weighing the same:

    - the coarse one: two logistic regressions averaged into one linear model, the multinomial
      one (crisis / danger at home / safe) and a binary one (risk against safe) whose score s
      counts as (s/2, s/2, -s) for (crisis, danger at home, safe);
    - the fine one: a multinomial logistic regression over the kinds of line (`kinds_of`: label
      and category, "crisis/preparation_goodbye", "not_crisis/resolved_history"...), whose
      probabilities are summed per label. Each kind is nearer a straight line from the others
      than the union its label is, so the sum draws a bent line: "used to cut" is near history
      and "cut" near self-harm, where one weight per word must pick a side.

    `labels`, `cells` and `kinds` are those of the rows."""
    columns, idf = counts.idf(rows)
    matrix, weights = counts.tfidf(rows, columns, idf), balance(cells)
    classes = np.array([CLASSES.index(label) for label in labels])
    multinomial = LogisticRegression(C=C, max_iter=5000, solver="newton-cg", tol=TOLERANCE, random_state=SEED)
    multinomial.fit(matrix, classes, sample_weight=weights)
    binary = LogisticRegression(C=C, max_iter=5000, solver="liblinear", tol=TOLERANCE, random_state=SEED)
    binary.fit(matrix, (classes != CLASSES.index("not_crisis")).astype(int), sample_weight=weights)
    spread = np.array([0.5, 0.5, -1.0])[:, None]  # the binary score as per-class scores
    coef = (1.0 - BINARY_SHARE) * multinomial.coef_ + BINARY_SHARE * spread * binary.coef_
    intercept = (1.0 - BINARY_SHARE) * multinomial.intercept_ + BINARY_SHARE * spread[:, 0] * binary.intercept_[0]
    kind_names = sorted(set(kinds))
    targets = np.array([kind_names.index(kind) for kind in kinds])
    fine = LogisticRegression(C=C, max_iter=5000, solver="lbfgs", tol=TOLERANCE, random_state=SEED)
    fine.fit(matrix, targets, sample_weight=weights)
    groups = np.array([CLASSES.index(kind_names[k].split("/")[0]) for k in fine.classes_])
    views = []
    for feature_kind in VIEWS:
        (positions,) = np.nonzero(counts.kind[columns] == feature_kind)
        start, stop = int(positions[0]), int(positions[-1]) + 1
        assert stop - start == len(positions), "a kind's columns are contiguous in the sorted vocabulary"
        within = counts.tfidf(rows, columns[start:stop], idf[start:stop])
        model = LogisticRegression(C=C, max_iter=5000, solver="lbfgs", tol=TOLERANCE, random_state=SEED)
        model.fit(within, targets, sample_weight=weights)
        views.append(View(feature_kind, start, stop, model.coef_, model.intercept_))
    return Fitted(counts, columns, idf, coef, intercept, fine.coef_, fine.intercept_, groups, tuple(views))


def _identity(features: list[str]) -> list[str]:
    return features


def out_of_fold_scores(counts: Counts, labels: Sequence[str], cells: Sequence[str], kinds: Sequence[str], folds: int = FOLDS) -> np.ndarray:
    """Each line's scores from a model that never saw it (stratified k-fold, fixed seed)."""
    scores = np.zeros((len(labels), (2 + len(VIEWS)) * len(CLASSES)))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
    for train, test in splitter.split(np.zeros(len(labels)), labels):
        fitted = fit(counts, train, [labels[i] for i in train], [cells[i] for i in train], [kinds[i] for i in train])
        scores[test] = fitted.scores(test)
    return scores


def fit_platt(scores: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """(a, b) per score column so that 1 / (1 + exp(a * score + b)) is the probability of its
    class (columns: each model's scores in CLASSES order)."""
    platt = np.zeros((scores.shape[1], 2))
    for k in range(scores.shape[1]):
        target = np.array([label == CLASSES[k % len(CLASSES)] for label in labels], dtype=int)
        sigmoid = LogisticRegression(C=1e4, max_iter=1000).fit(scores[:, [k]], target)
        platt[k] = (-sigmoid.coef_[0, 0], -sigmoid.intercept_[0])
    return platt


def outcomes(risk: np.ndarray, hits: np.ndarray, thresholds: Thresholds) -> np.ndarray:
    """Per line: 2 alert, 1 check-in, 0 nothing, as `safety_check.fuse` decides. `hits`: per line
    0 no lexicon hit, 1 a hit, 2 a hit on an explicit pattern (`lexicon_hits`)."""
    tiers = np.where(risk >= thresholds.alert, 2, np.where(risk >= thresholds.check_in, 1, 0))
    tiers = np.where((hits == 2) & (tiers == 1), 2, tiers)  # an explicit hit the model sees risk in: an alert
    floor = np.where(hits == 2, thresholds.explicit_floor, np.where(hits == 1, thresholds.hit_floor, np.inf))
    return np.where((tiers == 0) & (risk >= floor), 1, tiers)


def figures(tiers: np.ndarray, labels: Sequence[str]) -> dict[str, float]:
    """Caught (alert or check-in) and alert-only per safety label; alerts and check-ins on safe lines."""
    labels_array = np.array(labels)
    result: dict[str, float] = {}
    for name in ("crisis", "unsafe_at_home"):
        mask = labels_array == name
        result[f"{name}_caught"] = round(float(np.mean(tiers[mask] >= 1)), 4) if mask.any() else 1.0
        result[f"{name}_alert"] = round(float(np.mean(tiers[mask] == 2)), 4) if mask.any() else 1.0
    safe = labels_array == "not_crisis"
    result["safe_alerts"] = round(float(np.mean(tiers[safe] == 2)), 4) if safe.any() else 0.0
    result["safe_check_ins"] = round(float(np.mean(tiers[safe] == 1)), 4) if safe.any() else 0.0
    return result


def pick_thresholds(risk: np.ndarray, hits: np.ndarray, labels: Sequence[str]) -> Thresholds:
    """The documented rule, on out-of-fold probabilities fused with the lexicon as in production
    (its floors fixed: EXPLICIT_FLOOR, HIT_FLOOR): among the alert and check-in thresholds that
    give at most ALERT_BUDGET of the safe lines an alert and at most CHECK_IN_BUDGET a check-in,
    the one catching (alert or check-in) the most crisis and unsafe lines; ties go to more crises
    caught, then to more alerts on them."""
    labels_array = np.array(labels)
    safe, crisis = labels_array == "not_crisis", labels_array == "crisis"
    best: tuple[tuple[float, float, float], Thresholds] | None = None
    for alert in GRID:
        for check_in in (t for t in GRID if t <= alert):
            thresholds = Thresholds(alert, check_in, EXPLICIT_FLOOR, HIT_FLOOR)
            tiers = outcomes(risk, hits, thresholds)
            if np.mean(tiers[safe] == 2) > ALERT_BUDGET or np.mean(tiers[safe] == 1) > CHECK_IN_BUDGET:
                continue
            key = (float(np.mean(tiers[~safe] >= 1)), float(np.mean(tiers[crisis] >= 1)), float(np.mean(tiers[~safe] == 2)))
            if best is None or key > best[0]:
                best = (key, thresholds)
    return best[1] if best is not None else Thresholds(GRID[-1], GRID[-1], EXPLICIT_FLOOR, HIT_FLOOR)


def by_category(tiers: np.ndarray, examples: Sequence[Example]) -> dict[str, dict[str, float]]:
    """Per label/category: lines, and the share caught (safety labels) or left alone (not_crisis)."""
    table: dict[str, dict[str, float]] = {}
    for key in sorted({f"{e.label}/{e.category}" for e in examples}):
        index = [i for i, e in enumerate(examples) if f"{e.label}/{e.category}" == key]
        share = float(np.mean(tiers[index] >= 1)) if not key.startswith("not_crisis") else float(np.mean(tiers[index] == 0))
        table[key] = {"n": len(index), "ok": round(share, 4)}
    return table


def lexicon_hits(texts: Sequence[str]) -> np.ndarray:
    """Whether the shipped lexicon fires on each text (it is fused with the model, not trained):
    0 no, 1 yes, 2 on an explicit pattern (`safety_check.EXPLICIT_PATTERNS`)."""
    lexicon = load_safety_lexicon(LEXICON_FILE)
    check = SafetyCheck.build(SafetyDetector.from_lexicon(lexicon), lexicon, None)
    verdicts = [check.lexicon_verdict(text) for text in texts]
    return np.array([0 if v is None else 2 if v.pattern.split("+")[0] in EXPLICIT_PATTERNS else 1 for v in verdicts])


@dataclass(frozen=True)
class KFoldResult:
    """Out-of-fold probabilities, the thresholds picked on them and the figures they give."""

    probabilities: np.ndarray
    platt: np.ndarray
    thresholds: Thresholds
    figures: dict[str, float]
    categories: dict[str, dict[str, float]]


def kfold(examples: Sequence[Example], folds: int = FOLDS, counts: Counts | None = None) -> KFoldResult:
    """The k-fold over the corpus, fused with the lexicon: what the thresholds are picked on."""
    counts = counts or Counts([analyse(e.text) for e in examples])
    labels = [e.label for e in examples]
    scores = out_of_fold_scores(counts, labels, groups_of(examples), kinds_of(examples), folds)
    platt = fit_platt(scores, labels)
    probabilities = calibrate(scores, platt)
    risk = 1.0 - probabilities[:, CLASSES.index("not_crisis")]
    hard = np.array([e.category not in EVERYDAY for e in examples])
    hits = lexicon_hits([e.text for e in examples])
    hard_labels = [e.label for e in examples if e.category not in EVERYDAY]
    thresholds = pick_thresholds(risk[hard], hits[hard], hard_labels)
    tiers = outcomes(risk, hits, thresholds)
    found = figures(tiers[hard], hard_labels)
    found["everyday_flagged"] = round(float(np.mean(tiers[~hard & (np.array(labels) == "not_crisis")] >= 1)), 4) if (~hard).any() else 0.0
    return KFoldResult(probabilities, platt, thresholds, found, by_category(tiers, examples))


def groups_of(examples: Sequence[Example]) -> list[str]:
    """The balancing cell of each line: language and label, so no language becomes a cue for a
    label just because more crises were written in it; everyday traffic is a cell of its own
    per language, so it does not drown the hard negatives."""
    return [f"{e.lang}/{'ordinary' if e.category in EVERYDAY else e.label}" for e in examples]


def kinds_of(examples: Sequence[Example]) -> list[str]:
    """The fine model's classes: label and category ("crisis/euphemism")."""
    return [f"{e.label}/{e.category}" for e in examples]


def export_arrays(fitted: Fitted, platt: np.ndarray) -> dict[str, np.ndarray]:
    """The arrays the run-time model reads (`safety_classifier.model_from_arrays`), float32, sorted features."""
    names = [fitted.counts.names[i] for i in fitted.columns]  # already sorted, as CountVectorizer sorts
    return {
        "features": np.frombuffer("\n".join(names).encode("utf-8"), dtype=np.uint8),
        "idf": fitted.idf.astype(np.float32),
        "weights": fitted.coef.T.astype(np.float32),
        "intercept": fitted.intercept.astype(np.float32),
        # Half precision: the largest array (kinds x features), 12 MB instead of 24, and the
        # scores move by about 1e-3 (tests/test_safety_classifier.py holds the bound).
        "fine_weights": fitted.fine_coef.T.astype(np.float16),
        "fine_intercept": fitted.fine_intercept.astype(np.float32),
        "fine_groups": fitted.fine_groups.astype(np.int8),
        "platt": platt.astype(np.float32),
        # Each view: the features it reads [start, stop) and its weights, as the fine model's.
        "view_ranges": np.array([[view.start, view.stop] for view in fitted.views], dtype=np.int64).reshape(-1, 2),
        **{f"view{i}_weights": view.coef.T.astype(np.float16) for i, view in enumerate(fitted.views)},
        **{f"view{i}_intercept": view.intercept.astype(np.float32) for i, view in enumerate(fitted.views)},
    }


def train(corpus_dir: Path = CORPUS_DIR, out_dir: Path = MODELS_DIR) -> dict[str, Any]:
    """Train on the corpus, write the artifact, return its metadata (with the k-fold figures)."""
    examples = read_examples(corpus_files(corpus_dir))
    counts = Counts([analyse(e.text) for e in examples])
    result = kfold(examples, counts=counts)
    final = fit(counts, np.arange(len(examples)), [e.label for e in examples], groups_of(examples), kinds_of(examples))
    arrays = export_arrays(final, result.platt)
    metadata = {
        "inputs": inputs_fingerprint(corpus_dir),
        "classes": list(CLASSES),
        "thresholds": asdict(result.thresholds),
        "kfold": result.figures,
        "kfold_by_category": result.categories,
        "lines": len(examples),
        "features": len(final.idf),
        "libraries": {name: version(name) for name in ("scikit-learn", "numpy", "scipy", "indic-transliteration")},
    }
    write_artifact(artifact_paths(out_dir), arrays, metadata)
    return metadata


def staleness(corpus_dir: Path = CORPUS_DIR, out_dir: Path = MODELS_DIR) -> str | None:
    """Why the shipped artifact does not match its inputs, or None when it is current."""
    stored = stored_inputs(artifact_paths(out_dir))
    if stored is None:
        return f"no trained safety model in {out_dir}: run python -m bot train-safety"
    current = inputs_fingerprint(corpus_dir)
    changed = [key.removesuffix("_sha256") for key in current if stored.get(key) != current[key]]
    if changed:
        return f"the safety model is stale ({', '.join(changed)} changed since it was trained): run python -m bot train-safety"
    return None


def run_train_safety(check: bool, out: TextIO) -> int:
    """`python -m bot train-safety [--check]`: retrain and report, or say in one line whether it is stale."""
    if check:
        problem = staleness()
        print(problem or "the safety model is current", file=out)
        return 1 if problem else 0
    examples = read_examples(corpus_files())
    metadata = train()
    table = counts_table(examples)
    written = write_counts(README, table)
    print(f"trained on {metadata['lines']} lines, {metadata['features']} features -> {artifact_paths()[0].parent}", file=out)
    print(table, file=out)
    if not written:
        print(f"(no count markers in {README}: table not written there)", file=out)
    thresholds, figures_ = metadata["thresholds"], metadata["kfold"]
    print(f"thresholds: alert {thresholds['alert']}, check-in {thresholds['check_in']}, lexicon hit let go below {thresholds['explicit_floor']} (explicit) / {thresholds['hit_floor']}", file=out)
    print(
        f"{FOLDS}-fold: crisis caught {figures_['crisis_caught']:.1%} (alert {figures_['crisis_alert']:.1%}), "
        f"unsafe_at_home caught {figures_['unsafe_at_home_caught']:.1%} (alert {figures_['unsafe_at_home_alert']:.1%}), "
        f"safe lines: alerts {figures_['safe_alerts']:.1%}, check-ins {figures_['safe_check_ins']:.1%}",
        file=out,
    )
    weak = [f"{key} {row['ok']:.0%} of {row['n']}" for key, row in metadata["kfold_by_category"].items() if row["ok"] < 0.9]
    if weak:
        print("weakest categories (caught, or left alone for not_crisis): " + "; ".join(weak), file=out)
    return 0
