"""The booking's staff side: the staff group's card, status changes, and what they tell the person.

A mixin of `BookingDesk` (bot/features/booking/feature.py); `bot.features.staff.router` calls it
when staff press a card's button or propose another time.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.engine import payloads
from bot.engine.availability import day_before, find_slot, from_utc_text
from bot.engine.outbox import reply_to_dict
from bot.engine.replies import Button, Reply
from bot.engine.texts import speaking
from bot.features.booking.views import BookingViews
from bot.storage.booking_row import OPEN_STATUSES, BookingRow

if TYPE_CHECKING:
    from bot.engine.core import Engine

log = logging.getLogger(__name__)


class BookingStaffSide(BookingViews):
    """Staff actions on a request; mixed into `BookingDesk`."""

    engine: Engine

    async def tell_staff(self, booking: BookingRow, key: str) -> None:
        """A one-line notice about a booking, with its refreshed card, for the staff group."""
        card = self.staff_card(booking)
        notice = self.texts.get(key, id=str(booking.id))
        reply = Reply(key=f"text.{key}", text=f"{notice}\n\n{card.text}", buttons=card.buttons)
        await self.engine.tell_staff(reply, kind="booking_notice", about=booking.user_id)

    # --- shown to staff, and what staff actions tell the person ------------------------------------------

    def staff_card(self, booking: BookingRow) -> Reply:
        """The staff group's card of a request: details, status, and the actions that make sense now."""
        booking_id = int(booking.id)
        with speaking("en"):  # staff read the centre's language, whatever the person writes in
            details = self.summary_lines(booking)
        name = booking.first_name or "?"
        handle = f" (@{booking.username})" if booking.username else ""
        details.insert(0, f"{name}{handle}")
        status = self.status_label("staff_status", booking.status)
        text = self.texts.get("staff_booking_card", id=str(booking_id), details="\n".join(details), status=status)
        rows: list[tuple[Button, ...]] = []
        if booking.status in {"requested", "claimed", "proposed", "confirmed"}:
            first: list[Button] = []
            if booking.status == "requested":
                first.append(Button(self.texts.get("staff_claim_label"), payloads.build("staff", "claim", booking_id)))
            if booking.status in {"requested", "claimed"}:
                first.append(Button(self.texts.get("staff_confirm_label"), payloads.build("staff", "confirm", booking_id)))
            rows.append(tuple(first))
            rows.append((Button(self.texts.get("staff_propose_label"), payloads.build("staff", "propose", booking_id)),))
            last = [Button(self.texts.get("staff_close_label"), payloads.build("staff", "close", booking_id))]
            if booking.user_id is not None:
                last.insert(0, Button(self.texts.get("staff_open_chat_label"), payloads.build("staff", "open", booking.user_id)))
            rows.append(tuple(last))
        return Reply(key="staff.booking_card", text=text, buttons=tuple(row for row in rows if row))

    async def tell_person(self, booking: BookingRow, key: str, buttons: tuple[tuple[Button, ...], ...] = ()) -> None:
        """Queue a plain-words update about their booking to the person's chat."""
        user_id = booking.user_id
        if user_id is None:
            return
        with speaking(await self.engine.language_of(int(user_id))):
            values = self.when_values(booking) if booking.slot_start else {}
            reply = self.texts.reply(key, buttons, **values)
        await self.engine.tell_person(int(user_id), reply, kind="booking_update")

    async def queue_reminders(self, booking: BookingRow) -> int:
        """The day-before (same local time) and hour-before reminders, as due outbox rows."""
        if booking.user_id is None or not booking.slot_start:
            return 0
        now = self.clock()
        start = from_utc_text(booking.slot_start)
        with speaking(await self.engine.language_of(int(booking.user_id))):
            values = self.when_values(booking)
            planned = [
                (self.texts.reply("book_reminder_day", **values), day_before(start, self.zone)),
                (self.texts.reply("book_reminder_hour", **values), start - timedelta(hours=1)),
            ]
        items = [({"reply": reply_to_dict(reply)}, due) for reply, due in planned if due > now]
        return await self.bookings.add_reminders(int(booking.id), int(booking.user_id), items, now)

    async def staff_set(self, booking_id: int, action: str, staff_id: int) -> tuple[BookingRow | None, str | None]:
        """Claim, confirm or close a request for staff; returns (the updated row, or None if stale) and a notice."""
        now = self.clock()
        if action == "claim":
            row = await self.bookings.set_status(booking_id, "claimed", expected=("requested",), now=now, claimed_by=staff_id)
            if row is not None:
                await self.tell_person(row, "book_update_claimed")
        elif action == "confirm":
            row = await self.bookings.set_status(
                booking_id, "confirmed", expected=("requested", "claimed"), now=now, claimed_by=staff_id, settle_change=True
            )
            if row is not None:
                await self.queue_reminders(row)
                await self.tell_person(row, "book_update_confirmed")
        else:
            row = await self.bookings.set_status(
                booking_id, "closed", expected=OPEN_STATUSES, now=now, release=True, settle_change=True
            )
            if row is not None:
                await self.bookings.drop_reminders(booking_id)
                await self.tell_person(row, "book_update_closed", self.texts.menu())
        if row is not None:
            log.info("booking=%s staff action=%s", booking_id, action)
            return row, None
        current = await self.bookings.get(booking_id)
        status = self.status_label("staff_status", current.status) if current else "gone"
        return None, self.texts.get("staff_booking_stale", id=str(booking_id), status=status)

    async def staff_propose(self, booking_id: int, start: datetime, staff_id: int) -> tuple[BookingRow | None, bool]:
        """Move a request to another time and ask the person; (row, False) when that time was just taken."""
        booking = await self.bookings.get(booking_id)
        if booking is None or booking.status not in OPEN_STATUSES:
            return None, True
        now = self.clock()
        taken = await self.taken(now, exclude_id=booking_id)
        slot = find_slot(self.availability, self.zone, now, start, who=booking.who, mode=booking.mode, taken=taken)
        therapist = None
        if slot is not None:
            therapist = await self.bookings.move(booking_id, slot.therapists, slot.start, slot.end, "proposed", OPEN_STATUSES, now)
        if therapist is None:
            return booking, False
        await self.bookings.drop_reminders(booking_id)
        await self.bookings.settle_change(booking_id)  # the centre answered the change asked for
        row = await self.bookings.get(booking_id)
        assert row is not None
        rows = (
            (Button(self.texts.get("book_accept_label"), payloads.build("mybooking", "accept", booking_id)),),
            (Button(self.texts.get("book_another_label"), payloads.build("mybooking", "another", booking_id)),),
            (Button(self.texts.get("book_mine_cancel_label"), payloads.build("mybooking", "cancel", booking_id)),),
        )
        await self.tell_person(row, "book_update_proposed", rows)
        return row, True
