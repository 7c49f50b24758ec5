"""A person talks to the centre's staff through the bot, and staff talk back as "the centre's team".

Person side: `/human` tells honestly when staff are in, then opens the conversation; while
it is open every text the person writes is queued for the staff group (the safety check
has already run in the engine). Staff side (`bot.features.staff.router`): what a staff member writes
in the person's topic, or as a reply to one of their relayed messages, is queued back to
the person without the staff member's name or account.

Delivery protocol with the channel (forum topics, message ids) lives at the end:
`staff_route`, `topic_created`, `topic_lost`, `relay_sent`.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal

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
from bot.storage.handoff_store import HandoffStore

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
HANDOFF_STAFF_KINDS: Final = frozenset({"handoff_open", "handoff_relay", "handoff_note"})
RELAY_LIMIT: Final = 3500
TOPIC_TITLE_LIMIT: Final = 120
UNANSWERED_MAX_DAYS: Final = 90
# "Your messages reach the team" is said for the first message, then again only after this long a pause.
ACK_AFTER_PAUSE: Final = timedelta(minutes=10)
FloodLevel = Literal["ok", "soft", "hard"]


@dataclass(frozen=True)
class StaffRoute:
    """Where a handoff message for the staff group goes.

    thread_id: the person's forum topic; new_topic: a title when the channel must create
    the topic first (then report it with `topic_created`); both None: the group itself.
    """

    thread_id: int | None = None
    new_topic: str | None = None


class FloodGate:
    """Messages per person in a sliding window: "soft" asks kindly to slow down, "hard" pauses.

    In memory on purpose: a restart forgiving a burst is harmless, and nothing is written per message.
    """

    def __init__(self, soft: int = 12, hard: int = 30, window: float = 60.0, max_people: int = 10_000) -> None:
        self.soft, self.hard, self.window, self.max_people = soft, hard, window, max_people
        self._seen: OrderedDict[int, deque[float]] = OrderedDict()
        self._told: dict[tuple[int, str], float] = {}

    def check(self, user_id: int, now: float | None = None) -> tuple[FloodLevel, bool]:
        """The level after this message, and whether the person should be told (once per level and window)."""
        moment = time.monotonic() if now is None else now
        stamps = self._seen.pop(user_id, deque())
        while stamps and moment - stamps[0] > self.window:
            stamps.popleft()
        stamps.append(moment)
        self._seen[user_id] = stamps
        while len(self._seen) > self.max_people:
            old, _ = self._seen.popitem(last=False)
            self._told.pop((old, "soft"), None)
            self._told.pop((old, "hard"), None)
        level: FloodLevel = "hard" if len(stamps) > self.hard else "soft" if len(stamps) > self.soft else "ok"
        if level == "ok":
            return level, False
        told = self._told.get((user_id, level))
        tell = told is None or moment - told > self.window
        if tell:
            self._told[(user_id, level)] = moment
        return level, tell


def ack_key(count: int, last_at: str | None, now: datetime) -> str | None:
    """The acknowledgement after a relayed message: the first one, again after a pause, otherwise none."""
    if count <= 1:
        return "handoff_first_ack"
    try:
        last = datetime.fromisoformat(last_at) if last_at else None
    except ValueError:
        last = None
    if last is None or last.tzinfo is None or now - last >= ACK_AFTER_PAUSE:
        return "handoff_ack_again"
    return None


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
        await self.engine.enqueue(reply, chat_id=None, kind="handoff_relay", user_id=user_id)

    async def _staff_note(
        self, user_id: int, key: str, *, kind: str = "handoff_note", name: str | None = None, close_button: bool = False
    ) -> None:
        if name is None:
            row = await self.handoffs.last_of(user_id)
            name = row.display_name if row else "?"
        rows = ((Button(self.texts.get("staff_close_chat_label"), payloads.build("staff", "hclose", user_id)),),) if close_button else ()
        reply = self.texts.reply(key, rows, name=name or "?", ref=self.ref(user_id))
        await self.engine.enqueue(reply, chat_id=None, kind=kind, user_id=user_id)

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
        """Erase handoff records; an open conversation is closed and staff are told in its topic."""
        open_row = await self.handoffs.open_of(user_id)
        erased, topic = await self.handoffs.forget(user_id, self.engine.user_hash(user_id))
        if open_row is not None:
            note = self.texts.reply("staff_handoff_forgotten")
            await self.engine.enqueue(note, chat_id=None, thread_id=topic, kind="message")
        return erased

    # --- staff side ------------------------------------------------------------------------------

    async def person_of(self, thread_id: int | None, reply_to: int | None) -> int | None:
        """Who a staff message is for: the relayed message it replies to, else the topic it is in."""
        if reply_to is not None:
            user_id = await self.handoffs.user_of_message(reply_to)
            if user_id is not None:
                return user_id
        if thread_id is not None:
            return await self.handoffs.user_of_topic(thread_id)
        return None

    async def relay_to_person(self, user_id: int, text: str) -> bool:
        """Queue a staff member's words to the person, signed only "the centre's team"; False if closed."""
        current = await self.handoffs.open_of(user_id)
        if current is None:
            return False
        with speaking(await self.engine.language_of(user_id)):
            reply = self.texts.reply("handoff_from_staff", message=text[:RELAY_LIMIT])
        await self.engine.enqueue(reply, chat_id=user_id, kind="handoff_staff", user_id=user_id)
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
        await self.engine.enqueue(reply, chat_id=user_id, kind="handoff_staff", user_id=user_id)
        log.info("handoff opened user=%s by=staff", self.engine.user_hash(user_id))
        return True

    async def close_by_staff(self, user_id: int) -> str | None:
        """Close and tell the person; returns the person's name for the staff note, None if nothing was open."""
        closed = await self.handoffs.close(user_id, "staff", self.clock())
        if closed is None:
            return None
        with speaking(await self.engine.language_of(user_id)):
            reply = self.texts.reply("handoff_closed_by_staff", self.texts.menu())
        await self.engine.enqueue(reply, chat_id=user_id, kind="handoff_closed", user_id=user_id)
        log.info("handoff closed user=%s by=staff", self.engine.user_hash(user_id))
        return str(closed.display_name or "?")

    async def ban(self, user_id: int, by: int) -> None:
        """Block a person from booking and writing to staff; an open conversation ends without notice to them."""
        await self.handoffs.ban(user_id, by, self.clock())
        await self.handoffs.close(user_id, "ban", self.clock())

    # --- delivery protocol: the channel asks where to post, and reports what it created and sent ----------

    async def staff_route(self, user_id: int | None, forum: bool) -> StaffRoute:
        """Where a handoff delivery goes: the person's topic (forum), a topic to create, or the group."""
        if not forum or user_id is None:
            return StaffRoute()
        thread_id = await self.handoffs.topic_of(user_id)
        if thread_id is not None:
            return StaffRoute(thread_id=thread_id)
        return StaffRoute(new_topic=await self.topic_title(user_id))

    async def topic_title(self, user_id: int) -> str:
        row = await self.handoffs.last_of(user_id)
        name = (row.display_name if row else "") or "?"
        return f"{name} {self.ref(user_id)}"[:TOPIC_TITLE_LIMIT]

    async def topic_created(self, user_id: int, thread_id: int) -> None:
        """The channel created the person's forum topic: reuse it from now on."""
        await self.handoffs.set_topic(user_id, thread_id, self.clock())

    async def topic_lost(self, user_id: int, thread_id: int) -> None:
        """Staff deleted the topic: the next message creates a new one."""
        await self.handoffs.drop_topic(user_id, thread_id)

    async def relay_sent(self, user_id: int, message_ids: list[int]) -> None:
        """Remember which person the posted staff-group messages are about, so replies find them."""
        for message_id in message_ids:
            await self.handoffs.map_message(message_id, user_id, self.clock())
