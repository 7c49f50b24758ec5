"""The learned intent ranker: shipped current, plain data, retrained byte for byte, fused on the Hindi route only."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from bot.catalog.loader import load_catalog
from bot.nlu.intent_ranker import artifact_paths, char_features, examples_fingerprint, load_ranker, word_features
from bot.nlu.intent_ranker_training import intents_fingerprint, staleness, train
from bot.nlu.matcher import Matcher

ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(ROOT)


@pytest.fixture(scope="module")
def matcher(catalog) -> Matcher:
    return Matcher.build(catalog.examples, catalog.vocabulary)


def test_the_shipped_ranker_is_current() -> None:
    assert staleness() is None  # else: python -m bot train-matcher, and commit models/


def test_staleness_names_a_changed_intents_file(tmp_path: Path) -> None:
    (tmp_path / "intents").mkdir()
    (tmp_path / "intents" / "faq.yaml").write_text("intents: []\n", encoding="utf-8")
    assert "stale (intents" in (staleness(tmp_path) or "")
    assert "no trained intent ranker" in (staleness(ROOT, tmp_path / "none") or "")


def test_the_shipped_arrays_are_plain_numbers_and_no_pickle() -> None:
    arrays_path, meta_path = artifact_paths()
    with zipfile.ZipFile(arrays_path) as archive:
        assert sorted(archive.namelist()) == ["features.npy", "idf.npy", "intercept.npy", "weights.npy"]
    with np.load(arrays_path, allow_pickle=False) as arrays:
        assert all(arrays[name].dtype != object for name in arrays.files)
    metadata = json.loads(meta_path.read_text(encoding="utf-8"))
    assert metadata["inputs"]["intents_sha256"] == intents_fingerprint()
    ranker = load_ranker()
    assert ranker.weights.shape == (len(ranker.index), len(ranker.intents))


def test_retraining_gives_the_same_bytes(tmp_path: Path) -> None:
    train(ROOT, tmp_path, with_kfold=False)
    assert artifact_paths(tmp_path)[0].read_bytes() == artifact_paths()[0].read_bytes()


def test_the_kfold_figures_recorded_at_training_beat_the_matcher_alone() -> None:
    figures = json.loads(artifact_paths()[1].read_text(encoding="utf-8"))["kfold_top1"]
    for language in ("hinglish", "deva"):
        assert figures[language]["fused"] > figures[language]["matcher"]
    assert figures["hinglish"]["fused"] >= 0.90 and figures["deva"]["fused"] >= 0.93
    assert figures["en"]["fused"] == figures["en"]["matcher"]  # the English route is the matcher alone


def test_the_shipped_ranker_is_used_only_with_its_own_examples(catalog, matcher: Matcher) -> None:
    assert matcher.ranker is not None
    assert matcher.ranker.metadata["examples_sha256"] == examples_fingerprint(catalog.examples)
    fewer = {intent: phrasings[1:] for intent, phrasings in catalog.examples.items()}
    assert Matcher.build(fewer, catalog.vocabulary).ranker is None  # a k-fold's matcher never sees its held-out lines


def test_english_scores_are_the_matcher_alone(matcher: Matcher) -> None:
    bare = matcher.with_ranker(None)
    for text in ("how do i trust him again", "is it cheating if he likes her photos", "book an appointment"):
        assert matcher.scores(text) == bare.scores(text)


def test_hindi_scores_move_and_stay_on_0_to_100(matcher: Matcher) -> None:
    bare = matcher.with_ranker(None)
    for text in ("mera pati roz apni ex ko text karta hai, kya ye cheating hai", "पति पर दोबारा भरोसा कैसे करूँ"):
        fused = matcher.scores(text)
        assert fused != bare.scores(text)
        assert all(0.0 <= c.score <= 100.0 for c in fused)
    assert matcher.match("पति पर दोबारा भरोसा कैसे करूँ").top == "rebuild_trust"


def test_probabilities_sum_to_one_and_unknown_text_is_uniform(matcher: Matcher) -> None:
    ranker = matcher.ranker
    assert ranker is not None
    p = ranker.probabilities(matcher.normalize("bharosa kaise karu"))
    assert abs(sum(p.values()) - 1.0) < 1e-9
    assert set(p) == set(ranker.intents)
    assert sum(ranker.probabilities([]).values()) == pytest.approx(1.0)


def test_features_are_words_pairs_and_in_word_character_grams() -> None:
    assert word_features(["trust", "him"]) == ["trust", "him", "trust him"]
    grams = char_features(["ab"])
    assert " a" in grams and "ab " in grams and " ab " in grams and "b" not in grams


def test_check_tells_a_content_editor_to_retrain_a_stale_ranker(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import bot.nlu.intent_ranker_training as training
    from bot.__main__ import main

    monkeypatch.setattr(training, "staleness", lambda *args, **kwargs: "the intent ranker is stale (intents/*.yaml changed since it was trained): run python -m bot train-matcher")
    assert main(["check"]) == 0  # the bot still runs: a warning, not an error
    assert "run python -m bot train-matcher" in capsys.readouterr().out
