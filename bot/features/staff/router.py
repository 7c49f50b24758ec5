"""The staff side, channel-neutral: one `StaffRouter.handle(StaffIncoming) -> StaffResult`.

Every command, button and relayed message is checked against configuration first, every
time: it must come from the staff chat, from a sender the channel verified as a member of
it (or listed in ADMIN_USER_IDS). Anyone else gets nothing at all.

`centre_desk(engine)` gathers an engine's booking and handoff features with these tools.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final, Literal

from bot.engine import payloads
from bot.engine.availability import format_when, from_utc_text
from bot.engine.commands import command_name
from bot.engine.core import Engine
from bot.engine.replies import Button, Reply
from bot.features.booking.feature import BookingDesk
from bot.features.booking.views import epoch, from_epoch
from bot.features.handoff.feature import HandoffDesk
from bot.storage.outbox_store import OutboxStore
from bot.storage.store import now_utc

log = logging.getLogger(__name__)

StaffKind = Literal["text", "button"]
StaffCommand = Callable[["StaffIncoming", str], Awaitable["StaffResult"]]
STATS_WINDOWS: Final = (7, 30)
UNANSWERED_DAYS: Final = 30


@dataclass(frozen=True)
class StaffIncoming:
    """One thing a staff member did in the staff chat, stripped of transport details.

    user_id: the staff member's account; chat_id: where it happened; thread_id: the forum
    topic, if any; text: a message or a /command; button: the (already signature-checked)
    payload of a pressed button; reply_to_message_id: the message this one replies to
    (not the topic's root); verified_member: the channel checked, for this very update,
    that the sender is a member of the staff chat.
    """

    user_id: int
    chat_id: int
    kind: StaffKind = "text"
    text: str = ""
    button: str | None = None
    thread_id: int | None = None
    reply_to_message_id: int | None = None
    message_id: int | None = None
    verified_member: bool = False
    first_name: str = ""


@dataclass(frozen=True)
class StaffReply:
    """A message for the staff chat: into `thread_id`; `edit_pressed` replaces the pressed message."""

    reply: Reply
    thread_id: int | None = None
    edit_pressed: bool = False


@dataclass(frozen=True)
class StaffResult:
    """What the channel shows staff: messages, and a short notice on the pressed button."""

    replies: tuple[StaffReply, ...] = ()
    notice: str | None = None
    authorised: bool = True


@dataclass
class CentreDesk:
    """Booking, handoff and the staff tools of one engine (what `centre_desk` returns)."""

    booking: BookingDesk
    handoff: HandoffDesk
    staff: StaffRouter


class StaffRouter:
    """Routes staff commands, card buttons and replies; the only place staff act from."""

    def __init__(self, engine: Engine, booking: BookingDesk, handoff: HandoffDesk) -> None:
        self.engine = engine
        self.texts = engine.texts
        self.booking = booking
        self.handoff = handoff
        handlers: dict[str, StaffCommand] = {
            "close": self._about_person, "ban": self._about_person, "unban": self._about_person,
            "bookings": self._listing, "stats": self._listing, "unanswered": self._listing,
            "help": self._help, "start": self._help,
        }
        self._handlers = handlers

    @property
    def handled_commands(self) -> frozenset[str]:
        """The staff commands with a handler: the same names as `STAFF_COMMANDS` (a test holds them together)."""
        return frozenset(self._handlers)

    def authorised(self, incoming: StaffIncoming) -> bool:
        """Only staff act: from the staff chat, and verified a member (or configured as an admin)."""
        options = self.engine.options
        if options.staff_chat_id is None or incoming.chat_id != options.staff_chat_id:
            return False
        return incoming.verified_member or self.is_admin(incoming.user_id)

    def is_admin(self, user_id: int) -> bool:
        """Listed in ADMIN_USER_IDS: staff without being a member of the staff group (the one admin check)."""
        return user_id in self.engine.options.admin_user_ids

    async def handle(self, incoming: StaffIncoming) -> StaffResult:
        if not self.authorised(incoming):
            log.info("staff action refused user=%s kind=%s", self.engine.user_hash(incoming.user_id), incoming.kind)
            return StaffResult(authorised=False)
        if incoming.kind == "button":
            return await self._button(incoming)
        text = incoming.text.strip()
        if text.startswith("//"):
            return StaffResult()  # a note among staff, never relayed
        if text.startswith("/"):
            return await self._command(incoming, text)
        return await self._relay(incoming, text)

    def _say(self, incoming: StaffIncoming, reply: Reply, *, edit: bool = False) -> StaffReply:
        return StaffReply(reply=reply, thread_id=incoming.thread_id, edit_pressed=edit)

    # --- buttons -----------------------------------------------------------------------------

    async def _button(self, incoming: StaffIncoming) -> StaffResult:
        parsed = payloads.parse(incoming.button)
        if parsed is None or parsed.kind != "staff" or not parsed.arg(1).isdigit():
            return StaffResult(notice=self.texts.get("button_expired"))
        action, target = parsed.arg(0), int(parsed.arg(1))
        log.info("staff button action=%s by=%s", action, self.engine.user_hash(incoming.user_id))
        if action in {"claim", "confirm", "close"}:
            row, stale = await self.booking.staff_set(target, action, incoming.user_id)
            shown = row or await self.booking.bookings.get(target)
            replies = (self._say(incoming, self.booking.staff_card(shown), edit=True),) if shown and shown.status != "draft" else ()
            notice = self.booking.status_label("staff_status", row.status) if row else stale
            return StaffResult(replies=replies, notice=notice)
        if action == "propose":
            return await self._proposals(incoming, target, None, edit=False)
        if action == "pl":
            day = _day(parsed.arg(2))
            return await self._proposals(incoming, target, day, edit=True) if day else StaffResult()
        if action == "pt":
            return await self._propose_time(incoming, target, parsed.arg(2))
        if action == "card":
            shown = await self.booking.bookings.get(target)
            if shown is None or shown.status == "draft":
                return StaffResult(notice=self.texts.get("staff_booking_stale", id=str(target), status="gone"))
            return StaffResult(replies=(self._say(incoming, self.booking.staff_card(shown)),))
        if action == "open":
            opened = await self.handoff.open_by_staff(target)
            return StaffResult(notice=None if opened else self.texts.get("handoff_already_open"))
        if action == "hclose":
            return await self._close(incoming, target)
        return StaffResult(notice=self.texts.get("button_expired"))

    async def _proposals(self, incoming: StaffIncoming, booking_id: int, from_day: date | None, *, edit: bool, key: str = "staff_propose_pick") -> StaffResult:
        booking = await self.booking.bookings.get(booking_id)
        if booking is None or booking.status not in {"requested", "claimed", "proposed", "confirmed"}:
            return StaffResult(notice=self.texts.get("staff_booking_stale", id=str(booking_id), status="closed"))
        page = await self.booking.free_page(booking.who, booking.mode, booking_id, from_day)
        if not page.days:
            return StaffResult(replies=(self._say(incoming, self.texts.reply("staff_propose_none", id=str(booking_id)), edit=edit),))
        rows = self.booking.slot_rows(page, lambda slot: payloads.build("staff", "pt", booking_id, epoch(slot.start)))
        if page.next_day is not None:
            later = payloads.build("staff", "pl", booking_id, f"{page.next_day:%Y%m%d}")
            rows.append((self.texts.button("book_later_label", later),))
        reply = self.texts.reply(key, tuple(rows), id=str(booking_id))
        return StaffResult(replies=(self._say(incoming, reply, edit=edit),))

    async def _propose_time(self, incoming: StaffIncoming, booking_id: int, value: str) -> StaffResult:
        start = from_epoch(value)
        if start is None:
            return StaffResult(notice=self.texts.get("button_expired"))
        row, ok = await self.booking.staff_propose(booking_id, start, incoming.user_id)
        if row is None:
            return StaffResult(notice=self.texts.get("staff_booking_stale", id=str(booking_id), status="closed"))
        if not ok:
            return await self._proposals(incoming, booking_id, None, edit=True, key="staff_booking_taken")
        return StaffResult(
            replies=(self._say(incoming, self.booking.staff_card(row), edit=True),),
            notice=self.texts.get("staff_status_proposed"),
        )

    async def _close(self, incoming: StaffIncoming, user_id: int) -> StaffResult:
        name = await self.handoff.close_by_staff(user_id)
        if name is None:
            return StaffResult(notice=self.texts.get("handoff_not_open"))
        note = self.texts.reply("staff_handoff_closed", name=name, ref=self.handoff.ref(user_id))
        return StaffResult(replies=(self._say(incoming, note),))

    # --- commands ------------------------------------------------------------------------------

    async def _command(self, incoming: StaffIncoming, text: str) -> StaffResult:
        """One handler per staff command in `bot.engine.commands.STAFF_COMMANDS`."""
        command = command_name(text) or ""
        handler = self._handlers.get(command)
        if handler is None:
            return StaffResult()  # another bot's command, or a typo: staying quiet keeps the group readable
        return await handler(incoming, command)

    async def _about_person(self, incoming: StaffIncoming, command: str) -> StaffResult:
        """/close, /ban, /unban: about the person whose topic (or relayed message) this is."""
        user_id = await self.handoff.person_of(incoming.thread_id, incoming.reply_to_message_id)
        if user_id is None:
            key = "staff_not_a_person" if command == "close" else "staff_ban_unknown"
            return StaffResult(replies=(self._say(incoming, self.texts.reply(key)),))
        if command == "close":
            result = await self._close(incoming, user_id)
            return result if result.replies else StaffResult(replies=(self._say(incoming, self.texts.reply("handoff_not_open")),))
        if command == "ban":
            await self.handoff.ban(user_id, incoming.user_id)
            log.info("staff ban user=%s by=%s", self.engine.user_hash(user_id), self.engine.user_hash(incoming.user_id))
            return StaffResult(replies=(self._say(incoming, self.texts.reply("staff_banned", ref=self.handoff.ref(user_id))),))
        await self.handoff.handoffs.unban(user_id)
        return StaffResult(replies=(self._say(incoming, self.texts.reply("staff_unbanned", ref=self.handoff.ref(user_id))),))

    async def _listing(self, incoming: StaffIncoming, command: str) -> StaffResult:
        """/bookings, /stats, /unanswered: one message each."""
        reply = await {"bookings": self.bookings_reply, "stats": self.stats_reply, "unanswered": self.unanswered_reply}[command]()
        return StaffResult(replies=(self._say(incoming, reply),))

    async def _help(self, incoming: StaffIncoming, command: str) -> StaffResult:
        return StaffResult(replies=(self._say(incoming, self.texts.reply("staff_help")),))

    async def bookings_reply(self) -> Reply:
        rows = await self.booking.bookings.open_requests()
        if not rows:
            return self.texts.reply("staff_bookings_none")
        zone = self.booking.zone
        lines, buttons = [], []
        for row in rows:
            when = format_when(from_utc_text(row.slot_start), zone) if row.slot_start else "?"
            status = self.booking.status_label("staff_status", row.status)
            lines.append(f"#{row.id} · {when} · {row.first_name or '?'} · {status}")
            buttons.append((Button(f"#{row.id} · {when}"[:40], payloads.build("staff", "card", row.id)),))
        header = self.texts.get("staff_bookings_header")
        return Reply(key="text.staff_bookings_header", text="\n".join([header, *lines]), buttons=tuple(buttons))

    async def stats_reply(self) -> Reply:
        """Counts for the last 7 and 30 days, from anonymous records (routes and intents, never text)."""
        store = self.handoff.handoffs
        now = now_utc()
        blocks = []
        for days in STATS_WINDOWS:
            since = now - timedelta(days=days)
            intents = await store.answered_by_intent(since)
            bookings = await self.booking.bookings.count_by_status(since)
            safety = await store.safety_by_label(since)
            blocks.append(
                self.texts.get(
                    "staff_stats",
                    days=str(days),
                    people=str(await store.people_helped(since)),
                    intents=_listing(intents, total=True),
                    fallbacks=str(await store.route_count(since, "fallback")),
                    bookings=_listing(sorted(bookings.items())),
                    safety=_listing(sorted(safety.items())),
                    handoffs=str(await store.opened_since(since)),
                )
            )
        aside = await OutboxStore(store.store).set_aside_summary()
        if aside.total and aside.oldest is not None:
            # Messages the outbox gave up on (a booking card among them is a request staff never saw).
            blocks.append(
                self.texts.get(
                    "staff_stats_set_aside", count=str(aside.total), kinds=_listing(list(aside.by_kind)),
                    since=format_when(aside.oldest, self.booking.zone),
                )
            )
        return Reply(key="text.staff_stats", text="\n\n".join(blocks))

    async def unanswered_reply(self) -> Reply:
        since = now_utc() - timedelta(days=UNANSWERED_DAYS)
        top = await self.handoff.handoffs.top_unanswered(since)
        if not top:
            return self.texts.reply("staff_unanswered_none", days=str(UNANSWERED_DAYS))
        header = self.texts.get("staff_unanswered_header", days=str(UNANSWERED_DAYS))
        lines = [f"• {count}× ({people} 👤) {text}" for text, count, people in top]
        return Reply(key="text.staff_unanswered_header", text="\n".join([header, *lines]))

    # --- relaying staff words to the person ------------------------------------------------------------

    async def _relay(self, incoming: StaffIncoming, text: str) -> StaffResult:
        if not text:
            return StaffResult()
        user_id = await self.handoff.person_of(incoming.thread_id, incoming.reply_to_message_id)
        if user_id is None:
            return StaffResult()  # staff talking among themselves
        if await self.handoff.relay_to_person(user_id, text):
            return StaffResult()
        reopen = ((Button(self.texts.get("staff_open_chat_label"), payloads.build("staff", "open", user_id)),),)
        return StaffResult(replies=(self._say(incoming, self.texts.reply("staff_handoff_not_open", reopen)),))


def _listing(pairs: list[tuple[str, int]], *, total: bool = False) -> str:
    """"rebuild_trust 5, red_flags 3" (with the sum first when asked), or "0"."""
    if not pairs:
        return "0"
    body = ", ".join(f"{name} {count}" for name, count in pairs)
    return f"{sum(count for _, count in pairs)} ({body})" if total else body


def _day(value: str) -> date | None:
    try:
        return datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        return None


# --- wiring ---------------------------------------------------------------------------------------


def centre_desk(engine: Engine) -> CentreDesk | None:
    """Booking, handoff and the staff tools of an engine that declares both features (None otherwise)."""
    booking, handoff = engine.feature(BookingDesk), engine.feature(HandoffDesk)
    if booking is None or handoff is None:
        return None
    return CentreDesk(booking=booking, handoff=handoff, staff=StaffRouter(engine, booking, handoff))


# Texts this package asks for by key (for `check_catalog(extra_texts=...)`), and their own placeholders.
HANDOFF_PLACEHOLDERS: Final[dict[str, frozenset[str]]] = {
    "book_slots_intro": frozenset({"zone"}),
    "book_note_trimmed": frozenset({"limit"}),
    "book_summary": frozenset({"summary", "shared"}),
    "book_received": frozenset({"how"}),
    "book_line_who": frozenset({"value"}),
    "book_line_mode": frozenset({"value"}),
    "book_line_when": frozenset({"when", "zone", "therapist"}),
    "book_line_contact": frozenset({"value"}),
    "book_line_note": frozenset({"value"}),
    "book_contact_phone": frozenset({"phone"}),
    "book_update_confirmed": frozenset({"when", "zone", "mode", "therapist"}),
    "book_update_proposed": frozenset({"when", "zone", "therapist"}),
    "book_reminder_day": frozenset({"when", "zone", "mode"}),
    "book_reminder_hour": frozenset({"time"}),
    "book_mine": frozenset({"summary", "status"}),
    "book_cancel_question": frozenset({"when"}),
    "book_proposal_accepted": frozenset({"when", "zone", "therapist"}),
    "book_change_sent_time": frozenset({"when", "zone", "reply"}),
    "book_change_sent_note": frozenset({"reply"}),
    "book_line_change_time": frozenset({"when", "zone"}),
    "book_line_change_note": frozenset({"value"}),
    "handoff_intro_closed": frozenset({"next_open"}),
    "handoff_when_today": frozenset({"time"}),
    "handoff_when_tomorrow": frozenset({"time"}),
    "handoff_when_later": frozenset({"day", "time"}),
    "handoff_from_staff": frozenset({"message"}),
    "staff_handoff_opened": frozenset({"name", "ref"}),
    "staff_handoff_opened_by_staff": frozenset({"name", "ref"}),
    "staff_relay_header": frozenset({"name", "ref"}),
    "staff_handoff_ended_by_person": frozenset({"name", "ref"}),
    "staff_handoff_closed": frozenset({"name", "ref"}),
    "staff_booking_card": frozenset({"id", "details", "status"}),
    "staff_propose_pick": frozenset({"id"}),
    "staff_propose_none": frozenset({"id"}),
    "staff_booking_person_cancelled": frozenset({"id"}),
    "staff_booking_person_change": frozenset({"id"}),
    "staff_booking_person_accepted": frozenset({"id"}),
    "staff_booking_person_declined": frozenset({"id"}),
    "staff_booking_withdrawn": frozenset({"id"}),
    "staff_booking_stale": frozenset({"id", "status"}),
    "staff_banned": frozenset({"ref"}),
    "staff_unbanned": frozenset({"ref"}),
    "staff_stats": frozenset({"days", "people", "intents", "fallbacks", "bookings", "safety", "handoffs"}),
    "staff_stats_set_aside": frozenset({"count", "kinds", "since"}),
    "staff_unanswered_header": frozenset({"days"}),
    "staff_unanswered_none": frozenset({"days"}),
}


# Every text key booking, handoff and the staff tools use (the dynamic ones spelled out).
HANDOFF_TEXTS: Final[frozenset[str]] = frozenset(
    """
    book_accept_label book_already book_another_label book_cancel_done book_cancel_kept
    book_cancel_label book_cancel_no_label book_cancel_question book_cancel_yes_label
    book_change_contact_label book_change_label book_change_mode_label
    book_change_note_label book_change_question book_change_time_label book_change_who_label
    book_confirm_label book_contact_here book_contact_here_label book_contact_phone
    book_contact_phone_ask book_contact_phone_label book_contact_phone_typed book_contact_question
    book_draft_cancelled book_draft_gone book_first_dates_label book_how_here book_how_phone
    book_intro book_later_label book_line_contact book_line_mode book_line_note book_line_when
    book_line_who book_mine book_mine_cancel_label book_mine_change_label book_mine_none
    book_mode_in_person book_mode_in_person_label book_mode_online book_mode_online_label
    book_mode_question book_note_question book_note_skip_label book_note_trimmed
    book_proposal_accepted book_received book_reminder_day book_reminder_hour book_shared_basic
    book_shared_with_note book_slot_taken book_slots_intro book_slots_no_more book_slots_none
    book_start_label book_status_claimed book_status_confirmed book_status_proposed
    book_status_requested book_summary book_update_claimed book_update_closed book_update_confirmed
    book_update_proposed book_who_couple book_who_couple_label book_who_individual
    book_who_individual_label book_who_question book_step_again book_resume_question book_resumed
    book_resume_declined book_continue_or_restart book_change_what book_change_declined
    book_change_time_pick_label book_change_note_pick_label book_change_keep_label book_change_note_ask
    book_change_sent_time book_change_sent_note book_change_reply_here book_change_reply_phone
    book_line_change_time book_line_change_note resume_yes_label resume_no_label flow_continue_label
    flow_restart_label handoff_already_open handoff_blocked
    handoff_closed_by_staff handoff_connect_label handoff_end_label handoff_ended_by_person
    handoff_ack_again handoff_first_ack handoff_flood_note handoff_from_staff handoff_intro_closed handoff_intro_open
    handoff_intro_unknown handoff_not_now_label handoff_not_open handoff_opened
    handoff_opened_by_staff handoff_paused handoff_slow_down handoff_when_later handoff_when_today
    handoff_when_tomorrow staff_ban_unknown staff_banned staff_booking_card
    staff_booking_person_accepted staff_booking_person_cancelled staff_booking_person_change
    staff_booking_person_declined staff_booking_stale staff_booking_taken staff_booking_withdrawn
    staff_bookings_header staff_bookings_none staff_claim_label staff_close_chat_label
    staff_close_label staff_confirm_label staff_handoff_closed staff_handoff_ended_by_person
    staff_handoff_forgotten staff_handoff_not_open staff_handoff_opened
    staff_handoff_opened_by_staff staff_help staff_not_a_person staff_open_chat_label
    staff_propose_label staff_propose_none staff_propose_pick staff_relay_header staff_stats staff_stats_set_aside
    staff_status_cancelled staff_status_claimed staff_status_closed staff_status_confirmed
    staff_status_proposed staff_status_requested staff_status_withdrawn staff_unanswered_header
    staff_unanswered_none staff_unbanned
    """.split()
)
