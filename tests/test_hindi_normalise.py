"""One representation for Hindi: Devanagari and romanised Hindi meet, English stays as typed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.catalog.hindi_model import HindiSpelling
from bot.errors import ContentError
from bot.nlu.hindi import HindiNormaliser, clean_text, fold, load_hindi_spelling, normalise_hindi, romanise
from bot.nlu.safety_corpus import corpus_files, read_examples


@pytest.mark.parametrize(
    ("devanagari", "typed"),
    [
        ("मैं मरना चाहती हूँ", "main marna chahti hu"),
        ("मैं मरना चाहती हूँ", "mai mrna chahti hoon"),
        ("मुझे जीना नहीं है", "mujhe jeena nhi h"),
        ("ज़िंदगी ख़त्म कर लूँ", "zindagi khtm kr lu"),
        ("ज़िन्दगी", "jindagi"),
        ("ज़हर", "zeher"),
        ("वो मुझे मारता है", "woh mujhe maarta he"),
        ("उसने मेरा गला दबाया", "usne mera gala dabaya"),
        ("पंखे से लटक जाऊंगी", "pankhe se latak jaungi"),
        ("बहुत दर्द है", "bohot dard hai"),
        ("सो जाऊं हमेशा के लिए", "so jaun hamesha ke liye"),
    ],
)
def test_both_scripts_of_the_same_sentence_meet(devanagari: str, typed: str) -> None:
    assert normalise_hindi(devanagari) == normalise_hindi(typed)


@pytest.mark.parametrize(
    ("devanagari", "latin"),
    [("नहीं", "nahi"), ("मरना", "marna"), ("ज़हर", "zahar"), ("हैं", "hai"), ("में", "mein"), ("गई", "gayi"), ("रात", "raat")],
)
def test_devanagari_is_romanised_the_way_hinglish_is_typed(devanagari: str, latin: str) -> None:
    assert romanise(devanagari) == latin


@pytest.mark.parametrize(
    ("variants", "canonical"),
    [
        (["nhi", "nai", "nahin", "nahi"], "nahi"),
        (["h", "hain", "hai"], "hai"),
        (["bhot", "bohot", "bahot"], "bahut"),
        (["kr"], "kar"),
        (["rha"], "raha"),
        (["mjhe", "muje"], "mujhe"),
        (["khtm", "khatm"], "khatam"),
        (["zindgi", "jindagi", "zindagee"], "zindagi"),
        (["jahar", "zeher"], "zahar"),
    ],
)
def test_romanised_spellings_fold_onto_one(variants: list[str], canonical: str) -> None:
    assert {fold(variant) for variant in variants} == {canonical}


@pytest.mark.parametrize(
    "english",
    [
        "i need to sleep soon too, feel good",
        "he hit me with a bat",
        "bought rat poison from the shop",
        "who is the main person i can talk to",
        "me and my man sat on the terrace",
        "fr i cant do this tho",
    ],
)
def test_english_text_is_left_as_typed(english: str) -> None:
    assert normalise_hindi(english) == clean_text(english)


def test_words_that_are_also_english_fold_only_inside_a_hindi_message() -> None:
    assert normalise_hindi("vo mujhe marta he") == "vo mujhe marta hai"
    assert normalise_hindi("he said he will hit me") == "he said he will hit me"


def test_beating_and_dying_stay_apart() -> None:
    assert normalise_hindi("मार दूंगा") == normalise_hindi("maar dunga") == "maar dunga"
    assert normalise_hindi("मर जाऊंगी") == normalise_hindi("mar jaungi") == "mar jaungi"


def test_hardly_any_english_line_of_the_corpus_is_changed() -> None:
    english = [e.text for e in read_examples(corpus_files()) if e.lang == "en"]
    changed = [text for text in english if normalise_hindi(text) != clean_text(text)]
    # The few changed are Hindi words inside English lines ("baatein", "kr") and stretched letters.
    assert len(changed) <= 0.03 * len(english), changed[:20]


def test_a_variant_of_two_words_is_refused_with_its_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "hindi_spelling.yaml"
    path.write_text("hindi_spelling:\n  variants:\n    nahi: [nhi]\n    hai: [nhi]\n", encoding="utf-8")
    with pytest.raises(ContentError) as raised:
        load_hindi_spelling(path)
    assert f"{path}:2" in raised.value.problems[0]
    assert "'nhi' is a variant of both" in raised.value.problems[0]


def test_an_english_word_listed_as_a_variant_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "hindi_spelling.yaml"
    path.write_text("hindi_spelling:\n  variants:\n    raat: [rat]\n  english: [rat]\n", encoding="utf-8")
    with pytest.raises(ContentError, match="English words listed as Hindi variants: rat"):
        load_hindi_spelling(path)


def test_the_table_drives_the_folding() -> None:
    normaliser = HindiNormaliser.from_spelling(HindiSpelling(variants={"pyaar": ["pyr"]}, english=["par"]))
    assert normaliser.fold("pyr") == "pyaar"
    assert normaliser.fold("pyar") == "pyaar"  # a doubled vowel, by the generic rule
    assert normaliser.fold("paar") == "paar"  # "par" is English: never folded onto
    assert normaliser.fold("house") == "house"


def test_the_shipped_table_loads() -> None:
    spelling = load_hindi_spelling()
    assert "nahi" in spelling.variants
