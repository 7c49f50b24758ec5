"""The learned safety check: trained from the corpus, shipped current, fused with the lexicon in tiers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from bot.app import build_detector, build_matcher
from bot.catalog.loader import Catalog
from bot.nlu.hindi import normalise_hindi
from bot.nlu.safety import SafetyVerdict
from bot.nlu.safety_check import SafetyAssessment, SafetyCheck, fuse
from bot.nlu.safety_classifier import FeatureIndex, HashedVocabulary, Prediction, Thresholds, analyse, artifact_paths, model_from_arrays, shipped_model
from bot.nlu.safety_corpus import corpus_files, read_examples
from bot.nlu.safety_training import VIEWS, Counts, export_arrays, fit, groups_of, kfold, kinds_of, staleness, train
from bot.nlu.understand import understand
from tests.conftest import make_settings

THRESHOLDS = Thresholds(alert=0.8, check_in=0.5, explicit_floor=0.1, hit_floor=0.2)


@pytest.fixture(scope="module")
def check(catalog: Catalog) -> SafetyCheck:
    return build_detector(catalog)


def tier(check: SafetyCheck, text: str) -> str:
    found = check.check(text)
    return "none" if found is None else f"{found.tier}:{found.label}"


# --- shipped and current -----------------------------------------------------------------------


def test_the_shipped_model_matches_the_corpus_the_spelling_table_and_the_lexicon() -> None:
    assert staleness() is None  # else: python -m bot train-safety, and commit models/


def test_the_shipped_model_is_plain_arrays_and_json() -> None:
    arrays_path, meta_path = artifact_paths()
    with np.load(arrays_path, allow_pickle=False) as arrays:
        assert {"features", "idf", "weights", "intercept", "fine_weights", "fine_intercept", "fine_groups", "platt"} <= set(arrays.files)
    metadata = json.loads(meta_path.read_text(encoding="utf-8"))
    assert {"inputs", "thresholds", "kfold", "libraries"} <= set(metadata)
    assert 0 < metadata["thresholds"]["check_in"] <= metadata["thresholds"]["alert"] < 1


@pytest.mark.timeout(1800)  # five folds of four models over ~12,000 lines: about 9 minutes on two cores
def test_the_kfold_over_the_corpus_stays_above_its_floor() -> None:
    found = kfold(read_examples(corpus_files())).figures
    # Floors a little under what was measured (models/safety_classifier.json, "kfold").
    assert found["crisis_caught"] >= 0.94, found  # 0.953
    assert found["unsafe_at_home_caught"] >= 0.945, found  # 0.959
    assert found["safe_alerts"] <= 0.05, found
    assert found["safe_check_ins"] <= 0.20, found
    assert found["everyday_flagged"] <= 0.06, found


def test_training_is_byte_identical_from_the_same_corpus(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    examples = read_examples(corpus_files())
    lines = []
    for label in ("crisis", "unsafe_at_home", "not_crisis"):
        lines += [e for e in examples if e.label == label and e.category != "ordinary"][:40]
    rows = [{"text": e.text, "label": e.label, "category": e.category, "lang": e.lang} for e in lines]
    (corpus / "small.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    train(corpus, tmp_path / "one")
    train(corpus, tmp_path / "two")
    for one, two in zip(artifact_paths(tmp_path / "one"), artifact_paths(tmp_path / "two"), strict=True):
        assert one.read_bytes() == two.read_bytes()
    assert staleness(corpus, tmp_path / "one") is None
    with (corpus / "small.jsonl").open("a", encoding="utf-8") as file:
        file.write(json.dumps({"text": "a new line", "label": "not_crisis", "category": "sad_safe", "lang": "en"}) + "\n")
    assert "stale (corpus changed" in (staleness(corpus, tmp_path / "one") or "")
    shutil.rmtree(tmp_path / "two")
    assert "no trained safety model" in (staleness(corpus, tmp_path / "two") or "")


def test_the_run_time_model_scores_as_scikit_learn_did() -> None:
    everything = read_examples(corpus_files())
    examples = [e for label in ("crisis", "unsafe_at_home", "not_crisis") for e in everything if e.label == label][::20]
    counts = Counts([analyse(e.text) for e in examples])
    rows = np.arange(len(examples))
    fitted = fit(counts, rows, [e.label for e in examples], groups_of(examples), kinds_of(examples))
    blocks = 2 + len(VIEWS)
    model = model_from_arrays(export_arrays(fitted, np.tile([-1.0, 0.0], (3 * blocks, 1))), {"thresholds": {"alert": 0.9, "check_in": 0.5}})
    assert len(model.views) == len(VIEWS) == 2
    expected = fitted.scores(rows[:40])
    found = np.array([model.scores(e.text) for e in examples[:40]])
    assert found.shape == expected.shape == (40, 3 * blocks)
    assert np.allclose(found[:, :3], expected[:, :3], atol=1e-4)  # the coarse model: float32 weights
    assert np.allclose(found[:, 3:], expected[:, 3:], atol=2e-2)  # the fine one and the views: float16 weights
    assert not np.allclose(expected[:, 6:9], expected[:, 3:6], atol=1e-2), "a view reads the message another way"


def test_the_hashed_vocabulary_finds_exactly_what_a_dictionary_of_the_names_would() -> None:
    """The run-time vocabulary keeps hashes, not strings (memory); it must find the same features."""
    model = shipped_model()
    assert model is not None
    names = [name for text in ("i want to die tonight", "gala dabaya usne", "मैं ठीक हूँ") for name in analyse(text)][:50]
    names = sorted(set(names))
    index = FeatureIndex(names)
    exact = {name: i for i, name in enumerate(names)}
    for text in ("i want to die tonight, bye", "usne gala dabaya kal raat", "मैं ठीक हूँ, चिंता मत करो", "nothing known here"):
        words = normalise_hindi(text).split()
        assert sorted(index.indices(words)) == sorted(i for name in analyse(text) if (i := exact.get(name)) is not None)
    assert sorted(model.features.indices("i want to die".split()))  # the shipped vocabulary knows these words


def test_names_sharing_a_hash_are_still_told_apart() -> None:
    names = ["c:ab", "c:cd", "c:ef"]
    vocabulary = HashedVocabulary(names, np.arange(3), prefix=2)
    assert sorted(vocabulary.lookup(["ab", "ef", "zz", "ab"])) == [0, 0, 2]
    clashing = HashedVocabulary(names, np.arange(3), prefix=2)
    clashing.collided = {"gh": 7}  # as if "gh" had shared a hash with another name: kept exact apart
    assert sorted(clashing.lookup(["gh", "cd"])) == [1, 7]
    assert len(clashing) == 4


# --- what people get ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "neend ki goliyan jama kar li hai maine, aaj raat sab khatam",
        "mujhe ab jeena hi nahi hai yaar, sab khatam karna chahti hu",
        "मैंने अभी सारी नींद की गोलियाँ खा ली हैं",
        "मैं अब और जीना नहीं चाहती, सबको अलविदा",
    ],
)
def test_a_crisis_in_hinglish_or_devanagari_is_caught(check: SafetyCheck, text: str) -> None:
    assert tier(check, text) in {"alert:crisis", "check_in:crisis"}


@pytest.mark.parametrize(
    "text",
    [
        "pati roz daaru pee ke maarta hai, kal raat gala dabaya",
        "मेरे पति ने चाकू दिखा के धमकी दी कि जान से मार देगा",
        "sasural wale dahej ke liye roz maarte hai, phone bhi chheen liya",
    ],
)
def test_danger_at_home_in_hinglish_or_devanagari_is_caught(check: SafetyCheck, text: str) -> None:
    assert tier(check, text) in {"alert:unsafe_at_home", "check_in:unsafe_at_home", "alert:crisis", "check_in:crisis"}


@pytest.mark.parametrize(
    "text",
    [
        "what does the bot do if someone types that they want to die? just curious, im fine",
        "my fav web series had an episode where the lead jumps off a building, so well made",
        "if a friend ever told me she felt like ending it, what should i say to her",
        "years back in college i had a rough phase, therapy helped a lot, now i just want to know if liking an ex's pics is cheating",
    ],
)
def test_questions_fiction_hypotheticals_and_history_get_no_alert(check: SafetyCheck, text: str) -> None:
    assert not tier(check, text).startswith("alert")


@pytest.mark.parametrize(
    "text",
    [
        "yeah i'm fine honestly",
        "i am not going to harm myself, just frustrated",
        "main theek hoon didi",
        "haan main bilkul safe hu",
        "ab main thik feel kar rahi hu",
        "हाँ मैं घर पर सुरक्षित हूँ",
    ],
)
def test_a_plain_reassurance_is_not_taken_for_risk(check: SafetyCheck, text: str) -> None:
    """Someone answering the check-in, or saying they are fine after an alert, is not sent the crisis
    lines again (these wordings are not in the corpus; "haan main safe hu" was once an alert, p 0.95)."""
    assert tier(check, text) == "none"


@pytest.mark.parametrize(
    "text",
    [
        "i'm fine. i won't do anything tonight at least",
        "i told everyone i'm fine but i've written the letters already",
        "haan theek hu, waise bhi kal tak sab khatam ho jayega",
        "मैं ठीक हूँ, बस अब जीने का मन नहीं",
    ],
)
def test_fine_followed_by_risk_is_still_caught(check: SafetyCheck, text: str) -> None:
    assert tier(check, text) != "none"


@pytest.mark.parametrize("text", ["/start", "hi", "stop", "tell me more", "thanks a lot"])
def test_everyday_short_messages_are_left_alone(check: SafetyCheck, catalog: Catalog, tmp_path: Path, text: str) -> None:
    matcher = build_matcher(catalog, make_settings(tmp_path))
    assert understand(text, check, matcher).safety is None


def test_understanding_carries_the_whole_assessment(check: SafetyCheck, catalog: Catalog, tmp_path: Path) -> None:
    matcher = build_matcher(catalog, make_settings(tmp_path))
    found = understand("i have saved up 40 sleeping pills for tonight", check, matcher).safety
    assert isinstance(found, SafetyAssessment)
    assert (found.label, found.tier, found.means) == ("crisis", "alert", True)
    assert found.evidence == f"pattern:{found.pattern}"


def test_the_model_is_shipped_and_loaded_once() -> None:
    assert shipped_model() is shipped_model() is not None


# --- the tiers, as a rule --------------------------------------------------------------------


def predicted(risk: float, label: str = "crisis") -> Prediction:
    return Prediction(label, risk, (risk, 0.0, 1 - risk) if label == "crisis" else (0.0, risk, 1 - risk))


def test_a_lexicon_hit_the_model_finds_likely_is_an_alert_and_names_its_pattern() -> None:
    found = fuse(SafetyVerdict("crisis", "crisis.want_to_die"), predicted(0.85), THRESHOLDS, names_means=False)
    assert found == SafetyAssessment("crisis", 0.85, "pattern:crisis.want_to_die", "alert", "crisis.want_to_die", False)


@pytest.mark.parametrize(("pattern", "risk", "expected"), [
    ("crisis.want_to_die", 0.15, "check_in"),  # explicit, the model unsure: still asked
    ("crisis.kill_myself+despite_negation", 0.12, "check_in"),
    ("crisis.self_harm", 0.15, None),  # not explicit: the model sure enough lets it go
    ("crisis.self_harm", 0.25, "check_in"),
    ("crisis.suicide", 0.05, None),  # the model very confident it is safe
])
def test_a_lexicon_hit_below_the_model_s_thresholds_is_a_check_in_above_its_floor(pattern: str, risk: float, expected: str | None) -> None:
    found = fuse(SafetyVerdict("crisis", pattern), predicted(risk), THRESHOLDS, names_means=False)
    assert (found.tier if found else None) == expected
    if found is not None:
        assert found.evidence == f"pattern:{pattern}"


def test_without_a_model_a_lexicon_hit_is_certain() -> None:
    found = fuse(SafetyVerdict("unsafe_at_home", "unsafe.hits_me"), None, None, names_means=False)
    assert found is not None and (found.tier, found.probability) == ("alert", 1.0)


@pytest.mark.parametrize(("risk", "expected"), [(0.95, "alert"), (0.8, "alert"), (0.6, "check_in"), (0.5, "check_in"), (0.3, None)])
def test_the_model_alone_decides_by_its_thresholds(risk: float, expected: str | None) -> None:
    found = fuse(None, predicted(risk, "unsafe_at_home"), THRESHOLDS, names_means=False)
    assert (found.tier if found else None) == expected
    if found is not None:
        assert (found.label, found.evidence, found.pattern) == ("unsafe_at_home", "model", "model")


def test_means_marks_a_plan_or_method() -> None:
    method = fuse(SafetyVerdict("crisis", "crisis.method"), predicted(0.9), THRESHOLDS, names_means=False)
    model_crisis = fuse(None, predicted(0.9), THRESHOLDS, names_means=True)
    danger = fuse(None, predicted(0.9, "unsafe_at_home"), THRESHOLDS, names_means=True)
    assert method is not None and method.means
    assert model_crisis is not None and model_crisis.means
    assert danger is not None and not danger.means


def test_plain_everyday_lines_are_rarely_taken_for_a_crisis(check: SafetyCheck) -> None:
    """Errands, commuting, places and little scenes (the hold-out of everyday_errands.jsonl,
    never trained on): "going to the market to buy vegetables" once got a crisis alert."""
    lines = read_examples([Path(__file__).resolve().parents[1] / "corpus" / "safety_holdout" / "everyday_neutral.jsonl"])
    tiers = [tier(check, line.text).split(":")[0] for line in lines]
    assert len(lines) >= 100
    assert tiers.count("alert") <= 0.02 * len(lines), tiers.count("alert")
    assert tiers.count("none") >= 0.75 * len(lines), tiers.count("none")  # measured: 0.84
