"""Booking a therapist, all on buttons: who, how, when, how to reach you, a note, confirm.

The steps are a declared form (content/forms/booking.yaml) run by `bot.engine.forms.FormRunner`;
what they need code for (free times, the hold, sending) are the named actions of `actions.py`.
The draft lives in the `bookings` table (status 'draft'), so a person can leave and come
back, and a chosen time is held for them in the database while they finish. Nothing
reaches the centre before "Confirm and send"; after it, the request is stored and its
staff card queued in one transaction. Staff actions (claim, confirm, propose another
time, close) come from `bot.features.staff.router` and are told to the person through the outbox.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Final

from bot.engine import payloads
from bot.engine.availability import Availability, centre_zone, load_availability
from bot.engine.core import Engine
from bot.engine.features import FeatureBase
from bot.engine.forms import FormRunner
from bot.engine.payloads import Payload
from bot.engine.replies import Button, Incoming, Reply
from bot.engine.session import Session
from bot.errors import ContentError
from bot.features.booking.actions import BookingActions
from bot.features.booking.changes import CHANGE_ACTIONS, BookingChanges
from bot.features.booking.staff_side import BookingStaffSide
from bot.features.booking.steps import BookingSteps
from bot.features.booking.views import zone_label
from bot.storage.booking_row import OPEN_STATUSES, BookingRow
from bot.storage.booking_store import BookingStore
from bot.storage.handoff_store import HandoffStore

Clock = Callable[[], datetime]
FORM: Final = "booking"  # content/forms/booking.yaml
# The longest change note asked for after sending (the form's own note step has its `max_chars`).
NOTE_LIMIT: Final = 500


class BookingDesk(BookingStaffSide, FeatureBase):
    """The booking feature of one engine: person-side steps and the staff-side status changes."""

    name = "booking"
    kinds = frozenset({"book", "bk", "mybooking"})  # the form's `start` and `button`, and /mybooking

    def __init__(self, engine: Engine, bookings: BookingStore, handoffs: HandoffStore, clock: Clock) -> None:
        self.engine = engine
        self.texts = engine.texts
        self.bookings = bookings
        self.handoffs = handoffs
        self.clock = clock
        self.zone = centre_zone(engine.catalog)
        self.availability: Availability = load_availability(engine.catalog)
        self.zone_name = zone_label(engine.catalog.centre.timezone)
        self.note_limit = NOTE_LIMIT
        self.changes = BookingChanges(self)  # "ask to change it" after the request was sent
        form = engine.catalog.forms.get(FORM)
        if form is None:
            raise ContentError([f"content/forms/{FORM}.yaml: the booking form is missing"])
        # The steps: who, how, when, contact, note, the summary (the form), with this feature's actions.
        self.form = FormRunner(form, self.texts, bookings, BookingActions(self).named(), clock)
        self.kinds = frozenset({self.form.spec.start, self.form.spec.button, "mybooking"})
        self.steps = BookingSteps(self)  # the form and a change waiting for its note, as the engine's step action

    # --- entry points (the `Feature` protocol) -----------------------------------------------

    async def on_payload(self, session: Session, payload: Payload, incoming: Incoming) -> list[Reply]:
        """`book` (/book; `book:new` starts afresh), `bk:...` (a step's button), `mybooking` (/mybooking)."""
        if payload.kind == self.form.spec.start:
            return await self.form.start(session, incoming, restart=payload.arg() == "new")
        if payload.kind == self.form.spec.button:
            return await self.form.on_button(session, payload)
        return await self.on_mine(session, payload, incoming)

    async def on_text(self, session: Session, incoming: Incoming) -> list[Reply] | None:
        """Typed text at a booking step (a note, a button's label, a shared phone number) or for a change
        asked after sending; None when no booking step waits for it."""
        taken = await self.form.on_text(session, incoming)
        if taken is not None:
            return taken
        return await self.changes.on_text(session, incoming)

    async def expects_contact(self, session: Session) -> bool:
        """Whether a shared contact is the answer to the current step (the engine's contact check)."""
        return await self.form.expects_contact(session)

    async def on_mine(self, session: Session, payload: Payload, incoming: Incoming) -> list[Reply]:
        """/mybooking and its buttons: `mybooking[:<action>:<id>]`."""
        action = payload.arg(0)
        if not action:
            current = await self.bookings.current_of(session.user_id)
            if current is None:
                return [self.texts.reply("book_mine_none", ((self.texts.button("book_start_label", "book"),),))]
            return [self.mine_reply(current)]
        booking = await self.bookings.get(int(payload.arg(1))) if payload.arg(1).isdigit() else None
        if booking is None or booking.user_id != session.user_id:
            return self.expired()
        if action in CHANGE_ACTIONS:
            return await self.changes.on_action(session, booking, action, payload.arg(2))
        return await self._mine_action(booking, action)

    async def on_housekeeping(self, now: datetime) -> dict[str, int]:
        """Drafts nobody finished (within the form's `keep_hours`)."""
        return {"booking drafts": await self.form.purge(now)}

    async def on_forget(self, user_id: int) -> dict[str, int]:
        """Erase a person's booking details; the centre is told an open request was withdrawn."""
        erased, withdrawn = await self.bookings.forget(user_id, self.clock())
        for row in withdrawn:
            text = self.texts.get("staff_booking_withdrawn", id=str(row.id))
            await self.engine.tell_staff(Reply(key="text.staff_booking_withdrawn", text=text), kind="booking_notice")
        return {"booking details": erased}

    async def _mine_action(self, booking: BookingRow, action: str) -> list[Reply]:
        booking_id = int(booking.id)
        now = self.clock()
        if action == "cancel" and booking.status in OPEN_STATUSES:
            rows = (
                (Button(self.texts.get("book_cancel_yes_label"), payloads.build("mybooking", "cancelyes", booking_id)),),
                (Button(self.texts.get("book_cancel_no_label"), payloads.build("mybooking", "keep", booking_id)),),
            )
            return [self.texts.reply("book_cancel_question", rows, when=self.when_values(booking)["when"])]
        if action == "keep":
            return [self.texts.reply("book_cancel_kept")]
        if action == "cancelyes":
            row = await self.bookings.set_status(
                booking_id, "cancelled", expected=OPEN_STATUSES, now=now, release=True, settle_change=True
            )
            if row is None:
                return self.expired()
            await self.bookings.drop_reminders(booking_id)
            await self.tell_staff(row, "staff_booking_person_cancelled")
            return [self.texts.reply("book_cancel_done", self.texts.menu())]
        if action == "accept":
            row = await self.bookings.set_status(booking_id, "confirmed", expected=("proposed",), now=now, settle_change=True)
            if row is None:
                return self.expired()
            await self.queue_reminders(row)
            await self.tell_staff(row, "staff_booking_person_accepted")
            return [self.texts.reply("book_proposal_accepted", **self.when_values(row))]
        return self.expired()
