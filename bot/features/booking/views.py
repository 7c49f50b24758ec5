"""The booking's replies: the free times, the summary lines, the person's booking.

The questions of the steps, the summary and "what would you like to change?" are the form's
(content/forms/booking.yaml, shown by `bot.engine.form_views`).

A mixin of `BookingDesk` (bot/features/booking/feature.py): it reads the desk's texts, store,
availability and zone, and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Final

from bot.engine import payloads
from bot.engine.availability import (
    Availability,
    CalendarWords,
    Slot,
    SlotPage,
    format_day,
    format_time,
    format_when,
    from_utc_text,
    slot_page,
)
from bot.engine.replies import Button, Reply
from bot.engine.texts import Texts
from bot.storage.booking_row import BookingRow
from bot.storage.booking_store import BookingStore

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from bot.engine.forms import FormRunner
    from bot.features.booking.changes import BookingChanges

# The form's step whose answer is the held time, and its buttons: `bk:<id>:slot:<epoch>`, `bk:<id>:later:<day>`.
TIME_STEP: Final = "slot"


def zone_label(name: str) -> str:
    """"Asia/Kolkata" -> "Kolkata": how people say their time zone."""
    return name.rsplit("/", 1)[-1].replace("_", " ")


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def from_epoch(value: str) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=timezone.utc) if value.isdigit() and len(value) <= 12 else None


class BookingViews:
    """What the booking shows; mixed into `BookingDesk`, which sets these attributes."""

    texts: Texts
    bookings: BookingStore
    availability: Availability
    zone: ZoneInfo | timezone
    zone_name: str
    clock: Callable[[], datetime]
    changes: BookingChanges
    form: FormRunner

    # --- replies --------------------------------------------------------------------------------

    def expired(self) -> list[Reply]:
        return [self.texts.reply("button_expired", self.texts.menu())]

    async def taken(self, now: datetime, exclude_id: int | None = None) -> set[tuple[str, str]]:
        horizon = now + timedelta(days=self.availability.days_ahead + 2)
        return await self.bookings.taken(now - timedelta(days=1), horizon, now, exclude_id=exclude_id)

    async def free_page(self, who: str, mode: str, exclude_id: int | None, from_day: date | None = None) -> SlotPage:
        now = self.clock()
        taken = await self.taken(now, exclude_id=exclude_id)
        return slot_page(self.availability, self.zone, now, who=who, mode=mode, taken=taken, from_day=from_day)

    async def slots_reply(self, draft: BookingRow, *, from_day: date | None = None, intro: str = "book_slots_intro") -> Reply:
        draft_id, more = int(draft.id), self.form.steps[TIME_STEP].more
        page = await self.free_page(draft.who, draft.mode, draft_id, from_day)
        if not page.days:
            key = "book_slots_no_more" if from_day else "book_slots_none"
            rows = ((self.texts.button("book_first_dates_label", self.form.payload(draft_id, more, "0")),),) if from_day else ()
            return self.texts.reply(key, rows)
        rows = self.slot_rows(page, lambda slot: self.form.payload(draft_id, TIME_STEP, epoch(slot.start)))
        if page.next_day is not None:
            rows.append((self.texts.button("book_later_label", self.form.payload(draft_id, more, f"{page.next_day:%Y%m%d}")),))
        text = self.texts.get(intro)
        if intro != "book_slots_intro":
            text = f"{text}\n{self.texts.get('book_slots_intro', zone=self.zone_name)}"
        return Reply(key=f"text.{intro}", text=self.texts.fill(text, zone=self.zone_name), buttons=tuple(rows))

    def slot_rows(self, page: SlotPage, payload_of: Callable[[Slot], str]) -> list[tuple[Button, ...]]:
        """Two times per row, each labelled with its day, so the keyboard reads like a small calendar."""
        rows: list[tuple[Button, ...]] = []
        for day, slots in page.days:
            words = self.calendar_words()
            labels = [Button(f"{format_day(day, words)} · {format_time(s.start, self.zone)}", payload_of(s)) for s in slots]
            rows.extend(tuple(labels[i : i + 2]) for i in range(0, len(labels), 2))
        return rows

    def summary_lines(self, booking: BookingRow) -> list[str]:
        """The booking's details in plain words, one per line."""
        lines = []
        if booking.who:
            lines.append(self.texts.get("book_line_who", value=self.texts.get(f"book_who_{booking.who}")))
        if booking.mode:
            lines.append(self.texts.get("book_line_mode", value=self.texts.get(f"book_mode_{booking.mode}")))
        if booking.slot_start:
            lines.append(self.texts.get("book_line_when", **self.when_values(booking)))
        if booking.contact:
            contact = self.texts.get("book_contact_phone", phone=booking.phone or "") if booking.contact == "phone" else self.texts.get("book_contact_here")
            lines.append(self.texts.get("book_line_contact", value=contact))
        if booking.note:
            lines.append(self.texts.get("book_line_note", value=booking.note))
        return lines + self.form.answer_lines(booking) + self.changes.pending_lines(booking)

    def calendar_words(self) -> CalendarWords:
        """Weekday and month names in the current language."""
        return CalendarWords.of(self.texts.get("calendar_days"), self.texts.get("calendar_months"))

    def when_values(self, booking: BookingRow) -> dict[str, str]:
        start = from_utc_text(booking.slot_start)
        therapist = self.availability.therapist(booking.therapist)
        return {
            "when": format_when(start, self.zone, self.calendar_words()),
            "time": format_time(start, self.zone),
            "zone": self.zone_name,
            "therapist": therapist.name if therapist else str(booking.therapist),
            "mode": self.texts.get(f"book_mode_{booking.mode}") if booking.mode else "",
        }

    # --- the person's booking after it was sent ------------------------------------------------------

    def mine_reply(self, booking: BookingRow) -> Reply:
        booking_id = int(booking.id)
        rows: list[tuple[Button, ...]] = []
        if booking.status == "proposed":
            rows.append((Button(self.texts.get("book_accept_label"), payloads.build("mybooking", "accept", booking_id)),))
            rows.append((Button(self.texts.get("book_another_label"), payloads.build("mybooking", "another", booking_id)),))
        else:
            rows.append((Button(self.texts.get("book_mine_change_label"), payloads.build("mybooking", "change", booking_id)),))
        rows.append((Button(self.texts.get("book_mine_cancel_label"), payloads.build("mybooking", "cancel", booking_id)),))
        status = self.status_label("book_status", booking.status)
        return self.texts.reply("book_mine", tuple(rows), summary="\n".join(self.summary_lines(booking)), status=status)

    def status_label(self, prefix: str, status: str) -> str:
        """A status in words from content, or the bare status when content has no words for it (a draft)."""
        key = f"{prefix}_{status}"
        return self.texts.get(key) if key in self.texts.catalog.texts else status
