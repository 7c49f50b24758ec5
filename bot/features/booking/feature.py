"""Booking a therapist, all on buttons: who, how, when, how to reach you, a note, confirm.

The draft lives in the `bookings` table (status 'draft'), so a person can leave and come
back, and a chosen time is held for them in the database while they finish. Nothing
reaches the centre before "Confirm and send"; after it, the request is stored and its
staff card queued in one transaction. Staff actions (claim, confirm, propose another
time, close) come from `bot.features.staff.router` and are told to the person through the outbox.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Final

from bot.engine import payloads
from bot.engine.availability import Availability, centre_zone, find_slot, from_utc_text, load_availability
from bot.engine.core import Engine, reply_to_dict
from bot.engine.features import FeatureBase
from bot.engine.payloads import Payload
from bot.engine.replies import Button, Incoming, Reply
from bot.engine.session import Session
from bot.engine.steps import clear_pause
from bot.features.booking.changes import CHANGE_ACTIONS, BookingChanges
from bot.features.booking.staff_side import BookingStaffSide
from bot.features.booking.steps import BookingSteps, next_step
from bot.features.booking.views import EDITABLE, MODES, WHO, from_epoch, zone_label
from bot.storage.booking_store import OPEN_STATUSES, BookingRow, BookingStore
from bot.storage.handoff_store import HandoffStore

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
NOTE_LIMIT: Final = 500
STEP_TIMEOUT: Final = timedelta(hours=2)
# An unfinished draft is erased after this long: on the next /book, and by the housekeeping (`on_housekeeping`).
DRAFT_KEEP: Final = timedelta(days=1)


class BookingDesk(BookingStaffSide, FeatureBase):
    """The booking feature of one engine: person-side steps and the staff-side status changes."""

    name = "booking"
    kinds = frozenset({"book", "bk", "mybooking"})

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
        self.steps = BookingSteps(self)  # typed labels, questions and safety answers mid-step
        self.changes = BookingChanges(self)  # "ask to change it" after the request was sent

    # --- entry points (the `Feature` protocol) -----------------------------------------------

    async def on_payload(self, session: Session, payload: Payload, incoming: Incoming) -> list[Reply]:
        """`book` (/book), `bk:...` (a step's button), `mybooking` (/mybooking)."""
        if payload.kind == "book":
            return await self.on_book(session, payload, incoming)
        if payload.kind == "bk":
            return await self.on_step(session, payload, incoming)
        return await self.on_mine(session, payload, incoming)

    async def on_book(self, session: Session, payload: Payload, incoming: Incoming) -> list[Reply]:
        """/book, the menu button, the `book_therapist` answer: start (or show the existing booking)."""
        blocked = await self._unavailable(session.user_id)
        if blocked is not None:
            return blocked
        current = await self.bookings.current_of(session.user_id)
        if current is not None:
            return [self.texts.reply("book_already"), self._mine_reply(current)]
        now = self.clock()
        await self.bookings.purge_drafts(now - DRAFT_KEEP)
        clear_pause(session, self.steps.name)
        draft = await self.bookings.draft_of(session.user_id)
        if draft is not None and draft.who is not None and payload.arg() != "new":
            # Half done: never silently thrown away by a second /book.
            return [self.steps.continue_or_restart(int(draft.id))]
        draft_id = await self.bookings.new_draft(session.user_id, session.first_name, incoming.username, now)
        return [self.texts.reply("book_intro"), self._who_reply(draft_id)]

    async def on_step(self, session: Session, payload: Payload, incoming: Incoming) -> list[Reply]:
        """A button inside the booking: `bk:<draft id>:<action>[:<value>]`."""
        draft = await self._draft(session, payload.arg(0))
        if draft is None:
            return [self.draft_gone()]
        clear_pause(session, self.steps.name)  # carrying on by a button: nothing to offer back
        action, value = payload.arg(1), payload.arg(2)
        now = self.clock()
        draft_id = int(draft.id)
        if action == "resume":
            return await self.steps.resume(draft)
        if (action == "who" and value in WHO) or (action == "mode" and value in MODES):
            await self.bookings.update_draft(draft_id, now, **{action: value})
            await self._release_if_unfit(draft_id)
            return await self.after_change(draft_id)
        if action in {"slot", "later"} and (draft.who is None or draft.mode is None):
            return await self.after_change(draft_id)
        if action == "slot":
            return await self._pick_slot(draft, value)
        if action == "later":
            day = _parse_day(value)
            return [await self.slots_reply(draft, from_day=day)] if day else self.expired()
        if action == "contact" and value in {"here", "phone"}:
            await self.bookings.update_draft(draft_id, now, contact=value, phone=None)
            return await self.after_change(draft_id)
        if action == "note" and value == "skip":
            await self.bookings.update_draft(draft_id, now, note="")
            return await self.after_change(draft_id)
        if action == "change":
            return [self._change_reply(draft_id)]
        if action == "edit" and value in EDITABLE:
            return await self._edit(draft, value)
        if action == "cancel":
            await self.bookings.drop_draft(draft_id)
            return [self.texts.reply("book_draft_cancelled", self.texts.menu())]
        if action == "confirm":
            return await self._confirm(session, draft)
        return self.expired()

    async def on_text(self, session: Session, incoming: Incoming) -> list[Reply] | None:
        """Typed text at a booking step (a note, a button's label, a shared phone number) or for a change
        asked after sending; None when no booking step waits for it."""
        taken = await self.steps.on_text(session, incoming)
        if taken is not None:
            return taken
        return await self.changes.on_text(session, incoming)

    async def open_draft(self, user_id: int) -> BookingRow | None:
        """The person's draft, while its step still waits for them (touched in the last STEP_TIMEOUT)."""
        draft = await self.bookings.draft_of(user_id)
        if draft is None or self.clock() - from_utc_text(draft.updated_at) > STEP_TIMEOUT:
            return None
        return draft

    async def take_note(self, draft_id: int, text: str) -> list[Reply]:
        """The note for the therapist, trimmed to NOTE_LIMIT."""
        note = text.strip()
        replies: list[Reply] = []
        if len(note) > NOTE_LIMIT:
            note = note[:NOTE_LIMIT]
            replies.append(self.texts.reply("book_note_trimmed", limit=str(NOTE_LIMIT)))
        await self.bookings.update_draft(draft_id, self.clock(), note=note)
        return replies + await self.after_change(draft_id)

    async def expects_contact(self, session: Session) -> bool:
        """Whether a shared contact is the answer to the current step (the engine's contact check)."""
        draft = await self.bookings.draft_of(session.user_id)
        return draft is not None and draft.step == "phone"

    async def on_mine(self, session: Session, payload: Payload, incoming: Incoming) -> list[Reply]:
        """/mybooking and its buttons: `mybooking[:<action>:<id>]`."""
        action = payload.arg(0)
        if not action:
            current = await self.bookings.current_of(session.user_id)
            if current is None:
                return [self.texts.reply("book_mine_none", ((self.texts.button("book_start_label", "book"),),))]
            return [self._mine_reply(current)]
        booking = await self.bookings.get(int(payload.arg(1))) if payload.arg(1).isdigit() else None
        if booking is None or booking.user_id != session.user_id:
            return self.expired()
        if action in CHANGE_ACTIONS:
            return await self.changes.on_action(session, booking, action, payload.arg(2))
        return await self._mine_action(booking, action)

    async def on_housekeeping(self, now: datetime) -> dict[str, int]:
        """Drafts nobody finished."""
        return {"booking drafts": await self.bookings.purge_drafts(now - DRAFT_KEEP)}

    async def on_forget(self, user_id: int) -> dict[str, int]:
        """Erase a person's booking details; the centre is told an open request was withdrawn."""
        erased, withdrawn = await self.bookings.forget(user_id, self.clock())
        for row in withdrawn:
            text = self.texts.get("staff_booking_withdrawn", id=str(row.id))
            await self.engine.enqueue(Reply(key="text.staff_booking_withdrawn", text=text), chat_id=None, kind="booking_notice")
        return {"booking details": erased}

    # --- steps ---------------------------------------------------------------------------------

    async def _draft(self, session: Session, raw_id: str) -> BookingRow | None:
        if not raw_id.isdigit():
            return None
        draft = await self.bookings.get(int(raw_id))
        if draft is None or draft.user_id != session.user_id or draft.status != "draft":
            return None
        return draft

    async def _unavailable(self, user_id: int) -> list[Reply] | None:
        if not self.engine.options.staff_enabled or not self.availability.therapists:
            return [self.texts.reply("book_unavailable", self.texts.menu("stuck"))]
        if await self.handoffs.is_banned(user_id):
            return [self.texts.reply("handoff_blocked")]
        return None

    async def _release_if_unfit(self, draft_id: int) -> None:
        """A held time whose therapist does not offer the newly chosen kind of session is let go."""
        draft = await self.bookings.get(draft_id)
        if draft is None or draft.therapist is None:
            return
        therapist = self.availability.therapist(draft.therapist)
        fits = therapist is not None and (draft.who or "individual") in therapist.sessions and (
            draft.mode is None or draft.mode in therapist.modes
        )
        if not fits:
            await self.bookings.release(draft_id)

    async def after_change(self, draft_id: int) -> list[Reply]:
        """Ask for the next missing detail, or show the summary."""
        draft = await self.bookings.get(draft_id)
        assert draft is not None
        step = next_step(draft)
        await self.bookings.update_draft(draft_id, self.clock(), step=step)
        return await self.show_step(draft, step)

    async def show_step(self, draft: BookingRow, step: str) -> list[Reply]:
        """A step's question and buttons (the step as stored: an edit may revisit one already answered)."""
        draft_id = int(draft.id)
        if step == "who":
            return [self._who_reply(draft_id)]
        if step == "mode":
            return [self._mode_reply(draft)]
        if step == "slot":
            return [await self.slots_reply(draft)]
        if step == "contact":
            return [self._contact_reply(draft_id)]
        if step == "phone":
            return [self.phone_reply(draft_id, "book_contact_phone_ask")]
        if step == "note":
            skip = Button(self.texts.get("book_note_skip_label"), payloads.build("bk", draft_id, "note", "skip"))
            return [self.texts.reply("book_note_question", ((skip,),))]
        return [self._summary_reply(draft)]

    async def _edit(self, draft: BookingRow, what: str) -> list[Reply]:
        draft_id = int(draft.id)
        now = self.clock()
        if what == "who":
            await self.bookings.update_draft(draft_id, now, step="who")
            return [self._who_reply(draft_id)]
        if what == "mode":
            await self.bookings.update_draft(draft_id, now, step="mode")
            return [self._mode_reply(draft)]
        if what == "time":
            await self.bookings.update_draft(draft_id, now, step="slot")
            return [await self.slots_reply(draft)]
        if what == "contact":
            await self.bookings.update_draft(draft_id, now, contact=None, phone=None)
        else:
            await self.bookings.update_draft(draft_id, now, note=None)
        return await self.after_change(draft_id)

    async def _pick_slot(self, draft: BookingRow, value: str) -> list[Reply]:
        start = from_epoch(value)
        now = self.clock()
        slot = None
        if start is not None:
            taken = await self.taken(now, exclude_id=int(draft.id))
            slot = find_slot(self.availability, self.zone, now, start, who=draft.who, mode=draft.mode, taken=taken)
        if slot is None:
            return [await self.slots_reply(draft, intro="book_slot_taken")]
        hold_until = now + timedelta(minutes=self.availability.hold_minutes)
        therapist = await self.bookings.hold(int(draft.id), slot.therapists, slot.start, slot.end, hold_until, now)
        if therapist is None:
            log.info("booking slot taken while deciding booking=%s", draft.id)
            return [await self.slots_reply(draft, intro="book_slot_taken")]
        return await self.after_change(int(draft.id))

    async def _confirm(self, session: Session, draft: BookingRow) -> list[Reply]:
        if next_step(draft) != "summary":
            return await self.after_change(int(draft.id))
        card = self.staff_card(replace(draft, status="requested"))
        payload = {"kind": "booking_card", "reply": reply_to_dict(card)}
        if not await self.bookings.submit(int(draft.id), self.clock(), card=payload):
            fresh = await self.bookings.get(int(draft.id))
            assert fresh is not None
            await self.bookings.update_draft(int(draft.id), self.clock(), step="slot")
            return [await self.slots_reply(fresh, intro="book_slot_taken")]
        how = self.texts.get("book_how_phone" if draft.contact == "phone" else "book_how_here")
        log.info("booking requested booking=%s", draft.id)
        return [self.texts.reply("book_received", self.texts.menu(), how=how)]

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


def _parse_day(value: str) -> date | None:
    """`YYYYMMDD` from a "later dates" button; "0" means back to the first page."""
    if value == "0":
        return date.min
    try:
        return datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        return None
