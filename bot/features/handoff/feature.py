"""A person talks to the centre's staff through the bot, and staff talk back as "the centre's team".

Person side: `/human` tells honestly when staff are in, then opens the conversation; while
it is open every text the person writes is queued for the staff group (the safety check
has already run in the engine). Staff side (`bot.features.staff.router`): what a staff member writes
in the person's conversation (the channel tells which person a staff message is about) is
queued back to the person without the staff member's name or account.

Everything is said in the engine's terms, "the staff, about this person" (`Engine.tell_staff`)
and "this person" (`Engine.tell_person`): where the person's conversation lives for the staff
(a place of its own, or a header on each message in one shared room) is the staff channel's
business (`bot.engine.staff_channel`); it asks `conversation_title` for a name to show.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final

from bot.engine import payloads
from bot.engine.availability import CalendarWords, centre_zone, format_time, next_staff_opening, staff_open_now
from bot.engine.commands import HANDOFF_END_COMMANDS, command_name
from bot.engine.core import Engine
from bot.engine.features import FeatureBase
from bot.engine.payloads import Payload
from bot.engine.redaction import redact_question
from bot.engine.replies import Button, Incoming, Reply
from bot.engine.session import Session
from bot.engine.texts import speaking
from bot.features.handoff.pacing import FloodGate, ack_key
from bot.storage.handoff_store import HandoffStore

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# Messages for the staff that belong in the person's conversation with them (the channel keeps it).
HANDOFF_STAFF_KINDS: Final = frozenset({"handoff_open", "handoff_relay", "handoff_note"})
RELAY_LIMIT: Final = 3500
UNANSWERED_MAX_DAYS: Final = 90


class HandoffDesk(FeatureBase):
    """The human handoff of one engine."""

    name = "handoff"
    kinds = frozenset({"human"})

    def __init__(self, engine: Engine, handoffs: HandoffStore, clock: Clock, flood: FloodGate | None = None) -> None:
        self.engine = engine
        self.texts = engine.texts
        self.handoffs = handoffs
        self.clock = clock
        self.flood = flood or FloodGate()
        self.turn_flood = FloodGate(soft=20, hard=40)
        self.zone = centre_zone(engine.catalog)

    # --- person side ----------------------------------------------------------------------------

    async def on_payload(self, session: Session, payload: Payload, incoming: Incoming) -> list[Reply]:
        """`human` (explain and offer), `human:go` (open), `human:end` (the person ends it)."""
        action = payload.arg(0)
        if action == "end":
            return await self._end_by_person(session)
        if not self.engine.options.staff_enabled:
            return [self.texts.reply("human_unavailable", self.texts.menu())]
        if await self.handoffs.is_banned(session.user_id):
            return [self.texts.reply("handoff_blocked")]
        current = await self.handoffs.open_of(session.user_id)
        session.handoff_open = current is not None
        if current is not None:
            return [self.texts.reply("handoff_already_open", self._end_row())]
        if action == "go":
            return await self._open_by_person(session)
        if action:
            return [self.texts.reply("button_expired", self.texts.menu())]
        rows = (
            (Button(self.texts.get("handoff_connect_label"), payloads.build("human", "go")),),
            (Button(self.texts.get("handoff_not_now_label"), "menu"),),
        )
        return [self._intro(rows)]

    def _intro(self, rows: tuple[tuple[Button, ...], ...]) -> Reply:
        """Honest about the staff hours: in now, back at a given time, or (no hours set) as soon as they can."""
        now = self.clock()
        hours = self.engine.catalog.centre.staff_hours
        if staff_open_now(hours, self.zone, now):
            return self.texts.reply("handoff_intro_open", rows)
        opening = next_staff_opening(hours, self.zone, now)
        if opening is None:
            return self.texts.reply("handoff_intro_unknown", rows)
        return self.texts.reply("handoff_intro_closed", rows, next_open=self.when_words(opening, now))

    def when_words(self, moment: datetime, now: datetime) -> str:
        """"today at 10:00", "tomorrow at 10:00" or "on Monday at 10:00", in the centre's time."""
        local, today = moment.astimezone(self.zone), now.astimezone(self.zone).date()
        clock = format_time(moment, self.zone)
        if local.date() == today:
            return self.texts.get("handoff_when_today", time=clock)
        if local.date() == today + timedelta(days=1):
            return self.texts.get("handoff_when_tomorrow", time=clock)
        days = CalendarWords.of(self.texts.get("calendar_days"), self.texts.get("calendar_months")).days
        return self.texts.get("handoff_when_later", day=days[local.weekday()], time=clock)

    def _end_row(self) -> tuple[tuple[Button, ...], ...]:
        return ((Button(self.texts.get("handoff_end_label"), "human:end"),),)

    async def _open_by_person(self, session: Session) -> list[Reply]:
        name = session.first_name or "?"
        row, created = await self.handoffs.open(session.user_id, name, "person", self.clock())
        session.handoff_open = True
        if created:
            await self._staff_note(session.user_id, "staff_handoff_opened", kind="handoff_open", close_button=True)
            log.info("handoff opened user=%s by=person", self.engine.user_hash(session.user_id))
        return [self.texts.reply("handoff_opened", self._end_row())]

    async def _end_by_person(self, session: Session) -> list[Reply]:
        closed = await self.handoffs.close(session.user_id, "person", self.clock())
        session.handoff_open = False
        if closed is None:
            return [self.texts.reply("handoff_not_open", self.texts.menu())]
        await self._staff_note(session.user_id, "staff_handoff_ended_by_person", name=closed.display_name)
        log.info("handoff closed user=%s by=person", self.engine.user_hash(session.user_id))
        return [self.texts.reply("handoff_ended_by_person", self.texts.menu())]

    async def on_text(self, session: Session, incoming: Incoming) -> list[Reply] | None:
        """While a handoff is open, everything the person writes is queued for staff, in order."""
        if incoming.kind != "text" or not incoming.text.strip():
            return None
        current = await self.handoffs.open_of(session.user_id)
        session.handoff_open = current is not None
        if current is None:
            return None
        level, tell = self.flood.check(session.user_id)
        if level == "hard":
            return [self.texts.reply("handoff_paused")] if tell else []
        await self._relay_to_staff(session.user_id, current.display_name, incoming.text.strip())
        count = await self.handoffs.count_message(current.id, from_staff=False)
        now = self.clock()
        replies = [self.texts.reply(key)] if (key := ack_key(count, session.handoff_last_at, now)) else []
        session.handoff_last_at = now.isoformat(timespec="seconds")
        if level == "soft" and tell:
            replies.append(self.texts.reply("handoff_slow_down"))
        return replies

    async def on_safety(self, session: Session, incoming: Incoming, label: str) -> None:
        """A message that raised a safety answer still reaches the team while they are talking with the person."""
        current = await self.handoffs.open_of(session.user_id)
        if current is None or not incoming.text.strip():
            return
        marked = f"⚠️ [{label.replace('_', ' ')}] {incoming.text.strip()}"
        await self._relay_to_staff(session.user_id, current.display_name, marked)

    async def _relay_to_staff(self, user_id: int, name: str, text: str) -> None:
        header = self.texts.get("staff_relay_header", name=name or "?", ref=self.ref(user_id))
        reply = Reply(key="handoff.relay", text=f"{header}\n{text[:RELAY_LIMIT]}")
        await self.engine.tell_staff(reply, kind="handoff_relay", about=user_id)

    async def _staff_note(
        self, user_id: int, key: str, *, kind: str = "handoff_note", name: str | None = None, close_button: bool = False
    ) -> None:
        if name is None:
            row = await self.handoffs.last_of(user_id)
            name = row.display_name if row else "?"
        rows = ((Button(self.texts.get("staff_close_chat_label"), payloads.build("staff", "hclose", user_id)),),) if close_button else ()
        reply = self.texts.reply(key, rows, name=name or "?", ref=self.ref(user_id))
        await self.engine.tell_staff(reply, kind=kind, about=user_id)

    def ref(self, user_id: int) -> str:
        """A short reference staff can use for a person without their account id."""
        return "#" + self.engine.user_hash(user_id)[:6]

    async def on_fallback(self, session: Session, text: str) -> None:
        """Keep a question the bot could not answer, only with consent, redacted and normalised, for /unanswered."""
        if session.consent is not True:
            return
        question = redact_question(text)
        if question is None:
            return
        now = self.clock()
        keep = timedelta(days=min(self.engine.options.retention_days, UNANSWERED_MAX_DAYS))
        await self.handoffs.add_unanswered(self.engine.user_hash(session.user_id), question, now, now - keep)

    async def gate(self, session: Session, incoming: Incoming) -> list[Reply] | None:
        """A flooding person is slowed down politely (for the engine's pre-route hook); None lets the turn through.

        Before /cancel or /end it also looks up whether a chat with the team is open (staff may have
        opened or closed it since the person's last turn), so the command ends that chat.
        """
        level, tell = self.turn_flood.check(session.user_id)
        if level == "hard":
            return [self.texts.reply("handoff_flood_note")] if tell else []
        if incoming.kind == "text" and command_name(incoming.text) in HANDOFF_END_COMMANDS:
            session.handoff_open = await self.handoffs.open_of(session.user_id) is not None
        return None

    async def on_housekeeping(self, now: datetime) -> dict[str, int]:
        """Unanswered questions after RETENTION_DAYS or 90 days, whichever is shorter."""
        retention = timedelta(days=min(max(self.engine.options.retention_days, 1), UNANSWERED_MAX_DAYS))
        return {"unanswered questions": await self.handoffs.purge_unanswered(now - retention)}

    async def on_forget(self, user_id: int) -> dict[str, int]:
        """Erase handoff records, and the staff channel's links to the person.

        An open conversation is closed and the staff are told so in it, in words that name no one.
        """
        open_row = await self.handoffs.open_of(user_id)
        erased = await self.handoffs.forget(user_id, self.engine.user_hash(user_id))
        farewell = self.texts.reply("staff_handoff_forgotten") if open_row is not None else None
        links = await self.engine.staff_channel.forget(user_id, farewell=farewell)
        # In the order /forget reports them: the conversations, their links, then the questions.
        conversations = {"conversations with staff": erased.pop("conversations with staff", 0)}
        return conversations | links | erased

    # --- staff side ------------------------------------------------------------------------------

    async def relay_to_person(self, user_id: int, text: str) -> bool:
        """Queue a staff member's words to the person, signed only "the centre's team"; False if closed."""
        current = await self.handoffs.open_of(user_id)
        if current is None:
            return False
        with speaking(await self.engine.language_of(user_id)):
            reply = self.texts.reply("handoff_from_staff", message=text[:RELAY_LIMIT])
        await self.engine.tell_person(user_id, reply, kind="handoff_staff")
        await self.handoffs.count_message(current.id, from_staff=True)
        return True

    async def open_by_staff(self, user_id: int) -> bool:
        """Staff open a conversation (from a safety alert or a booking card); False if one was open already."""
        stored = await self.engine.store.load_session(user_id) or {}
        name = str(stored.get("first_name") or "?")
        _, created = await self.handoffs.open(user_id, name, "staff", self.clock())
        if not created:
            return False
        await self._staff_note(user_id, "staff_handoff_opened_by_staff", kind="handoff_open", name=name, close_button=True)
        with speaking(await self.engine.language_of(user_id)):
            reply = self.texts.reply("handoff_opened_by_staff", self._end_row())
        await self.engine.tell_person(user_id, reply, kind="handoff_staff")
        log.info("handoff opened user=%s by=staff", self.engine.user_hash(user_id))
        return True

    async def close_by_staff(self, user_id: int) -> str | None:
        """Close and tell the person; returns the person's name for the staff note, None if nothing was open."""
        closed = await self.handoffs.close(user_id, "staff", self.clock())
        if closed is None:
            return None
        with speaking(await self.engine.language_of(user_id)):
            reply = self.texts.reply("handoff_closed_by_staff", self.texts.menu())
        await self.engine.tell_person(user_id, reply, kind="handoff_closed")
        log.info("handoff closed user=%s by=staff", self.engine.user_hash(user_id))
        return str(closed.display_name or "?")

    async def ban(self, user_id: int, by: int) -> None:
        """Block a person from booking and writing to staff; an open conversation ends without notice to them."""
        await self.handoffs.ban(user_id, by, self.clock())
        await self.handoffs.close(user_id, "ban", self.clock())

    # --- for the staff channel -----------------------------------------------------------------------

    async def conversation_title(self, user_id: int) -> str:
        """How the staff see a person's conversation named: their first name and short reference."""
        row = await self.handoffs.last_of(user_id)
        name = (row.display_name if row else "") or "?"
        return f"{name} {self.ref(user_id)}"
