"""The intent matcher over the shipped intents/: answer, clarify, fallback, as a person would see it.

Every phrasing here is written for these tests; none comes from the evaluation sets.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from bot.catalog.vocabulary_model import Vocabulary
from bot.evaluation.calibration import out_of_scope_phrasings
from bot.nlu.matcher import (
    DEFAULT_CALIBRATION,
    DEFAULT_THRESHOLDS,
    Candidate,
    Matcher,
    OUT_OF_SCOPE,
    MatchThresholds,
    decide,
)
from bot.nlu.normalize import clean

ROOT = Path(__file__).parents[1]
EVAL_DIR = ROOT.parent / "shared" / "eval"
CATALOGUE_IDS = frozenset(
    """what_is_micro_cheating why_it_happens is_it_intentional red_flags missed_signals
    suspect_partner is_texting_micro_cheating social_media_behaviour i_crossed_a_line
    can_relationship_heal rebuild_trust how_to_talk_to_partner does_therapy_help share_feelings
    about_the_centre privacy book_therapist talk_to_human crisis unsafe_at_home greeting thanks
    goodbye help bot_challenge""".split()
)
FAQ_IDS = frozenset(
    """what_is_micro_cheating why_it_happens is_it_intentional red_flags missed_signals
    suspect_partner is_texting_micro_cheating social_media_behaviour i_crossed_a_line
    can_relationship_heal rebuild_trust how_to_talk_to_partner does_therapy_help share_feelings""".split()
)
Shipped = tuple[dict[str, list[str]], Vocabulary]


def load_intents(folder: Path) -> Shipped:
    """Read intents/*.yaml the way the catalog does (safety.yaml is the safety detector's lexicon)."""
    examples: dict[str, list[str]] = {}
    vocabulary = Vocabulary()
    for path in sorted(folder.glob("*.yaml")):
        if path.name == "safety.yaml":
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if "vocabulary" in data:
            vocabulary = Vocabulary.model_validate(data["vocabulary"])
        for spec in data.get("intents") or []:
            assert spec["id"] not in examples, f"{path.name}: {spec['id']} defined twice"
            examples[spec["id"]] = list(spec["examples"])
    return examples, vocabulary


@pytest.fixture(scope="module")
def shipped() -> Shipped:
    return load_intents(ROOT / "intents")


@pytest.fixture(scope="module")
def matcher(shipped: Shipped) -> Matcher:
    examples, vocabulary = shipped
    return Matcher.build(examples, vocabulary)


# --- the shipped examples -------------------------------------------------------------


def test_every_catalogue_intent_has_examples(shipped: Shipped, matcher: Matcher) -> None:
    """In English and in Hindi (Hinglish or Devanagari, as the matcher routes them), balanced."""
    examples, _ = shipped
    assert CATALOGUE_IDS <= set(examples)
    for intent in CATALOGUE_IDS:
        routes = [matcher.analyse(phrasing)[1] for phrasing in examples[intent]]
        english, hindi = routes.count("en"), routes.count("hi")
        if intent in FAQ_IDS:
            # share_feelings has more Hindi: bare feelings are many short, different phrasings.
            # Issue 14 raised the caps (70 / 80 -> 85): first-person i_crossed_a_line and bare feelings
            # measurably helped the 5-fold and the development set (bot.nlu.matcher's docstring).
            assert 30 <= english <= 85 and 30 <= hindi <= (100 if intent == "share_feelings" else 85), (intent, english, hindi)
        else:
            assert english >= 20 and hindi >= 15, (intent, english, hindi)


def test_no_phrasing_in_two_intents_even_after_normalising(matcher: Matcher, shipped: Shipped) -> None:
    examples, _ = shipped
    owner: dict[str, str] = {}
    clashes = []
    for intent, phrasings in examples.items():
        assert len(set(phrasings)) == len(phrasings), f"{intent} repeats a phrasing"
        for phrasing in phrasings:
            key = " ".join(matcher.normalize(phrasing))
            if owner.setdefault(key, intent) != intent:
                clashes.append((phrasing, owner[key], intent))
    assert clashes == []


def test_no_evaluation_line_was_copied_into_intents(shipped: Shipped) -> None:
    files = sorted(EVAL_DIR.glob("*.jsonl"))
    if not files:
        pytest.skip("no evaluation sets beside the repository")
    examples, _ = shipped
    ours = {clean(p) for phrasings in examples.values() for p in phrasings}
    ours |= {clean(p) for p in out_of_scope_phrasings()}  # the calibration's off-topic messages too
    lines = {
        clean(json.loads(line)["text"])
        for path in files
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    assert ours & lines == set()


# --- what a person sees ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Micro-cheating??? what's that even", "what_is_micro_cheating"),
        ("is there any hope my marriage recovers from this", "can_relationship_heal"),
        ("my gf keeps liking her ex's insta pics 😒", "social_media_behaviour"),
        ("how do i rebiuld trust with my boyfreind", "rebuild_trust"),  # two typos
        ("hello!!", "greeting"),
        ("thank u sooo much 🙏", "thanks"),
        ("can u connect me to a real human pls", "talk_to_human"),
        ("are u a real person or a bot", "bot_challenge"),
        ("is my chat with you private?", "privacy"),
        ("i'd like to book a couples counselling session", "book_therapist"),
        ("i want to end my life tonight", "crisis"),
    ],
)
def test_clear_questions_are_answered(matcher: Matcher, text: str, intent: str) -> None:
    result = matcher.match(text)
    assert (result.decision, result.intent, result.top) == ("answer", intent, intent)
    assert result.score >= DEFAULT_THRESHOLDS.answer


@pytest.mark.parametrize(
    ("text", "offered"),
    [
        ("my partner", "suspect_partner"),
        # "his phone" alone is answered now (red_flags): the learned ranker is sure of it (issue 14).
        ("he is always on his phone", "red_flags"),
    ],
)
def test_vague_messages_offer_two_or_three_topics(matcher: Matcher, text: str, offered: str) -> None:
    result = matcher.match(text)
    assert result.decision == "clarify"
    assert result.intent is None
    assert 2 <= len(result.candidates) <= 3
    assert offered in [c.intent for c in result.candidates]
    scores = [c.score for c in result.candidates]
    assert scores == sorted(scores, reverse=True)
    assert result.candidates[0].intent == result.top


@pytest.mark.parametrize(
    "text",
    [
        "whats the weather in pune tomorrow",
        "book a table for dinner",
        "how do i rebuild my credit score",
        "give me a cheat code for this game",
        "🙂🙂",
        "...",
    ],
)
def test_out_of_scope_is_never_answered(matcher: Matcher, text: str) -> None:
    assert matcher.match(text).decision != "answer"


def test_nothing_to_match_falls_back_without_suggestions(matcher: Matcher) -> None:
    result = matcher.match("👍")
    assert (result.decision, result.intent, result.top, result.candidates) == ("fallback", None, None, ())


def test_matching_is_deterministic(shipped: Shipped) -> None:
    examples, vocabulary = shipped
    first = Matcher.build(examples, vocabulary)
    second = Matcher.build(dict(reversed(examples.items())), vocabulary)
    for text in ["how do i talk to him about it", "is liking photos cheating", "idk what to do rn"]:
        assert first.match(text) == second.match(text) == first.match(text)


def test_typical_match_is_fast(matcher: Matcher, shipped: Shipped) -> None:
    examples, _ = shipped
    texts = [p + " pls" for phrasings in examples.values() for p in phrasings[:8]]
    timings = []
    for text in texts:
        start = time.perf_counter()
        matcher.match(text)
        timings.append(time.perf_counter() - start)
    assert statistics.median(timings) < 0.002


# --- the decision rule ----------------------------------------------------------------


def _scores(*pairs: tuple[str, float]) -> list[Candidate]:
    return [Candidate(intent, score) for intent, score in pairs]


THRESHOLDS = MatchThresholds(answer=50.0, clarify=25.0, margin=10.0)


def test_answer_needs_a_high_score_and_a_clear_lead() -> None:
    result = decide(_scores(("rebuild_trust", 70), ("can_relationship_heal", 55), ("privacy", 20)), THRESHOLDS)
    assert (result.decision, result.intent) == ("answer", "rebuild_trust")


def test_a_close_runner_up_turns_an_answer_into_a_question() -> None:
    result = decide(_scores(("rebuild_trust", 70), ("can_relationship_heal", 65), ("privacy", 20)), THRESHOLDS)
    assert result.decision == "clarify"
    assert [c.intent for c in result.candidates] == ["rebuild_trust", "can_relationship_heal"]


def test_clarify_offers_at_least_two_even_when_the_second_is_far() -> None:
    result = decide(_scores(("red_flags", 40), ("help", 10), ("thanks", 5)), THRESHOLDS)
    assert result.decision == "clarify"
    assert [c.intent for c in result.candidates] == ["red_flags", "help"]


def test_a_low_score_falls_back() -> None:
    result = decide(_scores(("help", 20), ("greeting", 16), ("thanks", 3)), THRESHOLDS)
    assert (result.decision, result.intent, result.top) == ("fallback", None, "help")
    assert [c.intent for c in result.candidates] == ["help", "greeting"]


def test_closest_to_the_off_topic_examples_is_an_honest_fallback_never_a_topic() -> None:
    """However high its score, the off-topic examples' intent is never answered nor offered."""
    result = decide(_scores((OUT_OF_SCOPE, 90), ("book_therapist", 60), ("help", 20)), THRESHOLDS, DEFAULT_CALIBRATION)
    assert (result.decision, result.intent, result.top) == ("fallback", None, OUT_OF_SCOPE)
    assert OUT_OF_SCOPE not in [c.intent for c in result.candidates]
    assert result.confidence == 0.0, "no bar of the trade-off curve may answer it"


def test_an_off_topic_runner_up_close_behind_holds_the_answer_back() -> None:
    clear = decide(_scores(("book_therapist", 70), ("help", 40)), THRESHOLDS)
    doubted = decide(_scores(("book_therapist", 70), (OUT_OF_SCOPE, 65), ("help", 40)), THRESHOLDS)
    assert clear.decision == "answer"
    assert doubted.decision == "clarify"
    assert OUT_OF_SCOPE not in [c.intent for c in doubted.candidates]
    assert [c.intent for c in doubted.candidates] == ["book_therapist", "help"]


def test_the_calibrated_decision_weighs_the_lead_more_than_the_score() -> None:
    """A clear winner at a middling score is answered; a high score in a close race is asked about."""
    cal = DEFAULT_CALIBRATION
    assert cal.confidence(55, 25, hindi=False) > cal.confidence(75, 4, hindi=False)
    thresholds = MatchThresholds(answer=45.0, clarify=28.0, margin=2.0)  # the calibrated bar by default
    clear = decide(_scores(("book_therapist", 55), ("does_therapy_help", 30)), thresholds, cal)
    assert (clear.decision, clear.intent) == ("answer", "book_therapist")
    assert clear.confidence is not None and clear.confidence >= thresholds.confidence
    close = decide(_scores(("book_therapist", 75), ("does_therapy_help", 71)), thresholds, cal)
    assert close.decision == "clarify" and close.confidence is not None and close.confidence < thresholds.confidence


def test_the_calibration_is_a_probability_rising_with_score_and_lead() -> None:
    cal = DEFAULT_CALIBRATION
    for hindi in (False, True):
        values = [cal.confidence(score, lead, hindi) for score, lead in ((20, 0), (40, 5), (60, 15), (90, 40))]
        assert all(0.0 < v < 1.0 for v in values) and values == sorted(values)


def test_the_english_decision_reads_the_learned_rankers_probability() -> None:
    """Same score and lead: a ranker sure of the best intent answers, an unsure one asks (issue 14)."""
    cal = DEFAULT_CALIBRATION
    thresholds = MatchThresholds(answer=45.0, clarify=28.0, margin=2.0)
    ranked = _scores(("red_flags", 50), ("suspect_partner", 40))
    sure = decide(ranked, thresholds, cal, learned=0.95)
    unsure = decide(ranked, thresholds, cal, learned=0.3)
    assert (sure.decision, sure.intent) == ("answer", "red_flags")
    assert unsure.decision == "clarify"
    assert cal.confidence(50, 10, hindi=False, learned=0.95) > cal.confidence(50, 10, hindi=False, learned=0.3)
    # Its probability is already in Hindi scores: there the calibration does not read it again.
    assert cal.confidence(50, 10, hindi=True, learned=0.95) == cal.confidence(50, 10, hindi=True, learned=0.3)


def test_the_matcher_gives_the_calibration_its_rankers_probability(matcher: Matcher) -> None:
    """An English message: the confidence is the calibration's with the ranker's probability for the
    best intent; the same matcher without a ranker falls back to the score-and-lead fit."""
    assert matcher.ranker is not None
    text = "how can we rebuild trust after this"
    result = matcher.match(text)
    toks, route = matcher.analyse(text)
    assert route == "en" and result.decision == "answer" and result.top == "rebuild_trust"
    lead = result.candidates[0].score - result.candidates[1].score
    learned = matcher.ranker.probabilities(toks)["rebuild_trust"]
    assert result.confidence == pytest.approx(DEFAULT_CALIBRATION.confidence(result.score, lead, False, learned))
    assert result.confidence != pytest.approx(DEFAULT_CALIBRATION.confidence(result.score, lead, False))
    bare = matcher.with_ranker(None).match(text)
    assert bare.confidence == pytest.approx(DEFAULT_CALIBRATION.confidence(result.score, lead, False))


def test_the_calibration_replay_reads_the_ranker_and_the_floors() -> None:
    """`python -m bot.evaluation.calibration` scores lines as `decide` does, and picks the lowest bar
    that keeps every set at most 2% wrong."""
    from bot.evaluation.calibration import Line, lowest_bar

    sure = Line("red_flags", "red_flags", 50.0, 10.0, False, "en", learned=0.95)
    unsure = Line("suspect_partner", "red_flags", 50.0, 10.0, False, "en", learned=0.3)
    assert sure.confidence(DEFAULT_CALIBRATION) == DEFAULT_CALIBRATION.confidence(50, 10, False, 0.95)
    assert replace(sure, floors=False).confidence(DEFAULT_CALIBRATION) == 0.0
    bar = lowest_bar([[sure, unsure]], DEFAULT_CALIBRATION)
    assert bar is not None
    assert unsure.confidence(DEFAULT_CALIBRATION) < bar <= sure.confidence(DEFAULT_CALIBRATION)


def test_mostly_unknown_words_are_never_answered_however_clear_the_lead() -> None:
    thresholds = MatchThresholds(answer=45.0, clarify=28.0, margin=2.0)
    ranked = _scores(("book_therapist", 70), ("does_therapy_help", 30))
    assert decide(ranked, thresholds, DEFAULT_CALIBRATION, known=0.9).decision == "answer"
    assert decide(ranked, thresholds, DEFAULT_CALIBRATION, known=0.3).decision == "clarify"


def test_default_thresholds_are_ordered(matcher: Matcher) -> None:
    assert matcher.thresholds == DEFAULT_THRESHOLDS
    assert 0 < DEFAULT_THRESHOLDS.clarify < DEFAULT_THRESHOLDS.answer <= 100


def test_build_takes_any_mapping_of_examples() -> None:
    examples: Mapping[str, Sequence[str]] = {
        "greeting": ("hi", "hello there"),
        "goodbye": ("bye", "see you later"),
    }
    matcher = Matcher.build(examples, Vocabulary(), MatchThresholds(answer=60, clarify=30, margin=10))
    assert matcher.match("hello there!").intent == "greeting"
    assert matcher.intents == ("goodbye", "greeting")
