"""Hundreds of people at once, each in a different flow, through the real Application and the stand-in.

Everyone runs a whole conversation concurrently with everyone else: FAQ questions, the
reflection to its end and into the journal, the signs self-check, a booking to the
centre's confirmation (all bookers first reach for the same slot at the same moment), and
a chat with a person on staff who answers in the person's forum topic. Afterwards:
every update was handled once; each person saw exactly the engine's replies to them plus
what was queued for them, nothing twice and nothing of anyone else's (each person's own
words carry a unique token); staff got each booking card once; and the database holds
no double-held slot, no lost booking or journal entry, and no orphaned state.

Run with `-s` for the figures; `--heavy` adds a run with more people.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.catalog.loader import Catalog
from tests.botapi_standin import BotApiStandIn, Shown
from tests.load_support import (
    CARD_PREFIX,
    Actor,
    StaffActor,
    StaffedBot,
    closing_db,
    database_problems,
    find_shown,
    flow_steps,
    outbox_texts_to,
    reply_problems,
    staff_cards_sent,
    staffed_bot,
    until,
)
from tests.telegram_helpers import expected_texts, standin  # noqa: F401 - the fixture

FAQ_QUESTIONS = (
    "what does micro cheating mean",
    "how can i trust my partner again",
    "is liking someone's photos cheating",
    "can a relationship heal after this",
    "why does he hide his phone",
)
TOKEN = re.compile(r"tok\d{6}")
SLOT_LABEL = re.compile(r" · \d{1,2}:\d{2}")
SLOT_TAKEN = "I'm sorry, that time was just taken"
KINDS = ("faq", "reflection", "signs", "booking", "handoff")
STAFF_NAMES = ("Meera", "Kabir", "Sita")


def token_of(user_id: int) -> str:
    """A phrase only this person ever writes: it must never show up in anyone else's chat."""
    return f"tok{user_id:06d}"


@dataclass
class Run:
    """One load run: the bot, its staff, and what the bookers met on the way."""

    bot: StaffedBot
    staff: list[StaffActor]
    booking_gate: asyncio.Barrier
    slot_races_lost: int = 0
    done: Counter[str] = field(default_factory=Counter)

    def staff_for(self, index: int) -> StaffActor:
        return self.staff[index % len(self.staff)]


def newest_text(shown: list[Shown]) -> str:
    assert shown, "the bot answered"
    return shown[-1].text


async def faq(run: Run, person: Actor, index: int) -> None:
    await person.says("/start")
    for step in range(3):
        shown = await person.says(FAQ_QUESTIONS[(index + step) % len(FAQ_QUESTIONS)])
        assert shown and shown[-1].labels, "an answer, with next steps under it"
    assert await person.says("/privacy")


async def reflection(run: Run, person: Actor, index: int) -> None:
    mine = token_of(person.user.id)
    await person.says("/start")
    await person.says("/reflect")
    await person.presses("Something else")
    await person.says(f"{mine} at the party")
    await person.presses("Hurt")
    await person.presses("Anxious")
    await person.presses("Done ✓")
    await person.presses(str(1 + index % 5))
    summary = await person.presses("To be heard")
    assert any(mine in shown.text for shown in summary), "the summary is in the person's own words"
    saved = await person.presses("📓 Save to my journal")
    assert newest_text(saved).startswith("Saved to your private journal")


async def signs(run: Run, person: Actor, index: int) -> None:
    recognised = 1 + index % 12
    await person.says("/start")
    await person.says("/signs")
    await person.presses("Let's start")
    shown: list[Shown] = []
    for number in range(12):
        shown = await person.presses("Yes" if number < recognised else "No")
    assert any(f"You recognised {recognised} of the 12 patterns" in s.text for s in shown), "their own count, not someone else's"


def slot_labels(message: Shown) -> list[str]:
    return [label for label in message.labels if SLOT_LABEL.search(label)]


async def booking(run: Run, person: Actor, index: int) -> None:
    mine = token_of(person.user.id)
    await person.says("/start")
    await person.says("/book")
    await person.presses("Just for me")
    shown = await person.presses("Online (video call)")
    # Every booker reaches for the same first slot at the same moment.
    await asyncio.wait_for(run.booking_gate.wait(), 120)
    chooser = random.Random(person.user.id)
    for attempt in range(30):
        offered = next(s for s in reversed(shown) if slot_labels(s))
        labels = slot_labels(offered)
        shown = await person.presses(labels[0] if attempt == 0 else chooser.choice(labels), on=offered)
        if not any(s.text.startswith(SLOT_TAKEN) for s in shown):
            break
        run.slot_races_lost += 1
    else:
        raise AssertionError(f"{person.user.first_name} never got a slot")
    await person.presses("Here on Telegram")
    summary = await person.says(f"note {mine}")
    assert mine in newest_text(summary)
    received = await person.presses("✅ Confirm and send")
    assert newest_text(received).startswith("Your request is safely with the centre")

    group = run.bot.group
    standin = run.bot.standin

    def my_card() -> Shown | None:
        return find_shown(standin, group.id, lambda text: text.startswith(CARD_PREFIX) and mine in text)

    await until(lambda: my_card() is not None, what=f"the booking card of {mine}")
    card = my_card()
    assert card is not None
    await run.staff_for(index).presses("✅ Confirm session", on=card)
    await until(lambda: person.sees(lambda t: t.startswith("Your session is confirmed")), what="the confirmation")


async def handoff(run: Run, person: Actor, index: int) -> None:
    mine = token_of(person.user.id)
    standin, group = run.bot.standin, run.bot.group
    await person.says("/start")
    await person.says("/human")
    await person.presses("Yes, connect me")
    ack = await person.says(f"help {mine}")
    assert newest_text(ack).startswith("Sent to the team")

    def relayed() -> Shown | None:
        return find_shown(standin, group.id, lambda text: text.endswith(f"help {mine}"))

    await until(lambda: relayed() is not None, what=f"the relay of {mine}")
    message = relayed()
    assert message is not None and message.thread_id is not None, "relayed into the person's own topic"
    await run.staff_for(index).says(f"reply {mine}", thread_id=message.thread_id)
    await until(lambda: person.sees(lambda t: t == f"💬 The centre's team:\nreply {mine}"), what="the staff reply")
    ended = await person.presses("End the chat with the team")
    assert newest_text(ended).startswith("Okay, I've closed the chat")


SCENARIOS: dict[str, Callable[[Run, Actor, int], Awaitable[None]]] = {
    "faq": faq,
    "reflection": reflection,
    "signs": signs,
    "booking": booking,
    "handoff": handoff,
}


async def run_load(standin: BotApiStandIn, tmp_path: Path, catalog: Catalog, users: int) -> None:
    async with staffed_bot(standin, tmp_path, catalog) as bot:
        staff = [bot.staff(standin.new_user(name)) for name in STAFF_NAMES]
        for member in staff:
            standin.add_member(bot.group, member.user)
        people = [bot.person(standin.new_user(f"P{i:04d}")) for i in range(users)]
        kinds = [KINDS[i % len(KINDS)] for i in range(users)]
        run = Run(bot, staff, asyncio.Barrier(kinds.count("booking")))
        started = time.perf_counter()

        async def converse(index: int) -> None:
            await SCENARIOS[kinds[index]](run, people[index], index)
            run.done[kinds[index]] += 1

        outcomes = await asyncio.gather(*(converse(i) for i in range(users)), return_exceptions=True)
        failures = [(kinds[i], repr(o)) for i, o in enumerate(outcomes) if isinstance(o, BaseException)]
        assert not failures, f"{len(failures)} conversations failed, e.g. {failures[:3]}"
        assert run.done == Counter(kinds), "every conversation went to its end"
        await bot.outbox_settled()
        elapsed = time.perf_counter() - started

        # Every update was handled, once.
        updates = [u for actor in [*people, *staff] for u in actor.updates]
        assert len(set(updates)) == len(updates) and set(bot.tracker.finished) == set(updates)
        assert {u: n for u, n in bot.tracker.finished.items() if n != 1} == {}
        # Every press stopped spinning.
        pressed = [q for actor in [*people, *staff] for q in actor.queries]
        assert all(q in standin.answered_queries for q in pressed)

        # Each person saw exactly their own replies, once, in order, plus what was queued for them.
        replies = 0
        for someone in people:
            shown = someone.texts()
            direct = expected_texts(bot.engine.replies(someone.user.id))
            problems = reply_problems(shown, direct, outbox_texts_to(bot.database, someone.user.id))
            assert problems == [], f"{someone.user.first_name}: {problems}"
            foreign = set(TOKEN.findall(" ".join(shown))) - {token_of(someone.user.id)}
            assert not foreign, f"{someone.user.first_name} saw someone else's words: {foreign}"
            replies += len(shown)

        # Staff: each card once, each topic about one person only.
        cards = staff_cards_sent(standin, bot.group)
        assert len(cards) == kinds.count("booking") and set(cards.values()) == {1}, cards
        by_topic: dict[int | None, set[str]] = {}
        for message in standin.shown(bot.group.id):
            found = set(TOKEN.findall(message.text))
            assert len(found) <= 1, f"one staff message about two people: {message.text[:80]}"
            by_topic.setdefault(message.thread_id, set()).update(found)
        assert all(len(tokens) == 1 for thread, tokens in by_topic.items() if thread is not None)

        problems = database_problems(bot.database, flow_steps(catalog))
        assert problems == []
        with closing_db(bot.database) as db:
            bookings = db.execute("SELECT user_id, status, note FROM bookings").fetchall()
            journal = db.execute("SELECT user_id, body FROM journal_entries").fetchall()
            chats = db.execute("SELECT user_id, status, person_messages, staff_messages FROM handoffs").fetchall()
        bookers = {p.user.id for p, k in zip(people, kinds) if k == "booking"}
        assert sorted((u, s, n) for u, s, n in bookings) == sorted((u, "confirmed", f"note {token_of(u)}") for u in bookers)
        reflectors = {p.user.id for p, k in zip(people, kinds) if k == "reflection"}
        assert sorted(u for u, _ in journal) == sorted(reflectors), "one journal entry per reflection, no more"
        assert all(token_of(u) in bytes(body).decode("utf-8", "replace") for u, body in journal)
        talkers = {p.user.id for p, k in zip(people, kinds) if k == "handoff"}
        assert sorted(chats) == sorted((u, "closed", 1, 1) for u in talkers)

    turns = len(updates)
    print(
        f"\nload flows: {users} people ({dict(Counter(kinds))}) + {len(staff)} staff: {turns} updates, "
        f"{replies} messages to people, {len(bot.index.of(bot.group.id))} to staff, "
        f"in {elapsed:.1f}s = {turns / elapsed:.0f} updates/s, {(replies) / elapsed:.0f} replies/s; "
        f"{run.slot_races_lost} slot races lost and retried; all arrived once, to the right person"
    )


async def test_two_hundred_people_in_five_flows_at_once(standin: BotApiStandIn, tmp_path: Path, catalog: Catalog) -> None:
    await run_load(standin, tmp_path, catalog, users=200)


@pytest.mark.heavy
async def test_six_hundred_people_in_five_flows_at_once(standin: BotApiStandIn, tmp_path: Path, catalog: Catalog) -> None:
    await run_load(standin, tmp_path, catalog, users=600)
