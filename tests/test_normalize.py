"""Normalisation: what people type on a phone becomes comparable tokens."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.catalog.vocabulary_model import Vocabulary
from bot.nlu.normalize import Expander, TypoCorrector, clean, normalize, stem, tokens

VOCABULARY_FILE = Path(__file__).parents[1] / "intents" / "vocabulary.yaml"


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    """The shipped vocabulary, validated."""
    return Vocabulary.model_validate(yaml.safe_load(VOCABULARY_FILE.read_text(encoding="utf-8"))["vocabulary"])


@pytest.fixture
def small() -> Vocabulary:
    """A tiny vocabulary, so a test shows exactly which rule it exercises."""
    return Vocabulary(
        slang={"bf": "boyfriend", "rn": "right now", "idk": "i do not know", "fix an appointment": "book"},
        concepts={
            "partner": ["boyfriend", "husband", "significant other"],
            "microcheating": ["micro cheating", "microcheating"],
        },
        stopwords=["just"],
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Is this PRIVATE?!", "is this private"),
        ("hello 👋😊 there", "hello there"),
        ("don’t   you\tknow", "dont you know"),
        ("ｈｅｌｌｏ", "hello"),  # full-width letters (NFKC)
        ("STRASSE Straße", "strasse strasse"),  # casefold, not lower
        ("sooo sad", "so sad"),
        ("मेरा पति", "मेरा पति"),  # Devanagari keeps its vowel signs
        ("...!!! 🙂", ""),
    ],
)
def test_clean_drops_punctuation_emoji_and_case(text: str, expected: str) -> None:
    assert clean(text) == expected


def test_slang_expands_then_names_the_concept(small: Vocabulary) -> None:
    assert normalize("my bf rn", small) == "my partner right now"
    assert normalize("idk", small) == "i do not know"


def test_multiword_phrases_win_over_single_words(small: Vocabulary) -> None:
    assert normalize("Micro-cheating by my significant other", small) == "microcheating by my partner"
    assert normalize("pls fix an appointment", small) == "pls book"


@pytest.mark.parametrize(
    "spelling", ["micro cheating", "Micro-cheating", "MICROCHEATING", "micro-cheat", "micro cheater"]
)
def test_every_spelling_of_micro_cheating_meets(vocabulary: Vocabulary, spelling: str) -> None:
    assert normalize(spelling, vocabulary) == "microcheating"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my hubby", "my partner"),
        ("my gf", "my partner"),
        ("his wife", "them partner"),
        ("she dms him on insta", "them texting them on socialmedia"),
        ("is this confidential", "is this private"),
        ("thank youuu 🙏", "thanks"),
        ("Don't know tbh", "do not know to be honest"),
    ],
)
def test_shipped_vocabulary_groups_what_people_say(vocabulary: Vocabulary, text: str, expected: str) -> None:
    assert normalize(text, vocabulary) == expected


def test_shipped_vocabulary_is_consistent(vocabulary: Vocabulary) -> None:
    """Slang output is never slang again, and no word sits in two concept groups."""
    slang_keys = set(vocabulary.slang)
    chained = [k for k, v in vocabulary.slang.items() if set(v.split()) & slang_keys]
    assert chained == []
    seen: dict[str, str] = {}
    doubles = []
    for group, words in vocabulary.concepts.items():
        for word in words:
            if word in seen and seen[word] != group:
                doubles.append(word)
            seen[word] = group
    assert doubles == []


def test_typo_correction_fixes_slips_but_leaves_real_words() -> None:
    corrector = TypoCorrector({"someone": 5, "boyfriend": 3, "booking": 4, "trust": 9, "really": 2})
    assert corrector.correct("somone") == "someone"  # dropped letter
    assert corrector.correct("boyfreind") == "boyfriend"  # swapped letters
    assert corrector.correct("realy") == "really"
    assert corrector.correct("cooking") == "cooking"  # another real word: first letter differs
    assert corrector.correct("trsut") == "trust"
    assert corrector.correct("tust") == "tust"  # too short to guess safely
    assert corrector.correct("cheating2") == "cheating2"


def test_typo_correction_is_deterministic_on_ties() -> None:
    corrector = TypoCorrector({"texted": 1, "tested": 1})
    assert corrector.correct("tetsed") == corrector.correct("tetsed") == "tested"


def test_tokens_correct_typos_before_concepts(small: Vocabulary) -> None:
    expander = Expander.from_vocabulary(small)
    corrector = TypoCorrector({"boyfriend": 1, "husband": 1})
    assert tokens("my boyfreind", expander, corrector) == ["my", "partner"]


def test_stem_joins_forms_of_a_word() -> None:
    assert stem("texting") == stem("texted") == stem("texts") == stem("text")
    assert stem("deleted") == stem("deletes") == stem("delete")
    assert stem("stories") == "story"
    assert stem("does") == "does"


# --- the one base every route builds on (bot.nlu.normalize.TextForm) -------------------------------------


def test_every_route_reads_text_with_the_one_base() -> None:
    from bot.nlu import hindi, safety
    from bot.nlu.normalize import HINDI, MATCHER, TYPED, TextForm

    assert all(isinstance(form, TextForm) for form in (MATCHER, HINDI, TYPED, safety.SAFETY))
    text = "Sooo  ＴＩＲＥＤ… don’t k*ll 😊 मैं\u200cठीक, ok?"
    assert clean(text) == MATCHER(text) == "so tired dont k ll मैंठीक ok"
    assert hindi.clean_text(text) == HINDI(text) == "sooo tired dont k ll मैं\u200cठीक ok"  # joiners kept, runs as typed
    # The safety check's own step: "k*ll" joined, contractions, sentence marks; its joiner is spaced.
    assert safety.clean(text) == safety.SAFETY(text) == "sooo tired , do not kll मैं ठीक , ok |"


def test_the_routes_differ_only_by_their_named_options() -> None:
    from bot.nlu.normalize import TYPED, TextForm

    assert TextForm()("Hi!! ＯＫ") == "hi ok"
    assert TextForm(compatible=False)("ＯＫ") == "ｏｋ"  # no NFKC: full-width stays (a typed answer)
    assert TYPED("It's OK 👍") == "it's ok"  # apostrophes kept
    assert TextForm(joined="'")("it's") == "its"
    assert TextForm(kept="|")("a | b!") == "a | b"
    assert TextForm(letter_runs=True)("nooooo wayyy 111") == "no way 111"  # digits are not shortened
    assert TextForm(rewrite=lambda text: text.replace("&", " and "))("you&me") == "you and me"
