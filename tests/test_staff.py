"""Staff tools: only staff act, every time; bans; /bookings, /stats, /unanswered; the Telegram staff adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from telegram import CallbackQuery, Chat, ChatMemberLeft, ChatMemberMember, Message, Update, User

from bot.catalog.grammar import PLACEHOLDERS, placeholders_in
from bot.catalog.loader import Catalog, load_catalog
from bot.catalog.text_keys import scan_package
from bot.config import REPO_ROOT
from bot.engine.availability import availability_problems
from bot.engine.core import Engine
from bot.engine.session import Session
from bot.features.staff.placeholders import HANDOFF_PLACEHOLDERS
from bot.features.staff.router import CentreDesk
from bot.telegram.codec import CallbackCodec
from bot.app import telegram_staff
from bot.telegram.staff_updates import staff_update
from tests.botapi_standin import BotApiStandIn
from tests.conftest import find_button, keys, make_incoming
from tests.telegram_helpers import person, settle
from tests.telegram_helpers import standin  # noqa: F401 - the fixture
from tests.test_handoff import staff_says, staffed_bot, texts_in, until
from tests.test_booking import (
    PERSON,
    STAFF_CHAT,
    STAFF_MEMBER,
    Clock,
    book_until_summary,
    drain,
    press,
    staff_press,
    start_desk,
)

STRANGER = 6_666
ADMIN = 4_242


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2030, 3, 25, 6, 0, tzinfo=timezone.utc))


@pytest.fixture
async def desk_engine(tmp_path: Path, catalog: Catalog, clock: Clock) -> AsyncIterator[tuple[Engine, CentreDesk]]:
    engine, desk = await start_desk(tmp_path, catalog, clock, admin_user_ids=[ADMIN])
    try:
        yield engine, desk
    finally:
        await engine.close()


async def requested(engine: Engine) -> None:
    summary, _ = await book_until_summary(engine)
    await engine.handle(press(find_button(summary, "bk:1:confirm")))
    await drain(engine)


# --- only staff act ---------------------------------------------------------------------------------


async def test_a_non_staff_user_pressing_a_staff_button_gets_nothing(desk_engine: tuple[Engine, CentreDesk]) -> None:
    engine, desk = desk_engine
    await requested(engine)
    for payload in ("staff:confirm:1", "staff:close:1", f"staff:hclose:{PERSON}", f"staff:open:{PERSON}"):
        result = await desk.staff.handle(staff_press(payload, user_id=STRANGER, verified=False))
        assert result.authorised is False and result.replies == () and result.notice is None
    assert (await engine.store.fetchone("SELECT status FROM bookings WHERE id = 1"))["status"] == "requested"
    assert await drain(engine) == [], "the person was told nothing, no chat was opened"


async def test_membership_of_another_chat_counts_for_nothing(desk_engine: tuple[Engine, CentreDesk]) -> None:
    engine, desk = desk_engine
    await requested(engine)
    result = await desk.staff.handle(staff_press("staff:confirm:1", verified=True, chat_id=-100_999))
    assert result.authorised is False
    assert (await engine.store.fetchone("SELECT status FROM bookings WHERE id = 1"))["status"] == "requested"


async def test_a_configured_admin_may_act_without_the_membership_check(desk_engine: tuple[Engine, CentreDesk]) -> None:
    engine, desk = desk_engine
    await requested(engine)
    result = await desk.staff.handle(staff_press("staff:claim:1", user_id=ADMIN, verified=False))
    assert result.authorised and result.notice == "claimed"


async def test_a_stranger_writing_in_a_persons_conversation_is_not_relayed(desk_engine: tuple[Engine, CentreDesk]) -> None:
    engine, desk = desk_engine
    await engine.handle(make_incoming("/start"))
    await engine.handle(press("human:go"))
    await drain(engine)
    ignored = await desk.staff.handle(staff_says("hello from nobody", about=PERSON, verified=False))
    assert ignored.authorised is False
    assert await drain(engine) == []


# --- bans ----------------------------------------------------------------------------------------------


async def test_ban_and_unban_in_a_persons_conversation(desk_engine: tuple[Engine, CentreDesk]) -> None:
    engine, desk = desk_engine
    await engine.handle(make_incoming("/start"))
    await engine.handle(press("human:go"))
    not_a_reply = await desk.staff.handle(staff_says("/ban"))
    assert [r.reply.key for r in not_a_reply.replies] == ["text.staff_ban_unknown"]
    banned = await desk.staff.handle(staff_says("/ban", about=PERSON))
    assert [r.reply.key for r in banned.replies] == ["text.staff_banned"]
    assert keys(await engine.handle(make_incoming("/human"))) == ["text.handoff_blocked"]
    assert keys(await engine.handle(make_incoming("/book"))) == ["text.handoff_blocked"]
    relayed_before = len(await engine.store.fetchall("SELECT id FROM outbox WHERE json_extract(payload, '$.kind') = 'handoff_relay'"))
    answer = await engine.handle(make_incoming("what is micro cheating"))
    assert "answer.what_is_micro_cheating" in keys(answer), "the bot's own answers still reach them, not the team"
    relayed_after = len(await engine.store.fetchall("SELECT id FROM outbox WHERE json_extract(payload, '$.kind') = 'handoff_relay'"))
    assert relayed_after == relayed_before
    crisis = await engine.handle(make_incoming("i don't want to be alive anymore"))
    assert keys(crisis)[0] == "text.safety_crisis", "a ban never stands between a person and the crisis lines"
    unbanned = await desk.staff.handle(staff_says("/unban", about=PERSON))
    assert [r.reply.key for r in unbanned.replies] == ["text.staff_unbanned"]
    assert keys(await engine.handle(make_incoming("/human"))) == ["text.handoff_intro_open"]


# --- /bookings, /stats, /unanswered ------------------------------------------------------------------------


async def test_bookings_lists_open_requests_and_reposts_a_card(desk_engine: tuple[Engine, CentreDesk]) -> None:
    engine, desk = desk_engine
    empty = await desk.staff.handle(staff_says("/bookings"))
    assert [r.reply.key for r in empty.replies] == ["text.staff_bookings_none"]
    await requested(engine)
    listing = await desk.staff.handle(staff_says("/bookings@alumaura_bot"))
    reply = listing.replies[0].reply
    assert "#1 ·" in reply.text and "Asha" in reply.text and "new request" in reply.text
    card = await desk.staff.handle(staff_press(find_button([reply], "staff:card:1")))
    assert card.replies[0].reply.key == "staff.booking_card" and not card.replies[0].edit_pressed


async def test_stats_count_people_answers_fallbacks_bookings_safety_and_chats(desk_engine: tuple[Engine, CentreDesk]) -> None:
    engine, desk = desk_engine
    await engine.handle(make_incoming("/start", user_id=1))
    await engine.handle(make_incoming("what is micro cheating", user_id=1))
    await engine.handle(make_incoming("purple monkey dishwasher", user_id=2))
    await engine.handle(make_incoming("i don't want to be alive anymore", user_id=3))
    await requested(engine)
    stats = await desk.staff.handle(staff_says("/stats"))
    text = stats.replies[0].reply.text
    week, month = text.split("\n\n")
    assert week.startswith("Last 7 days:") and month.startswith("Last 30 days:")
    assert "people helped: 4" in week
    assert "questions answered: 1 (what_is_micro_cheating 1)" in week
    assert "not understood: 1" in week
    assert "bookings: requested 1" in week
    assert "safety events: crisis 1" in week
    assert "purple" not in text and "alive" not in text, "statistics never carry what people wrote"


async def test_unanswered_keeps_only_consented_redacted_questions(desk_engine: tuple[Engine, CentreDesk]) -> None:
    engine, desk = desk_engine
    yes, no = Session(user_id=1, consent=True), Session(user_id=2, consent=None)
    for session, text in (
        (yes, "Can I see a therapist on 12 May? call 98765 43210"),
        (yes, "How do I stop overthinking!!"),
        (no, "how do i stop overthinking"),
        (yes, "hmm"),
    ):
        await desk.handoff.on_fallback(session, text)
    await desk.handoff.on_fallback(Session(user_id=3, consent=True), "how do I stop overthinking?")
    top = await desk.staff.handle(staff_says("/unanswered"))
    text = top.replies[0].reply.text
    lines = text.split("\n")[1:]
    assert lines[0] == "• 2× (2 👤) how do i stop overthinking"
    assert "98765" not in text and "12 may" not in text and "# may" in text
    assert "hmm" not in text and len(lines) == 2
    await engine.handle(make_incoming("/start", user_id=1))
    await engine.handle(press("forget:yes", 1))
    after = await desk.staff.handle(staff_says("/unanswered"))
    assert "2×" not in after.replies[0].reply.text, "/forget erases a person's stored questions"


async def test_fallbacks_reach_unanswered_through_the_engine(desk_engine: tuple[Engine, CentreDesk]) -> None:
    engine, desk = desk_engine
    await engine.handle(make_incoming("/start"))
    await engine.handle(press("consent:yes"))
    await engine.handle(make_incoming("purple monkey dishwasher"))
    top = await desk.staff.handle(staff_says("/unanswered"))
    assert "purple monkey dishwasher" in top.replies[0].reply.text


async def test_staff_help_and_unknown_commands(desk_engine: tuple[Engine, CentreDesk]) -> None:
    _, desk = desk_engine
    helped = await desk.staff.handle(staff_says("/help"))
    assert "/bookings" in helped.replies[0].reply.text and "/unanswered" in helped.replies[0].reply.text
    other = await desk.staff.handle(staff_says("/weather"))
    assert other.replies == () and other.authorised


# --- content ---------------------------------------------------------------------------------------------


def test_every_text_the_handoff_uses_exists_with_known_placeholders(catalog: Catalog) -> None:
    # The keys booking, handoff and the staff tools use, found by reading their code.
    used = {
        key
        for key, sites in scan_package().required(catalog).items()
        if any(site.startswith(("bot/features/booking/", "bot/features/handoff/", "bot/features/staff/")) for site in sites)
    }
    assert used
    missing = sorted(used - set(catalog.texts))
    assert missing == []
    for key in used:
        unknown = placeholders_in(catalog.texts[key]) - PLACEHOLDERS - HANDOFF_PLACEHOLDERS.get(key, frozenset())
        assert not unknown, f"{key}: {unknown}"


def test_shipped_availability_is_valid_and_says_it_is_a_placeholder(catalog: Catalog) -> None:
    assert availability_problems(catalog) == []
    names = [t["name"] for t in catalog.availability["therapists"]]
    assert names and all("placeholder" in name for name in names)


def test_a_broken_availability_names_its_file_and_field(tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    for source in ("centre.yaml", "crisis_lines.yaml"):
        (tmp_path / "content" / source).write_text((REPO_ROOT / "content" / source).read_text())
    (tmp_path / "content" / "availability.yaml").write_text(
        "availability:\n  therapists:\n    - id: a\n      name: A\n      hours: {mon: ['18:00-10:00']}\n"
    )
    problems = availability_problems(load_catalog(tmp_path))
    assert problems and "availability.yaml" in problems[0] and "hours" in problems[0]


# --- the Telegram side of the staff group --------------------------------------------------------------------

CODEC = CallbackCodec(b"test-secret")
WHEN = datetime(2030, 3, 25, 6, 0, tzinfo=timezone.utc)
GROUP = Chat(STAFF_CHAT, Chat.SUPERGROUP, is_forum=True)
MEERA = User(STAFF_MEMBER, "Meera", is_bot=False)


def topic_message(text: str, *, thread: int, reply_to: Message | None = None, message_id: int = 500) -> Message:
    root = Message(thread, WHEN, GROUP, forum_topic_created=None)
    return Message(
        message_id, WHEN, GROUP, from_user=MEERA, text=text, message_thread_id=thread, is_topic_message=True,
        reply_to_message=reply_to or root,
    )


def test_a_message_in_a_topic_maps_to_its_thread_not_to_the_topic_root() -> None:
    staff = staff_update(Update(1, message=topic_message("hello", thread=42)), staff_chat_id=STAFF_CHAT, codec=CODEC)
    assert staff is not None and staff.place.thread_id == 42 and staff.place.reply_to_message_id is None
    relayed = Message(300, WHEN, GROUP, text="💬 Asha:", message_thread_id=42, is_topic_message=True)
    answer = staff_update(Update(2, message=topic_message("hi", thread=42, reply_to=relayed)), staff_chat_id=STAFF_CHAT, codec=CODEC)
    assert answer is not None and answer.place.reply_to_message_id == 300


async def test_a_staff_message_is_resolved_to_its_person_before_the_router(desk_engine: tuple[Engine, CentreDesk]) -> None:
    """The reply's posted message first, else the topic it is in; anything else is about no one."""
    engine, _ = desk_engine
    staff_tg = telegram_staff(engine, staff_chat_id=STAFF_CHAT)
    assert staff_tg is not None
    conversations = staff_tg.conversations
    await conversations.thread_created(PERSON, 77)
    await conversations.posted(2002, [9001])
    assert await conversations.person_about(77, None) == PERSON
    assert await conversations.person_about(77, 9001) == 2002, "a reply to a posted message wins over the topic"
    assert await conversations.person_about(77, 4242) == PERSON
    assert await conversations.person_about(None, None) is None and await conversations.person_about(78, None) is None
    assert await conversations.forget(PERSON) == {"links to staff messages": 1}
    assert await conversations.person_about(77, None) is None


def test_only_buttons_signed_for_the_staff_group_decode() -> None:
    card = Message(10, WHEN, GROUP, text="card")
    good = CallbackQuery("q1", MEERA, "ci", message=card, data=CODEC.encode("staff:claim:1", STAFF_CHAT))
    staff = staff_update(Update(3, callback_query=good), staff_chat_id=STAFF_CHAT, codec=CODEC)
    assert staff is not None and staff.incoming.button == "staff:claim:1" and staff.incoming.kind == "button"
    forged = CallbackQuery("q2", MEERA, "ci", message=card, data=CODEC.encode("staff:claim:1", PERSON))
    assert staff_update(Update(4, callback_query=forged), staff_chat_id=STAFF_CHAT, codec=CODEC) is None


class FakeBot:
    """The two calls `on_update` makes for a button: who is this, and stop the spinner."""

    def __init__(self, members: set[int]) -> None:
        self.members = members
        self.member_checks: list[int] = []
        self.answered: list[tuple[str, str | None]] = []

    async def get_chat_member(self, chat_id: int, user_id: int) -> Any:
        self.member_checks.append(user_id)
        user = User(user_id, "x", is_bot=False)
        return ChatMemberMember(user) if user_id in self.members else ChatMemberLeft(user)

    async def answer_callback_query(self, query_id: str, text: str | None = None) -> bool:
        self.answered.append((query_id, text))
        return True


async def test_on_update_checks_membership_every_time_and_answers_every_button(desk_engine: tuple[Engine, CentreDesk]) -> None:
    engine, desk = desk_engine
    await requested(engine)
    shown: list[Any] = []

    async def send_replies(bot: Any, chat_id: int, replies: list[Any], **kwargs: Any) -> None:
        shown.append((chat_id, [r.key for r in replies], kwargs))

    staff_tg = telegram_staff(engine, staff_chat_id=STAFF_CHAT)
    assert staff_tg is not None
    staff_tg.bind(SimpleNamespace(codec=CODEC, send_replies=send_replies, on_replied=None))  # type: ignore[arg-type]
    bot = FakeBot(members={STAFF_MEMBER})
    context = SimpleNamespace(bot=bot)
    card = Message(10, WHEN, GROUP, text="card")
    stranger = User(STRANGER, "Sam", is_bot=False)
    data = CODEC.encode("staff:confirm:1", STAFF_CHAT)
    await staff_tg.on_update(Update(5, callback_query=CallbackQuery("q1", stranger, "ci", message=card, data=data)), context)  # type: ignore[arg-type]
    assert bot.answered == [("q1", None)] and shown == []
    assert (await engine.store.fetchone("SELECT status FROM bookings WHERE id = 1"))["status"] == "requested"
    await staff_tg.on_update(Update(6, callback_query=CallbackQuery("q2", MEERA, "ci", message=card, data=data)), context)  # type: ignore[arg-type]
    assert bot.member_checks == [STRANGER, STAFF_MEMBER]
    assert bot.answered[-1] == ("q2", "confirmed")
    assert shown == [(STAFF_CHAT, ["staff.booking_card"], {"pressed_message_id": 10, "thread_id": None})]
    bot.members.clear()  # Meera left the group: her next press does nothing
    await staff_tg.on_update(Update(7, callback_query=CallbackQuery("q3", MEERA, "ci", message=card, data=CODEC.encode("staff:close:1", STAFF_CHAT))), context)  # type: ignore[arg-type]
    assert (await engine.store.fetchone("SELECT status FROM bookings WHERE id = 1"))["status"] == "confirmed"


async def test_staff_chatter_costs_no_membership_check_and_does_nothing(desk_engine: tuple[Engine, CentreDesk]) -> None:
    engine, desk = desk_engine
    shown: list[Any] = []

    async def send_replies(bot: Any, chat_id: int, replies: list[Any], **kwargs: Any) -> None:
        shown.append(replies)

    staff_tg = telegram_staff(engine, staff_chat_id=STAFF_CHAT)
    assert staff_tg is not None
    staff_tg.bind(SimpleNamespace(codec=CODEC, send_replies=send_replies, on_replied=None))  # type: ignore[arg-type]
    bot = FakeBot(members={STAFF_MEMBER})
    plain_group = Chat(STAFF_CHAT, Chat.SUPERGROUP)
    chatter = Message(20, WHEN, plain_group, from_user=MEERA, text="who is on call today?")
    await staff_tg.on_update(Update(8, message=chatter), SimpleNamespace(bot=bot))  # type: ignore[arg-type]
    assert bot.member_checks == [] and shown == []
    command = Message(21, WHEN, plain_group, from_user=MEERA, text="/bookings")
    await staff_tg.on_update(Update(9, message=command), SimpleNamespace(bot=bot))  # type: ignore[arg-type]
    assert bot.member_checks == [STAFF_MEMBER] and len(shown) == 1


# --- end to end: a booking card in the staff group, through the Bot API stand-in ------------------------------


async def test_e2e_booking_card_staff_actions_and_a_stranger(standin: BotApiStandIn, tmp_path: Path, catalog: Catalog, clock: Clock) -> None:
    group = standin.add_group("Alumaura staff", forum=True)
    meera, sam = standin.new_user("Meera"), standin.new_user("Sam")
    standin.add_member(group, meera)
    async with staffed_bot(standin, tmp_path, catalog, group, clock) as (application, engine, _):
        asha = person(standin, application)
        await asha.says("/start")
        await asha.says("/book")
        await asha.presses("Just for me")
        await asha.presses("Online (video call)")
        slots = asha.shown()[-1]
        await asha.presses(slots.labels[0], on=slots)
        await asha.presses("Here on Telegram")
        await asha.presses("Skip")
        group.blocked = True  # the staff group cannot be reached (the bot was removed, say)
        received = await asha.presses("✅ Confirm and send")
        assert any("safely with the centre" in shown.text for shown in received), "told at once, card or no card"

        async def card_tried() -> bool:
            row = await engine.store.fetchone("SELECT attempts FROM outbox WHERE json_extract(payload, '$.kind') = 'booking_card'")
            return row is not None and row["attempts"] >= 1

        async def card_posted() -> bool:
            return any(m.text.startswith("📅 Booking request #1") for m in standin.shown(group.id))

        await until(card_tried)
        assert not await card_posted()
        group.blocked = False
        await engine.store.execute("UPDATE outbox SET next_attempt_at = created_at")  # the retry time comes round
        await until(card_posted)
        card = next(m for m in standin.shown(group.id) if m.text.startswith("📅 Booking request #1"))

        standin.user_presses(sam, card, "✅ Confirm session")
        await settle(standin, application)
        assert (await engine.store.fetchone("SELECT status FROM bookings WHERE id = 1"))["status"] == "requested"

        standin.user_presses(meera, card, "🙋 Claim")
        await settle(standin, application)

        async def told(words: str) -> bool:
            return any(words in text for text in texts_in(standin, asha.chat_id))

        await until(lambda: told("picked up your request"))
        card = standin.shown(group.id)[[m.message_id for m in standin.shown(group.id)].index(card.message_id)]
        assert "Status: claimed" in card.text and "🙋 Claim" not in card.labels, "the card shows where it stands"
        standin.user_presses(meera, card, "✅ Confirm session")
        await settle(standin, application)
        await until(lambda: told("Your session is confirmed"))
        answered = list(standin.answered_queries.values())
        assert answered[-1].get("text") == "confirmed" and answered[-3].get("text") is None, "the stranger got nothing"
