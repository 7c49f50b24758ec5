"""Helpers for the load, kill and access tests: a staffed bot that reports each finished update,
people and staff who act and wait for exactly their own update, and the database's invariants.

`UpdateTracker` wraps the application's one handler, so a test knows when the bot has
finished an update (replies sent, staff shown) without waiting for everyone else's:
hundreds of people can each wait for their own turn. `database_problems` lists what
would be wrong with the database after any run (a slot held twice, a session in a flow
step that does not exist, a handoff open without a person), so every test asserts it is
empty.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import TypeHandler

from bot.app import build_engine, telegram_staff
from bot.catalog.loader import Catalog
from bot.engine.core import Engine
from bot.engine.outbox import reply_from_dict
from bot.features.staff.router import CentreDesk, centre_desk
from bot.storage.booking_row import OPEN_STATUSES
from bot.telegram.application import Polling, build_application, channel_of, start_application, stop_application
from tests.botapi_standin import BOT_ID, BotApiStandIn, ChatState, Shown, TgUser, shown_from
from tests.telegram_helpers import AnyApplication, RecordingEngine, expected_texts, inbox_for, make_settings

STEP_TIMEOUT = 60.0
# A Monday morning in the centre's zone (Kolkata), years ahead: staff are in, every slot is free,
# and no booking reminder falls due while a test runs.
MONDAY_MORNING = datetime(2030, 3, 25, 5, 0, tzinfo=timezone.utc)
CARD_PREFIX = "📅 Booking request #"


def fixed_clock(moment: datetime = MONDAY_MORNING) -> Callable[[], datetime]:
    """The booking and handoff clock of a test: always `moment`."""
    return lambda: moment


# ---------------------------------------------------------------- knowing when an update is done


class UpdateTracker:
    """Counts how often the bot finished each update, and wakes whoever waits for one."""

    def __init__(self) -> None:
        self.finished: Counter[int] = Counter()
        self._events: dict[int, asyncio.Event] = {}

    def _event(self, update_id: int) -> asyncio.Event:
        return self._events.setdefault(update_id, asyncio.Event())

    def install(self, application: AnyApplication) -> None:
        """Wrap the application's single TypeHandler so each finished update is recorded."""
        handlers = [h for group in application.handlers.values() for h in group if isinstance(h, TypeHandler)]
        assert len(handlers) == 1, "the bot registers one TypeHandler"
        handler = handlers[0]
        inner = handler.callback

        async def tracked(update: Update, context: Any) -> None:
            try:
                await inner(update, context)
            finally:
                self.finished[update.update_id] += 1
                self._event(update.update_id).set()

        handler.callback = tracked

    async def wait(self, update_id: int, timeout: float = STEP_TIMEOUT) -> None:
        try:
            await asyncio.wait_for(self._event(update_id).wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"the bot did not finish update {update_id} within {timeout}s") from None


# ---------------------------------------------------------------- a staffed bot in this process


@dataclass
class StaffedBot:
    """The real Application with the staff side wired as in production, on the stand-in."""

    standin: BotApiStandIn
    application: AnyApplication
    engine: RecordingEngine
    desk: CentreDesk
    group: ChatState
    tracker: UpdateTracker
    database: Path
    index: EventIndex = field(init=False)

    def __post_init__(self) -> None:
        self.index = EventIndex(self.standin)

    @property
    def inner(self) -> Engine:
        engine: Engine = self.engine.inner
        return engine

    def person(self, user: TgUser) -> Actor:
        return Actor(self.standin, self.tracker, user, user.id, self.index)

    def staff(self, user: TgUser) -> StaffActor:
        return StaffActor(self.standin, self.tracker, user, self.group, self.index)

    async def outbox_settled(self, timeout: float = STEP_TIMEOUT) -> None:
        """Wait until every due outbox row has been delivered."""

        async def settled() -> bool:
            row = await self.inner.store.fetchone(
                "SELECT COUNT(*) AS n FROM outbox WHERE delivered_at IS NULL AND next_attempt_at <= ?",
                (datetime.now(timezone.utc).isoformat(timespec="seconds"),),
            )
            return row is not None and int(row["n"]) == 0

        await until(settled, timeout)


@asynccontextmanager
async def staffed_bot(
    standin: BotApiStandIn,
    tmp_path: Path,
    catalog: Catalog,
    *,
    forum: bool = True,
    admin_user_ids: Iterable[int] = (),
    outbox_interval: float = 2.0,
    clock: Callable[[], datetime] = fixed_clock(),
) -> AsyncIterator[StaffedBot]:
    """A started bot with a staff group (a forum by default); stopped on exit."""
    group = standin.add_group("Alumaura staff", forum=forum)
    settings = make_settings(standin, tmp_path, staff_chat_id=group.id, admin_user_ids=list(admin_user_ids))
    inner = build_engine(settings, catalog, clock=clock)
    desk = centre_desk(inner)
    assert desk is not None
    engine = RecordingEngine(inner)
    staff = telegram_staff(inner, staff_chat_id=group.id)
    assert staff is not None
    application = build_application(
        settings, engine, staff_handler=staff.on_update, delivery_router=staff, outbox_interval=outbox_interval, inbox=inbox_for(inner)
    )
    staff.bind(channel_of(application))
    tracker = UpdateTracker()
    tracker.install(application)
    await start_application(application, Polling(timeout=0.5))
    try:
        yield StaffedBot(standin, application, engine, desk, group, tracker, settings.database_path)
    finally:
        await stop_application(application)


async def until(check: Callable[[], Any], timeout: float = STEP_TIMEOUT, what: str = "condition") -> None:
    """Wait for something the bot does in the background (the outbox drain); `check` may be async."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def find_shown(standin: BotApiStandIn, chat_id: int, predicate: Callable[[str], bool]) -> Shown | None:
    """The newest bot message in a chat whose text matches, as it looks now (cheap enough to poll)."""
    chat = standin.chats.get(chat_id)
    if chat is None:
        return None
    for message in reversed(list(chat.messages.values())):
        if message.get("from", {}).get("id") == BOT_ID and predicate(str(message.get("text", ""))):
            return shown_from("sent", chat_id, message, message.get("_markup"))
    return None


class EventIndex:
    """The stand-in's events per chat, kept up to date incrementally (its own lookup scans them all)."""

    def __init__(self, standin: BotApiStandIn) -> None:
        self.standin = standin
        self._read = 0
        self._by_chat: dict[int, list[Shown]] = {}

    def of(self, chat_id: int) -> list[Shown]:
        """Everything shown in `chat_id` so far, sends and edits, in order."""
        events = self.standin.events
        for event in events[self._read :]:
            self._by_chat.setdefault(event.chat_id, []).append(event)
        self._read = len(events)
        return self._by_chat.get(chat_id, [])


# ---------------------------------------------------------------- people and staff


@dataclass
class Actor:
    """Someone in a chat with the bot: each action returns what appeared in `chat_id` meanwhile."""

    standin: BotApiStandIn
    tracker: UpdateTracker
    user: TgUser
    chat_id: int
    index: EventIndex
    queries: list[str] = field(default_factory=list)
    updates: list[int] = field(default_factory=list)

    async def _after(self, act: Callable[[], object]) -> list[Shown]:
        mark = len(self.index.of(self.chat_id))
        act()
        self.updates.append(self.standin.last_update_id)
        await self.tracker.wait(self.standin.last_update_id)
        return self.index.of(self.chat_id)[mark:]

    async def says(self, text: str) -> list[Shown]:
        return await self._after(lambda: self.standin.user_sends(self.user, text))

    async def presses(self, label: str, on: Shown | None = None) -> list[Shown]:
        target = on or self.message_with(label)
        return await self._after(lambda: self.queries.append(self.standin.user_presses(self.user, target, label)))

    async def presses_data(self, data: str, on: Shown) -> list[Shown]:
        return await self._after(lambda: self.queries.append(self.standin.user_presses_data(self.user, on, data)))

    def shown(self) -> list[Shown]:
        return self.standin.shown(self.chat_id)

    def texts(self) -> list[str]:
        """Everything shown in this chat, sends and edits, in order."""
        return [event.text for event in self.index.of(self.chat_id)]

    def sees(self, predicate: Callable[[str], bool]) -> bool:
        """Whether a bot message in this chat, as it looks now, matches (cheap enough to poll)."""
        return find_shown(self.standin, self.chat_id, predicate) is not None

    def message_with(self, label: str) -> Shown:
        """The newest bot message in this chat carrying a button `label`."""
        for message in reversed(self.shown()):
            if label in message.labels:
                return message
        raise AssertionError(f"{self.user.first_name}: no message with a {label!r} button; labels: {[m.labels for m in self.shown()][-3:]}")


class StaffActor(Actor):
    """A member (or not) of the staff group, writing there and pressing its buttons."""

    def __init__(self, standin: BotApiStandIn, tracker: UpdateTracker, user: TgUser, group: ChatState, index: EventIndex) -> None:
        super().__init__(standin, tracker, user, group.id, index)
        self.group = group

    async def says(self, text: str, *, thread_id: int | None = None, reply_to: Shown | None = None) -> list[Shown]:  # type: ignore[override]
        return await self._after(lambda: self.standin.group_message(self.user, self.group, text, thread_id=thread_id, reply_to=reply_to))


# ---------------------------------------------------------------- what each person should have seen


def outbox_texts_to(database: Path, chat_id: int) -> list[str]:
    """Texts of the outbox deliveries made to a person's chat (staff replies, booking updates)."""
    with closing_db(database) as db:
        rows = db.execute(
            "SELECT payload FROM outbox WHERE chat_id = ? AND delivered_at IS NOT NULL ORDER BY id", (chat_id,)
        ).fetchall()
    replies = [reply_from_dict(json.loads(row[0]).get("reply", {})) for row in rows]
    return expected_texts(replies)


def reply_problems(shown: list[str], direct: list[str], queued: list[str]) -> list[str]:
    """Why a chat's texts are not exactly the engine's replies (in order) plus the outbox deliveries."""
    problems = []
    if Counter(shown) != Counter(direct + queued):
        missing = Counter(direct + queued) - Counter(shown)
        extra = Counter(shown) - Counter(direct + queued)
        problems.append(f"missing {sorted(missing.items())[:3]}, extra {sorted(extra.items())[:3]}")
    position = 0
    for text in shown:
        if position < len(direct) and text == direct[position]:
            position += 1
    if position != len(direct):
        problems.append(f"the engine's replies are not all there in order (matched {position} of {len(direct)})")
    return problems


# ---------------------------------------------------------------- the database's invariants


class closing_db:
    """A read-only sqlite3 connection to the bot's database (works while the bot runs: WAL)."""

    def __init__(self, path: Path) -> None:
        self.connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)

    def __enter__(self) -> sqlite3.Connection:
        return self.connection

    def __exit__(self, *exc: object) -> None:
        self.connection.close()


def flow_steps(catalog: Catalog) -> dict[str, set[str]]:
    """Every flow id and its step ids, as shipped."""
    from bot.engine.flows import load_flows

    return {flow_id: set(spec.steps) for flow_id, spec in load_flows(catalog).items()}


def database_problems(database: Path, steps: Mapping[str, set[str]], *, now: datetime | None = None) -> list[str]:
    """Everything that would be inconsistent in the bot's database; empty when all is well."""
    problems: list[str] = []
    marks = ",".join("?" * len(OPEN_STATUSES))
    moment = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    with closing_db(database) as db:
        for therapist, start, count in db.execute(
            "SELECT therapist, slot_start, COUNT(*) FROM bookings WHERE active = 1 GROUP BY 1, 2 HAVING COUNT(*) > 1"
        ):
            problems.append(f"slot {therapist} {start} held {count} times")
        for therapist, start, count in db.execute(
            f"SELECT therapist, slot_start, COUNT(*) FROM bookings WHERE status IN ({marks}) GROUP BY 1, 2 HAVING COUNT(*) > 1",
            OPEN_STATUSES,
        ):
            problems.append(f"slot {therapist} {start} booked {count} times")
        for (booking_id,) in db.execute(f"SELECT id FROM bookings WHERE status IN ({marks}) AND active = 0", OPEN_STATUSES):
            problems.append(f"open booking #{booking_id} does not hold its slot")
        cards = Counter(
            str(text).split("\n", 1)[0]
            for (text,) in db.execute(
                "SELECT json_extract(payload, '$.reply.text') FROM outbox WHERE json_extract(payload, '$.kind') = 'booking_card'"
            )
        )
        problems += [f"{card} queued {count} times" for card, count in cards.items() if count > 1]
        requested = {f"{CARD_PREFIX}{row[0]}" for row in db.execute("SELECT id FROM bookings WHERE status != 'draft' AND user_id IS NOT NULL")}
        problems += [f"{card} has no staff card" for card in sorted(requested - set(cards))]
        for user_id, data in db.execute("SELECT user_id, data FROM sessions"):
            session = json.loads(data)
            for key in ("flow", "paused_flow"):
                state = session.get(key)
                if state and state.get("step") not in steps.get(state.get("flow_id"), set()):
                    problems.append(f"session {user_id} {key} points at {state.get('flow_id')}:{state.get('step')}")
        for (user_id,) in db.execute(
            "SELECT h.user_id FROM handoffs h LEFT JOIN sessions s ON s.user_id = h.user_id WHERE h.status = 'open' AND s.user_id IS NULL"
        ):
            problems.append(f"handoff of {user_id} open without a session")
        for (user_id,) in db.execute(
            "SELECT DISTINCT m.user_id FROM staff_messages m WHERE NOT EXISTS (SELECT 1 FROM handoffs h WHERE h.user_id = m.user_id)"
        ):
            problems.append(f"staff messages mapped to {user_id}, who never had a handoff")
        (due,) = db.execute("SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL AND next_attempt_at <= ?", (moment,)).fetchone()
        if due:
            problems.append(f"{due} outbox deliveries due and not delivered")
        (waiting,) = db.execute("SELECT COUNT(*) FROM inbox WHERE handled_at IS NULL OR body IS NOT NULL").fetchone()
        if waiting:
            problems.append(f"{waiting} updates received and never handled (or their words kept)")
    return problems


def staff_cards_sent(standin: BotApiStandIn, group: ChatState) -> Counter[str]:
    """How many times each booking card was sent (not edited) into the staff group, by its first line."""
    return Counter(
        event.text.split("\n", 1)[0]
        for event in standin.events_in(group.id)
        if event.kind == "sent" and event.text.startswith(CARD_PREFIX)
    )
