"""End to end: the real Application (long polling) and the real engine with the shipped content,
against the Bot API stand-in. Read as transcripts: `user: ... -> bot: [content keys]`, and what
the person actually saw must be exactly what the engine said, once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import build_engine
from bot.config import Settings
from bot.engine.replies import Button, Reply
from bot.nlu.understand import understand
from tests.botapi_standin import BotApiStandIn, Fault, FaultPlan
from tests.telegram_helpers import (
    AnyApplication,
    Person,
    RecordingEngine,
    expected_texts,
    keys,
    label_for,
    make_settings,
    person,
    running_bot,
    settle,
    standin,  # noqa: F401 - the fixture
)

CRISIS = "i don't want to be alive anymore"
# Phrases that sit between intents; the test uses one the shipped matcher really is unsure about.
AMBIGUOUS = (
    "is he cheating",
    "trust",
    "my partner and his phone",
    "we are trying to get back to normal",
    "is it cheating or am i overthinking",
    "what should i do",
    "she likes his photos",
)


@pytest.fixture
def settings(standin: BotApiStandIn, tmp_path: Path) -> Settings:
    return make_settings(standin, tmp_path)


@pytest.fixture
async def bot(settings: Settings) -> AsyncIterator[tuple[AnyApplication, RecordingEngine]]:
    engine = RecordingEngine(build_engine(settings))
    async with running_bot(settings, engine) as application:
        yield application, engine


def saw_exactly(shown_texts: list[str], engine: RecordingEngine, user_id: int) -> None:
    assert shown_texts == expected_texts(engine.last_turn(user_id))


async def test_a_first_conversation(standin: BotApiStandIn, bot: tuple[AnyApplication, RecordingEngine]) -> None:
    application, engine = bot
    asha = person(standin, application)
    uid = asha.user.id

    # user: /start -> bot: welcome ... menu
    shown = await asha.says("/start")
    turn = engine.last_turn(uid)
    assert keys(turn)[0] == "text.welcome" and keys(turn)[-1] == "text.menu_intro"
    saw_exactly([e.text for e in shown], engine, uid)
    assert shown[-1].labels == [b.label for b in turn[-1].all_buttons()]

    # user presses "Ask a question" -> bot: the prompt; the button stops spinning
    shown = await asha.presses(label_for(turn, "ask"))
    assert keys(engine.last_turn(uid)) == ["text.ask_prompt"]
    saw_exactly([e.text for e in shown], engine, uid)
    assert len(standin.answered_queries) == 1

    # user: an FAQ question -> bot: the answer, next steps under its last message
    shown = await asha.says("what does micro cheating mean")
    turn = engine.last_turn(uid)
    assert "answer.what_is_micro_cheating" in keys(turn)
    saw_exactly([e.text for e in shown], engine, uid)
    assert shown[-1].labels, "the answer ends with buttons"

    # user: a sticker -> bot: it reads text and buttons
    shown = await asha.sends("sticker")
    assert keys(engine.last_turn(uid)) == ["text.unsupported_media"]
    saw_exactly([e.text for e in shown], engine, uid)


async def test_a_clarifying_question_and_a_chosen_candidate(standin: BotApiStandIn, bot: tuple[AnyApplication, RecordingEngine]) -> None:
    application, engine = bot
    unsure = [t for t in AMBIGUOUS if understand(t, engine.detector, engine.matcher).decision == "clarify"]
    assert unsure, "none of the ambiguous phrases gets a clarifying question from the shipped matcher"
    asha = person(standin, application)
    await asha.says("/start")
    shown = await asha.says(unsure[0])
    turn = engine.last_turn(asha.user.id)
    assert keys(turn) == ["text.clarify"]
    candidate = turn[0].all_buttons()[0]
    assert shown[-1].labels[0] == candidate.label
    shown = await asha.presses(candidate.label)
    intent = candidate.payload.split(":", 1)[1]
    assert f"answer.{intent}" in keys(engine.last_turn(asha.user.id))
    saw_exactly([e.text for e in shown], engine, asha.user.id)


async def test_a_crisis_message_gets_lines_and_a_way_to_a_person(standin: BotApiStandIn, bot: tuple[AnyApplication, RecordingEngine]) -> None:
    application, engine = bot
    asha = person(standin, application)
    await asha.says("/start")
    shown = await asha.says(CRISIS)
    turn = engine.last_turn(asha.user.id)
    assert "safety.lines.crisis" in keys(turn)
    saw_exactly([e.text for e in shown], engine, asha.user.id)
    assert "14416" in "\n".join(e.text for e in shown), "the crisis line's number is on screen"
    assert label_for(turn, "human") in [label for e in shown for label in e.labels]


async def test_an_edited_message_is_still_safety_checked(standin: BotApiStandIn, bot: tuple[AnyApplication, RecordingEngine]) -> None:
    application, engine = bot
    asha = person(standin, application)
    await asha.says("/start")
    message = standin.user_sends(asha.user, "ok")
    await settle(standin, application)
    await asha.edits(message, CRISIS)
    assert "safety.lines.crisis" in keys(engine.last_turn(asha.user.id))


async def test_a_forged_button_gets_the_expired_answer_and_the_menu(standin: BotApiStandIn, bot: tuple[AnyApplication, RecordingEngine]) -> None:
    application, engine = bot
    asha = person(standin, application)
    await asha.says("/start")
    for forged in ("forget:yes|AAAAAAAAAAAA", "forget:yes", "💥"):
        shown = await asha.presses_data(forged)
        turn = engine.last_turn(asha.user.id)
        assert keys(turn) == ["text.button_expired"]
        assert shown[-1].labels == [b.label for b in turn[-1].all_buttons()], "the menu comes with it"
    assert len(standin.answered_queries) == 3
    shown = await asha.says("what does micro cheating mean")
    assert "answer.what_is_micro_cheating" in keys(engine.last_turn(asha.user.id)), "the bot carries on"


async def test_someone_elses_button_is_expired_for_me(standin: BotApiStandIn, bot: tuple[AnyApplication, RecordingEngine]) -> None:
    application, engine = bot
    asha, ravi = person(standin, application, "Asha"), person(standin, application, "Ravi")
    await asha.says("/start")
    ashas_menu = asha.shown()[-1]
    await ravi.says("/start")
    shown = await ravi.presses_data(ashas_menu.callback_data[0][0], on=ravi.shown()[-1])
    assert keys(engine.last_turn(ravi.user.id)) == ["text.button_expired"]
    assert all(e.chat_id == ravi.chat_id for e in shown)


async def test_a_group_gets_one_answer_then_silence_even_after_a_restart(standin: BotApiStandIn, settings: Settings) -> None:
    group = standin.add_group("Friends")
    meera = standin.new_user("Meera")
    async with running_bot(settings) as application:
        standin.group_message(meera, group, "hi bot")
        standin.group_message(meera, group, "hello??")
        await settle(standin, application)
    async with running_bot(settings) as application:
        standin.group_message(meera, group, "/start@alumaura_test_bot")
        await settle(standin, application)
    (notice,) = standin.events_in(group.id)
    assert "https://t.me/alumaura_test_bot?start=hi" in notice.text


def button_with(replies: list[Reply], payload_prefix: str) -> Button:
    return next(b for r in replies for b in r.all_buttons() if b.payload.startswith(payload_prefix))


async def test_a_restart_mid_conversation_continues_where_the_person_was(standin: BotApiStandIn, settings: Settings) -> None:
    first = RecordingEngine(build_engine(settings))
    async with running_bot(settings, first) as application:
        asha = person(standin, application)
        uid = asha.user.id
        await asha.says("/start")
        await asha.says("/signs")  # -> the signs check-in's intro
        await asha.presses(button_with(first.last_turn(uid), "fl:signs:").label)
        step = first.last_turn(uid)
        (step_key,) = keys(step)
        assert step_key.startswith("flow.signs.")
        answer = button_with(step, f"fl:signs:{step_key.rsplit('.', 1)[1]}:")
        question = asha.message_with(answer.label)
        await asha.says("purple monkey dishwasher")
        await asha.says("zebra accordion lighthouse")
        assert keys(first.last_turn(uid))[0] == "text.step_not_understood"  # mid-step: a nudge back to it

    second = RecordingEngine(build_engine(settings))
    async with running_bot(settings, second) as application:
        asha = Person(standin, application, asha.user)
        await asha.says("quantum teapot umbrella")
        assert keys(second.last_turn(uid))[0] == "text.fallback_repeated", "the count of misunderstandings survived"
        # The question's buttons from before the restart still work (same token), and the flow goes on.
        await asha.presses(answer.label, on=question)
        after = keys(second.last_turn(uid))
        assert after and after[0].startswith("flow.signs.") and after[0] != step_key, after
    assert "text.welcome" not in keys(second.replies(uid)), "no second welcome after a restart"


async def test_flood_errors_and_dropped_connections_lose_no_reply_and_send_none_twice(standin: BotApiStandIn, tmp_path: Path) -> None:
    # Flood waits are scripted (each costs a second); the random share is errors and dropped connections.
    standin.faults = (
        FaultPlan(share=0.12, seed=11, mix=(Fault.server_error(), Fault.drop()))
        .then("getUpdates", Fault.server_error())
        .then("sendMessage", Fault.drop(), Fault.flood(1))
        .then("answerCallbackQuery", Fault.flood(1))
    )
    settings = make_settings(standin, tmp_path, rate_limiter=True)
    engine = RecordingEngine(build_engine(settings))
    async with running_bot(settings, engine) as application:
        people = [person(standin, application, f"P{i}") for i in range(4)]

        async def converse(someone: Person) -> None:
            await someone.says("/start")
            await someone.presses(label_for(engine.last_turn(someone.user.id), "ask"))
            await someone.says("how can i trust my partner again")

        await asyncio.wait_for(asyncio.gather(*(converse(p) for p in people)), 30)
    injected = {kind for _, kind in standin.faults.injected}
    assert {"flood", "server_error", "drop"} <= injected, f"the faults really happened: {standin.faults.injected}"
    for someone in people:
        arrived = [e.text for e in standin.events_in(someone.chat_id)]
        assert arrived == expected_texts(engine.replies(someone.user.id)), f"{someone.user.first_name} saw every reply once"
    assert len(standin.answered_queries) == len(people)
