"""The booking's steps as the engine sees them (`bot.engine.steps.StepAction`): the form, then a change asked for.

The booking form (content/forms/booking.yaml, run by `bot.engine.forms.FormRunner`) bends
around a person like every step:

- A button's label typed instead of pressed ("Online (video call)", "Skip") presses it.
- A question typed mid-step is answered by the engine, then `step_again` shows the same step
  with its buttons (the slot list is not lost), with a way to cancel.
- A safety answer mid-step pauses the booking (`bot.engine.steps`); the person is asked once
  whether to go back, and `go_back` shows the same step again (the held time re-checked by the
  form's `resume` action: re-taken when still free, otherwise "that time was just taken").
- A typed phone number at the contact steps gets a hint to use the share button, and why;
  it is never stored.

After a request was sent, "ask to change it" may wait for a note (`changes.py`): it is shown
again after a question and offered back after a safety answer in the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.engine.replies import Reply
from bot.engine.session import Session

if TYPE_CHECKING:
    from bot.features.booking.feature import BookingDesk


class BookingSteps:
    """The booking form and a change waiting for its note, as one action with steps, for one `BookingDesk`."""

    def __init__(self, desk: BookingDesk) -> None:
        self.desk = desk
        self.form = desk.form
        self.changes = desk.changes
        self.name = desk.form.name
        self.resume_key = desk.form.resume_key

    async def is_open(self, session: Session) -> bool:
        return await self.form.is_open(session) or await self.changes.waiting(session.user_id)

    async def step_again(self, session: Session) -> list[Reply]:
        return await self.form.step_again(session) or await self.changes.note_again(session.user_id)

    async def go_back(self, session: Session) -> list[Reply]:
        if await self.desk.bookings.draft_of(session.user_id) is None and await self.changes.waiting(session.user_id):
            return await self.changes.note_again(session.user_id)
        return await self.form.go_back(session)

    async def leave(self, session: Session) -> list[Reply]:
        """Left for now: the held time goes back to others at once; the rest of the draft waits for /book."""
        replies = await self.form.leave(session)
        await self.changes.stop_waiting(session.user_id)
        return replies
