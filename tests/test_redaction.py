"""Promises the bot keeps: questions are stored without personal details; the privacy and /forget texts say what staff see."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.catalog.loader import Catalog
from bot.engine.redaction import redact, redact_question
from bot.engine.texts import Texts, speaking
from bot.storage.handoff_store import HandoffStore
from tests.conftest import make_incoming
from tests.test_booking import Clock, press, start_desk

LANGUAGES = ("en", "hinglish", "hi")


# --- what goes -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "call me on 98765 43210",
        "call me on 9876543210 please",
        "my number is +91-98765-43210",
        "my number is +91 98765 43210",
        "whatsapp 098765 43210",
        "office (022) 2345 6789",
        "landline 022-23456789",
        "abroad: +44 7911 123456",
        "us number +1 415 555 2671",
        "98765-43210 pe call karo",
        "मेरा नंबर ९८७६५४३२१० है",
    ],
)
def test_phone_numbers_in_indian_and_international_formats(text: str) -> None:
    redacted = redact(text)
    assert "[phone]" in redacted
    assert not any(char.isdigit() for char in redacted), redacted


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to priya.s@gmail.com today", "write to [email] today"),
        ("my email: riya@example.co.in", "my email: [email]"),
        ("he follows @neha_22 on insta", "he follows [handle] on insta"),
        ("message me @Priya.S", "message me [handle]"),
        ("see instagram.com/priya_22 and https://t.me/xyz", "see [link] and [link]"),
    ],
)
def test_emails_handles_and_links(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my name is Priya Sharma and my husband lies", "my name is [name] and my husband lies"),
        ("my name is priya sharma.", "my name is [name]."),
        ("My name's Riya, please help", "My name's [name], please help"),
        ("her name is Neha and he texts her daily", "her name is [name] and he texts her daily"),
        ("he keeps liking pics of a girl named Neha", "he keeps liking pics of a girl named [name]"),
        ("I'm Priya, my bf keeps liking his ex's pics", "I'm [name], my bf keeps liking his ex's pics"),
        ("hi im priya", "hi im [name]"),
        ("this is Neha, I need to talk", "this is [name], I need to talk"),
        ("Hi, Priya here. need advice", "Hi, [name] here. need advice"),
        # Hinglish
        ("mera naam Riya hai, mujhe help chahiye", "mera naam [name] hai, mujhe help chahiye"),
        ("mera naam hai Riya aur mera bf cheat karta hai", "mera naam hai [name] aur mera bf cheat karta hai"),
        ("mera naam riya sharma hai", "mera naam [name] hai"),
        ("uska naam Neha hai", "uska naam [name] hai"),
        ("main Riya hoon", "main [name] hoon"),
        ("main riya bol rahi hoon", "main [name] bol rahi hoon"),
        # Devanagari
        ("मेरा नाम प्रिया है और मुझे मदद चाहिए", "मेरा नाम [name] है और मुझे मदद चाहिए"),
        ("मेरा नाम प्रिया शर्मा है", "मेरा नाम [name] है"),
        ("उसका नाम नेहा है", "उसका नाम [name] है"),
        ("मैं प्रिया हूँ", "मैं [name] हूँ"),
    ],
)
def test_names_people_give(text: str, expected: str) -> None:
    assert redact(text) == expected


# --- what stays ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "I'm tired of this",
        "im confused about his texts",
        "I'm overthinking everything",
        "I AM DONE WITH HIM",
        "this is hard",
        "this is cheating?",
        "call me back please",
        "what name should I use for booking",
        "the app name is confusing",
        "Anyone here?",
        "main pareshan hoon",
        "main theek hoon",
        "main bahut pareshan hoon",
        "main stressed hoon",
        "mein ghar pe hoon",
        "मैं परेशान हूँ",
        "मैं ठीक हूं",
        "can we meet at 10:30 or 5 pm, 6 baje bhi chalega",
        "session at 10.30 am tomorrow",
        "सुबह १० बजे",
        "is ₹2,500 per session ok? or 2000 rs? Rs. 1,500? 3000/-",
        "fees 1,50,000 rupees or $50 per hour",
        "1500 रुपये",
        "whats the cost of couples therapy",
    ],
)
def test_ordinary_words_times_and_amounts_are_not_redacted(text: str) -> None:
    assert redact(text) == text


def test_a_stored_question_keeps_times_and_amounts_but_no_other_numbers() -> None:
    assert redact_question("Can we meet at 10:30? Is ₹2,500 ok?") == "can we meet at 10:30 is ₹2,500 ok"
    assert redact_question("Can I see a therapist on 12 May? call 98765 43210") == "can i see a therapist on # may call [phone]"
    assert redact_question("my wife is 34, otp 123456 didnt come") == "my wife is # otp # didnt come"
    assert redact_question("Mera naam Riya hai, kya 6 baje session ho sakta hai?") == "mera naam [name] hai kya 6 baje session ho sakta hai"
    assert redact_question("hmm") is None
    assert redact_question("@neha_22") is None, "a lone detail teaches nothing and is not kept"


async def test_the_unanswered_list_never_holds_a_name_or_number(tmp_path: Path, catalog: Catalog) -> None:
    clock = Clock(datetime(2030, 3, 25, 4, 0, tzinfo=timezone.utc))
    engine, desk = await start_desk(tmp_path, catalog, clock)
    try:
        await engine.handle(make_incoming("/start"))
        await engine.handle(press("consent:yes", user_id=1001))
        replies = await engine.handle(make_incoming("purple monkey, my name is Priya, text me at 98765 43210 or @priya_k"))
        if any(reply.key == "text.safety_check_in" for reply in replies):
            await engine.handle(press("chk:ok", user_id=1001))  # "I'm okay": the question is carried on
        top = await HandoffStore(engine.store).top_unanswered(clock() - timedelta(days=1))
    finally:
        await engine.close()
    stored = " ".join(text for text, _, _ in top)
    assert "purple monkey" in stored and "[name]" in stored and "[phone]" in stored and "[handle]" in stored
    assert "priya" not in stored.casefold() and "98765" not in stored


# --- what the texts promise ----------------------------------------------------------------------

# How each language says "the staff", "that message" and "the staff group", as written in content/.
STAFF_SEE_THE_MESSAGE = {
    "en": ("staff", "that message", "whatever you chose"),
    "hinglish": ("staff", "wo message", "kuch bhi chuna"),
    "hi": ("स्टाफ़", "वह मैसेज", "कुछ भी चुना"),
}
COPIES_STAY = {
    "en": ("staff group", "stay there"),
    "hinglish": ("staff group", "wahan rehte"),
    "hi": ("स्टाफ़ ग्रुप", "वहीं रहते"),
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_privacy_text_and_consent_question_say_staff_see_an_alerting_message(catalog: Catalog, language: str) -> None:
    texts = Texts(catalog, emergency="112", retention_days=180)
    with speaking(language):
        privacy, consent = texts.get("privacy_full"), texts.get("consent_question")
    staff, message, whatever = STAFF_SEE_THE_MESSAGE[language]
    alert_line = next(line for line in privacy.splitlines() if message in line)
    assert staff in alert_line and whatever in alert_line, alert_line
    assert staff in consent and message in consent, consent


@pytest.mark.parametrize("language", LANGUAGES)
def test_forget_texts_say_copies_in_the_staff_group_stay(catalog: Catalog, language: str) -> None:
    texts = Texts(catalog, emergency="112", retention_days=180)
    group, stay = COPIES_STAY[language]
    with speaking(language):
        for key in ("forget_confirm", "forget_done"):
            words = texts.get(key, erased="x")
            assert group in words and stay in words, (key, words)
