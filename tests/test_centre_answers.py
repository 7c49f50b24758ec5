"""Practical questions about the centre (fees, location and hours, online sessions, the therapists)
get their own short answer from content/centre.yaml, in every language, never an invented fact."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.app import build_engine, check_content
from bot.catalog.loader import TRANSLATED_LANGUAGES, Catalog, load_catalog
from bot.catalog.translation_check import missing_translations
from bot.config import REPO_ROOT
from bot.engine import faq
from bot.engine.centre_answers import CENTRE_INTENT, topic_of
from bot.engine.core import Engine
from bot.engine.replies import Reply
from bot.engine.texts import Texts
from bot.errors import ContentError
from bot.nlu.matcher import Candidate, MatchResult
from tests.conftest import keys, make_incoming, payloads_of, press

TOPICS = ("fees", "location", "online", "therapists")


@pytest.fixture
def texts(catalog: Catalog) -> Texts:
    return Texts(catalog, emergency="112", retention_days=180, language="en")


def topic_payload(topic: str) -> str:
    return f"answer:{CENTRE_INTENT}:{topic}"


def test_the_shipped_topics_are_the_four_practical_questions(catalog: Catalog) -> None:
    assert tuple(catalog.centre.topics) == TOPICS


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("what are your fees", "fees"),
        ("how much does a session cost", "fees"),
        ("how much does a therapist charge", "fees"),
        ("kitna paisa lagta hai", "fees"),
        ("session ki fees kitni hai", "fees"),
        ("फ़ीस कितनी है", "fees"),
        ("सेशन का खर्च कितना है", "fees"),
        ("where are you located", "location"),
        ("what are your timings on saturday", "location"),
        ("aapka centre kahan hai", "location"),
        ("centre kitne baje khulta hai", "location"),
        ("आपका सेंटर कहाँ है", "location"),
        ("can we do sessions on video call", "online"),
        ("can I do a session over the phone", "online"),
        ("online session milta hai kya", "online"),
        ("i live in another city, can i still join", "online"),
        ("क्या ऑनलाइन सेशन होते हैं", "online"),
        ("who are the therapists", "therapists"),
        ("what qualifications do your counsellors have", "therapists"),
        ("therapist kaun hai, qualified hai?", "therapists"),
        ("थेरेपिस्ट की योग्यता क्या है", "therapists"),
        ("what is alumaura", None),
        ("who are you", None),
        ("", None),
    ],
)
def test_the_topic_comes_from_the_message_words(catalog: Catalog, text: str, topic: str | None) -> None:
    assert topic_of(catalog, text) == topic


def test_words_match_whole_words_only(catalog: Catalog) -> None:
    assert topic_of(catalog, "coffee") is None  # not "fee"
    assert topic_of(catalog, "the fee?") == "fees"


@pytest.mark.parametrize("topic", TOPICS)
def test_each_topic_has_its_own_short_answer_with_the_centres_fact(catalog: Catalog, texts: Texts, topic: str) -> None:
    replies = faq.answer_replies(texts, CENTRE_INTENT, part=topic)
    assert keys(replies) == [f"answer.{CENTRE_INTENT}.{topic}", "text.feedback_question"]
    answer = replies[0]
    assert len(answer.text) <= 500
    fact = catalog.centre.topics[topic].fact
    if fact is not None:
        assert answer.text.endswith("\n" + fact), "the fact is shown exactly as the centre wrote it"
    assert catalog.centre.about not in answer.text, "not the general text again"
    payloads = payloads_of([answer])
    assert topic_payload(topic) not in payloads
    assert {topic_payload(other) for other in TOPICS if other != topic} <= set(payloads)
    assert {"book", "human"} <= set(payloads), "a way to book and to a person"


def test_the_answers_differ_from_each_other(texts: Texts) -> None:
    bodies = {faq.answer_replies(texts, CENTRE_INTENT, part=topic)[0].text for topic in TOPICS}
    assert len(bodies) == len(TOPICS)


def test_location_and_hours_come_from_configuration(catalog: Catalog, texts: Texts) -> None:
    text = faq.answer_replies(texts, CENTRE_INTENT, part="location")[0].text
    centre = catalog.centre
    assert centre.address in text and centre.staff_hours_text in text and centre.phone in text


def test_shipped_facts_say_plainly_the_centre_fills_them_in(catalog: Catalog) -> None:
    for topic_id, topic in catalog.centre.topics.items():
        if topic.fact is not None and "placeholder" in topic.fact.lower():
            assert topic.fact.startswith("[placeholder:") and "the centre" in topic.fact, topic_id


def test_the_general_answer_offers_every_topic(texts: Texts) -> None:
    replies = faq.answer_replies(texts, CENTRE_INTENT, text="what is this place")
    assert keys(replies) == [f"answer.{CENTRE_INTENT}", "text.feedback_question"]
    assert [p for p in payloads_of(replies) if p.startswith(f"answer:{CENTRE_INTENT}:")] == [topic_payload(t) for t in TOPICS]
    # Two to a row: short labels, not a tower of buttons.
    rows = [row for row in replies[0].buttons if any(b.payload.startswith(f"answer:{CENTRE_INTENT}:") for b in row)]
    assert [len(row) for row in rows] == [2, 2]
    more = faq.more_replies(texts, CENTRE_INTENT)
    assert topic_payload("fees") in payloads_of(more)


def test_an_unknown_part_gives_the_general_answer(texts: Texts) -> None:
    assert keys(faq.answer_replies(texts, CENTRE_INTENT, part="parking"))[0] == f"answer.{CENTRE_INTENT}"


def test_other_intents_are_untouched_by_centre_words(texts: Texts) -> None:
    replies = faq.answer_replies(texts, "rebuild_trust", text="what are your fees")
    assert keys(replies)[0] == "answer.rebuild_trust"
    assert not [p for p in payloads_of(replies) if p.startswith(f"answer:{CENTRE_INTENT}:")]


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_every_topic_speaks_the_persons_language(catalog: Catalog, language: str) -> None:
    english = Texts(catalog, emergency="112", retention_days=180, language="en")
    local = english.in_language(language)
    for topic in TOPICS:
        mine: Reply = faq.answer_replies(local, CENTRE_INTENT, part=topic)[0]
        theirs: Reply = faq.answer_replies(english, CENTRE_INTENT, part=topic)[0]
        assert mine.text != theirs.text and mine.language == language
        assert [b.payload for b in mine.all_buttons()] == [b.payload for b in theirs.all_buttons()]
    labels = [b.label for b in faq.answer_replies(local, CENTRE_INTENT)[0].all_buttons()]
    assert len(labels) == len(set(labels))


def test_a_fact_in_the_persons_language_is_used_when_the_centre_writes_one(catalog: Catalog) -> None:
    topic = catalog.centre.topics["fees"]
    local = topic.model_copy(update={"fact_in": {"hi": "₹1500 प्रति सेशन"}})
    centre = catalog.centre.model_copy(update={"topics": {**catalog.centre.topics, "fees": local}})
    hindi = Texts(Catalog(**{**catalog.__dict__, "centre": centre}), emergency="112", retention_days=180, language="hi")
    assert faq.answer_replies(hindi, CENTRE_INTENT, part="fees")[0].text.endswith("\n₹1500 प्रति सेशन")
    hinglish = hindi.in_language("hinglish")
    assert faq.answer_replies(hinglish, CENTRE_INTENT, part="fees")[0].text.endswith("\n" + str(topic.fact))


def test_check_passes_and_no_centre_text_is_missing_a_translation(catalog: Catalog) -> None:
    assert check_content(catalog).errors == []
    for language in TRANSLATED_LANGUAGES:
        assert not [ref for ref in missing_translations(catalog, language) if "centre" in ref]


# --- validation: every mistake names its file and line ----------------------------------------


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    for folder in ("intents", "content"):
        shutil.copytree(REPO_ROOT / folder, tmp_path / folder)
    return tmp_path


def _edit_centre(root: Path, old: str, new: str) -> None:
    path = root / "content" / "centre.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_word_in_two_topics_is_refused_with_its_line(content_copy: Path) -> None:
    _edit_centre(content_copy, "online, \"on line\"", "online, fees, \"on line\"")
    with pytest.raises(ContentError) as caught:
        load_catalog(content_copy)
    problem = str(caught.value)
    assert "centre.yaml:" in problem and "'fees' is in both 'fees' and 'online'" in problem


def test_a_topic_without_its_text_is_refused_with_its_line(content_copy: Path) -> None:
    _edit_centre(content_copy, "    therapists:\n", "    parking:\n      words: [parking]\n    therapists:\n")
    with pytest.raises(ContentError) as caught:
        load_catalog(content_copy)
    assert "centre topic 'parking' needs the text 'centre_parking'" in str(caught.value)
    assert "centre.yaml:" in str(caught.value)


def test_a_typo_in_a_topic_is_refused(content_copy: Path) -> None:
    _edit_centre(content_copy, "    fees:\n      fact:", "    fees:\n      fatc: x\n      fact:")
    with pytest.raises(ContentError) as caught:
        load_catalog(content_copy)
    assert "centre.topics.fees.fatc" in str(caught.value)


# --- through the engine ------------------------------------------------------------------------


def _engine_saying(settings, catalog: Catalog, result: MatchResult) -> Engine:  # noqa: ANN001 - Settings
    engine = build_engine(settings, catalog)

    class Fixed:
        def match(self, text: str) -> MatchResult:
            return result

    engine.matcher = Fixed()  # type: ignore[assignment]
    return engine


async def test_a_topic_button_answers_about_the_centre(engine: Engine) -> None:
    await engine.handle(make_incoming("/start"))
    replies = await engine.handle(press(topic_payload("online")))
    assert keys(replies)[0].startswith(f"answer.{CENTRE_INTENT}")


async def test_a_topic_button_gives_that_topics_answer(engine: Engine) -> None:
    await engine.handle(make_incoming("/start"))
    replies = await engine.handle(press(topic_payload("therapists")))
    assert keys(replies) == [f"answer.{CENTRE_INTENT}.therapists", "text.feedback_question"]


async def test_a_question_about_fees_gets_the_fees(settings, catalog: Catalog) -> None:
    answer = MatchResult("answer", CENTRE_INTENT, CENTRE_INTENT, 80.0, (Candidate(CENTRE_INTENT, 80.0),))
    engine = _engine_saying(settings, catalog, answer)
    await engine.start()
    try:
        await engine.handle(make_incoming("/start"))
        assert keys(await engine.handle(make_incoming("kitna paisa lagta hai")))[0] == f"answer.{CENTRE_INTENT}.fees"
        assert keys(await engine.handle(make_incoming("what is alumaura")))[0] == f"answer.{CENTRE_INTENT}"
    finally:
        await engine.close()


async def test_did_you_mean_offers_the_topic_the_message_names(settings, catalog: Catalog) -> None:
    unsure = MatchResult(
        "clarify", None, CENTRE_INTENT, 40.0, (Candidate(CENTRE_INTENT, 40.0), Candidate("does_therapy_help", 35.0))
    )
    engine = _engine_saying(settings, catalog, unsure)
    await engine.start()
    try:
        await engine.handle(make_incoming("/start"))
        replies = await engine.handle(make_incoming("therapy ki fees kitni hai"))
        assert keys(replies) == ["text.clarify"]
        assert payloads_of(replies)[:2] == [topic_payload("fees"), "answer:does_therapy_help"]
    finally:
        await engine.close()


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("can i do the session online from home", "online"),
        ("kya online session ho sakta hai", "online"),
        ("session ki fees kitni hai, book karna hai", "fees"),
    ],
)
def test_a_booking_question_that_asks_a_practical_one_gets_that_answer_with_the_booking_button(texts: Texts, text: str, topic: str) -> None:
    replies = faq.answer_replies(texts, "book_therapist", text=text)
    assert replies[0].key == f"answer.about_the_centre.{topic}"
    assert "book" in [button.payload for row in replies[0].buttons for button in row]


def test_a_plain_booking_request_keeps_the_booking_answer(texts: Texts) -> None:
    replies = faq.answer_replies(texts, "book_therapist", text="i want to book a session with a therapist")
    assert replies[0].key.startswith("answer.book_therapist")
