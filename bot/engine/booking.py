"""Booking a therapist, all on buttons: who, how, when, how to reach you, a note, confirm.

The draft lives in the `bookings` table (status 'draft'), so a person can leave and come
back, and a chosen time is held for them in the database while they finish. Nothing
reaches the centre before "Confirm and send"; after it, the request is stored and its
staff card queued in one transaction. Staff actions (claim, confirm, propose another
time, close) come from `bot.engine.staff` and are told to the person through the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any, Final

from bot.engine import payloads
from bot.engine.availability import (
    CalendarWords,
    Availability,
    Slot,
    SlotPage,
    centre_zone,
    day_before,
    find_slot,
    format_day,
    format_time,
    format_when,
    from_utc_text,
    load_availability,
    slot_page,
)
from bot.engine.booking_change import CHANGE_ACTIONS, BookingChanges
from bot.engine.booking_steps import BookingSteps, next_step
from bot.engine.core import Engine, reply_to_dict
from bot.engine.payloads import Payload
from bot.engine.replies import Button, Incoming, Reply
from bot.engine.session import Session
from bot.engine.steps import clear_pause
from bot.engine.texts import speaking
from bot.storage.booking_store import OPEN_STATUSES, BookingStore
from bot.storage.handoff_store import HandoffStore

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
NOTE_LIMIT: Final = 500
STEP_TIMEOUT: Final = timedelta(hours=2)
DRAFT_KEEP: Final = timedelta(days=1)
WHO: Final = ("individual", "couple")
MODES: Final = ("online", "in_person")
EDITABLE: Final = ("who", "mode", "time", "contact", "note")


def zone_label(name: str) -> str:
    """"Asia/Kolkata" -> "Kolkata": how people say their time zone."""
    return name.rsplit("/", 1)[-1].replace("_", " ")


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def from_epoch(value: str) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=timezone.utc) if value.isdigit() and len(value) <= 12 else None


class BookingDesk:
    """The booking actions of one engine: person-side steps and the staff-side status changes."""

    def __init__(self, engine: Engine, bookings: BookingStore, handoffs: HandoffStore, clock: Clock) -> None:
        self.engine = engine
        self.texts = engine.texts
        self.bookings = bookings
        self.handoffs = handoffs
        self.clock = clock
        self.zone = centre_zone(engine.catalog)
        self.availability: Availability = load_availability(engine.catalog)
        self.zone_name = zone_label(engine.catalog.centre.timezone)
        self.desk: Any = None  # the CentreDesk this belongs to, set by `install_handoff`
        self.note_limit = NOTE_LIMIT
        self.steps = BookingSteps(self)  # typed labels, questions and safety answers mid-step
        self.changes = BookingChanges(self)  # "ask to change it" after the request was sent

    # --- entry points (registered as engine actions and hooks) -------------------------------

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
        if draft is not None and draft["who"] is not None and payload.arg() != "new":
            # Half done: never silently thrown away by a second /book.
            return [self.steps.continue_or_restart(int(draft["id"]))]
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
        draft_id = int(draft["id"])
        if action == "resume":
            return await self.steps.resume(draft)
        if (action == "who" and value in WHO) or (action == "mode" and value in MODES):
            await self.bookings.update_draft(draft_id, now, **{action: value})
            await self._release_if_unfit(draft_id)
            return await self.after_change(draft_id)
        if action in {"slot", "later"} and (draft["who"] is None or draft["mode"] is None):
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

    async def open_draft(self, user_id: int) -> dict[str, Any] | None:
        """The person's draft, while its step still waits for them (touched in the last STEP_TIMEOUT)."""
        draft = await self.bookings.draft_of(user_id)
        if draft is None or self.clock() - from_utc_text(draft["updated_at"]) > STEP_TIMEOUT:
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
        return draft is not None and draft["step"] == "phone"

    async def on_mine(self, session: Session, payload: Payload, incoming: Incoming) -> list[Reply]:
        """/mybooking and its buttons: `mybooking[:<action>:<id>]`."""
        action = payload.arg(0)
        if not action:
            current = await self.bookings.current_of(session.user_id)
            if current is None:
                return [self.texts.reply("book_mine_none", ((self.texts.button("book_start_label", "book"),),))]
            return [self._mine_reply(current)]
        booking = await self.bookings.get(int(payload.arg(1))) if payload.arg(1).isdigit() else None
        if booking is None or booking["user_id"] != session.user_id:
            return self.expired()
        if action in CHANGE_ACTIONS:
            return await self.changes.on_action(session, booking, action, payload.arg(2))
        return await self._mine_action(booking, action)

    async def forget(self, user_id: int) -> dict[str, int]:
        """Erase a person's booking details; the centre is told an open request was withdrawn."""
        erased, withdrawn = await self.bookings.forget(user_id, self.clock())
        for row in withdrawn:
            text = self.texts.get("staff_booking_withdrawn", id=str(row["id"]))
            await self.engine.enqueue(Reply(key="text.staff_booking_withdrawn", text=text), chat_id=None, kind="booking_notice")
        return {"booking details": erased}

    # --- steps ---------------------------------------------------------------------------------

    async def _draft(self, session: Session, raw_id: str) -> dict[str, Any] | None:
        if not raw_id.isdigit():
            return None
        draft = await self.bookings.get(int(raw_id))
        if draft is None or draft["user_id"] != session.user_id or draft["status"] != "draft":
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
        if draft is None or draft["therapist"] is None:
            return
        therapist = self.availability.therapist(draft["therapist"])
        fits = therapist is not None and (draft["who"] or "individual") in therapist.sessions and (
            draft["mode"] is None or draft["mode"] in therapist.modes
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

    async def show_step(self, draft: dict[str, Any], step: str) -> list[Reply]:
        """A step's question and buttons (the step as stored: an edit may revisit one already answered)."""
        draft_id = int(draft["id"])
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

    async def _edit(self, draft: dict[str, Any], what: str) -> list[Reply]:
        draft_id = int(draft["id"])
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

    async def _pick_slot(self, draft: dict[str, Any], value: str) -> list[Reply]:
        start = from_epoch(value)
        now = self.clock()
        slot = None
        if start is not None:
            taken = await self.taken(now, exclude_id=int(draft["id"]))
            slot = find_slot(self.availability, self.zone, now, start, who=draft["who"], mode=draft["mode"], taken=taken)
        if slot is None:
            return [await self.slots_reply(draft, intro="book_slot_taken")]
        hold_until = now + timedelta(minutes=self.availability.hold_minutes)
        therapist = await self.bookings.hold(int(draft["id"]), slot.therapists, slot.start, slot.end, hold_until, now)
        if therapist is None:
            log.info("booking slot taken while deciding booking=%s", draft["id"])
            return [await self.slots_reply(draft, intro="book_slot_taken")]
        return await self.after_change(int(draft["id"]))

    async def _confirm(self, session: Session, draft: dict[str, Any]) -> list[Reply]:
        if next_step(draft) != "summary":
            return await self.after_change(int(draft["id"]))
        card = self.staff_card({**draft, "status": "requested"})
        payload = {"kind": "booking_card", "reply": reply_to_dict(card)}
        if not await self.bookings.submit(int(draft["id"]), self.clock(), card=payload):
            fresh = await self.bookings.get(int(draft["id"]))
            assert fresh is not None
            await self.bookings.update_draft(int(draft["id"]), self.clock(), step="slot")
            return [await self.slots_reply(fresh, intro="book_slot_taken")]
        how = self.texts.get("book_how_phone" if draft["contact"] == "phone" else "book_how_here")
        log.info("booking requested booking=%s", draft["id"])
        return [self.texts.reply("book_received", self.texts.menu(), how=how)]

    # --- replies --------------------------------------------------------------------------------

    def expired(self) -> list[Reply]:
        return [self.texts.reply("button_expired", self.texts.menu())]

    def draft_gone(self) -> Reply:
        return self.texts.reply("book_draft_gone", ((self.texts.button("book_start_label", "book"),),))

    def _who_reply(self, draft_id: int) -> Reply:
        rows = tuple(
            (Button(self.texts.get(f"book_who_{who}_label"), payloads.build("bk", draft_id, "who", who)),) for who in WHO
        )
        return self.texts.reply("book_who_question", rows)

    def _mode_reply(self, draft: dict[str, Any]) -> Reply:
        rows = tuple(
            (Button(self.texts.get(f"book_mode_{mode}_label"), payloads.build("bk", draft["id"], "mode", mode)),)
            for mode in MODES
            if any(mode in t.modes and (draft["who"] or "individual") in t.sessions for t in self.availability.therapists)
        )
        return self.texts.reply("book_mode_question", rows)

    def _contact_reply(self, draft_id: int) -> Reply:
        rows = (
            (Button(self.texts.get("book_contact_here_label"), payloads.build("bk", draft_id, "contact", "here")),),
            (Button(self.texts.get("book_contact_phone_label"), payloads.build("bk", draft_id, "contact", "phone")),),
        )
        return self.texts.reply("book_contact_question", rows)

    def phone_reply(self, draft_id: int, key: str) -> Reply:
        here = Button(self.texts.get("book_contact_here_label"), payloads.build("bk", draft_id, "contact", "here"))
        return self.texts.reply(key, ((here,),), request_contact=True)

    def _change_reply(self, draft_id: int) -> Reply:
        rows = tuple(
            (Button(self.texts.get(f"book_change_{what}_label"), payloads.build("bk", draft_id, "edit", what)),)
            for what in EDITABLE
        )
        return self.texts.reply("book_change_question", rows)

    async def taken(self, now: datetime, exclude_id: int | None = None) -> set[tuple[str, str]]:
        horizon = now + timedelta(days=self.availability.days_ahead + 2)
        return await self.bookings.taken(now - timedelta(days=1), horizon, now, exclude_id=exclude_id)

    async def free_page(self, who: str, mode: str, exclude_id: int | None, from_day: date | None = None) -> SlotPage:
        now = self.clock()
        taken = await self.taken(now, exclude_id=exclude_id)
        return slot_page(self.availability, self.zone, now, who=who, mode=mode, taken=taken, from_day=from_day)

    async def slots_reply(self, draft: dict[str, Any], *, from_day: date | None = None, intro: str = "book_slots_intro") -> Reply:
        draft_id = int(draft["id"])
        page = await self.free_page(draft["who"], draft["mode"], draft_id, from_day)
        if not page.days:
            key = "book_slots_no_more" if from_day else "book_slots_none"
            rows = ((self.texts.button("book_first_dates_label", payloads.build("bk", draft_id, "later", "0")),),) if from_day else ()
            return self.texts.reply(key, rows)
        rows = self.slot_rows(page, lambda slot: payloads.build("bk", draft_id, "slot", epoch(slot.start)))
        if page.next_day is not None:
            rows.append((self.texts.button("book_later_label", payloads.build("bk", draft_id, "later", f"{page.next_day:%Y%m%d}")),))
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

    def summary_lines(self, booking: dict[str, Any]) -> list[str]:
        """The booking's details in plain words, one per line."""
        lines = []
        if booking["who"]:
            lines.append(self.texts.get("book_line_who", value=self.texts.get(f"book_who_{booking['who']}")))
        if booking["mode"]:
            lines.append(self.texts.get("book_line_mode", value=self.texts.get(f"book_mode_{booking['mode']}")))
        if booking["slot_start"]:
            lines.append(self.texts.get("book_line_when", **self.when_values(booking)))
        if booking["contact"]:
            contact = self.texts.get("book_contact_phone", phone=booking["phone"] or "") if booking["contact"] == "phone" else self.texts.get("book_contact_here")
            lines.append(self.texts.get("book_line_contact", value=contact))
        if booking["note"]:
            lines.append(self.texts.get("book_line_note", value=booking["note"]))
        return lines + self.changes.pending_lines(booking)

    def calendar_words(self) -> CalendarWords:
        """Weekday and month names in the current language."""
        return CalendarWords.of(self.texts.get("calendar_days"), self.texts.get("calendar_months"))

    def when_values(self, booking: dict[str, Any]) -> dict[str, str]:
        start = from_utc_text(booking["slot_start"])
        therapist = self.availability.therapist(booking["therapist"])
        return {
            "when": format_when(start, self.zone, self.calendar_words()),
            "time": format_time(start, self.zone),
            "zone": self.zone_name,
            "therapist": therapist.name if therapist else str(booking["therapist"]),
            "mode": self.texts.get(f"book_mode_{booking['mode']}") if booking["mode"] else "",
        }

    def _summary_reply(self, draft: dict[str, Any]) -> Reply:
        draft_id = int(draft["id"])
        shared = self.texts.get("book_shared_with_note" if draft["note"] else "book_shared_basic")
        rows = (
            (Button(self.texts.get("book_confirm_label"), payloads.build("bk", draft_id, "confirm")),),
            (
                Button(self.texts.get("book_change_label"), payloads.build("bk", draft_id, "change")),
                Button(self.texts.get("book_cancel_label"), payloads.build("bk", draft_id, "cancel")),
            ),
        )
        return self.texts.reply("book_summary", rows, summary="\n".join(self.summary_lines(draft)), shared=shared)

    # --- the person's booking after it was sent ------------------------------------------------------

    def _mine_reply(self, booking: dict[str, Any]) -> Reply:
        booking_id = int(booking["id"])
        rows: list[tuple[Button, ...]] = []
        if booking["status"] == "proposed":
            rows.append((Button(self.texts.get("book_accept_label"), payloads.build("mybooking", "accept", booking_id)),))
            rows.append((Button(self.texts.get("book_another_label"), payloads.build("mybooking", "another", booking_id)),))
        else:
            rows.append((Button(self.texts.get("book_mine_change_label"), payloads.build("mybooking", "change", booking_id)),))
        rows.append((Button(self.texts.get("book_mine_cancel_label"), payloads.build("mybooking", "cancel", booking_id)),))
        status = self.status_label("book_status", booking["status"])
        return self.texts.reply("book_mine", tuple(rows), summary="\n".join(self.summary_lines(booking)), status=status)

    async def _mine_action(self, booking: dict[str, Any], action: str) -> list[Reply]:
        booking_id = int(booking["id"])
        now = self.clock()
        if action == "cancel" and booking["status"] in OPEN_STATUSES:
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

    async def tell_staff(self, booking: dict[str, Any], key: str) -> None:
        """A one-line notice about a booking, with its refreshed card, for the staff group."""
        card = self.staff_card(booking)
        notice = self.texts.get(key, id=str(booking["id"]))
        reply = Reply(key=f"text.{key}", text=f"{notice}\n\n{card.text}", buttons=card.buttons)
        await self.engine.enqueue(reply, chat_id=None, kind="booking_notice", user_id=booking["user_id"])

    # --- shown to staff, and what staff actions tell the person ------------------------------------------

    def staff_card(self, booking: dict[str, Any]) -> Reply:
        """The staff group's card of a request: details, status, and the actions that make sense now."""
        booking_id = int(booking["id"])
        with speaking("en"):  # staff read the centre's language, whatever the person writes in
            details = self.summary_lines(booking)
        name = booking["first_name"] or "?"
        handle = f" (@{booking['username']})" if booking["username"] else ""
        details.insert(0, f"{name}{handle}")
        status = self.status_label("staff_status", booking["status"])
        text = self.texts.get("staff_booking_card", id=str(booking_id), details="\n".join(details), status=status)
        rows: list[tuple[Button, ...]] = []
        if booking["status"] in {"requested", "claimed", "proposed", "confirmed"}:
            first: list[Button] = []
            if booking["status"] == "requested":
                first.append(Button(self.texts.get("staff_claim_label"), payloads.build("staff", "claim", booking_id)))
            if booking["status"] in {"requested", "claimed"}:
                first.append(Button(self.texts.get("staff_confirm_label"), payloads.build("staff", "confirm", booking_id)))
            rows.append(tuple(first))
            rows.append((Button(self.texts.get("staff_propose_label"), payloads.build("staff", "propose", booking_id)),))
            last = [Button(self.texts.get("staff_close_label"), payloads.build("staff", "close", booking_id))]
            if booking["user_id"] is not None:
                last.insert(0, Button(self.texts.get("staff_open_chat_label"), payloads.build("staff", "open", booking["user_id"])))
            rows.append(tuple(last))
        return Reply(key="staff.booking_card", text=text, buttons=tuple(row for row in rows if row))

    async def tell_person(self, booking: dict[str, Any], key: str, buttons: tuple[tuple[Button, ...], ...] = ()) -> None:
        """Queue a plain-words update about their booking to the person's chat."""
        user_id = booking["user_id"]
        if user_id is None:
            return
        with speaking(await self.engine.language_of(int(user_id))):
            values = self.when_values(booking) if booking["slot_start"] else {}
            reply = self.texts.reply(key, buttons, **values)
        await self.engine.enqueue(reply, chat_id=int(user_id), kind="booking_update", user_id=int(user_id))

    async def queue_reminders(self, booking: dict[str, Any]) -> int:
        """The day-before (same local time) and hour-before reminders, as due outbox rows."""
        if booking["user_id"] is None or not booking["slot_start"]:
            return 0
        now = self.clock()
        start = from_utc_text(booking["slot_start"])
        with speaking(await self.engine.language_of(int(booking["user_id"]))):
            values = self.when_values(booking)
            planned = [
                (self.texts.reply("book_reminder_day", **values), day_before(start, self.zone)),
                (self.texts.reply("book_reminder_hour", **values), start - timedelta(hours=1)),
            ]
        items = [({"reply": reply_to_dict(reply)}, due) for reply, due in planned if due > now]
        return await self.bookings.add_reminders(int(booking["id"]), int(booking["user_id"]), items, now)

    async def staff_set(self, booking_id: int, action: str, staff_id: int) -> tuple[dict[str, Any] | None, str | None]:
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
        status = self.status_label("staff_status", current["status"]) if current else "gone"
        return None, self.texts.get("staff_booking_stale", id=str(booking_id), status=status)

    def status_label(self, prefix: str, status: str) -> str:
        """A status in words from content, or the bare status when content has no words for it (a draft)."""
        key = f"{prefix}_{status}"
        return self.texts.get(key) if key in self.texts.catalog.texts else status

    async def staff_propose(self, booking_id: int, start: datetime, staff_id: int) -> tuple[dict[str, Any] | None, bool]:
        """Move a request to another time and ask the person; (row, False) when that time was just taken."""
        booking = await self.bookings.get(booking_id)
        if booking is None or booking["status"] not in OPEN_STATUSES:
            return None, True
        now = self.clock()
        taken = await self.taken(now, exclude_id=booking_id)
        slot = find_slot(self.availability, self.zone, now, start, who=booking["who"], mode=booking["mode"], taken=taken)
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


def _parse_day(value: str) -> date | None:
    """`YYYYMMDD` from a "later dates" button; "0" means back to the first page."""
    if value == "0":
        return date.min
    try:
        return datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        return None
