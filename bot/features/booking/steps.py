"""The booking wizard bending around a person: typed words, questions and safety answers mid-step.

- A button's label typed instead of pressed ("Online (video call)", "Skip") presses it.
- A question typed mid-step is answered by the engine, then `step_again` shows the same step
  with its buttons (the slot list is not lost), with a way to cancel.
- A safety answer mid-step pauses the booking (`bot.engine.steps`); the person is asked once
  whether to go back, and `go_back` shows the same step again.
- The held time: a safety answer neither extends nor releases the draft's hold; it lapses
  after the availability's `hold_minutes` like any hold, and going back re-checks it: re-taken
  when still free, otherwise "that time was just taken" and the free times.
- A typed phone number at the contact steps gets a hint to use the share button, and why;
  it is never stored.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Final

from bot.engine import payloads
from bot.engine.availability import find_slot, from_utc_text
from bot.engine.flow_input import typed
from bot.engine.replies import Button, Incoming, Reply
from bot.engine.session import Session
from bot.engine.steps import clear_pause
from bot.storage.booking_store import BookingRow

if TYPE_CHECKING:
    from bot.features.booking.feature import BookingDesk

NAME: Final = "booking"
# A run of at least seven digits, with the spaces, dots, dashes and brackets people type in numbers.
_PHONE_RUN: Final = re.compile(r"\+?\d[\d\s().\-]{5,}\d")
_BRACKETED: Final = re.compile(r"\([^)]*\)")


def next_step(draft: BookingRow) -> str:
    """The first thing still missing from a draft; "summary" when it is complete."""
    if draft.who is None:
        return "who"
    if draft.mode is None:
        return "mode"
    if draft.slot_start is None:
        return "slot"
    if draft.contact is None:
        return "contact"
    if draft.contact == "phone" and not draft.phone:
        return "phone"
    if draft.note is None:
        return "note"
    return "summary"


STEPS: Final = ("who", "mode", "slot", "contact", "phone", "note", "summary")


def current_step(draft: BookingRow) -> str:
    """The step to show: the stored one (an edit may revisit an answered step), or an earlier one still missing
    (a time let go while the person was away)."""
    stored, missing = str(draft.step or "who"), next_step(draft)
    if stored not in STEPS or STEPS.index(missing) < STEPS.index(stored):
        return missing
    return stored


def looks_like_phone(text: str) -> bool:
    """"+91 98765 43210", "my number is 98765-43210": a phone number typed in a short message."""
    if len(text) > 80:
        return False
    return any(sum(ch.isdigit() for ch in run) >= 7 for run in _PHONE_RUN.findall(text))


def label_forms(label: str) -> set[str]:
    """How a button's label may be typed: as shown, or without its bracketed aside ("Online (video call)" -> "online")."""
    forms = {typed(label), typed(_BRACKETED.sub(" ", label))}
    return {form for form in forms if form}


class BookingSteps:
    """The booking as an action with steps (`bot.engine.steps.StepAction`), for one `BookingDesk`."""

    name = NAME
    resume_key = "book_resume_question"

    def __init__(self, desk: BookingDesk) -> None:
        self.desk = desk
        self.texts = desk.texts

    # --- the engine's StepAction ------------------------------------------------------------

    async def is_open(self, session: Session) -> bool:
        return await self.desk.open_draft(session.user_id) is not None or await self.desk.changes.waiting(session.user_id)

    async def step_again(self, session: Session) -> list[Reply]:
        draft = await self.desk.open_draft(session.user_id)
        if draft is None:
            return await self.desk.changes.note_again(session.user_id)
        shown = await self.desk.show_step(draft, current_step(draft))
        last = shown[-1]
        buttons = last.buttons
        cancel = payloads.build("bk", draft.id, "cancel")
        if cancel not in {b.payload for b in last.all_buttons()}:
            buttons = (*buttons, (Button(self.texts.get("book_cancel_label"), cancel),))
        lead = self.texts.get("book_step_again")
        return [*shown[:-1], Reply(key=last.key, text=f"{lead}\n\n{last.text}", buttons=buttons,
                                   request_contact=last.request_contact, language=last.language)]

    async def go_back(self, session: Session) -> list[Reply]:
        draft = await self.desk.bookings.draft_of(session.user_id)
        if draft is None:
            if await self.desk.changes.waiting(session.user_id):
                return await self.desk.changes.note_again(session.user_id)
            return [self.desk.draft_gone()]
        return [self.texts.reply("book_resumed"), *await self.resume(draft)]

    async def leave(self, session: Session) -> list[Reply]:
        """Left for now: the held time goes back to others at once; the rest of the draft waits for /book."""
        draft = await self.desk.bookings.draft_of(session.user_id)
        if draft is not None:
            await self.desk.bookings.release(int(draft.id))
        await self.desk.changes.stop_waiting(session.user_id)
        return [self.texts.reply("book_resume_declined", self.texts.menu())]

    # --- used by the desk ---------------------------------------------------------------------

    async def resume(self, draft: BookingRow) -> list[Reply]:
        """The draft's step again; a time whose hold lapsed is re-taken if still free, else fresh times."""
        draft_id = int(draft.id)
        if not await self._still_held(draft):
            await self.desk.bookings.release(draft_id)
            await self.desk.bookings.update_draft(draft_id, self.desk.clock(), step="slot")
            fresh = await self.desk.bookings.get(draft_id)
            assert fresh is not None
            return [await self.desk.slots_reply(fresh, intro="book_slot_taken")]
        step = current_step(draft)
        await self.desk.bookings.update_draft(draft_id, self.desk.clock(), step=step)  # the step is fresh again
        fresh = await self.desk.bookings.get(draft_id)
        assert fresh is not None
        return await self.desk.show_step(fresh, step)

    def continue_or_restart(self, draft_id: int) -> Reply:
        """/book with a booking half done: carry on where it was, or start over."""
        rows = (
            (self.texts.button("flow_continue_label", payloads.build("bk", draft_id, "resume")),),
            (self.texts.button("flow_restart_label", payloads.build("book", "new")),),
        )
        return self.texts.reply("book_continue_or_restart", rows)

    async def on_text(self, session: Session, incoming: Incoming) -> list[Reply] | None:
        """Typed text at an open booking step; None when it is not the step's answer (the engine answers it)."""
        draft = await self.desk.open_draft(session.user_id)
        if draft is None:
            return None
        paused = session.paused_step == NAME
        step = current_step(draft)
        draft_id = int(draft.id)
        if incoming.kind == "contact":
            if step != "phone" or not incoming.contact_phone:
                return None
            clear_pause(session, NAME)
            await self.desk.bookings.update_draft(draft_id, self.desk.clock(), phone=incoming.contact_phone[:32])
            return await self.desk.after_change(draft_id)
        text = incoming.text.strip()
        if incoming.kind != "text" or not text:
            return None
        pressed = await self._typed_button(draft, text)
        if pressed is not None:
            parsed = payloads.parse(pressed)
            if parsed is not None and parsed.kind == "bk":
                clear_pause(session, NAME)
                return await self.desk.on_step(session, parsed, incoming)
        if paused:
            return None  # after a safety answer, "thank you" is no booking note: the person is asked first
        if step in {"contact", "phone"} and looks_like_phone(text):
            # Never stored: only a number shared through Telegram's own button is surely theirs.
            if step == "contact":
                await self.desk.bookings.update_draft(draft_id, self.desk.clock(), contact="phone", phone=None, step="phone")
            return [self.desk.phone_reply(draft_id, "book_contact_phone_typed")]
        if step == "note":
            return await self.desk.take_note(draft_id, text)
        return None

    async def _typed_button(self, draft: BookingRow, text: str) -> str | None:
        """The payload of the current step's button whose label was typed, if one was."""
        said = typed(text)
        if not said:
            return None
        for reply in await self.desk.show_step(draft, current_step(draft)):
            for button in reply.all_buttons():
                if said in label_forms(button.label):
                    return button.payload
        return None

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
        held = await self.desk.bookings.hold(int(draft.id), slot.therapists, slot.start, slot.end, hold_until, now)
        return held is not None
