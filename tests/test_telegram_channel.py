"""The channel with a scripted engine, through the real Application and the stand-in: what people see."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from telegram import Update
from telegram.ext import ContextTypes

from bot.engine.payloads import EXPIRED_PAYLOAD
from bot.engine.replies import Button, Incoming, Reply
from bot.engine.commands import PERSON_COMMANDS, menu
from tests.botapi_standin import BotApiStandIn, Fault
from tests.telegram_helpers import FakeEngine, echo, make_settings, menu_reply, person, running_bot, settle, standin  # noqa: F401

SECRET = "my husband texts his ex every night"


def menu_then(reply_to_press: Reply) -> FakeEngine:
    """An engine that shows the menu for any text and answers any button press with `reply_to_press`."""

    def script(incoming: Incoming) -> list[Reply]:
        return [reply_to_press] if incoming.kind == "button" else [menu_reply()]

    return FakeEngine(script=script)


async def test_start_registers_the_command_menu_and_owns_the_engine(standin: BotApiStandIn, tmp_path: Path) -> None:
    engine = FakeEngine()
    async with running_bot(make_settings(standin, tmp_path), engine):
        assert engine.started and not engine.closed
        assert [c["command"] for c in standin.commands] == [name for name, _ in menu(PERSON_COMMANDS)]
        assert standin.chat_commands == {}, "no staff group configured: no staff menu"
        assert all(0 < len(c["description"]) <= 40 for c in standin.commands)
    assert engine.closed


async def test_a_pressed_button_stops_spinning_and_its_message_is_edited(standin: BotApiStandIn, tmp_path: Path) -> None:
    engine = menu_then(Reply(key="ask", text="Go ahead, ask me anything.", edit_previous=True))
    async with running_bot(make_settings(standin, tmp_path), engine) as app:
        asha = person(standin, app)
        (menu,) = await asha.says("hi")
        assert menu.labels == ["Ask a question", "Talk to a person"]
        (edit,) = await asha.presses("Ask a question")
    assert (edit.kind, edit.message_id, edit.text, edit.labels) == ("edited", menu.message_id, "Go ahead, ask me anything.", [])
    assert len(standin.answered_queries) == 1
    assert engine.handled[-1].button == "ask"


async def test_an_identical_edit_is_not_an_error(standin: BotApiStandIn, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    engine = menu_then(menu_reply(edit=True))
    async with running_bot(make_settings(standin, tmp_path), engine) as app:
        asha = person(standin, app)
        await asha.says("hi")
        assert await asha.presses("Talk to a person") == []
    assert [c.outcome for c in standin.calls_of("editMessageText")] == ["400"]
    assert len(standin.calls_of("sendMessage")) == 1, "nothing sent twice"
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_when_telegram_refuses_an_edit_the_reply_is_sent_anew(standin: BotApiStandIn, tmp_path: Path) -> None:
    engine = menu_then(Reply(key="ask", text="Go ahead.", edit_previous=True))
    standin.faults.then("editMessageText", Fault.bad_request())
    async with running_bot(make_settings(standin, tmp_path), engine) as app:
        asha = person(standin, app)
        await asha.says("hi")
        shown = await asha.presses("Ask a question")
    assert [(e.kind, e.text) for e in shown] == [("sent", "Go ahead.")]


async def test_a_long_reply_arrives_in_pieces_below_the_limit(standin: BotApiStandIn, tmp_path: Path) -> None:
    paragraph = "It makes sense that this hurts. " * 60
    long_text = "\n\n".join([paragraph.strip()] * 6)
    engine = FakeEngine(script=lambda _: [Reply(key="long", text=long_text, buttons=((Button("Menu", "menu"),),))])
    async with running_bot(make_settings(standin, tmp_path), engine) as app:
        shown = await person(standin, app).says("tell me everything")
    assert len(shown) == 3
    assert all(len(e.text) <= 4096 for e in shown)
    assert "\n\n".join(e.text for e in shown) == long_text
    assert [e.labels for e in shown] == [[], [], ["Menu"]]


async def test_a_contact_request_shows_the_share_button_then_takes_it_away(standin: BotApiStandIn, tmp_path: Path) -> None:
    def script(incoming: Incoming) -> list[Reply]:
        if incoming.kind == "contact":
            return [Reply(key="thanks", text=f"Thanks, we'll call {incoming.contact_phone}.")]
        return [Reply(key="phone", text="Share your number with the button below.", request_contact=True)]

    async with running_bot(make_settings(standin, tmp_path), FakeEngine(script=script)) as app:
        asha = person(standin, app)
        (ask,) = await asha.says("book")
        (thanks,) = await asha.sends("contact")
    assert ask.requests_contact and ask.keyboard == (("Share my phone number",),)
    assert thanks.text == "Thanks, we'll call +919800000000." and thanks.removes_keyboard


async def test_a_person_who_blocked_the_bot_does_not_stop_it(standin: BotApiStandIn, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="bot")
    async with running_bot(make_settings(standin, tmp_path), FakeEngine()) as app:
        gone, ravi = person(standin, app, "Gone"), person(standin, app, "Ravi")
        await gone.says("hello")
        standin.block(gone.user)
        assert await gone.says(SECRET) == []
        assert [e.text for e in await ravi.says("still here?")] == ["echo text: still here?"]
    assert [c.outcome for c in standin.calls_of("sendMessage")] == ["ok", "403", "ok"], "a 403 is not retried"
    assert SECRET not in caplog.text


async def test_a_group_gets_one_pointer_to_a_private_chat_then_silence(standin: BotApiStandIn, tmp_path: Path) -> None:
    engine = FakeEngine()
    group = standin.add_group("Friends")
    async with running_bot(make_settings(standin, tmp_path), engine) as app:
        asha, ravi = standin.new_user("Asha"), standin.new_user("Ravi")
        standin.group_message(asha, group, "/start@alumaura_test_bot")
        standin.group_message(ravi, group, "is this bot any good?")
        await settle(standin, app)
        standin.group_message(asha, group, "hello?")
        await settle(standin, app)
    (notice,) = standin.events_in(group.id)
    assert "https://t.me/alumaura_test_bot?start=hi" in notice.text
    assert engine.handled == [], "nothing said in a group reaches the dialogue"


async def test_when_the_engine_fails_the_person_still_gets_a_kind_answer(
    standin: BotApiStandIn, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(incoming: Incoming) -> list[Reply]:
        raise RuntimeError("database is locked")

    async with running_bot(make_settings(standin, tmp_path), FakeEngine(script=broken)) as app:
        (sorry,) = await person(standin, app).says(SECRET)
    assert "Sorry, something went wrong" in sorry.text
    assert SECRET not in caplog.text


async def test_two_quick_presses_are_handled_in_order(standin: BotApiStandIn, tmp_path: Path) -> None:
    def script(incoming: Incoming) -> list[Reply]:
        if incoming.kind == "button":
            return [Reply(key="pressed", text=f"you chose {incoming.button}")]
        return [menu_reply()]

    engine = FakeEngine(script=script, delay=0.05)
    async with running_bot(make_settings(standin, tmp_path), engine) as app:
        asha = person(standin, app)
        (menu,) = await asha.says("hi")
        standin.user_presses(asha.user, menu, "Ask a question")
        standin.user_presses(asha.user, menu, "Talk to a person")
        await settle(standin, app)
    assert [e.text for e in standin.events_in(asha.chat_id)][1:] == ["you chose ask", "you chose human"]
    assert len(standin.answered_queries) == 2


async def test_a_forged_button_reaches_the_engine_as_expired(standin: BotApiStandIn, tmp_path: Path) -> None:
    engine = FakeEngine()
    async with running_bot(make_settings(standin, tmp_path), engine) as app:
        asha = person(standin, app)
        await asha.says("hi")
        (answer,) = await asha.presses_data("forget:yes|AAAAAAAAAAAA")
    assert engine.handled[-1].button == EXPIRED_PAYLOAD
    assert answer.text == f"echo button: {EXPIRED_PAYLOAD}"
    assert len(standin.answered_queries) == 1


async def test_staff_group_updates_go_to_the_staff_hook(standin: BotApiStandIn, tmp_path: Path) -> None:
    staff = standin.add_group("Staff", forum=True)
    seen: list[int] = []

    async def staff_handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update.update_id)

    engine = FakeEngine()
    settings = make_settings(standin, tmp_path, staff_chat_id=staff.id)
    async with running_bot(settings, engine, staff_handler=staff_handler) as app:
        standin.group_message(standin.new_user("Meera"), staff, "/bookings")
        await settle(standin, app)
    assert seen == [standin.last_update_id]
    assert engine.handled == [] and standin.events_in(staff.id) == []


async def test_staff_deliveries_reach_the_staff_group(standin: BotApiStandIn, tmp_path: Path) -> None:
    """Without a staff side to place them, messages for the staff (about a person or not) go to the group itself."""
    staff = standin.add_group("Staff", forum=True)
    staff.topics[100] = "Asha"
    engine = FakeEngine()
    card = engine.queue(Reply(key="staff.booking", text="New booking request", buttons=((Button("Claim", "st:claim:1"),),)))
    relay = engine.queue(Reply(key="staff.relay", text="Asha: hello?"), kind="handoff_relay", about=1001)
    async with running_bot(make_settings(standin, tmp_path, staff_chat_id=staff.id), engine, outbox_interval=0.1):
        await standin.wait_until(lambda: len(engine.done) == 2)
    shown = standin.events_in(staff.id)
    assert [(e.text, e.thread_id) for e in shown] == [("New booking request", None), ("Asha: hello?", None)]
    assert shown[0].labels == ["Claim"]
    assert engine.done == [card, relay] and engine.failed == []


async def test_an_unreachable_staff_group_delays_a_card_but_never_loses_it(standin: BotApiStandIn, tmp_path: Path) -> None:
    staff = standin.add_group("Staff")
    engine = FakeEngine()
    card = engine.queue(Reply(key="staff.booking", text="New booking request"))
    standin.faults.then("sendMessage", Fault.server_error(), Fault.server_error(), Fault.flood(1))
    async with running_bot(make_settings(standin, tmp_path, staff_chat_id=staff.id), engine, outbox_interval=0.1):
        await standin.wait_until(lambda: card in engine.done, timeout=8)
    assert engine.failed and engine.failed[0][0] == card
    assert [e.text for e in standin.events_in(staff.id)] == ["New booking request"]


async def test_without_a_staff_group_staff_deliveries_are_settled_quietly(
    standin: BotApiStandIn, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    engine = FakeEngine()
    card = engine.queue(Reply(key="staff.alert", text=SECRET))
    async with running_bot(make_settings(standin, tmp_path), engine, outbox_interval=0.1):
        await standin.wait_until(lambda: card in engine.done)
    assert standin.calls_of("sendMessage") == []
    assert "STAFF_CHAT_ID is not set" in caplog.text and SECRET not in caplog.text


async def test_a_reply_that_queued_a_delivery_is_followed_by_it_at_once(standin: BotApiStandIn, tmp_path: Path) -> None:
    staff = standin.add_group("Staff")
    engine = FakeEngine()

    def script(incoming: Incoming) -> list[Reply]:
        engine.queue(Reply(key="staff.alert", text="Someone may need a call"))
        return echo(incoming)

    engine.script = script
    async with running_bot(make_settings(standin, tmp_path, staff_chat_id=staff.id), engine, outbox_interval=60):
        app_person = standin.new_user("Asha")
        standin.user_sends(app_person, "help")
        await standin.wait_until(lambda: len(standin.events_in(staff.id)) == 1, timeout=3)
    assert engine.done == [1]


async def test_message_text_never_reaches_the_logs(standin: BotApiStandIn, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="bot")
    standin.faults.then("sendMessage", Fault.server_error(), Fault.drop(), Fault.flood(1))
    async with running_bot(make_settings(standin, tmp_path), FakeEngine()) as app:
        asha = person(standin, app)
        await asha.says(SECRET)
        await asha.sends("photo", caption=SECRET)
        await asyncio.sleep(0)
    assert "retry what=send_message" in caplog.text
    assert SECRET not in caplog.text
