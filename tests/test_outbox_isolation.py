"""One broken delivery never jams the outbox: transcripts through the stand-in Bot API.

A staff card that cannot be rendered sits between good ones: the good ones arrive, the
broken one is retried with growing waits, then set aside after `MAX_FAULTS` tries, and
`python -m bot doctor` and the staff's `/stats` say so. A person's broken message holds
their later messages only until it is set aside, and never anyone else's. A Bot API
server whose getChat answer the library cannot read gets the plain-group mode; a
database error after a send (mapping a relay, recording it delivered) never sends twice.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_engine, telegram_staff
from bot.catalog.loader import Catalog
from bot.config import Settings
from bot.doctor import run_doctor
from bot.engine.core import Engine
from bot.engine.replies import Button, Reply
from bot.errors import StorageError
from bot.storage.connection import iso, now_utc
from bot.telegram.application import DRAINER_KEY, Polling, build_application, channel_of, start_application, stop_application
from bot.telegram.outbox import MAX_FAULTS, OutboxDrainer
from tests.botapi_standin import BOT_ID, BotApiStandIn, ChatState, TgUser
from tests.telegram_helpers import AnyApplication, inbox_for, make_settings, person, settle
from tests.telegram_helpers import standin  # noqa: F401 - the fixture
from tests.test_booking import Clock
from tests.test_handoff import clock, first_relayed_message, staffed_bot, texts_in, until  # noqa: F401 - clock is a fixture

# A card whose button cannot be signed within Telegram's 64 bytes: rendering it raises, every time.
POISON = Reply(key="text.staff_booking_card", text="Booking request #2", buttons=((Button("Claim", "staff:claim:" + "2" * 60),),))


def card(number: int) -> Reply:
    return Reply(key="text.staff_booking_card", text=f"Booking request #{number}")


@asynccontextmanager
async def quiet_bot(
    standin: BotApiStandIn, tmp_path: Path, catalog: Catalog, group: ChatState, clock: Clock
) -> AsyncIterator[tuple[AnyApplication, Engine, OutboxDrainer]]:
    """The bot wired as in production, but its outbox drained only when the test says (no repeating run)."""
    settings = make_settings(standin, tmp_path, staff_chat_id=group.id)
    engine = build_engine(settings, catalog, clock=clock)
    staff = telegram_staff(engine, staff_chat_id=group.id)
    assert staff is not None
    application = build_application(
        settings, engine, staff_handler=staff.on_update, delivery_router=staff, outbox_interval=3600, inbox=inbox_for(engine)
    )
    staff.bind(channel_of(application))
    await start_application(application, Polling(timeout=0.5))
    try:
        yield application, engine, application.bot_data[DRAINER_KEY]
    finally:
        await stop_application(application)


def staff_group(standin: BotApiStandIn, *, forum: bool = False) -> tuple[ChatState, TgUser]:
    """The centre's staff group with the bot as admin and Meera as a member."""
    group = standin.add_group("Alumaura staff", forum=forum)
    meera = standin.new_user("Meera")
    standin.add_member(group, meera, "administrator")
    standin.add_member(group, TgUser(id=BOT_ID, first_name="bot"), "administrator")
    return group, meera


async def row(engine: Engine, delivery_id: int) -> dict[str, Any]:
    found = await engine.store.fetchone("SELECT * FROM outbox WHERE id = ?", (delivery_id,))
    assert found is not None
    return dict(found)


async def time_passes(engine: Engine) -> None:
    """Every retry waiting in the outbox is due now, as if its wait were over."""
    await engine.store.execute("UPDATE outbox SET next_attempt_at = ? WHERE delivered_at IS NULL", (iso(now_utc() - timedelta(seconds=1)),))


def wait_of(delivery: dict[str, Any]) -> float:
    """Seconds from now until the delivery's next try."""
    return (datetime.fromisoformat(delivery["next_attempt_at"]) - datetime.now(timezone.utc)).total_seconds()


async def doctor_report(settings: Settings) -> str:
    out = io.StringIO()
    await run_doctor(settings, out)
    return out.getvalue()


async def test_a_broken_card_between_good_ones_is_retried_with_backoff_then_set_aside_and_reported(
    standin: BotApiStandIn, tmp_path: Path, catalog: Catalog, clock: Clock
) -> None:
    group, meera = staff_group(standin)
    async with quiet_bot(standin, tmp_path, catalog, group, clock) as (application, engine, drainer):
        first = await engine.tell_staff(card(1), kind="booking_card")
        broken = await engine.tell_staff(POISON, kind="booking_card")
        unreadable = await engine.store.execute(
            "INSERT INTO outbox(chat_id, payload, created_at, next_attempt_at) VALUES (NULL, '{not json', ?, ?)", (iso(now_utc()), iso(now_utc()))
        )
        third = await engine.tell_staff(card(3), kind="booking_card")

        await drainer.drain(application.bot)
        assert texts_in(standin, group.id) == ["Booking request #1", "Booking request #3"], "the good cards went out, in order"
        assert {(await row(engine, first))["delivered_at"] is not None, (await row(engine, third))["delivered_at"] is not None} == {True}
        assert (await row(engine, unreadable))["set_aside_at"] is not None, "a row that cannot be read is set aside at once"
        waits = [wait_of(await row(engine, broken))]
        for tries in range(2, MAX_FAULTS):
            await time_passes(engine)
            await drainer.drain(application.bot)
            delivery = await row(engine, broken)
            assert (delivery["faults"], delivery["set_aside_at"]) == (tries, None), "retried, not yet given up"
            waits.append(wait_of(delivery))
        assert waits[0] >= 5 and all(later > earlier * 2 for earlier, later in zip(waits, waits[1:])), f"each wait longer: {waits}"

        await time_passes(engine)
        await drainer.drain(application.bot)
        delivery = await row(engine, broken)
        assert delivery["faults"] == MAX_FAULTS and delivery["set_aside_at"] is not None and delivery["fault"] == "CallbackDataTooLong"
        assert broken not in [d.id for d in await engine.due_deliveries()], "set aside: no longer due"
        await time_passes(engine)
        await drainer.drain(application.bot)
        assert (await row(engine, broken))["faults"] == MAX_FAULTS, "and never tried again"
        assert texts_in(standin, group.id) == ["Booking request #1", "Booking request #3"]

        mark = standin.mark(group.id)
        standin.group_message(meera, group, "/stats")
        await settle(standin, application)
        (stats,) = standin.events_in(group.id, after=mark)
    assert "Not delivered: 2 message(s)" in stats.text and "booking_card 1, unreadable 1" in stats.text
    assert "check /bookings" in stats.text, "staff learn that a booking request may be among them"
    report = await doctor_report(make_settings(standin, tmp_path, staff_chat_id=group.id))
    assert "! 2 outbox message(s) kept failing and were set aside, never delivered (booking_card 1, unreadable 1;" in report


async def test_a_broken_message_to_a_person_holds_only_their_later_messages_until_set_aside(
    standin: BotApiStandIn, tmp_path: Path, catalog: Catalog, clock: Clock
) -> None:
    group, _ = staff_group(standin)
    async with quiet_bot(standin, tmp_path, catalog, group, clock) as (application, engine, drainer):
        asha = person(standin, application)
        await asha.says("/start")
        mark = standin.mark(asha.chat_id)
        broken_update = Reply(key="text.book_update_confirmed", text="Your session is confirmed", buttons=POISON.buttons)
        broken = await engine.tell_person(asha.chat_id, broken_update, kind="booking_update")
        await engine.tell_person(asha.chat_id, Reply(key="text.book_reminder_day", text="See you tomorrow at 10:00"), kind="booking_update")
        await engine.tell_staff(card(4), kind="booking_card")

        await drainer.drain(application.bot)
        assert texts_in(standin, group.id) == ["Booking request #4"], "the run went on past the broken message"
        assert standin.events_in(asha.chat_id, after=mark) == [], "Asha's later message waits behind the broken one"
        for _ in range(2, MAX_FAULTS):
            await time_passes(engine)
            await drainer.drain(application.bot)
            assert standin.events_in(asha.chat_id, after=mark) == [], "still in order while it is retried"
        await time_passes(engine)
        await drainer.drain(application.bot)
        assert (await row(engine, broken))["set_aside_at"] is not None
        assert [event.text for event in standin.events_in(asha.chat_id, after=mark)] == ["See you tomorrow at 10:00"], "set aside, it holds nothing up"


async def test_a_getchat_answer_the_library_cannot_read_means_the_plain_group_mode(
    standin: BotApiStandIn, tmp_path: Path, catalog: Catalog, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    group, meera = staff_group(standin, forum=True)

    async def older_server_getchat(params: dict[str, Any]) -> dict[str, Any]:
        # A Bot API server older than the library: no accent_color_id, no max_reaction_count.
        return group.to_dict()

    monkeypatch.setattr(standin, "_api_getchat", older_server_getchat)
    async with staffed_bot(standin, tmp_path, catalog, group, clock) as (application, _, _):
        asha, message = await first_relayed_message(standin, application, group)
        assert message.text.startswith("💬 Asha (#") and message.thread_id is None, "posted with a header, as in a plain group"
        assert standin.calls_of("createForumTopic") == []
        standin.group_message(meera, group, "Of course we can.", reply_to=message)
        await settle(standin, application)

        async def answered() -> bool:
            return any(text.endswith("Of course we can.") for text in texts_in(standin, asha.chat_id))

        await until(answered)
    report = await doctor_report(make_settings(standin, tmp_path, staff_chat_id=group.id))
    assert "! The staff group's details could not be read (TypeError)" in report, "the doctor says so instead of crashing"


async def test_a_relay_whose_mapping_fails_after_the_send_is_not_sent_again(
    standin: BotApiStandIn, tmp_path: Path, catalog: Catalog, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    group, _ = staff_group(standin)
    async with staffed_bot(standin, tmp_path, catalog, group, clock) as (application, engine, _):
        asha = person(standin, application)
        await asha.says("/start")
        await asha.says("/human")
        await asha.presses("Yes, connect me")

        async def database_fails(user_id: int, message_ids: list[int]) -> None:
            raise StorageError("database error: disk I/O error")

        monkeypatch.setattr(engine.staff_channel, "posted", database_fails)
        await asha.says("are you there?")

        async def settled() -> bool:
            rows = await engine.store.fetchall("SELECT * FROM outbox WHERE delivered_at IS NULL")
            return any(text.endswith("are you there?") for text in texts_in(standin, group.id)) and not rows

        await until(settled)
        drainer = application.bot_data[DRAINER_KEY]
        await time_passes(engine)
        await drainer.drain(application.bot)
        await drainer.drain(application.bot)
        relay = await engine.store.fetchone("SELECT faults, delivered_at FROM outbox WHERE json_extract(payload, '$.kind') = 'handoff_relay'")
        assert relay is not None and (relay["faults"], relay["delivered_at"] is not None) == (0, True), "settled as sent"
    assert sum(text.endswith("are you there?") for text in texts_in(standin, group.id)) == 1, "and sent once"


async def test_a_card_whose_delivered_mark_fails_is_not_sent_again(
    standin: BotApiStandIn, tmp_path: Path, catalog: Catalog, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    group, _ = staff_group(standin)
    async with quiet_bot(standin, tmp_path, catalog, group, clock) as (application, engine, drainer):
        delivery_id = await engine.tell_staff(card(5), kind="booking_card")
        record = engine.delivery_done
        calls: list[int] = []

        async def flaky_done(delivery_id: int) -> None:
            calls.append(delivery_id)
            if len(calls) == 1:
                raise StorageError("database error: database or disk is full")
            await record(delivery_id)

        monkeypatch.setattr(engine, "delivery_done", flaky_done)
        await drainer.drain(application.bot)
        assert (await row(engine, delivery_id))["delivered_at"] is None, "recording it failed"
        await drainer.drain(application.bot)
        assert (await row(engine, delivery_id))["delivered_at"] is not None, "recorded on the next run"
    assert texts_in(standin, group.id) == ["Booking request #5"], "and sent once"
