"""The safety tiers in the conversation: the check-in, its answers, a day of care, staff alerts.

The safety check's decision is pinned here (a stand-in `understand`) so each tier is tested on its
own, in every state; tests/test_safety_classifier.py tests which messages get which tier.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import build_engine
from bot.catalog.loader import Catalog
from bot.engine import choices, core, free_text, safety_turns
from bot.engine.core import Engine
from bot.engine.replies import Reply
from bot.engine.safety_care import alert_reason, is_acknowledgement, is_reassurance, typed_check_in_answer
from bot.nlu.understand import Understanding
from tests.conftest import find_button, keys, make_incoming, make_settings, payloads_of, press

USER = 1001


@dataclass(frozen=True)
class Assessment:
    """What the safety check reports (the fields the engine reads)."""

    label: str
    pattern: str
    evidence: str
    probability: float
    tier: str
    means: bool = False


# What the stand-in safety check says about each test message.
SCRIPT: dict[str, Assessment | None] = {
    "maybe everyone is better off without me around": Assessment("crisis", "model", "model", 0.55, "check_in"),
    "things at home got scary last night": Assessment("unsafe_at_home", "model", "model", 0.5, "check_in"),
    "i want to end my life": Assessment("crisis", "crisis.want_to_die", "pattern:crisis.want_to_die", 0.99, "alert"),
    "i bought the pills today": Assessment("crisis", "crisis.method", "pattern:crisis.method", 0.99, "alert", means=True),
    "he hit me again": Assessment("unsafe_at_home", "unsafe.hits_me", "pattern:unsafe.hits_me", 0.99, "alert"),
    "mujhe marna hai": Assessment("crisis", "crisis.want_to_die", "pattern:crisis.want_to_die", 0.99, "alert"),
    "मैं मरना चाहती हूँ": Assessment("crisis", "crisis.want_to_die", "pattern:crisis.want_to_die", 0.99, "alert"),
}


@pytest.fixture
async def engine(tmp_path: Path, catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Engine]:
    """An engine with a staff group, whose safety check follows SCRIPT."""
    real: Callable[..., Understanding] = core.understand

    def scripted(text: str, *args: object, **kwargs: object) -> Understanding:
        meaning = real(text, *args, **kwargs)
        verdict = SCRIPT.get(text.strip(), None) if text.strip() in SCRIPT else None
        if verdict is None:
            return Understanding(meaning.decision, meaning.predicted, meaning.top, meaning.candidates, meaning.score)
        if verdict.tier == "check_in":
            # A check-in keeps what the message was otherwise about, so "I'm okay" can carry on with it.
            return Understanding(meaning.decision, meaning.predicted, meaning.top, meaning.candidates, meaning.score, verdict)  # type: ignore[arg-type]
        return Understanding("answer", verdict.label, meaning.top, (), meaning.score, verdict)  # type: ignore[arg-type]

    monkeypatch.setattr(core, "understand", scripted)
    built = build_engine(make_settings(tmp_path, staff_chat_id=-100), catalog)
    await built.start()
    try:
        yield built
    finally:
        await built.close()


async def say(engine: Engine, text: str) -> list[Reply]:
    return await engine.handle(make_incoming(text, user_id=USER))


async def staff_cards(engine: Engine) -> list[Reply]:
    """The safety cards queued for staff (and mark them delivered)."""
    cards = []
    for delivery in await engine.due_deliveries(limit=50):
        if delivery.kind == "safety_alert":
            cards.append(delivery.reply)
        await engine.delivery_done(delivery.id)
    return cards


# --- pure rules -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "label", "expected"),
    [
        ("yes", "crisis", "think"), ("haan", "crisis", "think"), ("हाँ", "unsafe_at_home", "unsafe"),
        ("no", "crisis", "ok"), ("nahi yaar", "crisis", "ok"), ("i'm ok", "crisis", "ok"),
        ("main theek hoon", "crisis", "ok"), ("मैं ठीक हूँ", "crisis", "ok"),
        ("what do you mean by that, why are you asking me this", "crisis", None),
        ("my husband texts his ex", "crisis", None),
    ],
)
def test_a_typed_answer_to_the_check_in_is_understood(text: str, label: str, expected: str | None) -> None:
    assert typed_check_in_answer(text, label) == expected


@pytest.mark.parametrize("text", ["ok", "Ok!!", "hmm", "thanks", "thank you so much", "theek hai", "👍", "accha", "haan", "yes"])
def test_small_acknowledgements_are_recognised(text: str) -> None:
    assert is_acknowledgement(text)


@pytest.mark.parametrize("text", ["ok so what do i do now", "thanks but he still texts her", "how do i rebuild trust"])
def test_a_real_question_is_not_an_acknowledgement(text: str) -> None:
    assert not is_acknowledgement(text)


@pytest.mark.parametrize("text", ["no im fine, i am safe", "I'm okay", "haan main safe hu", "main theek hoon", "मैं ठीक हूँ"])
def test_saying_i_am_okay_is_recognised(text: str) -> None:
    assert is_reassurance(text)


@pytest.mark.parametrize("text", ["no", "nahi", "i'm fine but he still checks my phone every night and shouts"])
def test_a_bare_no_or_a_longer_story_is_not_a_reassurance(text: str) -> None:
    assert not is_reassurance(text)


def test_alert_rules_cooldown_per_label_and_escalations() -> None:
    recent_unsafe = [{"label": "unsafe_at_home", "means": 0}]
    recent_crisis = [{"label": "crisis", "means": 0}]
    assert alert_reason("crisis", False, []) == "first"
    assert alert_reason("crisis", False, recent_crisis) is None
    assert alert_reason("unsafe_at_home", False, recent_crisis) == "first"
    assert alert_reason("crisis", False, recent_unsafe) == "escalation_unsafe_to_crisis"
    assert alert_reason("crisis", True, recent_crisis) == "escalation_means"
    assert alert_reason("crisis", True, [{"label": "crisis", "means": 1}]) is None
    assert alert_reason("crisis", False, recent_crisis, confirmed=True) == "escalation_check_in"


# --- the check-in -----------------------------------------------------------------------------------


async def test_a_possible_risk_gets_one_gentle_question_with_four_answers(engine: Engine) -> None:
    replies = await say(engine, "maybe everyone is better off without me around")
    assert keys(replies) == ["text.safety_check_in"]
    assert payloads_of(replies) == ["chk:think", "chk:unsafe", "chk:ok", "chk:human"]
    events = await engine.store.safety_events(USER)
    assert [(e["tier"], e["alerted"], e["outcome"]) for e in events] == [("check_in", 0, None)]
    assert await staff_cards(engine) == []


async def test_yes_at_the_check_in_gives_the_full_answer_and_alerts_staff(engine: Engine) -> None:
    await say(engine, "maybe everyone is better off without me around")
    replies = await engine.handle(press("chk:think"))
    assert keys(replies)[0] == "text.safety_crisis"
    assert "safety.lines.crisis" in keys(replies)
    cards = await staff_cards(engine)
    assert len(cards) == 1 and "they said yes when I checked in" in cards[0].text
    assert "better off without me" in cards[0].text  # staff see the words that raised concern
    events = await engine.store.safety_events(USER)
    assert events[0]["outcome"] == "confirmed_crisis"
    assert (events[1]["tier"], events[1]["reason"]) == ("alert", "escalation_check_in")


async def test_a_second_worrying_message_after_a_check_in_gets_the_full_answer(engine: Engine) -> None:
    await say(engine, "maybe everyone is better off without me around")
    replies = await say(engine, "things at home got scary last night")
    assert keys(replies)[0] == "text.safety_unsafe"  # not the same question twice
    assert "safety.lines.unsafe_at_home" in keys(replies)
    assert len(await staff_cards(engine)) == 1
    events = await engine.store.safety_events(USER)
    assert [(e["tier"], e["outcome"]) for e in events] == [("check_in", "followed_by_worry"), ("alert", None)]


async def test_not_safe_at_home_at_the_check_in_gives_the_danger_answer(engine: Engine) -> None:
    await say(engine, "things at home got scary last night")
    replies = await engine.handle(press("chk:unsafe"))
    assert keys(replies)[0] == "text.safety_unsafe"
    assert "safety.lines.unsafe_at_home" in keys(replies)
    assert len(await staff_cards(engine)) == 1


async def test_im_okay_carries_on_with_what_the_message_was_about(engine: Engine) -> None:
    await say(engine, "hi")
    SCRIPT["how do i rebuild trust after he hid his chats, some days i feel like disappearing"] = Assessment(
        "crisis", "model", "model", 0.5, "check_in"
    )
    try:
        await say(engine, "how do i rebuild trust after he hid his chats, some days i feel like disappearing")
        replies = await engine.handle(press("chk:ok"))
    finally:
        del SCRIPT["how do i rebuild trust after he hid his chats, some days i feel like disappearing"]
    assert keys(replies)[0] == "text.safety_check_in_okay"
    assert any(key.startswith("answer.") or key == "text.clarify" for key in keys(replies[1:]))
    events = await engine.store.safety_events(USER)
    assert events[-1]["outcome"] == "okay"
    assert await staff_cards(engine) == []


async def test_a_typed_yes_answers_the_check_in(engine: Engine) -> None:
    await say(engine, "maybe everyone is better off without me around")
    replies = await say(engine, "yes")
    assert keys(replies)[0] == "text.safety_crisis"
    assert len(await staff_cards(engine)) == 1


async def test_talk_to_a_person_at_the_check_in_is_recorded(engine: Engine) -> None:
    await say(engine, "maybe everyone is better off without me around")
    replies = await engine.handle(press("chk:human"))
    assert replies  # the handoff's own answer
    assert (await engine.store.safety_events(USER))[0]["outcome"] == "human"


async def test_a_stale_yes_button_still_gives_the_answer(engine: Engine) -> None:
    replies = await engine.handle(press("chk:think"))
    assert keys(replies)[0] == "text.safety_crisis"


async def test_a_forged_check_in_answer_expires(engine: Engine) -> None:
    await say(engine, "hi")
    replies = await engine.handle(press("chk:maybe"))
    assert keys(replies) == ["text.button_expired"]


async def test_the_check_in_comes_before_a_flow_step_and_okay_goes_back_to_it(engine: Engine) -> None:
    await say(engine, "hi")
    started = await engine.handle(press("flow:reflection"))
    assert started
    replies = await say(engine, "maybe everyone is better off without me around")
    assert keys(replies) == ["text.safety_check_in"]
    session = await engine.store.load_session(USER)
    assert session and session["flow"] is not None  # the flow is kept, not lost
    after = await engine.handle(press("chk:ok"))
    assert keys(after)[0] == "text.safety_check_in_okay"
    assert len(after) > 1


STATES = {
    "no state": [],
    "reflection flow": ["flow:reflection"],
    "signs self-check": ["flow:signs"],
    "booking": ["book"],
    "talking to a person": ["human", "human:go"],
}


@pytest.mark.parametrize("state", list(STATES))
@pytest.mark.parametrize(
    ("text", "first_key"),
    [
        ("i want to end my life", "text.safety_crisis"),
        ("he hit me again", "text.safety_unsafe"),
        ("maybe everyone is better off without me around", "text.safety_check_in"),
    ],
)
async def test_each_tier_in_every_state(engine: Engine, state: str, text: str, first_key: str) -> None:
    await say(engine, "hi")
    for payload in STATES[state]:
        await engine.handle(press(payload))
    replies = await say(engine, text)
    assert keys(replies)[0] == first_key
    if first_key == "text.safety_check_in":
        assert payloads_of(replies) == ["chk:think", "chk:unsafe", "chk:ok", "chk:human"]
    else:
        assert any(key.startswith("safety.lines") for key in keys(replies))
        assert "human" in payloads_of(replies)


# --- staff alerts -----------------------------------------------------------------------------------


async def test_an_escalation_alerts_staff_again_within_the_cooldown(engine: Engine) -> None:
    await say(engine, "he hit me again")
    first = await staff_cards(engine)
    assert len(first) == 1 and "first alert" in first[0].text
    await say(engine, "he hit me again")
    assert await staff_cards(engine) == []  # the same label within the hour: no second card
    await say(engine, "i want to end my life")
    crisis = await staff_cards(engine)
    assert len(crisis) == 1 and "first unsafe at home, now a crisis" in crisis[0].text
    await say(engine, "i bought the pills today")
    means = await staff_cards(engine)
    assert len(means) == 1 and "plan or a means" in means[0].text


async def test_the_cooldown_is_per_label(engine: Engine) -> None:
    await say(engine, "i want to end my life")
    await staff_cards(engine)
    await say(engine, "he hit me again")
    assert len(await staff_cards(engine)) == 1


# --- care after an alert ---------------------------------------------------------------------------


async def test_after_an_alert_ok_and_thanks_get_a_caring_reply(engine: Engine) -> None:
    await say(engine, "i want to end my life")
    for text in ("ok", "thanks", "hmm"):
        replies = await say(engine, text)
        assert keys(replies)[0] in {"text.care_ack", "text.care_ack_again"}, text
        assert "human" in payloads_of(replies)
        assert find_button(replies, "lines:crisis")


@pytest.mark.parametrize("text", ["haan", "yes", "ji", "flipkart se refund kaise milega", "asdfgh"])
async def test_after_an_alert_a_bare_yes_or_something_off_topic_gets_care_never_i_cannot_help(engine: Engine, text: str) -> None:
    await say(engine, "mujhe marna hai")
    replies = await say(engine, text)
    assert keys(replies)[0] in {"text.care_ack", "text.care_ack_again"}, text
    assert "text.fallback" not in keys(replies) and "text.fallback_repeated" not in keys(replies)
    assert "human" in payloads_of(replies)


@pytest.mark.parametrize(("alert", "text"), [("i want to end my life", "thinking about it"), ("mujhe marna hai", "what now")])
async def test_after_an_alert_a_few_words_it_cannot_place_get_care_not_topic_buttons(engine: Engine, alert: str, text: str) -> None:
    """"thinking about it" right after the crisis answer is about the crisis, not a topic to pick."""
    await say(engine, alert)
    replies = await say(engine, text)
    assert keys(replies)[0] in {"text.care_ack", "text.care_ack_again"}, keys(replies)
    assert not any(key.startswith("text.clarify") for key in keys(replies))
    assert "human" in payloads_of(replies)


@pytest.mark.parametrize(
    ("alert", "text", "language_word"),
    [
        ("i want to end my life", "no im fine, i am safe", "glad"),
        ("mujhe marna hai", "haan main safe hu", "achha"),
        ("मैं मरना चाहती हूँ", "मैं ठीक हूँ", "अच्छा"),
    ],
)
async def test_after_an_alert_saying_i_am_safe_is_met_with_relief_not_a_did_you_mean(
    engine: Engine, alert: str, text: str, language_word: str
) -> None:
    await say(engine, alert)
    replies = await say(engine, text)
    assert keys(replies) == ["text.care_glad_safe"]
    assert language_word in replies[0].text
    assert "human" in payloads_of(replies)
    assert find_button(replies, "lines:crisis")


async def test_saying_i_am_safe_outside_care_is_no_special_case(engine: Engine) -> None:
    replies = await say(engine, "no im fine, i am safe")
    assert "text.care_glad_safe" not in keys(replies)


async def test_after_an_alert_answers_carry_no_feedback_thumbs(engine: Engine) -> None:
    await say(engine, "i want to end my life")
    replies = await say(engine, "how do i rebuild trust with my partner")
    assert not [payload for payload in payloads_of(replies) if payload.startswith("fb:")]
    assert not [payload for payload in payloads_of(replies) if payload == "answer:goodbye"]


async def test_a_second_alert_is_short_with_the_full_numbers_on_a_button(engine: Engine) -> None:
    first = await say(engine, "i want to end my life")
    second = await say(engine, "i want to end my life")
    assert "safety.lines.crisis" in keys(first)
    assert keys(second) == ["text.safety_again_crisis", "safety.lines_short.crisis"]
    assert "14416" in second[1].text
    full = await engine.handle(press(find_button(second, "lines:crisis")))
    assert "112" in full[0].text and "findahelpline" in full[0].text


async def test_care_ends_after_a_day(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    await say(engine, "i want to end my life")
    later = core.now_utc() + timedelta(hours=25)
    for module in (core, choices, free_text, safety_turns):  # the engine's parts each read the clock
        monkeypatch.setattr(module, "now_utc", lambda: later)
    replies = await say(engine, "thanks")
    assert not keys(replies)[0].startswith("text.care_ack")


# --- the person's language --------------------------------------------------------------------------


async def test_the_safety_answer_comes_in_hinglish(engine: Engine) -> None:
    replies = await say(engine, "mujhe marna hai")
    text = "\n".join(reply.text for reply in replies)
    assert "akele nahi" in text and "14416" in text
    assert "lagbhag 20 bhashaon" in text  # the line's description too


async def test_the_safety_answer_comes_in_hindi(engine: Engine) -> None:
    replies = await say(engine, "मैं मरना चाहती हूँ")
    text = "\n".join(reply.text for reply in replies)
    assert "अकेले" in text and "14416" in text
    check = await say(engine, "ok")
    assert "मैं यहीं हूँ" in check[0].text  # care stays in Hindi for "ok"


async def test_staff_cards_stay_in_english(engine: Engine) -> None:
    await say(engine, "मैं मरना चाहती हूँ")
    cards = await staff_cards(engine)
    assert cards and cards[0].text.startswith("🚨 Urgent") and "first alert" in cards[0].text
