"""Booking a therapist through the engine: steps, the staff card, staff actions reaching the person,
two people racing for one slot, and reminders that keep the right local time across DST."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from bot.app import build_engine
from bot.catalog.loader import Catalog
from bot.engine.core import Engine
from bot.engine.outbox import Delivery
from bot.engine.replies import Incoming, Reply
from bot.features.staff.router import CentreDesk, StaffIncoming, centre_desk
from bot.storage.store import Store
from tests.conftest import find_button, keys, make_incoming, make_settings, payloads_of

STAFF_CHAT = -100_777
STAFF_MEMBER = 5_000
PERSON = 1001


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def centre_catalog(catalog: Catalog, *, zone: str | None = None, availability: dict[str, Any] | None = None) -> Catalog:
    """The shipped catalogue with another time zone and/or availability."""
    centre = catalog.centre.model_copy(update={"timezone": zone}) if zone else catalog.centre
    avail = MappingProxyType(availability) if availability is not None else catalog.availability
    return dataclasses.replace(catalog, centre=centre, availability=avail)


async def start_desk(tmp_path: Path, catalog: Catalog, clock: Clock, **settings: object) -> tuple[Engine, CentreDesk]:
    values: dict[str, object] = {"staff_chat_id": STAFF_CHAT}
    values.update(settings)
    engine = build_engine(make_settings(tmp_path, **values), catalog, clock=clock)
    desk = centre_desk(engine)
    assert desk is not None
    await engine.start()
    return engine, desk


def press(payload: str, user_id: int = PERSON) -> Incoming:
    return Incoming(user_id=user_id, kind="button", button=payload, first_name="Asha", username="asha_k")


def staff_press(payload: str, *, user_id: int = STAFF_MEMBER, verified: bool = True, chat_id: int = STAFF_CHAT) -> StaffIncoming:
    return StaffIncoming(user_id=user_id, chat_id=chat_id, kind="button", button=payload, verified_member=verified)


def staff_says(text: str, *, about: int | None = None, verified: bool = True) -> StaffIncoming:
    return StaffIncoming(user_id=STAFF_MEMBER, chat_id=STAFF_CHAT, kind="text", text=text, about=about, verified_member=verified)


async def drain(engine: Engine) -> list[Delivery]:
    """Take every due outbox row, as a channel would, and mark it delivered."""
    taken = await engine.due_deliveries(limit=500)
    for delivery in taken:
        await engine.delivery_done(delivery.id)
    return taken


def to_person(deliveries: list[Delivery], user_id: int = PERSON) -> list[str]:
    return [d.reply.key for d in deliveries if d.person == user_id]


def to_staff(deliveries: list[Delivery]) -> list[Delivery]:
    return [d for d in deliveries if d.for_staff]


async def book_until_summary(engine: Engine, user_id: int = PERSON, *, slot_index: int = 0) -> tuple[list[Reply], str]:
    """/book -> couple -> online -> a slot -> here on Telegram -> a note; returns the summary and the slot payload."""
    await engine.handle(make_incoming("/start", user_id=user_id))
    replies = await engine.handle(make_incoming("/book", user_id=user_id, username="asha_k"))
    assert keys(replies) == ["text.book_intro", "text.book_who_question"]
    replies = await engine.handle(press(find_button(replies, "bk:").rsplit(":", 1)[0] + ":couple", user_id))
    assert keys(replies) == ["text.book_mode_question"]
    replies = await engine.handle(press(find_button(replies, "bk:") .rsplit(":", 1)[0] + ":online", user_id))
    assert keys(replies) == ["text.book_slots_intro"]
    slot = [p for p in payloads_of(replies) if ":slot:" in p][slot_index]
    replies = await engine.handle(press(slot, user_id))
    assert keys(replies) == ["text.book_contact_question"]
    replies = await engine.handle(press(find_button(replies, "bk:").rsplit(":", 1)[0] + ":here", user_id))
    assert keys(replies) == ["text.book_note_question"]
    replies = await engine.handle(make_incoming("We argue about his phone a lot", user_id=user_id))
    assert keys(replies) == ["text.book_summary"]
    return replies, slot


@pytest.fixture
def clock() -> Clock:
    # A Monday morning in Kolkata (the shipped zone), years ahead so no reminder is due in real time.
    return Clock(datetime(2030, 3, 25, 4, 0, tzinfo=timezone.utc))


@pytest.fixture
async def desk_engine(tmp_path: Path, catalog: Catalog, clock: Clock) -> AsyncIterator[tuple[Engine, CentreDesk]]:
    engine, desk = await start_desk(tmp_path, catalog, clock)
    try:
        yield engine, desk
    finally:
        await engine.close()


async def test_full_booking_stores_first_then_queues_the_staff_card(desk_engine: tuple[Engine, CentreDesk]) -> None:
    engine, _ = desk_engine
    summary, _ = await book_until_summary(engine)
    text = summary[0].text
    assert "for you and your partner" in text and "online" in text and "We argue about his phone" in text
    assert "Kolkata time" in text and "Therapist A (placeholder)" in text
    assert "If you confirm, the centre will see" in text and "your note" in text
    assert await drain(engine) == [], "nothing reaches the centre before confirming"
    confirmed = await engine.handle(press(find_button(summary, "bk:1:confirm")))
    assert keys(confirmed) == ["text.book_received"]
    assert "here on Telegram" in confirmed[0].text
    row = await engine.store.fetchone("SELECT status, consent_at, active FROM bookings WHERE id = 1")
    assert row is not None and row["status"] == "requested" and row["consent_at"] and row["active"] == 1
    (card,) = to_staff(await drain(engine))
    assert card.kind == "booking_card" and card.reply.key == "staff.booking_card"
    assert "Asha (@asha_k)" in card.reply.text and "new request" in card.reply.text
    assert {"staff:claim:1", "staff:confirm:1", "staff:propose:1", "staff:close:1", f"staff:open:{PERSON}"} <= {
        b.payload for b in card.reply.all_buttons()
    }


async def test_each_staff_action_reaches_the_person_in_plain_words(desk_engine: tuple[Engine, CentreDesk], clock: Clock) -> None:
    engine, desk = desk_engine
    summary, _ = await book_until_summary(engine)
    await engine.handle(press(find_button(summary, "bk:1:confirm")))
    await drain(engine)

    claimed = await desk.staff.handle(staff_press("staff:claim:1"))
    assert claimed.replies[0].edit_pressed and "claimed" in claimed.replies[0].reply.text
    assert to_person(await drain(engine)) == ["text.book_update_claimed"]

    picker = await desk.staff.handle(staff_press("staff:propose:1"))
    proposal = [b.payload for b in picker.replies[0].reply.all_buttons() if b.payload.startswith("staff:pt:1:")][1]
    await desk.staff.handle(staff_press(proposal))
    (update,) = [d for d in await drain(engine) if d.person == PERSON]
    assert update.reply.key == "text.book_update_proposed"
    accept = find_button([update.reply], "mybooking:accept:1")

    accepted = await engine.handle(press(accept))
    assert keys(accepted) == ["text.book_proposal_accepted"]
    notices = to_staff(await drain(engine))
    assert [n.reply.key for n in notices] == ["text.staff_booking_person_accepted"]
    row = await engine.store.fetchone("SELECT status, slot_start FROM bookings WHERE id = 1")
    assert row is not None and row["status"] == "confirmed"
    assert len(await desk.booking.bookings.reminders(1)) == 2

    closed = await desk.staff.handle(staff_press("staff:close:1"))
    assert closed.replies[0].reply.all_buttons() == [], "a closed card has no actions left"
    assert to_person(await drain(engine)) == ["text.book_update_closed"]
    assert await desk.booking.bookings.reminders(1) == [], "no reminder for a closed booking"

    again = await desk.staff.handle(staff_press("staff:confirm:1"))
    assert again.notice is not None and "#1" in again.notice
    assert await drain(engine) == [], "a stale button tells nobody anything"


async def test_staff_confirm_tells_the_time_in_the_centre_zone(desk_engine: tuple[Engine, CentreDesk]) -> None:
    engine, desk = desk_engine
    summary, slot = await book_until_summary(engine)
    await engine.handle(press(find_button(summary, "bk:1:confirm")))
    await drain(engine)
    await desk.staff.handle(staff_press("staff:confirm:1"))
    (update,) = [d for d in await drain(engine) if d.person == PERSON]
    start = datetime.fromtimestamp(int(slot.rsplit(":", 1)[1]), tz=timezone.utc)
    local = start.astimezone(desk.booking.zone)
    assert update.reply.key == "text.book_update_confirmed"
    assert f"{local:%H:%M}" in update.reply.text and "Kolkata time" in update.reply.text


ONE_THERAPIST = {
    "session_minutes": 50, "slot_minutes": 60, "min_notice_hours": 2, "days_ahead": 14, "days_per_page": 2,
    "max_slots_per_day": 3, "hold_minutes": 15,
    "therapists": [
        {"id": "solo", "name": "Therapist S (placeholder)", "sessions": ["individual", "couple"], "modes": ["online"],
         "hours": {"mon": ["10:00-12:00"], "tue": ["10:00-12:00"], "wed": ["10:00-12:00"], "thu": ["10:00-12:00"],
                   "fri": ["10:00-12:00"], "sat": ["10:00-11:00"], "sun": ["10:00-11:00"]}},
    ],
}


async def test_racing_for_the_one_therapists_slot_one_is_told_kindly_with_fresh_times(
    tmp_path: Path, catalog: Catalog, clock: Clock
) -> None:
    solo = centre_catalog(catalog, availability=ONE_THERAPIST)
    first, _ = await start_desk(tmp_path, solo, clock)
    second, _ = await start_desk(tmp_path, solo, clock)
    try:
        slots: list[str] = []
        for engine, user in ((first, 1), (second, 2)):
            await engine.handle(make_incoming("/start", user_id=user))
            replies = await engine.handle(make_incoming("/book", user_id=user))
            replies = await engine.handle(press(find_button(replies, "bk:").rsplit(":", 1)[0] + ":individual", user))
            replies = await engine.handle(press(find_button(replies, "bk:").rsplit(":", 1)[0] + ":online", user))
            slots.append([p for p in payloads_of(replies) if ":slot:" in p][0])
        results = await asyncio.gather(first.handle(press(slots[0], 1)), second.handle(press(slots[1], 2)))
        assert sorted(keys(r)[0] for r in results) == ["text.book_contact_question", "text.book_slot_taken"]
        loser = next(r for r in results if keys(r)[0] == "text.book_slot_taken")
        contested = slots[0].rsplit(":", 1)[1]
        fresh = [p for p in payloads_of(loser) if ":slot:" in p]
        assert fresh and all(not p.endswith(contested) for p in fresh), "fresh choices, without the taken time"
        assert "just taken" in loser[0].text
    finally:
        await first.close()
        await second.close()


TWO_THERAPISTS = {
    **ONE_THERAPIST,
    "therapists": [
        {**ONE_THERAPIST["therapists"][0], "id": "first", "name": "Therapist F (placeholder)"},
        {**ONE_THERAPIST["therapists"][0], "id": "second", "name": "Therapist G (placeholder)"},
    ],
}


async def test_three_people_racing_for_an_hour_two_therapists_work_two_get_it(
    tmp_path: Path, catalog: Catalog, clock: Clock
) -> None:
    two = centre_catalog(catalog, availability=TWO_THERAPISTS)
    engines = [(await start_desk(tmp_path, two, clock))[0] for _ in range(3)]
    try:
        slots: list[str] = []
        for user, engine in enumerate(engines, start=1):
            await engine.handle(make_incoming("/start", user_id=user))
            replies = await engine.handle(make_incoming("/book", user_id=user))
            replies = await engine.handle(press(find_button(replies, "bk:").rsplit(":", 1)[0] + ":individual", user))
            replies = await engine.handle(press(find_button(replies, "bk:").rsplit(":", 1)[0] + ":online", user))
            slots.append([p for p in payloads_of(replies) if ":slot:" in p][0])
        assert len({slot.rsplit(":", 1)[1] for slot in slots}) == 1, "all three were offered the same first hour"
        results = await asyncio.gather(*(engine.handle(press(slots[i], i + 1)) for i, engine in enumerate(engines)))
        assert sorted(keys(r)[0] for r in results) == [
            "text.book_contact_question", "text.book_contact_question", "text.book_slot_taken"
        ]
        held = await engines[0].store.fetchall("SELECT therapist FROM bookings WHERE active = 1")
        assert sorted(row["therapist"] for row in held) == ["first", "second"]
    finally:
        for engine in engines:
            await engine.close()


async def test_a_lapsed_hold_taken_by_someone_else_is_caught_at_confirm(tmp_path: Path, catalog: Catalog, clock: Clock) -> None:
    solo = centre_catalog(catalog, availability=ONE_THERAPIST)
    engine, _ = await start_desk(tmp_path, solo, clock)
    try:
        summary, slot = await book_until_summary(engine, 1)
        clock.now += timedelta(minutes=20)  # the 15-minute hold lapses while the person hesitates
        await engine.handle(make_incoming("/start", user_id=2))
        replies = await engine.handle(make_incoming("/book", user_id=2))
        replies = await engine.handle(press(find_button(replies, "bk:").rsplit(":", 1)[0] + ":couple", 2))
        replies = await engine.handle(press(find_button(replies, "bk:").rsplit(":", 1)[0] + ":online", 2))
        assert slot.rsplit(":", 1)[1] in " ".join(payloads_of(replies)), "a lapsed hold is free again"
        taken = await engine.handle(press(f"bk:2:slot:{slot.rsplit(':', 1)[1]}", 2))
        assert keys(taken) == ["text.book_contact_question"]
        late = await engine.handle(press(find_button(summary, "bk:1:confirm"), 1))
        assert keys(late) == ["text.book_slot_taken"]
        assert not to_staff(await drain(engine)), "no card for a request that lost its time"
    finally:
        await engine.close()


async def test_later_dates_page_through_the_calendar(desk_engine: tuple[Engine, CentreDesk]) -> None:
    engine, _ = desk_engine
    await engine.handle(make_incoming("/start"))
    replies = await engine.handle(make_incoming("/book"))
    replies = await engine.handle(press("bk:1:who:individual"))
    replies = await engine.handle(press("bk:1:mode:online"))
    first_page = [p for p in payloads_of(replies) if ":slot:" in p]
    later = await engine.handle(press(find_button(replies, "bk:1:later:")))
    second_page = [p for p in payloads_of(later) if ":slot:" in p]
    assert second_page and max(first_page) < min(second_page)


async def test_change_something_then_cancel_sends_nothing(desk_engine: tuple[Engine, CentreDesk]) -> None:
    engine, _ = desk_engine
    summary, _ = await book_until_summary(engine)
    change = await engine.handle(press(find_button(summary, "bk:1:change")))
    assert keys(change) == ["text.book_change_question"]
    note = await engine.handle(press("bk:1:edit:note"))
    assert keys(note) == ["text.book_note_question"]
    skipped = await engine.handle(press("bk:1:note:skip"))
    assert keys(skipped) == ["text.book_summary"] and "Note:" not in skipped[0].text
    cancelled = await engine.handle(press(find_button(skipped, "bk:1:cancel")))
    assert keys(cancelled) == ["text.book_draft_cancelled"]
    assert await drain(engine) == []
    stale = await engine.handle(press("bk:1:confirm"))
    assert keys(stale) == ["text.book_draft_gone"]


async def test_someone_elses_booking_buttons_do_nothing(desk_engine: tuple[Engine, CentreDesk]) -> None:
    engine, _ = desk_engine
    await book_until_summary(engine)
    await engine.handle(make_incoming("/start", user_id=2))
    forged = await engine.handle(press("bk:1:confirm", 2))
    assert keys(forged) == ["text.book_draft_gone"]
    assert (await engine.store.fetchone("SELECT status FROM bookings WHERE id = 1"))["status"] == "draft"


async def test_mybooking_shows_cancels_and_tells_the_centre(desk_engine: tuple[Engine, CentreDesk]) -> None:
    engine, desk = desk_engine
    none = await engine.handle(make_incoming("/mybooking"))
    assert keys(none)[-1] == "text.book_mine_none"
    summary, _ = await book_until_summary(engine)
    await engine.handle(press(find_button(summary, "bk:1:confirm")))
    await desk.staff.handle(staff_press("staff:confirm:1"))
    await drain(engine)
    mine = await engine.handle(make_incoming("/mybooking"))
    assert keys(mine) == ["text.book_mine"] and "confirmed" in mine[0].text
    again = await engine.handle(make_incoming("/book"))
    assert keys(again) == ["text.book_already", "text.book_mine"], "one booking at a time, shown rather than duplicated"
    question = await engine.handle(press(find_button(mine, "mybooking:cancel:1")))
    assert keys(question) == ["text.book_cancel_question"]
    done = await engine.handle(press(find_button(question, "mybooking:cancelyes:1")))
    assert keys(done) == ["text.book_cancel_done"]
    assert [d.reply.key for d in to_staff(await drain(engine))] == ["text.staff_booking_person_cancelled"]
    assert await desk.booking.bookings.reminders(1) == []
    assert (await engine.store.fetchone("SELECT active FROM bookings WHERE id = 1"))["active"] == 0, "the time is free again"


async def test_asking_to_change_reaches_staff_with_a_way_to_propose(desk_engine: tuple[Engine, CentreDesk]) -> None:
    engine, _ = desk_engine
    summary, _ = await book_until_summary(engine)
    await engine.handle(press(find_button(summary, "bk:1:confirm")))
    await drain(engine)
    asked = await engine.handle(press("mybooking:change:1"))
    assert keys(asked) == ["text.book_change_what"]
    await engine.handle(press(find_button(asked, "mybooking:note:1")))
    sent = await engine.handle(make_incoming("Could we move it to an evening?"))
    assert keys(sent) == ["text.book_change_sent_note"]
    (notice,) = to_staff(await drain(engine))
    assert "staff:propose:1" in [b.payload for b in notice.reply.all_buttons()]


async def test_a_typed_phone_number_is_never_stored(desk_engine: tuple[Engine, CentreDesk]) -> None:
    engine, _ = desk_engine
    await engine.handle(make_incoming("/start"))
    await engine.handle(make_incoming("/book"))
    await engine.handle(press("bk:1:who:individual"))
    replies = await engine.handle(press("bk:1:mode:online"))
    await engine.handle(press([p for p in payloads_of(replies) if ":slot:" in p][0]))
    asked = await engine.handle(press("bk:1:contact:phone"))
    assert keys(asked) == ["text.book_contact_phone_ask"] and asked[0].request_contact
    typed = await engine.handle(make_incoming("+91 98765 43210"))
    assert keys(typed) == ["text.book_contact_phone_typed"] and typed[0].request_contact
    row = await engine.store.fetchone("SELECT phone FROM bookings WHERE id = 1")
    assert row is not None and row["phone"] is None


async def test_a_shared_contact_answers_the_phone_step(desk_engine: tuple[Engine, CentreDesk]) -> None:
    engine, _ = desk_engine
    await engine.handle(make_incoming("/start"))
    await engine.handle(make_incoming("/book"))
    await engine.handle(press("bk:1:who:individual"))
    replies = await engine.handle(press("bk:1:mode:online"))
    await engine.handle(press([p for p in payloads_of(replies) if ":slot:" in p][0]))
    await engine.handle(press("bk:1:contact:phone"))
    shared = await engine.handle(Incoming(user_id=PERSON, kind="contact", contact_phone="+919876543210", first_name="Asha"))
    assert keys(shared) == ["text.book_note_question"]
    row = await engine.store.fetchone("SELECT phone FROM bookings WHERE id = 1")
    assert row is not None and row["phone"] == "+919876543210"


async def test_without_a_staff_group_booking_points_to_the_centre(tmp_path: Path, catalog: Catalog, clock: Clock) -> None:
    engine, _ = await start_desk(tmp_path, catalog, clock, staff_chat_id=None)
    try:
        await engine.handle(make_incoming("/start"))
        replies = await engine.handle(make_incoming("/book"))
        assert keys(replies) == ["text.book_unavailable"]
    finally:
        await engine.close()


async def test_forget_erases_booking_details_and_withdraws_the_request(desk_engine: tuple[Engine, CentreDesk]) -> None:
    engine, _ = desk_engine
    summary, _ = await book_until_summary(engine)
    await engine.handle(press(find_button(summary, "bk:1:confirm")))
    await drain(engine)
    done = await engine.handle(press("forget:yes"))
    assert "booking details (1)" in done[0].text
    row = await engine.store.fetchone("SELECT user_id, note, first_name, status, active FROM bookings WHERE id = 1")
    assert row is not None and row["user_id"] is None and row["note"] is None and row["first_name"] is None
    assert row["status"] == "withdrawn" and row["active"] == 0
    assert [d.reply.key for d in to_staff(await drain(engine))] == ["text.staff_booking_withdrawn"]


# --- reminders: wall-clock correct across DST, and kept across a restart ------------------------------

SUNDAYS = {
    "session_minutes": 50, "slot_minutes": 60, "min_notice_hours": 2, "days_ahead": 10, "days_per_page": 3,
    "max_slots_per_day": 2, "hold_minutes": 15,
    "therapists": [
        {"id": "sunday", "name": "Therapist D (placeholder)", "sessions": ["individual"], "modes": ["online"],
         "hours": {"sun": ["10:00-11:00"]}},
    ],
}


async def confirm_first_sunday(engine: Engine, desk: CentreDesk) -> None:
    await engine.handle(make_incoming("/start"))
    await engine.handle(make_incoming("/book"))
    await engine.handle(press("bk:1:who:individual"))
    replies = await engine.handle(press("bk:1:mode:online"))
    await engine.handle(press([p for p in payloads_of(replies) if ":slot:" in p][0]))
    await engine.handle(press("bk:1:contact:here"))
    summary = await engine.handle(press("bk:1:note:skip"))
    await engine.handle(press(find_button(summary, "bk:1:confirm")))
    await desk.staff.handle(staff_press("staff:confirm:1"))


async def due_times(path: Path) -> list[tuple[str, str]]:
    """Reminder rows as a freshly opened store sees them (a restart)."""
    store = Store(path)
    await store.open()
    try:
        rows = await store.fetchall(
            "SELECT next_attempt_at, payload FROM outbox WHERE json_extract(payload, '$.kind') = 'booking_reminder' "
            "AND delivered_at IS NULL ORDER BY next_attempt_at"
        )
        return [(row["next_attempt_at"], json.loads(row["payload"])["reply"]["key"]) for row in rows]
    finally:
        await store.close()


async def test_reminders_keep_local_time_across_spring_forward_and_survive_a_restart(tmp_path: Path, catalog: Catalog) -> None:
    # UK clocks go forward on Sunday 31 March 2030 at 01:00 UTC.
    london = centre_catalog(catalog, zone="Europe/London", availability=SUNDAYS)
    clock = Clock(datetime(2030, 3, 28, 12, 0, tzinfo=timezone.utc))
    engine, desk = await start_desk(tmp_path, london, clock)
    try:
        await confirm_first_sunday(engine, desk)
        start = (await engine.store.fetchone("SELECT slot_start FROM bookings WHERE id = 1"))["slot_start"]
        assert start == "2030-03-31T09:00:00+00:00", "10:00 BST is 09:00 UTC"
        confirmed = [d for d in await drain(engine) if d.reply.key == "text.book_update_confirmed"]
        assert "10:00" in confirmed[0].reply.text and "London time" in confirmed[0].reply.text
    finally:
        await engine.close()
    assert await due_times(tmp_path / "bot.sqlite3") == [
        ("2030-03-30T10:00:00+00:00", "text.book_reminder_day"),  # Saturday 10:00 GMT: same wall time, not 24h before
        ("2030-03-31T08:00:00+00:00", "text.book_reminder_hour"),
    ]


async def test_reminders_fire_after_a_restart(tmp_path: Path, catalog: Catalog) -> None:
    # UK clocks go back on Sunday 26 October 2025 at 01:00 UTC; these times are already past, so due now.
    london = centre_catalog(catalog, zone="Europe/London", availability=SUNDAYS)
    clock = Clock(datetime(2025, 10, 23, 12, 0, tzinfo=timezone.utc))
    engine, desk = await start_desk(tmp_path, london, clock)
    try:
        await confirm_first_sunday(engine, desk)
        start = (await engine.store.fetchone("SELECT slot_start FROM bookings WHERE id = 1"))["slot_start"]
        assert start == "2025-10-26T10:00:00+00:00", "10:00 GMT after the change"
    finally:
        await engine.close()
    assert await due_times(tmp_path / "bot.sqlite3") == [
        ("2025-10-25T09:00:00+00:00", "text.book_reminder_day"),  # Saturday 10:00 BST
        ("2025-10-26T09:00:00+00:00", "text.book_reminder_hour"),
    ]
    restarted, _ = await start_desk(tmp_path, london, clock)
    try:
        due = [d for d in await drain(restarted) if d.person == PERSON]
        assert [d.reply.key for d in due if "reminder" in d.reply.key] == ["text.book_reminder_day", "text.book_reminder_hour"]
        assert "10:00" in due[-2].reply.text and "10:00" in due[-1].reply.text
    finally:
        await restarted.close()


async def test_changing_to_a_session_the_held_therapist_does_not_offer_asks_for_a_new_time(
    tmp_path: Path, catalog: Catalog, clock: Clock
) -> None:
    only_individual = {
        **ONE_THERAPIST,
        "therapists": [
            {**ONE_THERAPIST["therapists"][0], "id": "ind", "sessions": ["individual"]},
            {**ONE_THERAPIST["therapists"][0], "id": "both", "sessions": ["individual", "couple"], "hours": {"sat": ["16:00-17:00"]}},
        ],
    }
    engine, _ = await start_desk(tmp_path, centre_catalog(catalog, availability=only_individual), clock)
    try:
        await engine.handle(make_incoming("/start"))
        await engine.handle(make_incoming("/book"))
        await engine.handle(press("bk:1:who:individual"))
        replies = await engine.handle(press("bk:1:mode:online"))
        await engine.handle(press([p for p in payloads_of(replies) if ":slot:" in p][0]))
        await engine.handle(press("bk:1:contact:here"))
        await engine.handle(press("bk:1:note:skip"))
        assert (await engine.store.fetchone("SELECT therapist FROM bookings WHERE id = 1"))["therapist"] == "ind"
        changed = await engine.handle(press("bk:1:who:couple"))
        assert keys(changed) == ["text.book_slots_intro"], "the old time is let go and new times offered"
        row = await engine.store.fetchone("SELECT therapist, active FROM bookings WHERE id = 1")
        assert row["therapist"] is None and row["active"] == 0
    finally:
        await engine.close()
