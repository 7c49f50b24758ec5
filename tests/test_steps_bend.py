"""Steps that bend around a person (issue 13): safety answers and questions in the middle of a
booking or flow step, own words at a choice step, a typed phone number, and changing a booking.

Transcripts: user: ... -> bot: [keys]. The booking runs on the shipped placeholder availability
with a hand-moved clock (see tests/test_booking.py).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.engine.core import Engine
from bot.engine.flow_input import is_question
from bot.engine.replies import Incoming, Reply
from bot.features.staff.router import CentreDesk
from tests.conftest import find_button, keys, make_incoming, payloads_of
from tests.test_booking import (  # the booking tests' clock and desk, shared
    PERSON, Clock, book_until_summary, clock, desk_engine, drain, press, staff_press, to_staff,  # noqa: F401
)

CRISIS = "i don't want to be alive anymore"
WEEKEND_QUESTION = "can we do a weekend evening instead? we both work"




async def say(engine: Engine, text: str, user_id: int = PERSON) -> list[Reply]:
    return await engine.handle(make_incoming(text, user_id=user_id))


def text_of(replies: list[Reply]) -> str:
    return "\n".join(reply.text for reply in replies)


def slots(replies: list[Reply]) -> list[str]:
    return [p for p in payloads_of(replies) if ":slot:" in p]


async def at_slot_step(engine: Engine, user_id: int = PERSON, draft: int = 1) -> list[Reply]:
    """/book -> for a couple -> online: the free times."""
    await say(engine, "/start", user_id)
    await say(engine, "/book", user_id)
    await engine.handle(press(f"bk:{draft}:who:couple", user_id))
    replies = await engine.handle(press(f"bk:{draft}:mode:online", user_id))
    assert keys(replies) == ["text.book_slots_intro"]
    return replies


def option(replies: list[Reply], label: str) -> str:
    for reply in replies:
        for button in reply.all_buttons():
            if button.label == label:
                return button.payload
    raise AssertionError(f"no button {label!r} in {[b.label for r in replies for b in r.all_buttons()]}")


# --- a safety answer in the middle of booking ------------------------------------------------------


async def test_a_safety_answer_mid_booking_offers_the_booking_back_at_the_same_step(
    desk_engine: tuple[Engine, CentreDesk],
) -> None:
    engine, _ = desk_engine
    shown = await at_slot_step(engine)
    replies = await say(engine, CRISIS)
    assert keys(replies)[0] == "text.safety_crisis"
    assert not any(key.startswith("text.book_") for key in keys(replies)), "no booking step next to the crisis lines"
    replies = await say(engine, "thank you")
    assert keys(replies)[-1] == "text.book_resume_question"
    assert {"stepback:yes", "stepback:no"} <= set(payloads_of(replies[-1:]))
    assert "text.book_resume_question" not in keys(await say(engine, "ok")), "asked once"
    back = await engine.handle(press("stepback:yes"))
    assert keys(back) == ["text.book_resumed", "text.book_slots_intro"]
    assert slots(back) == slots(shown), "the same step, with the same times"
    replies = await engine.handle(press(slots(back)[0]))
    assert keys(replies) == ["text.book_contact_question"]


async def test_after_a_safety_answer_typing_the_next_button_carries_on_and_thanks_is_no_note(
    desk_engine: tuple[Engine, CentreDesk],
) -> None:
    engine, _ = desk_engine
    await say(engine, "/start")
    await say(engine, "/book")
    await engine.handle(press("bk:1:who:individual"))
    await say(engine, CRISIS)
    replies = await say(engine, "Online (video call)")
    assert keys(replies) == ["text.book_slots_intro"], "a typed label presses its button, no fallback, nothing to offer back"
    await engine.handle(press(slots(replies)[0]))
    await engine.handle(press("bk:1:contact:here"))
    await say(engine, CRISIS)  # at the note step
    replies = await say(engine, "thank you")
    assert "text.book_summary" not in keys(replies) and keys(replies)[-1] == "text.book_resume_question"
    row = await engine.store.fetchone("SELECT note FROM bookings WHERE id = 1")
    assert row is not None and row["note"] is None, "'thank you' after a crisis answer is not the therapist's note"
    assert keys(await engine.handle(press("stepback:yes"))) == ["text.book_resumed", "text.book_note_question"]


async def test_a_held_time_that_lapsed_meanwhile_is_checked_again_on_going_back(
    desk_engine: tuple[Engine, CentreDesk], clock: Clock,
) -> None:
    engine, _ = desk_engine
    shown = await at_slot_step(engine)
    chosen = slots(shown)[0]
    await engine.handle(press(chosen))  # held for hold_minutes (15)
    await say(engine, CRISIS)
    clock.now += timedelta(minutes=20)  # the hold lapsed: someone else books that very time
    other = 2002
    await at_slot_step(engine, other, draft=2)
    assert keys(await engine.handle(press(chosen.replace("bk:1:", "bk:2:"), other))) == ["text.book_contact_question"]
    await say(engine, "ok")
    back = await engine.handle(press("stepback:yes"))
    assert keys(back) == ["text.book_resumed", "text.book_slot_taken"]
    assert chosen not in slots(back)


async def test_leaving_the_booking_for_now_frees_the_time_and_book_offers_to_continue(
    desk_engine: tuple[Engine, CentreDesk],
) -> None:
    engine, _ = desk_engine
    shown = await at_slot_step(engine)
    await engine.handle(press(slots(shown)[0]))
    await say(engine, CRISIS)
    await say(engine, "thanks")
    assert keys(await engine.handle(press("stepback:no"))) == ["text.book_resume_declined"]
    row = await engine.store.fetchone("SELECT active, slot_start, who FROM bookings WHERE id = 1")
    assert row is not None and row["active"] == 0 and row["slot_start"] is None and row["who"] == "couple"
    again = await say(engine, "/book")
    assert keys(again) == ["text.book_continue_or_restart"], "/book no longer throws a half-done booking away"
    replies = await engine.handle(press(option(again, "Continue")))
    assert keys(replies) == ["text.book_slots_intro"]


# --- a question in the middle of a step -------------------------------------------------------------


async def test_a_question_mid_booking_is_answered_and_the_slot_list_shown_again(
    desk_engine: tuple[Engine, CentreDesk],
) -> None:
    engine, _ = desk_engine
    shown = await at_slot_step(engine)
    replies = await say(engine, WEEKEND_QUESTION)
    assert len(replies) > 1 and replies[0].key != "text.book_slots_intro", "the question is answered first"
    last = replies[-1]
    assert last.key == "text.book_slots_intro" and last.text.startswith("Whenever you're ready, here's your booking")
    assert slots([last]) == slots(shown)
    assert "bk:1:cancel" in payloads_of([last]), "a way out of a booking the person wandered away from"
    assert keys(await engine.handle(press(slots([last])[0]))) == ["text.book_contact_question"]


@pytest.mark.parametrize("text", ["Priya", "asdf qwerty", "flipkart se refund kaise milega"])
async def test_what_is_neither_an_answer_nor_a_question_mid_booking_gets_a_nudge_back_not_the_menu(
    desk_engine: tuple[Engine, CentreDesk], text: str
) -> None:
    engine, _ = desk_engine
    shown = await at_slot_step(engine)
    replies = await say(engine, text)
    assert keys(replies) == ["text.step_not_understood", "text.book_slots_intro"]
    assert "text.fallback" not in keys(replies), "no 'not something I can help with' and main menu mid-step"
    assert slots(replies[-1:]) == slots(shown) and "bk:1:cancel" in payloads_of(replies[-1:])


async def test_the_third_misunderstanding_in_a_row_mid_step_puts_a_person_first(desk_engine: tuple[Engine, CentreDesk]) -> None:
    engine, _ = desk_engine
    await at_slot_step(engine)
    for text in ("purple monkey", "zebra accordion"):
        assert keys(await say(engine, text))[0] == "text.step_not_understood"
    replies = await say(engine, "quantum teapot umbrella")
    assert keys(replies)[0] == "text.fallback_repeated" and payloads_of(replies)[0] == "human"
    assert keys(replies)[-1] == "text.book_slots_intro", "and the step is still there"


async def test_a_question_mid_flow_is_answered_and_the_step_shown_again_with_its_buttons(
    desk_engine: tuple[Engine, CentreDesk],
) -> None:
    engine, _ = desk_engine
    await say(engine, "/start")
    first = await engine.handle(press("flow:reflection"))
    replies = await say(engine, "what is micro cheating?")
    assert "answer.what_is_micro_cheating" in keys(replies)
    last = replies[-1]
    assert last.key == "flow.reflection.noticed"
    assert payloads_of([last]) == payloads_of(first[-1:]), "the same options, Something else and Stop"
    assert last.text.startswith("Whenever you're ready, here's where we were:")


# --- own words at a choice step ------------------------------------------------------------------------


async def test_own_words_at_a_choice_step_are_the_answer(desk_engine: tuple[Engine, CentreDesk]) -> None:
    engine, _ = desk_engine
    await say(engine, "/start")
    await engine.handle(press("flow:reflection"))
    replies = await say(engine, "he turns his phone face down whenever I walk in")
    assert keys(replies) == ["flow.reflection.feelings"], "taken without pressing Something else"
    replies = await say(engine, "hurt and betrayed")
    labels = {b.label for b in replies[-1].all_buttons()}
    assert "✓ Hurt" in labels and "✓ Other" in labels, "a known feeling ticked, the other kept in their words"
    await say(engine, "done")
    await say(engine, "4")
    replies = await say(engine, "to feel close again")  # own words at the last choice step too
    summary = text_of(replies)
    assert "he turns his phone face down whenever I walk in" in summary
    assert "betrayed" in summary and "to feel close again" in summary


async def test_a_question_at_a_choice_step_is_answered_and_the_step_shown_again(
    desk_engine: tuple[Engine, CentreDesk],
) -> None:
    engine, _ = desk_engine
    await say(engine, "/start")
    await engine.handle(press("flow:crossed_line"))
    for question in ("is texting my ex micro cheating", "kya ye micro cheating hai"):
        replies = await say(engine, question)
        assert replies[-1].key == "flow.crossed_line.happened", question
        assert len(replies) > 1, "answered before the step comes back"
    replies = await say(engine, "hi")
    assert replies[-1].key == "flow.crossed_line.happened", "a greeting is not what happened"
    replies = await say(engine, CRISIS)
    assert keys(replies)[0] == "text.safety_crisis", "safety runs before own words are taken"
    assert not any(key.startswith("flow.") for key in keys(replies))


def test_what_counts_as_clearly_a_question() -> None:
    for text in ("can we do a weekend evening instead", "how do I tell him", "kya ye normal hai", "क्या यह ठीक है",
                 "is it normal to check his phone", "he hides his phone?"):
        assert is_question(text), text
    for text in ("he hides his phone", "is baat se dukh hua", "do din se baat nahi ki", "are yaar he lied again",
                 "my wife texts her ex"):
        assert not is_question(text), text


# --- the contact step -----------------------------------------------------------------------------------


async def test_a_typed_phone_number_at_the_contact_step_gets_the_share_button_and_why(
    desk_engine: tuple[Engine, CentreDesk],
) -> None:
    engine, _ = desk_engine
    shown = await at_slot_step(engine)
    replies = await engine.handle(press(slots(shown)[0]))
    assert keys(replies) == ["text.book_contact_question"]
    typed = await say(engine, "my number is 98765 43210")
    assert keys(typed) == ["text.book_contact_phone_typed"] and typed[0].request_contact
    assert "comes from Telegram itself" in typed[0].text and "never kept" in typed[0].text
    assert "bk:1:contact:here" in payloads_of(typed)
    row = await engine.store.fetchone("SELECT phone FROM bookings WHERE id = 1")
    assert row is not None and row["phone"] is None, "a typed number is never stored"
    shared = await engine.handle(Incoming(user_id=PERSON, kind="contact", contact_phone="+919876543210", first_name="Asha"))
    assert keys(shared) == ["text.book_note_question"]


# --- changing a booking ------------------------------------------------------------------------------------


async def test_changing_a_booking_asks_what_and_shows_the_change_as_pending(desk_engine: tuple[Engine, CentreDesk]) -> None:
    engine, desk = desk_engine
    summary, _ = await book_until_summary(engine)
    await engine.handle(press(find_button(summary, "bk:1:confirm")))
    await drain(engine)
    booked_at = (await engine.store.fetchone("SELECT slot_start FROM bookings WHERE id = 1"))["slot_start"]
    mine = await say(engine, "/mybooking")
    asked = await engine.handle(press(find_button(mine, "mybooking:change:1")))
    assert keys(asked) == ["text.book_change_what"]
    times = await engine.handle(press(option(asked, "🕑 Another free time")))
    assert keys(times) == ["text.book_slots_intro"]
    wanted = [p for p in payloads_of(times) if p.startswith("mybooking:at:1:")][0]
    sent = await engine.handle(press(wanted))
    assert keys(sent) == ["text.book_change_sent_time"]
    assert "They'll answer you here." in sent[0].text
    (notice,) = to_staff(await drain(engine))
    assert "Change asked (waiting for the centre)" in notice.reply.text
    assert "staff:propose:1" in [b.payload for b in notice.reply.all_buttons()]
    mine = await say(engine, "/mybooking")
    assert "Change asked (waiting for the centre)" in mine[0].text
    row = await engine.store.fetchone("SELECT slot_start, change_start FROM bookings WHERE id = 1")
    assert row["slot_start"] == booked_at and row["change_start"] != booked_at, "asked for, not moved: the centre decides"
    await desk.staff.handle(staff_press("staff:confirm:1"))
    mine = await say(engine, "/mybooking")
    assert "Change asked" not in mine[0].text, "settled once the centre answers"


async def test_a_change_note_by_phone_contact_does_not_promise_an_answer_here(
    desk_engine: tuple[Engine, CentreDesk],
) -> None:
    engine, _ = desk_engine
    shown = await at_slot_step(engine)
    await engine.handle(press(slots(shown)[0]))
    await engine.handle(press("bk:1:contact:phone"))
    await engine.handle(Incoming(user_id=PERSON, kind="contact", contact_phone="+919876543210", first_name="Asha"))
    summary = await engine.handle(press("bk:1:note:skip"))
    await engine.handle(press(find_button(summary, "bk:1:confirm")))
    await drain(engine)
    asked = await engine.handle(press("mybooking:change:1"))
    assert keys(await engine.handle(press(option(asked, "📝 Write a note for the centre")))) == ["text.book_change_note_ask"]
    sent = await say(engine, WEEKEND_QUESTION)
    assert keys(sent) == ["text.book_change_sent_note"], "the note is taken as written, question mark and all"
    assert "call you" in sent[0].text and "here" not in sent[0].text
    mine = await say(engine, "/mybooking")
    assert "weekend evening" in mine[0].text and "waiting for the centre" in mine[0].text
    assert [d.reply.key for d in to_staff(await drain(engine))] == ["text.staff_booking_person_change"]
