"""Only staff act: every staff command and every staff button, tried by people who are not staff.

Through the real Application and the stand-in, with a forum staff group holding a real
booking card, an open chat with a person, a safety alert, a /bookings listing and a
"propose another time" picker. Strangers (never members, or kicked) try every command
the staff router knows, in the group, in a person's topic and as replies to a person's
messages, and press every staff button, real or forged: the bot shows them nothing,
changes nothing, and tells the people concerned nothing. The same commands in a private
chat get the person's side of the bot and no staff data. A member of the staff group
(asked of Telegram every time) and an ADMIN_USER_IDS account can.

The commands and button actions are read from `StaffRouter`'s source, so a new one joins
the sweep (and must be covered here) the day it is added.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_engine
from bot.catalog.loader import Catalog
from bot.engine.commands import PERSON_COMMANDS, menu
from bot.engine.commands import STAFF_COMMANDS as DECLARED_STAFF_COMMANDS
from bot.features.staff.router import centre_desk
from bot.features.staff.router import StaffRouter
from bot.telegram.codec import CallbackCodec
from tests.botapi_standin import BotApiStandIn, Shown, TgUser
from tests.conftest import make_settings
from tests.load_support import (
    CARD_PREFIX,
    Actor,
    StaffActor,
    StaffedBot,
    closing_db,
    find_shown,
    staffed_bot,
    until,
)
from tests.telegram_helpers import keys, standin  # noqa: F401 - the fixture

CRISIS = "i don't want to be alive anymore"
# In ADMIN_USER_IDS, never a member of the staff group.
ADMIN = TgUser(id=77_000_001, first_name="Omar")
SNAPSHOT_TABLES = ("bookings", "handoffs", "banned_users", "staff_topics", "staff_messages", "outbox", "journal_entries")


def literals_compared_with(function: Any, name: str) -> set[str]:
    """String literals `name` is compared with (`== "x"`, `in {"x", "y"}`) in a function's source."""
    source = inspect.getsource(function)
    found: set[str] = set()
    for group in re.findall(rf"\b{name} (?:==|in) (\{{[^}}]*\}}|\"[^\"]*\")", source):
        found.update(re.findall(r"\"([^\"]*)\"", group))
    return found


STAFF_COMMANDS = sorted(command.name for command in DECLARED_STAFF_COMMANDS)
STAFF_ACTIONS = sorted(literals_compared_with(StaffRouter._button, "action"))


def test_the_sweep_knows_the_staff_router() -> None:
    """Guards the parsing above: if these drift, the sweep below would silently test less."""
    assert {"bookings", "stats", "unanswered", "close", "ban", "unban", "help", "start"} <= set(STAFF_COMMANDS)
    assert {"claim", "confirm", "close", "propose", "pl", "pt", "card", "open", "hclose"} <= set(STAFF_ACTIONS)


def test_every_declared_staff_command_has_a_handler_and_no_other(tmp_path: Path, catalog: Catalog) -> None:
    """The staff menu Telegram shows and what the router handles are one list (`bot.engine.commands`)."""
    desk = centre_desk(build_engine(make_settings(tmp_path, staff_chat_id=-100_1), catalog))
    assert desk is not None
    assert desk.staff.handled_commands == set(STAFF_COMMANDS)


@dataclass
class Scene:
    """A staffed bot with something behind every staff command and button."""

    bot: StaffedBot
    asha: Actor
    ravi: Actor
    meera: StaffActor
    card: Shown
    topic: int
    relayed: Shown
    opened_note: Shown
    alert: Shown
    listing: Shown
    picker: Shown
    booking_id: int


def snapshot(database: Path, people: tuple[int, ...]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row a staff action could change, and the sessions of the people it concerns."""
    with closing_db(database) as db:
        state = {table: sorted(db.execute(f"SELECT * FROM {table}").fetchall(), key=repr) for table in SNAPSHOT_TABLES}
        marks = ",".join("?" * len(people))
        state["sessions"] = sorted(db.execute(f"SELECT user_id, data FROM sessions WHERE user_id IN ({marks})", people).fetchall())
    return state


def staff_words(catalog: Catalog) -> list[str]:
    """The opening words of every staff-only text: none may ever reach someone who is not staff."""
    words = []
    for key, text in catalog.texts.items():
        if key.startswith("staff_") and not key.startswith("staff_status_") and not key.endswith("_label"):
            opening = re.split(r"\{", str(text), maxsplit=1)[0].strip()
            if len(opening) >= 8:
                words.append(opening[:40])
    return [*words, CARD_PREFIX, "🚨 Urgent"]


async def book_and_confirm(asha: Actor) -> None:
    await asha.says("/book")
    await asha.presses("Just for me")
    slots = await asha.presses("Online (video call)")
    offered = next(s for s in reversed(slots) if any(" · " in label for label in s.labels))
    await asha.presses(next(label for label in offered.labels if " · " in label), on=offered)
    await asha.presses("Here on Telegram")
    await asha.says("note for the team")
    await asha.presses("✅ Confirm and send")


@pytest.fixture
async def scene(standin: BotApiStandIn, tmp_path: Path, catalog: Catalog) -> AsyncIterator[Scene]:
    async with staffed_bot(standin, tmp_path, catalog, admin_user_ids=[ADMIN.id]) as bot:
        meera = bot.staff(standin.new_user("Meera"))
        standin.add_member(bot.group, meera.user)
        asha, ravi = bot.person(standin.new_user("Asha")), bot.person(standin.new_user("Ravi"))
        group = bot.group.id

        await asha.says("/start")
        await book_and_confirm(asha)
        await until(lambda: find_shown(standin, group, lambda t: t.startswith(CARD_PREFIX)) is not None, what="the card")
        card = find_shown(standin, group, lambda t: t.startswith(CARD_PREFIX))
        assert card is not None
        booking_id = int(card.text[len(CARD_PREFIX):].split("\n", 1)[0])

        await asha.says("/human")
        await asha.presses("Yes, connect me")
        await asha.says("I feel so lost tonight")
        await until(lambda: find_shown(standin, group, lambda t: t.endswith("I feel so lost tonight")) is not None, what="the relay")
        relayed = find_shown(standin, group, lambda t: t.endswith("I feel so lost tonight"))
        opened_note = find_shown(standin, group, lambda t: "asked to talk to a person" in t)
        assert relayed is not None and relayed.thread_id is not None and opened_note is not None

        await ravi.says("/start")
        await ravi.says(CRISIS)
        await until(lambda: find_shown(standin, group, lambda t: t.startswith("🚨")) is not None, what="the safety alert")
        alert = find_shown(standin, group, lambda t: t.startswith("🚨"))
        assert alert is not None

        listing = (await meera.says("/bookings"))[-1]
        picker = (await meera.presses("🕑 Propose another time", on=card))[-1]
        assert "#" in listing.text and picker.text.startswith("Pick a time")
        await bot.outbox_settled()
        card = next(m for m in standin.shown(group) if m.message_id == card.message_id)
        yield Scene(bot, asha, ravi, meera, card, relayed.thread_id, relayed, opened_note, alert, listing, picker, booking_id)


def decoded(codec: CallbackCodec, message: Shown, owner: int) -> list[tuple[str, str]]:
    """(label, payload) of every callback button on a message."""
    pairs = []
    for labels, datas in zip(message.buttons, message.callback_data):
        for label, data in zip(labels, datas):
            payload = codec.decode(data, owner) if data else None
            if payload is not None:
                pairs.append((label, payload))
    return pairs


async def test_strangers_get_nothing_from_any_staff_command_or_button(scene: Scene, standin: BotApiStandIn, catalog: Catalog) -> None:
    bot, group = scene.bot, scene.bot.group
    sam = bot.staff(standin.new_user("Sam"))  # never a member
    kim = bot.staff(standin.new_user("Kim"))
    standin.add_member(group, kim.user, "kicked")  # a former member
    codec = CallbackCodec.from_token(standin.token)
    people = (scene.asha.user.id, scene.ravi.user.id)
    before = snapshot(bot.database, people)
    group_events = len(bot.index.of(group.id))
    person_events = {p: len(bot.index.of(p)) for p in people}
    member_checks = len(standin.calls_of("getChatMember"))

    buttons = [
        (message, label, payload)
        for message in (scene.card, scene.picker, scene.listing, scene.opened_note, scene.alert)
        for label, payload in decoded(codec, message, group.id)
    ]
    pressed_actions = {payload.split(":")[1] for _, _, payload in buttons}
    assert set(STAFF_ACTIONS) <= pressed_actions, f"every staff action is on some button: {sorted(set(STAFF_ACTIONS) - pressed_actions)}"
    forged = [
        "staff:confirm:1",
        f"staff:confirm:{scene.booking_id}|AAAAAAAAAAAA",
        codec.encode(f"staff:confirm:{scene.booking_id}", scene.asha.user.id),  # signed for a person, not the group
        codec.encode(f"staff:close:{scene.booking_id}", group.id),  # properly signed, never shown: still not staff
        codec.encode(f"staff:open:{scene.ravi.user.id}", group.id),
        codec.encode(f"staff:hclose:{scene.asha.user.id}", group.id),
    ]
    tries = 0
    for stranger in (sam, kim):
        for command in STAFF_COMMANDS:
            for text in (f"/{command}", f"/{command}@{standin.bot_username}"):
                await stranger.says(text)
                await stranger.says(text, thread_id=scene.topic)
                await stranger.says(text, reply_to=scene.relayed)
                tries += 3
        await stranger.says("Hi Asha, I'm from the centre", thread_id=scene.topic)
        await stranger.says("Tell me more", reply_to=scene.relayed)
        for message, label, _ in buttons:
            await stranger.presses(label, on=message)
        for data in forged:
            await stranger.presses_data(data, on=scene.card)
        tries += 2 + len(buttons) + len(forged)
    await bot.outbox_settled()

    assert len(bot.index.of(group.id)) == group_events, "nothing shown or edited in the staff group"
    assert {p: len(bot.index.of(p)) for p in people} == person_events, "nobody was told anything"
    assert snapshot(bot.database, people) == before, "nothing changed"
    for stranger in (sam, kim):
        answers = [standin.answered_queries[q] for q in stranger.queries]
        assert len(answers) == len(stranger.queries) and all("text" not in a for a in answers), "no notice on any button"
    assert len(standin.calls_of("getChatMember")) > member_checks, "membership was asked of Telegram"
    print(f"\naccess: {tries} staff commands and buttons tried by non-members ({len(STAFF_COMMANDS)} commands, {len(STAFF_ACTIONS)} actions): nothing happened")


async def test_staff_commands_and_buttons_in_a_private_chat_reveal_nothing(scene: Scene, standin: BotApiStandIn, catalog: Catalog) -> None:
    bot = scene.bot
    sam = bot.person(standin.new_user("Sam"))
    codec = CallbackCodec.from_token(standin.token)
    people = (scene.asha.user.id, scene.ravi.user.id)
    before = snapshot(bot.database, people)
    group_events = len(bot.index.of(bot.group.id))
    forbidden = staff_words(catalog)
    await sam.says("/start")
    for someone in (sam, scene.asha):
        mark = len(someone.texts())
        for command in STAFF_COMMANDS:
            await someone.says(f"/{command}")
            assert not any(k.startswith("staff") for k in keys(bot.engine.last_turn(someone.user.id)))
        menu = someone.shown()[-1]
        for action in STAFF_ACTIONS:
            target = scene.asha.user.id if action in {"open", "hclose"} else scene.booking_id
            # Signed for this very chat with the bot's own key: the engine still never acts on a staff payload.
            await someone.presses_data(codec.encode(f"staff:{action}:{target}", someone.user.id), on=menu)
            assert keys(bot.engine.last_turn(someone.user.id)) == ["text.button_expired"]
        seen = someone.texts()[mark:]
        leaked = [(word, text[:60]) for text in seen for word in forbidden if word in text]
        assert leaked == [], f"staff data in {someone.user.first_name}'s chat"
    await bot.outbox_settled()
    after = snapshot(bot.database, people)
    after["sessions"] = [row for row in after["sessions"] if row[0] != scene.asha.user.id]
    before["sessions"] = [row for row in before["sessions"] if row[0] != scene.asha.user.id]
    assert after == before, "nothing changed"
    assert len(bot.index.of(bot.group.id)) == group_events, "the staff group heard nothing of it"

    friends = standin.add_group("Friends")
    outsider = StaffActor(standin, bot.tracker, sam.user, friends, bot.index)
    for command in STAFF_COMMANDS:
        await outsider.says(f"/{command}")
    (notice,) = bot.index.of(friends.id)
    assert "only talk one to one" in notice.text, "another group gets the one notice, never staff data"


async def test_the_staff_menu_is_registered_for_the_staff_group_only(scene: Scene, standin: BotApiStandIn) -> None:
    staff_menu = [name for name, _ in menu(DECLARED_STAFF_COMMANDS)]
    assert [c["command"] for c in standin.chat_commands[scene.bot.group.id]] == staff_menu
    assert [c["command"] for c in standin.commands] == [name for name, _ in menu(PERSON_COMMANDS)]


async def test_members_and_configured_admins_can(scene: Scene, standin: BotApiStandIn) -> None:
    bot, meera, asha = scene.bot, scene.meera, scene.asha
    omar = StaffActor(standin, bot.tracker, ADMIN, bot.group, bot.index)

    assert (await meera.says("/stats"))[-1].text.startswith("Last 7 days")
    assert (await meera.says("/unanswered"))[-1].text
    assert "/bookings" in (await meera.says("/help"))[-1].text
    assert f"#{scene.booking_id}" in (await omar.says("/bookings"))[-1].text

    await omar.presses("✅ Confirm session", on=scene.card)
    with closing_db(bot.database) as db:
        (status,) = db.execute("SELECT status FROM bookings WHERE id = ?", (scene.booking_id,)).fetchone()
    assert status == "confirmed"
    await until(lambda: asha.sees(lambda t: t.startswith("Your session is confirmed")), what="Asha told")

    await meera.says("I'm here with you, Asha.", thread_id=scene.topic)
    await until(lambda: asha.sees(lambda t: t.endswith("I'm here with you, Asha.")), what="the staff reply")
    banned = await meera.says("/ban", reply_to=scene.relayed)
    assert "is blocked" in banned[-1].text
    await asha.says("/human")
    assert keys(bot.engine.last_turn(asha.user.id)) == ["text.handoff_blocked"], "staff's ban took effect"
    unbanned = await meera.says("/unban", thread_id=scene.topic)
    assert "is unblocked" in unbanned[-1].text

    standin.add_member(bot.group, meera.user, "left")  # Meera left the staff group: from now on she is a stranger
    events = len(bot.index.of(bot.group.id))
    await meera.says("/stats")
    await meera.presses("Open a handoff", on=scene.alert)
    assert len(bot.index.of(bot.group.id)) == events
    with closing_db(bot.database) as db:
        assert db.execute("SELECT COUNT(*) FROM handoffs WHERE user_id = ?", (scene.ravi.user.id,)).fetchone() == (0,)
    await omar.presses("Open a handoff", on=scene.alert)
    await until(lambda: scene.ravi.sees(lambda t: t.startswith("Someone from the centre's team would like to talk")), what="Ravi told")
