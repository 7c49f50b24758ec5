"""The booking form's named actions: what the steps of content/forms/booking.yaml need code for.

Registered with the form runner (`bot.engine.forms.FormRunner`) by `BookingDesk`:

  may_book         before a new draft: the centre takes bookings, the person may book, none is sent yet
  modes_offered    online / in person: only what some therapist offers for the session chosen
  free_times       the time step's question: the free times as buttons, a page at a time
  hold             the time picked is held for `hold_minutes`, or "that time was just taken"
  fits_or_release  a held time whose therapist does not offer the session now chosen is let go
  summary_values   {summary} and {shared} of the summary
  submit           the request stored and its staff card queued in one transaction
  keep_time        back after a break: the held time re-taken if still free, else fresh times
  let_go           leaving it for now: the held time goes back to others at once

A safety answer neither extends nor releases a hold: it lapses after `hold_minutes` like any
hold, and going back (`keep_time`) re-checks it.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from bot.engine.availability import find_slot, from_utc_text
from bot.engine.outbox import reply_to_dict
from bot.engine.forms import Action, Call
from bot.engine.replies import Reply
from bot.features.booking.views import TIME_STEP, from_epoch
from bot.storage.booking_row import BookingRow

if TYPE_CHECKING:
    from bot.features.booking.feature import BookingDesk

log = logging.getLogger(__name__)


class BookingActions:
    """The code behind the booking form's steps, for one `BookingDesk`."""

    def __init__(self, desk: BookingDesk) -> None:
        self.desk = desk
        self.texts = desk.texts
        self.bookings = desk.bookings

    def named(self) -> dict[str, Action]:
        return {
            "may_book": self.may_book, "modes_offered": self.modes_offered, "free_times": self.free_times,
            "hold": self.hold, "fits_or_release": self.fits_or_release, "summary_values": self.summary_values,
            "submit": self.submit, "keep_time": self.keep_time, "let_go": self.let_go,
        }

    async def may_book(self, call: Call) -> list[Reply] | None:
        assert call.session is not None
        user_id = call.session.user_id
        if not self.desk.engine.options.staff_enabled or not self.desk.availability.therapists:
            return [self.texts.reply("book_unavailable", self.texts.menu("stuck"))]
        if await self.desk.handoffs.is_banned(user_id):
            return [self.texts.reply("handoff_blocked")]
        current = await self.bookings.current_of(user_id)
        if current is not None:
            return [self.texts.reply("book_already"), self.desk.mine_reply(current)]
        return None

    async def modes_offered(self, call: Call) -> set[str]:
        who = call.record.who or "individual"
        return {mode for t in self.desk.availability.therapists if who in t.sessions for mode in t.modes}

    async def free_times(self, call: Call) -> Reply | None:
        """The first page (with `intro` when given), or the page of `value` ("YYYYMMDD"; "0": the first again)."""
        if not call.value:
            return await self.desk.slots_reply(call.record, intro=call.intro or "book_slots_intro")
        day = _parse_day(call.value)
        return await self.desk.slots_reply(call.record, from_day=day) if day else None

    async def hold(self, call: Call) -> list[Reply] | None:
        draft, now = call.record, self.desk.clock()
        start = from_epoch(call.value)
        slot = None
        if start is not None:
            taken = await self.desk.taken(now, exclude_id=int(draft.id))
            slot = find_slot(self.desk.availability, self.desk.zone, now, start, who=draft.who, mode=draft.mode, taken=taken)
        if slot is None:
            return [await self.desk.slots_reply(draft, intro="book_slot_taken")]
        hold_until = now + timedelta(minutes=self.desk.availability.hold_minutes)
        therapist = await self.bookings.hold(int(draft.id), slot.therapists, slot.start, slot.end, hold_until, now)
        if therapist is None:
            log.info("booking slot taken while deciding booking=%s", draft.id)
            return [await self.desk.slots_reply(draft, intro="book_slot_taken")]
        return None

    async def fits_or_release(self, call: Call) -> None:
        draft: BookingRow | None = call.record
        if draft is None or draft.therapist is None:
            return
        therapist = self.desk.availability.therapist(draft.therapist)
        fits = therapist is not None and (draft.who or "individual") in therapist.sessions and (
            draft.mode is None or draft.mode in therapist.modes
        )
        if not fits:
            await self.bookings.release(int(draft.id))

    async def summary_values(self, call: Call) -> dict[str, str]:
        draft: BookingRow = call.record
        shared = self.texts.get("book_shared_with_note" if draft.note else "book_shared_basic")
        return {"summary": "\n".join(self.desk.summary_lines(draft)), "shared": shared}

    async def submit(self, call: Call) -> list[Reply]:
        draft: BookingRow = call.record
        card = self.desk.staff_card(replace(draft, status="requested"))
        payload = {"kind": "booking_card", "reply": reply_to_dict(card)}
        if not await self.bookings.submit(int(draft.id), self.desk.clock(), card=payload):
            return await self._time_lost(int(draft.id))
        how = self.texts.get("book_how_phone" if draft.contact == "phone" else "book_how_here")
        log.info("booking requested booking=%s", draft.id)
        return [self.texts.reply("book_received", self.texts.menu(), how=how)]

    async def keep_time(self, call: Call) -> list[Reply] | None:
        if await self._still_held(call.record):
            return None
        await self.bookings.release(int(call.record.id))
        return await self._time_lost(int(call.record.id))

    async def let_go(self, call: Call) -> None:
        await self.bookings.release(int(call.record.id))

    # --- helpers ------------------------------------------------------------------------------

    async def _time_lost(self, draft_id: int) -> list[Reply]:
        """Back at the time step: "that time was just taken", and the times still free."""
        await self.bookings.update_draft(draft_id, self.desk.clock(), step=TIME_STEP)
        fresh = await self.bookings.get(draft_id)
        assert fresh is not None
        return [await self.desk.slots_reply(fresh, intro="book_slot_taken")]

    async def _still_held(self, draft: BookingRow) -> bool:
        """Whether the draft still has its time (held, or re-taken now); True when no time was chosen yet."""
        if draft.slot_start is None:
            return True
        now = self.desk.clock()
        if draft.active and draft.hold_until and from_utc_text(draft.hold_until) >= now:
            return True
        start = from_utc_text(draft.slot_start)
        taken = await self.desk.taken(now, exclude_id=int(draft.id))
        slot = find_slot(
            self.desk.availability, self.desk.zone, now, start, who=draft.who or "individual",
            mode=draft.mode or "online", taken=taken,
        )
        if slot is None:
            return False
        hold_until = now + timedelta(minutes=self.desk.availability.hold_minutes)
        held = await self.bookings.hold(int(draft.id), slot.therapists, slot.start, slot.end, hold_until, now)
        return held is not None


def _parse_day(value: str) -> date | None:
    """`YYYYMMDD` from a "later dates" button; "0" means back to the first page."""
    if value == "0":
        return date.min
    try:
        return datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        return None
