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
from datetime import date, datetime
from typing import Literal

from bot.engine import payloads
from bot.engine.commands import command_name
from bot.engine.core import Engine
from bot.engine.replies import Button, Reply
from bot.features.booking.feature import BookingDesk
from bot.features.booking.views import epoch, from_epoch
from bot.features.handoff.feature import HandoffDesk
from bot.features.staff.reports import bookings_reply, stats_reply, unanswered_reply

log = logging.getLogger(__name__)

StaffKind = Literal["text", "button"]
StaffCommand = Callable[["StaffIncoming", str], Awaitable["StaffResult"]]


@dataclass(frozen=True)
class StaffIncoming:
    """One thing a staff member did in the staff chat, stripped of transport details.

    user_id: the staff member's account; chat_id: where it happened; text: a message or a
    /command; button: the (already signature-checked) payload of a pressed button; about: the
    person whose conversation this is, as the channel resolved it (the conversation it was
    written in, or the message about them it replies to), None when it is about no one;
    verified_member: the channel checked, for this very update, that the sender is a member
    of the staff chat.
    """

    user_id: int
    chat_id: int
    kind: StaffKind = "text"
    text: str = ""
    button: str | None = None
    about: int | None = None
    verified_member: bool = False
    first_name: str = ""


@dataclass(frozen=True)
class StaffReply:
    """A message for the staff chat, shown where the staff member acted; `edit_pressed` replaces the pressed message."""

    reply: Reply
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
        return StaffReply(reply=reply, edit_pressed=edit)

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
        """/close, /ban, /unban: about the person whose conversation this is (`incoming.about`)."""
        user_id = incoming.about
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
        if command == "bookings":
            reply = await bookings_reply(self.texts, self.booking)
        elif command == "stats":
            reply = await stats_reply(self.texts, self.booking, self.handoff)
        else:
            reply = await unanswered_reply(self.texts, self.handoff)
        return StaffResult(replies=(self._say(incoming, reply),))

    async def _help(self, incoming: StaffIncoming, command: str) -> StaffResult:
        return StaffResult(replies=(self._say(incoming, self.texts.reply("staff_help")),))

    # --- relaying staff words to the person ------------------------------------------------------------

    async def _relay(self, incoming: StaffIncoming, text: str) -> StaffResult:
        if not text:
            return StaffResult()
        user_id = incoming.about
        if user_id is None:
            return StaffResult()  # staff talking among themselves
        if await self.handoff.relay_to_person(user_id, text):
            return StaffResult()
        reopen = ((Button(self.texts.get("staff_open_chat_label"), payloads.build("staff", "open", user_id)),),)
        return StaffResult(replies=(self._say(incoming, self.texts.reply("staff_handoff_not_open", reopen)),))


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
