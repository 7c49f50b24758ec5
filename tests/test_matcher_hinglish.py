"""The matcher in Hinglish (Hindi in Latin letters, SMS spellings) and Hindi in Devanagari.

Every phrasing here is written for these tests; none comes from the evaluation sets, which
are only read to measure (the floors sit a little under what was measured when the Hindi
examples were written: see the report of issue 11).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.evaluation.intent_eval import Prediction, compute_metrics
from bot.nlu.language import detect_language
from bot.nlu.matcher import DEFAULT_THRESHOLDS, Matcher
from tests.test_matcher import FAQ_IDS, Shipped, load_intents, matcher, shipped  # noqa: F401 - the same fixtures

ROOT = Path(__file__).parents[1]
EVAL_DIR = ROOT.parent / "shared" / "eval"




# --- both scripts meet ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("hinglish", "devanagari"),
    [
        ("mujhe us par bharosa nahi hai", "मुझे उस पर भरोसा नहीं है"),
        ("kya ye micro cheating hai", "क्या ये माइक्रो चीटिंग है"),
        ("mera boyfriend apni ex ko message karta hai", "मेरा बॉयफ्रेंड अपनी एक्स को मैसेज करता है"),
        ("kya therapy se madad milti hai", "क्या थेरेपी से मदद मिलती है"),
    ],
)
def test_the_same_question_in_both_scripts_meets(matcher: Matcher, hinglish: str, devanagari: str) -> None:
    assert matcher.normalize(hinglish) == matcher.normalize(devanagari)
    assert matcher.match(hinglish) == matcher.match(devanagari)


@pytest.mark.parametrize(
    ("sms", "spelt_out"),
    [
        ("mjhe uspe bhrosa nhi h", "mujhe uspe bharosa nahi hai"),
        ("bf bhot late tk chat krta h", "bf bahut late tak chat karta hai"),
    ],
)
def test_sms_spellings_meet_the_spelt_out_ones(matcher: Matcher, sms: str, spelt_out: str) -> None:
    assert matcher.match(sms).top == matcher.match(spelt_out).top


# --- Hindi words stay Hindi --------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["kya wo cheating kar raha hai", "ok hai", "theek h", "sab usi ki galti hai", "mujhe hi kyu hota hai ye"],
)
def test_hinglish_is_not_taken_for_a_greeting(matcher: Matcher, text: str) -> None:
    result = matcher.match(text)
    assert result.top != "greeting" and result.intent != "greeting"
    assert "hello" not in matcher.normalize(text)


def test_common_hinglish_words_are_not_turned_into_english_ones(shipped: Shipped) -> None:
    """In a Hindi message the vocabulary keeps these words (or drops filler), never swaps them
    for an English word: "hai" is not "hi", "me" is not the English "me", "bas" is not a bus."""
    from bot.nlu.normalize import Expander

    _, vocabulary = shipped
    expander = Expander.from_vocabulary(vocabulary)
    words = "h hai hain me mein main to toh par pe kar kr bas ho the tha thi se ko ka ki ke ye vo wo kya kyu nahi mat sab ab".split()
    folded, _ = expander.fold(words)
    for word in folded:
        assert expander.expand([word], hindi_message=True) in ([word], []), word
    assert expander.expand(["hi"], hindi_message=True) != ["hello"]  # the emphatic ही


def test_the_typo_corrector_keeps_hindi_words_hindi(matcher: Matcher) -> None:
    assert "karma" not in matcher.normalize("mujhe kya karna chahiye ab")
    assert matcher.normalize("iska mtlb kya h") == matcher.normalize("iska matlab kya hai")
    assert matcher.normalize("hum baat kr skte h") == matcher.normalize("hum baat kar sakte hai")


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("mera bf apni colleague ko raat bhar msg krta h, ye theek h kya", "is_texting_micro_cheating"),
        ("uspe dubara bharosa kaise karu yaar", "rebuild_trust"),
        ("micro cheating hota kya h exactly", "what_is_micro_cheating"),
        ("मैं उससे ये बात कैसे शुरू करूँ", "how_to_talk_to_partner"),
        ("kya ye chat private rahegi", "privacy"),
        ("therapist ke saath session book karna hai", "book_therapist"),
    ],
)
def test_clear_hindi_questions_find_their_intent(matcher: Matcher, text: str, intent: str) -> None:
    result = matcher.match(text)
    assert result.top == intent
    assert result.decision == "answer" or intent in [c.intent for c in result.candidates]


@pytest.mark.parametrize("text", ["Namaste!!", "Sat Sri Akal 🙏", "राम राम जी", "नमस्कार", "ram ram bhai"])
def test_hindi_greetings_are_greetings(matcher: Matcher, text: str) -> None:
    assert matcher.match(text).intent == "greeting"


@pytest.mark.parametrize(
    "text",
    [
        "kal delhi me barish hogi kya",
        "paneer butter masala kaise banate h",
        "train ki ticket kaise book kare",
        "mera laptop charge nahi ho rha",
        "game me cheat code kaise daale",
        "credit score kaise sudhare",
        "आज मौसम कैसा रहेगा",
        "कोई अच्छी फिल्म बताइए",
    ],
)
def test_out_of_scope_hinglish_is_never_answered(matcher: Matcher, text: str) -> None:
    assert matcher.match(text).decision != "answer"


# --- English decisions stay where they were --------------------------------------------


def test_hindi_examples_never_move_an_english_decision(shipped: Shipped, matcher: Matcher) -> None:
    """Hindi examples never move an English score. The learned ranker, trained on every example, is
    shared: its probability is an input of the English confidence (issue 14); measured, a ranker
    trained on the English examples alone moved one of 209 English-route development and off-topic
    lines across the bar."""
    examples, vocabulary = shipped
    english_only = {
        intent: [p for p in phrasings if matcher.analyse(p)[1] == "en"] for intent, phrasings in examples.items()
    }
    without_hindi = Matcher.build(english_only, vocabulary, ranker=matcher.ranker)
    for text in [
        "how do i talk to him about it",
        "is liking her photos cheating",
        "my gf keeps texting her ex every night",
        "can couples therapy help us",
        "who are you",
        "i keep replaying it all night",
    ]:
        assert matcher.analyse(text)[1] == "en"
        assert matcher.match(text) == without_hindi.match(text), text


def test_hindi_messages_are_offered_topics_a_little_earlier(matcher: Matcher) -> None:
    """Hindi scores run lower: lower score floors, and a calibration with its own Hindi terms."""
    assert matcher.thresholds == DEFAULT_THRESHOLDS
    assert matcher.hindi_thresholds.clarify < DEFAULT_THRESHOLDS.clarify
    assert matcher.hindi_thresholds.answer < DEFAULT_THRESHOLDS.answer
    assert matcher.hindi_thresholds.known == DEFAULT_THRESHOLDS.known


def test_every_faq_intent_has_hinglish_and_devanagari_examples(shipped: Shipped) -> None:
    examples, _ = shipped
    for intent in FAQ_IDS:
        languages = [detect_language(p) for p in examples[intent]]
        assert languages.count("hinglish") >= 20 and languages.count("hi") >= 10, intent


# --- the development sets --------------------------------------------------------------


def _rows(name: str) -> list[dict[str, str]]:
    path = EVAL_DIR / name
    if not path.exists():
        pytest.skip("no development set beside the repository")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _predict(matcher: Matcher, rows: list[dict[str, str]]) -> list[Prediction]:
    predictions = []
    for row in rows:
        result = matcher.match(row["text"])
        predictions.append(
            Prediction(
                text=row["text"],
                expected=row["intent"],
                predicted=result.intent or "out_of_scope",
                top=result.top,
                candidates=tuple(c.intent for c in result.candidates),
                score=result.score,
                decision=result.decision,
            )
        )
    return predictions


# Measured: all 83.7 / 97.8 / 0 / 100; Hinglish 78.8 / 97.0; Devanagari 95.7 / 100.
FLOORS = {
    None: {"top1_accuracy": 0.80, "answered_or_offered": 0.94},
    "hinglish": {"top1_accuracy": 0.74, "answered_or_offered": 0.93},
    "hi": {"top1_accuracy": 0.86, "answered_or_offered": 0.95},
}


@pytest.mark.parametrize("language", [None, "hinglish", "hi"])
def test_hindi_development_set_per_language(matcher: Matcher, language: str | None) -> None:
    predictions = _predict(matcher, _rows("dev-intents-hinglish.jsonl"))
    if language is not None:
        predictions = [p for p in predictions if detect_language(p.text) == language]
    metrics = compute_metrics(predictions)
    for name, floor in FLOORS[language].items():
        assert metrics[name] >= floor, (language, name, metrics[name])
    assert metrics["confident_wrong"] <= 0.03
    assert metrics["oos_rejection"] >= 0.9


def test_english_development_figures_do_not_fall(matcher: Matcher) -> None:
    """Before the Hindi work: 97.1 / 100 / 0 / 100 on the English development set."""
    metrics = compute_metrics(_predict(matcher, _rows("dev-intents.jsonl")))
    assert metrics["top1_accuracy"] >= 0.97
    assert metrics["answered_or_offered"] >= 0.99
    assert metrics["confident_wrong"] <= 0.01
    assert metrics["oos_rejection"] >= 0.96
