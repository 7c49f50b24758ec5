"""A message about something else gets an honest sentence on what the bot is for, and the menu;
"did you mean" offers each place once, and no greeting or goodbye for a long message."""

from __future__ import annotations

from itertools import product

import pytest

from bot.app import build_engine
from bot.catalog.loader import TRANSLATED_LANGUAGES, Catalog
from bot.engine import faq
from bot.engine.texts import Texts
from bot.nlu.matcher import Candidate, MatchResult
from tests.conftest import keys, make_incoming, payloads_of

LONG = "hello there, my partner keeps liking other people's photos and I'm not sure"
SHORT = "hi there"


@pytest.fixture
def texts(catalog: Catalog) -> Texts:
    return Texts(catalog, emergency="112", retention_days=180, language="en")


def main_menu_payloads(texts: Texts) -> list[str]:
    return [button.payload for row in texts.menu() for button in row]


def stuck_payloads(texts: Texts) -> list[str]:
    return [button.payload for row in texts.menu("stuck") for button in row]


def offered(replies) -> list[str]:  # noqa: ANN001 - list[Reply]
    return [payload for payload in payloads_of(replies) if payload.startswith("answer:")]


# --- the out-of-scope reply ------------------------------------------------------------------


def test_out_of_scope_says_what_the_bot_is_for_with_the_menu_not_topics(texts: Texts) -> None:
    replies = faq.fallback_replies(texts, ["about_the_centre", "red_flags"], misunderstood=1)
    assert keys(replies) == ["text.fallback"]
    assert payloads_of(replies) == main_menu_payloads(texts)
    assert not offered(replies), "no unrelated topic buttons"
    assert "micro-cheating" in replies[0].text and texts.catalog.centre.name in replies[0].text


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_out_of_scope_in_every_language(texts: Texts, language: str) -> None:
    local = texts.in_language(language)
    reply = faq.fallback_replies(local, [], misunderstood=1)[0]
    assert reply.text != texts.get("fallback") and texts.catalog.centre.name in reply.text
    assert payloads_of([reply]) == main_menu_payloads(local)


def test_the_third_in_a_row_puts_a_person_first(texts: Texts) -> None:
    replies = faq.fallback_replies(texts, ["red_flags"], misunderstood=3)
    assert keys(replies) == ["text.fallback_repeated"] and payloads_of(replies)[0] == "human"


async def test_an_unrelated_message_gets_the_honest_reply_through_the_engine(settings, catalog: Catalog) -> None:
    engine = build_engine(settings, catalog)

    class Elsewhere:
        def match(self, text: str) -> MatchResult:
            near = (Candidate("about_the_centre", 20.0), Candidate("red_flags", 17.0))
            return MatchResult("fallback", None, "about_the_centre", 20.0, near)

    engine.matcher = Elsewhere()  # type: ignore[assignment]
    await engine.start()
    try:
        await engine.handle(make_incoming("/start"))
        replies = await engine.handle(make_incoming("who won the cricket match yesterday"))
        assert keys(replies) == ["text.fallback"]
        assert not offered(replies) and "human" in payloads_of(replies) and "ask" in payloads_of(replies)
    finally:
        await engine.close()


# --- "did you mean" ----------------------------------------------------------------------------


def test_did_you_mean_offers_a_person_once(texts: Texts) -> None:
    replies = faq.clarify_replies(texts, ["rebuild_trust", "talk_to_human"], "can someone help me trust again")
    assert keys(replies) == ["text.clarify"]
    assert payloads_of(replies) == ["answer:rebuild_trust", *stuck_payloads(texts)]


def test_did_you_mean_offers_the_menu_once(texts: Texts) -> None:
    replies = faq.clarify_replies(texts, ["help", "what_is_micro_cheating"], "what is this")
    assert payloads_of(replies) == ["answer:what_is_micro_cheating", *stuck_payloads(texts)]


def test_did_you_mean_never_repeats_an_intent(texts: Texts) -> None:
    replies = faq.clarify_replies(texts, ["rebuild_trust", "rebuild_trust", "red_flags"], "trust")
    assert offered(replies) == ["answer:rebuild_trust", "answer:red_flags"]


def test_only_doorways_leave_the_way_out(texts: Texts) -> None:
    replies = faq.clarify_replies(texts, ["talk_to_human", "help"], "who can i talk to about what you do")
    assert keys(replies) == ["text.clarify"] and payloads_of(replies) == stuck_payloads(texts)


def test_no_greeting_or_goodbye_for_a_long_message(texts: Texts) -> None:
    replies = faq.clarify_replies(texts, ["social_media_behaviour", "greeting", "goodbye"], LONG)
    assert offered(replies) == ["answer:social_media_behaviour"]


def test_a_short_message_may_still_be_a_greeting(texts: Texts) -> None:
    replies = faq.clarify_replies(texts, ["greeting", "what_is_micro_cheating"], SHORT)
    assert offered(replies) == ["answer:greeting", "answer:what_is_micro_cheating"]


def test_a_long_message_with_only_courtesies_is_out_of_scope(texts: Texts) -> None:
    replies = faq.clarify_replies(texts, ["greeting", "thanks"], LONG)
    assert keys(replies) == ["text.fallback"] and payloads_of(replies) == main_menu_payloads(texts)


@pytest.mark.parametrize("language", ["en", *TRANSLATED_LANGUAGES])
def test_no_place_or_label_is_ever_offered_twice(catalog: Catalog, language: str) -> None:
    """Every pair of catalogue intents, short and long, in every language."""
    local = Texts(catalog, emergency="112", retention_days=180, language=language)
    intents = sorted(catalog.answers)
    for first, second, text in product(intents, intents, (SHORT, LONG, "what are your fees")):
        reply = faq.clarify_replies(local, [first, second], text)[0]
        buttons = reply.all_buttons()
        places = [faq.destination(catalog, b.payload.removeprefix("answer:")) if b.payload.startswith("answer:") else b.payload for b in buttons]
        assert len(places) == len(set(places)), (first, second, text, places)
        labels = [b.label.casefold() for b in buttons]
        assert len(labels) == len(set(labels)), (first, second, text, labels)


async def test_a_long_message_is_not_offered_a_hello_through_the_engine(settings, catalog: Catalog) -> None:
    engine = build_engine(settings, catalog)

    class Unsure:
        def match(self, text: str) -> MatchResult:
            cands = (Candidate("social_media_behaviour", 45.0), Candidate("i_crossed_a_line", 40.0), Candidate("greeting", 38.0))
            return MatchResult("clarify", None, "social_media_behaviour", 45.0, cands)

    engine.matcher = Unsure()  # type: ignore[assignment]
    await engine.start()
    try:
        await engine.handle(make_incoming("/start"))
        replies = await engine.handle(make_incoming(LONG))
        assert keys(replies) == ["text.clarify"]
        assert offered(replies) == ["answer:social_media_behaviour", "answer:i_crossed_a_line"]
    finally:
        await engine.close()
