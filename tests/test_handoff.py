"""A person talks to the centre's staff: forum topics and a plain group, both ways, closing, bans.

The staff group is a small in-memory stand-in for the few Bot API calls the handoff
delivery makes (getChat, createForumTopic, sendMessage, reopenForumTopic), driven
through the real `bot.telegram.staff.StaffTelegram.deliver`, so topic creation, reuse,
recreation after deletion and the message-id map are exercised without a network. Staff
messages are resolved to the person they are about by the real Telegram staff channel
(`TelegramStaffChannel.person_about`), as `StaffTelegram.on_update` does, before the router.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from telegram.error import BadRequest, NetworkError

from bot.app import build_engine, telegram_staff
from bot.catalog.loader import Catalog
from bot.engine.core import Engine
from bot.engine.staff_channel import FAREWELL_KIND
from bot.features.staff.router import CentreDesk, StaffIncoming, StaffResult, centre_desk
from bot.storage.connection import iso, now_utc
from bot.telegram.application import Polling, build_application, channel_of, start_application, stop_application
from bot.telegram.codec import CallbackCodec
from bot.telegram.staff import StaffTelegram
from tests.botapi_standin import BotApiStandIn, ChatState
from tests.conftest import find_button, keys, make_incoming
from tests.telegram_helpers import AnyApplication, inbox_for, person, settle
from tests.telegram_helpers import make_settings as tg_settings
from tests.telegram_helpers import standin  # noqa: F401 - the fixture
from tests.test_booking import PERSON, STAFF_CHAT, STAFF_MEMBER, Clock, press, staff_press, start_desk

CRISIS = "i don't want to be alive anymore"


def staff_says(text: str, *, about: int | None = None, verified: bool = True) -> StaffIncoming:
    """A staff member's message as the router gets it: `about` the person the channel resolved it to."""
    return StaffIncoming(user_id=STAFF_MEMBER, chat_id=STAFF_CHAT, kind="text", text=text, about=about, verified_member=verified)


@dataclass
class Posted:
    message_id: int
    thread_id: int | None
    text: str


@dataclass
class FakeStaffGroup:
    """The staff supergroup as the bot sees it through the Bot API."""

    forum: bool
    next_id: int = 100
    topics: dict[int, str] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)
    closed: set[int] = field(default_factory=set)
    posted: list[Posted] = field(default_factory=list)
    unreachable: bool = False

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id

    async def get_chat(self, chat_id: int) -> Any:
        return SimpleNamespace(id=chat_id, is_forum=self.forum)

    async def create_forum_topic(self, chat_id: int, name: str) -> Any:
        if self.unreachable:
            raise NetworkError("connection reset")
        thread_id = self._id()
        self.topics[thread_id] = name
        return SimpleNamespace(message_thread_id=thread_id, name=name)

    async def reopen_forum_topic(self, chat_id: int, message_thread_id: int) -> bool:
        self.closed.discard(message_thread_id)
        return True

    async def send_message(self, chat_id: int, text: str, reply_markup: Any = None, message_thread_id: int | None = None) -> Any:
        if self.unreachable:
            raise NetworkError("connection reset")
        if message_thread_id in self.deleted:
            raise BadRequest("Bad Request: message thread not found")
        if message_thread_id in self.closed:
            raise BadRequest("Bad Request: TOPIC_CLOSED")
        posted = Posted(self._id(), message_thread_id, text)
        self.posted.append(posted)
        return SimpleNamespace(message_id=posted.message_id)

    def in_topic(self, thread_id: int | None) -> list[str]:
        return [p.text for p in self.posted if p.thread_id == thread_id]


@dataclass
class Setup:
    engine: Engine
    desk: CentreDesk
    group: FakeStaffGroup
    staff_tg: StaffTelegram
    to_people: list[Any] = field(default_factory=list)

    async def drain(self) -> None:
        """What the outbox drainer does: handoff kinds through StaffTelegram, the rest "sent"; stop at a failure."""
        for delivery in await self.engine.due_deliveries(limit=500):
            if self.staff_tg.handles(delivery):
                retry = await self.staff_tg.deliver(self.group, delivery)  # type: ignore[arg-type]
                if retry is not None:
                    await self.engine.delivery_failed(delivery.id, 0)
                    return  # keep a person's messages in order: the rest waits for the next run
            elif not delivery.for_staff:
                self.to_people.append(delivery)
            await self.engine.delivery_done(delivery.id)

    def person_keys(self, user_id: int = PERSON) -> list[str]:
        return [d.reply.key for d in self.to_people if d.person == user_id]

    async def staff_writes(self, text: str, *, thread: int | None = None, reply_to: int | None = None) -> StaffResult:
        """A staff member writes in a topic or replies to a posted message: resolved to the person, then routed."""
        about = await self.staff_tg.conversations.person_about(thread, reply_to)
        return await self.desk.staff.handle(replace(staff_says(text, about=about), first_name="Meera"))


async def make_setup(tmp_path: Path, catalog: Catalog, *, forum: bool, clock: Clock) -> Setup:
    engine, desk = await start_desk(tmp_path, catalog, clock)
    staff_tg = telegram_staff(engine, staff_chat_id=STAFF_CHAT)
    assert staff_tg is not None
    staff_tg.bind(SimpleNamespace(codec=CallbackCodec(b"test-secret"), on_replied=None))  # type: ignore[arg-type]
    return Setup(engine, desk, FakeStaffGroup(forum=forum), staff_tg)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2030, 3, 25, 6, 0, tzinfo=timezone.utc))  # Monday 11:30 in Kolkata: staff are in


@pytest.fixture
async def forum(tmp_path: Path, catalog: Catalog, clock: Clock) -> AsyncIterator[Setup]:
    setup = await make_setup(tmp_path, catalog, forum=True, clock=clock)
    try:
        yield setup
    finally:
        await setup.engine.close()


@pytest.fixture
async def plain(tmp_path: Path, catalog: Catalog, clock: Clock) -> AsyncIterator[Setup]:
    setup = await make_setup(tmp_path, catalog, forum=False, clock=clock)
    try:
        yield setup
    finally:
        await setup.engine.close()


async def open_handoff(engine: Engine, user_id: int = PERSON) -> None:
    await engine.handle(make_incoming("/start", user_id=user_id))
    intro = await engine.handle(make_incoming("/human", user_id=user_id))
    assert keys(intro) == ["text.handoff_intro_open"]
    opened = await engine.handle(press(find_button(intro, "human:go"), user_id))
    assert keys(opened) == ["text.handoff_opened"]
    assert "human:end" in [b.payload for b in opened[0].all_buttons()]


async def test_the_person_is_told_honestly_when_staff_are_away(tmp_path: Path, catalog: Catalog) -> None:
    sunday = Clock(datetime(2030, 3, 24, 12, 0, tzinfo=timezone.utc))  # Sunday evening in Kolkata: no staff hours
    setup = await make_setup(tmp_path, catalog, forum=True, clock=sunday)
    try:
        await setup.engine.handle(make_incoming("/start"))
        intro = await setup.engine.handle(make_incoming("/human"))
        assert keys(intro) == ["text.handoff_intro_closed"]
        assert "tomorrow at 10:00" in intro[0].text and "your messages will wait for them" in intro[0].text
        assert await setup.engine.due_deliveries() == [], "nothing is opened before the person says yes"
    finally:
        await setup.engine.close()


async def test_forum_handoff_one_topic_both_ways_and_closed_by_staff(forum: Setup) -> None:
    engine = forum.engine
    await open_handoff(engine)
    first = await engine.handle(make_incoming("is anyone there?"))
    assert keys(first) == ["text.handoff_first_ack"]
    for text in ("I found messages on his phone", "I don't know what to think"):
        assert await engine.handle(make_incoming(text)) == [], "relayed quietly, the person is not made to wait"
    await forum.drain()
    assert len(forum.group.topics) == 1, "a burst of first messages creates one topic"
    (topic,) = forum.group.topics
    assert forum.group.topics[topic].startswith("Asha #")
    in_topic = forum.group.in_topic(topic)
    assert len(in_topic) == 4 and "asked to talk to a person" in in_topic[0]
    assert [t.split("\n", 1)[1] for t in in_topic[1:]] == ["is anyone there?", "I found messages on his phone", "I don't know what to think"]

    answer = await forum.staff_writes("Hi Asha, I'm Meera from the centre. I'm here.", thread=topic)
    assert answer.replies == ()
    await forum.drain()
    (relayed,) = [d for d in forum.to_people if d.person == PERSON]
    assert relayed.reply.key == "text.handoff_from_staff"
    assert relayed.reply.text.startswith("💬 The centre's team:") and "I'm here." in relayed.reply.text

    await engine.handle(make_incoming("thank you"))
    await forum.drain()
    assert len(forum.group.topics) == 1 and forum.group.in_topic(topic)[-1].endswith("thank you"), "the topic is reused"

    closed = await forum.staff_writes("/close", thread=topic)
    assert [r.reply.key for r in closed.replies] == ["text.staff_handoff_closed"]
    await forum.drain()
    assert forum.person_keys()[-1] == "text.handoff_closed_by_staff"
    after = await engine.handle(make_incoming("what is micro cheating"))
    assert "answer.what_is_micro_cheating" in keys(after), "FAQ answers resume after the handoff"
    await forum.drain()
    assert not forum.group.in_topic(topic)[-1].endswith("what is micro cheating")


async def test_a_deleted_topic_is_recreated_on_the_next_message(forum: Setup) -> None:
    engine = forum.engine
    await open_handoff(engine)
    await engine.handle(make_incoming("hello"))
    await forum.drain()
    (old,) = forum.group.topics
    forum.group.deleted.add(old)  # a staff member deletes the topic
    await engine.handle(make_incoming("are you still there?"))
    await forum.drain()
    new = max(forum.group.topics)
    assert new != old and forum.group.in_topic(new) == [forum.group.posted[-1].text]
    assert forum.group.in_topic(new)[0].endswith("are you still there?")
    reply = await forum.staff_writes("Yes, still here", thread=new)
    assert reply.replies == ()
    await forum.drain()
    assert forum.person_keys() == ["text.handoff_from_staff"]


async def test_a_topic_closed_by_staff_is_reopened_for_the_person(forum: Setup) -> None:
    engine = forum.engine
    await open_handoff(engine)
    await engine.handle(make_incoming("hello"))
    await forum.drain()
    (topic,) = forum.group.topics
    forum.group.closed.add(topic)
    await engine.handle(make_incoming("one more thing"))
    await forum.drain()
    assert forum.group.in_topic(topic)[-1].endswith("one more thing") and len(forum.group.topics) == 1


async def test_nothing_is_lost_while_the_staff_group_is_unreachable(forum: Setup) -> None:
    engine = forum.engine
    await open_handoff(engine)
    forum.group.unreachable = True
    for n in range(5):
        await engine.handle(make_incoming(f"message {n}"))
    await forum.drain()
    await forum.drain()
    assert forum.group.posted == []
    forum.group.unreachable = False
    for _ in range(3):
        await forum.drain()
    (topic,) = forum.group.topics
    assert [t.split("\n", 1)[1] for t in forum.group.in_topic(topic)[1:]] == [f"message {n}" for n in range(5)]


async def test_plain_group_header_reply_routing_and_the_person_ending_it(plain: Setup) -> None:
    engine, desk = plain.engine, plain.desk
    await open_handoff(engine)
    await engine.handle(make_incoming("can we talk about my boyfriend"))
    await plain.drain()
    assert plain.group.topics == {}
    opened, relayed = plain.group.posted
    assert opened.thread_id is None and "Asha" in opened.text
    header, body = relayed.text.split("\n", 1)
    assert header.startswith("💬 Asha (#") and body == "can we talk about my boyfriend"

    chatter = await plain.staff_writes("who is on call today?")
    assert chatter.replies == ()
    await plain.staff_writes("Of course. What's on your mind?", reply_to=relayed.message_id)
    await plain.staff_writes("// note: first contact, gentle", reply_to=relayed.message_id)
    await plain.drain()
    assert plain.person_keys() == ["text.handoff_from_staff"], "a reply reaches the person; chatter and // notes do not"

    ended = await engine.handle(press("human:end"))
    assert keys(ended) == ["text.handoff_ended_by_person"]
    await plain.drain()
    assert "ended the chat" in plain.group.posted[-1].text
    late = await plain.staff_writes("Are you there?", reply_to=relayed.message_id)
    assert [r.reply.key for r in late.replies] == ["text.staff_handoff_not_open"]
    reopen = find_button([late.replies[0].reply], "staff:open:")
    await desk.staff.handle(staff_press(reopen))
    await plain.drain()
    assert plain.person_keys()[-1] == "text.handoff_opened_by_staff"
    assert "opened by the team" in plain.group.posted[-1].text


async def test_closing_with_the_button_and_closing_twice(plain: Setup) -> None:
    engine, desk = plain.engine, plain.desk
    await open_handoff(engine)
    await plain.drain()
    close = await desk.staff.handle(staff_press(f"staff:hclose:{PERSON}"))
    assert [r.reply.key for r in close.replies] == ["text.staff_handoff_closed"]
    again = await desk.staff.handle(staff_press(f"staff:hclose:{PERSON}"))
    assert again.replies == () and again.notice is not None
    await plain.drain()
    assert plain.person_keys() == ["text.handoff_closed_by_staff"], "the person is told once"
    end = await engine.handle(press("human:end"))
    assert keys(end) == ["text.handoff_not_open"]


async def test_safety_still_comes_first_during_a_handoff(forum: Setup) -> None:
    engine = forum.engine
    await open_handoff(engine)
    replies = await engine.handle(make_incoming(CRISIS))
    assert keys(replies)[0] == "text.safety_crisis"
    assert "text.handoff_first_ack" not in keys(replies)


async def test_a_flooding_person_is_slowed_down_politely(forum: Setup) -> None:
    engine = forum.engine
    await open_handoff(engine)
    seen: list[list[str]] = [keys(await engine.handle(make_incoming(f"msg {n}"))) for n in range(35)]
    assert seen[0] == ["text.handoff_first_ack"]
    assert seen[12] == ["text.handoff_slow_down"] and seen[13:30] == [[]] * 17
    assert seen[30] == ["text.handoff_paused"] and seen[31:] == [[]] * 4
    relays = await engine.store.fetchall("SELECT id FROM outbox WHERE json_extract(payload, '$.kind') = 'handoff_relay'")
    assert len(relays) == 30


async def test_staff_can_open_a_chat_from_a_safety_alert(forum: Setup) -> None:
    engine, desk = forum.engine, forum.desk
    await engine.handle(make_incoming("/start"))
    await desk.staff.handle(staff_press(f"staff:open:{PERSON}"))
    await forum.drain()
    assert forum.person_keys() == ["text.handoff_opened_by_staff"]
    (topic,) = forum.group.topics
    relayed = await engine.handle(make_incoming("thank you for reaching out"))
    assert keys(relayed) == ["text.handoff_first_ack"]
    await forum.drain()
    assert forum.group.in_topic(topic)[-1].endswith("thank you for reaching out")


async def test_forget_during_a_handoff_closes_it_and_erases_the_links(forum: Setup) -> None:
    engine = forum.engine
    await open_handoff(engine)
    await engine.handle(make_incoming("hello"))
    await forum.drain()
    (topic,) = forum.group.topics
    done = await engine.handle(press("forget:yes"))
    assert "chats with the centre's team (1)" in done[0].text  # erased_conversations_with_staff
    queued = await engine.due_deliveries()
    assert [(d.reply.key, d.kind, d.for_staff, d.about) for d in queued] == [("text.staff_handoff_forgotten", FAREWELL_KIND, True, None)]
    for table in ("handoffs", "staff_topics", "staff_messages"):
        assert await engine.store.fetchall(f"SELECT * FROM {table}") == [], table
    assert await engine.store.fetchall("SELECT id FROM outbox WHERE user_id IS NOT NULL AND delivered_at IS NULL") == []
    await forum.drain()
    assert forum.group.in_topic(topic)[-1] == queued[0].reply.text, "the staff are told in the person's topic, which names no one"


async def test_a_farewell_queued_before_the_staff_channel_still_reaches_its_topic(forum: Setup) -> None:
    """An outbox row from the older version (chat_id NULL, its topic in thread_id, kind "message") reads as for the staff."""
    engine = forum.engine
    await open_handoff(engine)
    await engine.handle(make_incoming("hello"))
    await forum.drain()
    (topic,) = forum.group.topics
    payload = '{"kind": "message", "reply": {"key": "text.staff_handoff_forgotten", "text": "this chat is closed", "buttons": []}}'
    await engine.store.execute(
        "INSERT INTO outbox(user_id, chat_id, thread_id, payload, created_at, next_attempt_at) VALUES (NULL, NULL, ?, ?, ?, ?)",
        (topic, payload, iso(now_utc()), iso(now_utc())),
    )
    (old,) = await engine.due_deliveries()
    assert old.for_staff and old.about is None and old.kind == "message"
    await forum.drain()
    assert forum.group.in_topic(topic)[-1] == "this chat is closed"


async def test_a_person_flooding_the_bot_is_slowed_down_politely(forum: Setup) -> None:
    engine = forum.engine
    await engine.handle(make_incoming("/start"))
    seen = [keys(await engine.handle(make_incoming("hello?"))) for _ in range(45)]
    assert all(k and k != ["text.handoff_flood_note"] for k in seen[:39])
    assert seen[39] == ["text.handoff_flood_note"] and seen[40:] == [[]] * 5
    crisis = await engine.handle(make_incoming(CRISIS))
    assert keys(crisis)[0] == "text.safety_crisis", "the safety answer is never held back"


async def test_a_message_that_raised_a_safety_answer_still_reaches_the_team(forum: Setup) -> None:
    engine = forum.engine
    await open_handoff(engine)
    await engine.handle(make_incoming(CRISIS))
    await forum.drain()
    (topic,) = forum.group.topics
    assert forum.group.in_topic(topic)[-1].endswith(f"⚠️ [crisis] {CRISIS}")


# --- end to end: the real Application against the Bot API stand-in ---------------------------------------


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 8.0) -> None:
    """Wait for the outbox drain (a background task) to have done what `check` looks for."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting for the bot")
        await asyncio.sleep(0.02)


@asynccontextmanager
async def staffed_bot(
    standin: BotApiStandIn, tmp_path: Path, catalog: Catalog, group: ChatState, clock: Clock
) -> AsyncIterator[tuple[AnyApplication, Engine, CentreDesk]]:
    """The bot wired exactly as in production: staff hook and handoff deliveries through StaffTelegram."""
    settings = tg_settings(standin, tmp_path, staff_chat_id=group.id)
    engine = build_engine(settings, catalog, clock=clock)
    desk = centre_desk(engine)
    assert desk is not None
    staff = telegram_staff(engine, staff_chat_id=settings.staff_chat_id)
    assert staff is not None
    application = build_application(
        settings, engine, staff_handler=staff.on_update, delivery_router=staff, outbox_interval=0.1, inbox=inbox_for(engine)
    )
    staff.bind(channel_of(application))
    await start_application(application, Polling(timeout=0.5))
    try:
        yield application, engine, desk
    finally:
        await stop_application(application)


def texts_in(standin: BotApiStandIn, chat_id: int, thread_id: int | None = None) -> list[str]:
    return [m.text for m in standin.shown(chat_id) if thread_id is None or m.thread_id == thread_id]


async def test_e2e_forum_handoff_both_ways_through_the_bot_api(standin: BotApiStandIn, tmp_path: Path, catalog: Catalog, clock: Clock) -> None:
    group = standin.add_group("Alumaura staff", forum=True)
    meera, sam = standin.new_user("Meera"), standin.new_user("Sam")
    standin.add_member(group, meera, "administrator")
    async with staffed_bot(standin, tmp_path, catalog, group, clock) as (application, engine, _):
        asha = person(standin, application)
        await asha.says("/start")
        await asha.says("/human")
        await asha.presses("Yes, connect me")
        for text in ("hello?", "I found messages on his phone", "I can't sleep"):
            standin.user_sends(asha.user, text)  # a burst: the bot has not answered the first yet
        await settle(standin, application)

        async def relayed() -> bool:
            return len(group.topics) == 1 and len(texts_in(standin, group.id, next(iter(group.topics)))) == 4

        await until(relayed)
        assert len(standin.calls_of("createForumTopic")) == 1, "a burst of first messages creates one topic"
        (topic,) = group.topics
        assert group.topics[topic].startswith("Asha #")
        assert texts_in(standin, group.id, topic)[-1].endswith("I can't sleep")

        standin.group_message(sam, group, "I'm not staff", thread_id=topic)
        standin.group_message(meera, group, "I'm here, Asha. Take your time.", thread_id=topic)
        await settle(standin, application)

        async def answered() -> bool:
            return any("Take your time." in text for text in texts_in(standin, asha.chat_id))

        await until(answered)
        mine = [t for t in texts_in(standin, asha.chat_id) if t.startswith("💬")]
        assert mine == ["💬 The centre's team:\nI'm here, Asha. Take your time."], "no staff name, no stranger"

        standin.group_message(meera, group, "/close", thread_id=topic)
        await settle(standin, application)

        async def closed() -> bool:
            return any("closed this chat" in text for text in texts_in(standin, asha.chat_id))

        await until(closed)
        assert "closed; they've been told" in texts_in(standin, group.id, topic)[-1]

        standin.delete_topic(group, topic)
        await asha.says("/human")
        await asha.presses("Yes, connect me")
        await asha.says("me again")

        async def recreated() -> bool:
            return len(group.topics) == 1 and topic not in group.topics and any(
                t.endswith("me again") for t in texts_in(standin, group.id, next(iter(group.topics)))
            )

        await until(recreated)


async def first_relayed_message(standin: BotApiStandIn, application: AnyApplication, group: ChatState) -> tuple[Any, Any]:
    """A person asks for the team and writes "can we talk?"; returns them and that message as staff see it."""
    asha = person(standin, application)
    await asha.says("/start")
    await asha.says("/human")
    await asha.presses("Yes, connect me")
    await asha.says("can we talk?")

    async def relayed() -> bool:
        return any(text.endswith("can we talk?") for text in texts_in(standin, group.id))

    await until(relayed)
    return asha, next(m for m in standin.shown(group.id) if m.text.endswith("can we talk?"))


async def test_e2e_plain_group_reply_routing_and_ending(standin: BotApiStandIn, tmp_path: Path, catalog: Catalog, clock: Clock) -> None:
    group = standin.add_group("Alumaura staff")
    meera = standin.new_user("Meera")
    standin.add_member(group, meera)
    async with staffed_bot(standin, tmp_path, catalog, group, clock) as (application, _, _):
        asha, message = await first_relayed_message(standin, application, group)
        assert message.text.startswith("💬 Asha (#") and message.thread_id is None
        standin.group_message(meera, group, "Of course we can.", reply_to=message)
        await settle(standin, application)

        async def answered() -> bool:
            return any(text.endswith("Of course we can.") for text in texts_in(standin, asha.chat_id))

        await until(answered)
        await asha.presses("End the chat with the team")

        async def told() -> bool:
            return any("ended the chat" in text for text in texts_in(standin, group.id))

        await until(told)
        after = await asha.says("what is micro cheating")
        assert after, "FAQ answers come back once the chat has ended"
