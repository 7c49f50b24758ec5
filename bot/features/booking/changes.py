"""Asking to change a booking already sent: the person says what should change.

"Ask to change it" (/mybooking) and "Ask for another time" (after the centre proposed one)
both lead to one question: another free time (picked from the real free times), or a note
for the centre in their own words. The change is stored on the request (`change_start`,
`change_note`) and shown as pending in /mybooking and on the staff card until staff confirm,
move or close the booking. The person is told how the answer will come: here on Telegram,
or by phone when that is the contact they chose.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Final

from bot.engine import payloads
from bot.engine.availability import find_slot, format_when, from_utc_text
from bot.engine.replies import Button, Incoming, Reply
from bot.engine.session import Session
from bot.engine.steps import clear_pause
from bot.storage.booking_row import BookingRow
from bot.storage.connection import iso

if TYPE_CHECKING:
    from bot.features.booking.feature import BookingDesk

# `mybooking:<action>:<id>[:<value>]` actions handled here.
CHANGE_ACTIONS: Final = frozenset({"change", "another", "when", "at", "later", "note"})
CHANGEABLE: Final = ("requested", "claimed", "confirmed")
NOTE_WAIT: Final = timedelta(hours=2)


class BookingChanges:
    """The person's side of changing a sent request, for one `BookingDesk`."""

    def __init__(self, desk: BookingDesk) -> None:
        self.desk = desk
        self.texts = desk.texts
        self.bookings = desk.bookings

    async def on_action(self, session: Session, booking: BookingRow, action: str, value: str) -> list[Reply]:
        booking_id = int(booking.id)
        now = self.desk.clock()
        if action == "change":
            if booking.status not in CHANGEABLE:
                return self.desk.expired()
            return [self._what(booking_id, "book_change_what")]
        if action == "another":
            row = await self.bookings.set_status(booking_id, "claimed", expected=("proposed",), now=now)
            if row is None:
                return self.desk.expired()
            await self.desk.tell_staff(row, "staff_booking_person_declined")
            return [self._what(booking_id, "book_change_declined")]
        if booking.status not in (*CHANGEABLE, "proposed"):
            return self.desk.expired()
        if action in {"when", "later"}:
            day = _parse_day(value) if action == "later" else None
            return [await self._times(booking, from_day=day)]
        if action == "at":
            return await self._asked_time(booking, value)
        # "note": the next message is the note (the booking's steps bend as usual around it).
        clear_pause(session, self.desk.steps.name)
        await self.bookings.update_change(booking_id, now, change_wait=iso(now))
        return [self.texts.reply("book_change_note_ask")]

    async def on_text(self, session: Session, incoming: Incoming) -> list[Reply] | None:
        """The note for a change, when one was asked for; None otherwise (or while a safety answer paused it)."""
        if incoming.kind != "text" or not incoming.text.strip() or session.paused_step == self.desk.steps.name:
            return None
        booking = await self.bookings.waiting_change(session.user_id, self.desk.clock() - NOTE_WAIT)
        if booking is None:
            return None
        limit = self.desk.note_limit
        note = incoming.text.strip()
        replies = [self.texts.reply("book_note_trimmed", limit=str(limit))] if len(note) > limit else []
        row = await self.bookings.update_change(int(booking.id), self.desk.clock(), change_note=note[:limit], change_wait=None)
        if row is None:
            return None
        await self.desk.tell_staff(row, "staff_booking_person_change")
        return replies + [self.texts.reply("book_change_sent_note", reply=self._how_reply(row))]

    async def waiting(self, user_id: int) -> bool:
        return await self.bookings.waiting_change(user_id, self.desk.clock() - NOTE_WAIT) is not None

    async def note_again(self, user_id: int) -> list[Reply]:
        """The note question again, after a question answered while it waited."""
        return [self.texts.reply("book_change_note_ask")] if await self.waiting(user_id) else []

    async def stop_waiting(self, user_id: int) -> None:
        booking = await self.bookings.waiting_change(user_id, self.desk.clock() - NOTE_WAIT)
        if booking is not None:
            await self.bookings.update_change(int(booking.id), self.desk.clock(), change_wait=None)

    def pending_lines(self, booking: BookingRow) -> list[str]:
        """The change asked for and not yet answered, in plain words (for /mybooking and the staff card)."""
        lines = []
        if booking.change_start:
            start = from_utc_text(booking.change_start)
            when = format_when(start, self.desk.zone, self.desk.calendar_words())
            lines.append(self.texts.get("book_line_change_time", when=when, zone=self.desk.zone_name))
        if booking.change_note:
            lines.append(self.texts.get("book_line_change_note", value=booking.change_note))
        return lines

    # --- steps --------------------------------------------------------------------------------

    def _what(self, booking_id: int, key: str) -> Reply:
        rows = (
            (Button(self.texts.get("book_change_time_pick_label"), payloads.build("mybooking", "when", booking_id)),),
            (Button(self.texts.get("book_change_note_pick_label"), payloads.build("mybooking", "note", booking_id)),),
            (Button(self.texts.get("book_change_keep_label"), payloads.build("mybooking", "keep", booking_id)),),
        )
        return self.texts.reply(key, rows)

    async def _times(self, booking: BookingRow, *, from_day: date | None = None, intro: str = "book_slots_intro") -> Reply:
        booking_id = int(booking.id)
        page = await self.desk.free_page(booking.who, booking.mode, None, from_day)
        if not page.days:
            return self.texts.reply("book_slots_no_more" if from_day else "book_slots_none")
        rows = self.desk.slot_rows(page, lambda slot: payloads.build("mybooking", "at", booking_id, int(slot.start.timestamp())))
        if page.next_day is not None:
            later = payloads.build("mybooking", "later", booking_id, f"{page.next_day:%Y%m%d}")
            rows.append((self.texts.button("book_later_label", later),))
        text = self.texts.get(intro)
        if intro != "book_slots_intro":
            text = f"{text}\n{self.texts.get('book_slots_intro')}"
        return Reply(key=f"text.{intro}", text=self.texts.fill(text, zone=self.desk.zone_name), buttons=tuple(rows))

    async def _asked_time(self, booking: BookingRow, value: str) -> list[Reply]:
        """A free time picked: asked for, not taken (the centre confirms); still checked to be free now."""
        now = self.desk.clock()
        start = datetime.fromtimestamp(int(value), tz=now.tzinfo) if value.isdigit() and len(value) <= 12 else None
        slot = None
        if start is not None:
            taken = await self.desk.taken(now)
            slot = find_slot(self.desk.availability, self.desk.zone, now, start, who=booking.who, mode=booking.mode, taken=taken)
        if slot is None:
            return [await self._times(booking, intro="book_slot_taken")]
        row = await self.bookings.update_change(int(booking.id), now, change_start=iso(slot.start), change_wait=None)
        if row is None:
            return self.desk.expired()
        await self.desk.tell_staff(row, "staff_booking_person_change")
        when = format_when(slot.start, self.desk.zone, self.desk.calendar_words())
        return [self.texts.reply("book_change_sent_time", when=when, zone=self.desk.zone_name, reply=self._how_reply(row))]

    def _how_reply(self, booking: BookingRow) -> str:
        """How the answer will come: "here" only when the contact chosen is Telegram."""
        return self.texts.get("book_change_reply_phone" if booking.contact == "phone" else "book_change_reply_here")


def _parse_day(value: str) -> date | None:
    try:
        return datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        return None
