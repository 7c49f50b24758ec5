"""The bot process is SIGKILLed under load and started again on the same database.

`python -m bot run` runs as a real process against the Bot API stand-in. What a person was
told is done stays done (a confirmed booking request and its staff card, a journal
entry, a message to staff still waiting in the outbox), people carry on where they were
(a button pressed while the bot was down works after the restart), and the updates
Telegram still holds are handled once. Telegram's rule: getUpdates with an offset
confirms everything before it, so an update the bot fetched but had not confirmed when
it died is delivered again, and must not be acted on twice.

A message is kept in the bot's inbox before Telegram is told it arrived, and marked handled
when its handling ends: an update the bot had received is handled after a restart, and
the one a person had in handling at the instant of the kill is handled again (a message
to staff may reach them twice; bookings and flows refuse to act twice on their own).

Run with `-s` for the figures.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.app import build_engine
from bot.catalog.loader import Catalog
from bot.storage.inbox_store import InboxStore
from tests.botapi_standin import Fault, Shown, TgUser
from tests.load_process import BotProcess, HoldingStandIn, bot_environment, user_hash
from tests.load_support import CARD_PREFIX, EventIndex, closing_db, database_problems, find_shown, flow_steps, staff_cards_sent
from tests.telegram_helpers import RecordingEngine, expected_texts, make_settings, running_bot

SLOT_LABEL = re.compile(r" · \d{1,2}:\d{2}")
FAQ = (
    "what does micro cheating mean",
    "how can i trust my partner again",
    "is liking someone's photos cheating",
    "can a relationship heal after this",
    "why does he hide his phone",
    "is it normal to feel jealous",
)
STEP_TIMEOUT = 30.0


@pytest.fixture
async def holding(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[HoldingStandIn]:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    async with HoldingStandIn() as server:
        yield server


@dataclass
class Remote:
    """A person talking to the bot process: each action waits for what should come back."""

    standin: HoldingStandIn
    index: EventIndex
    user: TgUser

    async def _after(self, act: Callable[[], object], label: str | None, text: str | None) -> list[Shown]:
        chat = self.user.id
        mark = len(self.index.of(chat))
        act()

        def arrived() -> bool:
            new = self.index.of(chat)[mark:]
            return any((label is None or label in e.labels or (label == "<slot>" and any(SLOT_LABEL.search(b) for b in e.labels)))
                       and (text is None or text in e.text) for e in new)

        await self.standin.wait_until(arrived, timeout=STEP_TIMEOUT)
        return self.index.of(chat)[mark:]

    async def says(self, words: str, *, label: str | None = None, text: str | None = None) -> list[Shown]:
        return await self._after(lambda: self.standin.user_sends(self.user, words), label, text)

    async def presses(self, button: str, *, label: str | None = None, text: str | None = None, on: Shown | None = None) -> list[Shown]:
        target = on or self.message_with(button)
        return await self._after(lambda: self.standin.user_presses(self.user, target, button), label, text)

    def message_with(self, label: str) -> Shown:
        for message in reversed(self.standin.shown(self.user.id)):
            if label in message.labels:
                return message
        raise AssertionError(f"{self.user.first_name}: no {label!r} button")

    def texts(self) -> list[str]:
        return [e.text for e in self.index.of(self.user.id)]


async def book_to_summary(person: Remote, note: str) -> None:
    await person.says("/start", text="What would help right now?")
    await person.says("/book", label="Just for me")
    await person.presses("Just for me", label="Online (video call)")
    shown = await person.presses("Online (video call)", label="<slot>")
    offered = next(s for s in reversed(shown) if any(SLOT_LABEL.search(b) for b in s.labels))
    await person.presses(next(b for b in offered.labels if SLOT_LABEL.search(b)), label="Here on Telegram", on=offered)
    await person.presses("Here on Telegram", label="Skip")
    await person.says(note, label="✅ Confirm and send")


async def reflect_to_feelings(person: Remote) -> None:
    await person.says("/start", text="What would help right now?")
    await person.says("/reflect", label="Something else")
    await person.presses("Flirting with a friend or an ex", label="Done ✓")


async def reflect_to_end(person: Remote) -> None:
    await person.presses("Hurt", label="✓ Hurt")
    await person.presses("Done ✓", label="3")
    await person.presses("3", label="To be heard")
    await person.presses("To be heard", label="📓 Save to my journal")


async def open_chat(person: Remote, first: str) -> None:
    await person.says("/start", text="What would help right now?")
    await person.says("/human", label="Yes, connect me")
    await person.presses("Yes, connect me", label="End the chat with the team")
    await person.says(first, text="Sent to the team")


def relayed_texts(database: Path) -> Counter[str]:
    """What people wrote to staff, as queued in the outbox (one row per handled message)."""
    with closing_db(database) as db:
        rows = db.execute(
            "SELECT json_extract(payload, '$.reply.text') FROM outbox WHERE json_extract(payload, '$.kind') = 'handoff_relay'"
        ).fetchall()
    return Counter(str(text).split("\n", 1)[1] for (text,) in rows)


def turns_of(database: Path, token: str, user_ids: list[int]) -> dict[int, int]:
    """How many turns the bot recorded per person (one per handled update)."""
    with closing_db(database) as db:
        counts = dict(db.execute("SELECT user_hash, COUNT(*) FROM turns GROUP BY user_hash").fetchall())
    return {uid: int(counts.get(user_hash(token, uid), 0)) for uid in user_ids}


async def quiet(standin: HoldingStandIn, database: Path, seconds: float = 1.5, timeout: float = 60.0) -> None:
    """Wait until Telegram holds nothing unconfirmed and the bot has stopped writing for a while."""
    await standin.wait_until(lambda: standin.confirmed_below > standin.last_update_id, timeout=timeout)
    deadline = time.monotonic() + timeout
    last: tuple[int, int] | None = None
    still_since = time.monotonic()
    while time.monotonic() < deadline:
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with closing_db(database) as db:
            (turns,) = db.execute("SELECT COUNT(*) FROM turns").fetchone()
            (due,) = db.execute("SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL AND next_attempt_at <= ?", (now,)).fetchone()
        state = (int(turns), int(due))
        if state != last:
            last, still_since = state, time.monotonic()
        elif due == 0 and time.monotonic() - still_since >= seconds:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the bot never went quiet: {last}")


async def test_updates_received_but_not_handled_are_handled_at_the_next_start(holding: HoldingStandIn, tmp_path: Path) -> None:
    standin = holding
    settings = make_settings(standin, tmp_path)
    asha = standin.new_user("Asha")
    standin.user_sends(asha, "/start")
    standin.user_sends(asha, "what does micro cheating mean")
    # The last run stored both in its inbox and confirmed them to Telegram, then died before handling them.
    confirmed = standin.confirm_all()
    engine = build_engine(settings)
    await engine.start()
    for update in confirmed:
        assert await InboxStore(engine.store).receive(int(update["update_id"]), json.dumps(update))
    await engine.close()

    recorder = RecordingEngine(build_engine(settings))
    async with running_bot(settings, recorder):
        await standin.wait_until(lambda: len(recorder.turns.get(asha.id, [])) == 2, timeout=STEP_TIMEOUT)
        await asyncio.sleep(0.2)
    assert [e.text for e in standin.events_in(asha.id)] == expected_texts(recorder.replies(asha.id)), "answered, in order"
    assert "answer.what_is_micro_cheating" in [r.key for r in recorder.replies(asha.id)]
    with closing_db(settings.database_path) as db:
        assert db.execute("SELECT COUNT(*) FROM inbox WHERE handled_at IS NULL OR body IS NOT NULL").fetchone() == (0,)


async def test_a_kill_under_load_loses_nothing_accepted_and_everyone_carries_on(
    holding: HoldingStandIn, tmp_path: Path, catalog: Catalog
) -> None:
    standin = holding
    group = standin.add_group("Alumaura staff", forum=True)
    standin.add_member(group, standin.new_user("Meera"))
    database = tmp_path / "bot.sqlite3"
    env = bot_environment(standin, database, group.id)
    index = EventIndex(standin)
    first, second = BotProcess(standin, env, tmp_path, "first"), BotProcess(standin, env, tmp_path, "second")

    def remote(name: str) -> Remote:
        return Remote(standin, index, standin.new_user(name))

    booker, reflector, midway, talker = remote("Bina"), remote("Rhea"), remote("Mira"), remote("Tara")
    talkers = [remote(f"T{i:02d}") for i in range(20)]
    askers = [remote(f"Q{i:02d}") for i in range(20)]
    await first.start()
    try:
        # Done before the kill, and told so.
        await book_to_summary(booker, "note tokbooker")
        await booker.presses("✅ Confirm and send", text="safely with the centre")
        await reflect_to_feelings(reflector)
        await reflect_to_end(reflector)
        await reflector.presses("📓 Save to my journal", text="Saved to your private journal")
        await reflect_to_feelings(midway)
        await midway.presses("Hurt", label="✓ Hurt")
        await open_chat(talker, "first words toktalker")
        await asyncio.gather(*(open_chat(t, f"load {t.user.id}-0") for t in talkers), *(a.says("/start", text="What would help") for a in askers))
        await standin.wait_until(lambda: find_shown(standin, group.id, lambda t: t.endswith("first words toktalker")) is not None, timeout=STEP_TIMEOUT)
        await standin.wait_until(lambda: any(t.startswith(CARD_PREFIX) for t in (m.text for m in standin.shown(group.id))), timeout=STEP_TIMEOUT)

        # The staff group is slow to accept: the talker's next message is stored, waiting in the outbox.
        await quiet(standin, database, seconds=0.5)
        standin.hold(group.id)
        standin.user_sends(talker.user, "second words toktalker")
        await standin.wait_until(lambda: any(t.endswith("second words toktalker") for t in standin.holding), timeout=STEP_TIMEOUT)

        # Load: everyone writes at once, without waiting for answers; the bot dies in the middle of it.
        sent: dict[int, tuple[Remote, str]] = {}
        rounds, interval = 12, 0.15

        async def load(start: int, stop: int) -> None:
            for n in range(start, stop):
                for t in talkers:
                    standin.user_sends(t.user, f"load {t.user.id}-{n}")
                    sent[standin.last_update_id] = (t, f"load {t.user.id}-{n}")
                for i, a in enumerate(askers):
                    standin.user_sends(a.user, FAQ[(i + n) % len(FAQ)])
                    sent[standin.last_update_id] = (a, FAQ[(i + n) % len(FAQ)])
                await asyncio.sleep(interval)

        standin.private_delay = 0.3
        await load(1, rounds // 2)
        first.kill()
        await first.wait()
        confirmed_at_kill, last_before_kill = standin.confirmed_below, standin.last_update_id
        standin.private_delay = 0.0
        # While the bot is down, people keep writing, and Mira presses the next button of her reflection.
        await load(rounds // 2, rounds)
        done = midway.message_with("Done ✓")
        standin.user_presses(midway.user, done, "Done ✓")
        standin.abandon()

        restarted = time.perf_counter()
        await second.start()
        await standin.wait_until(lambda: any("3" in e.labels for e in index.of(midway.user.id)[-2:]), timeout=STEP_TIMEOUT)
        await quiet(standin, database)
        recovered = time.perf_counter() - restarted
        # Mira carries on to the end of her reflection, and saves it.
        await midway.presses("3", label="To be heard")
        await midway.presses("To be heard", label="📓 Save to my journal")
        await midway.presses("📓 Save to my journal", text="Saved to your private journal")
        await quiet(standin, database)
        assert await second.stop() == 0, second.log_text()[-2000:]
    finally:
        for process in (first, second):
            if process.process is not None and not process.exited:
                process.kill()
                await process.wait()

    # Nothing the bot had taken on was lost.
    with closing_db(database) as db:
        bookings = db.execute("SELECT user_id, status, note FROM bookings").fetchall()
        journal = db.execute("SELECT user_id FROM journal_entries ORDER BY user_id").fetchall()
    assert bookings == [(booker.user.id, "requested", "note tokbooker")]
    assert staff_cards_sent(standin, group) == Counter({f"{CARD_PREFIX}1": 1}), "the card went to staff once"
    assert journal == sorted([(reflector.user.id,), (midway.user.id,)])
    staff_texts = [e.text for e in index.of(group.id) if e.kind == "sent"]
    for words in ("first words toktalker", "second words toktalker"):
        assert sum(t.endswith(words) for t in staff_texts) == 1, f"{words!r} reached staff once, after the restart"

    # The load. Each update is handled once: before the kill, or after it from the inbox (received and
    # confirmed to Telegram, not yet handled) or from Telegram (never confirmed). The one update a person
    # had in handling at the instant of the kill is handled again: at most one repeat per person, none lost.
    relayed = relayed_texts(database)
    turns = turns_of(database, standin.token, [a.user.id for a in askers])
    asked = Counter(a.user.id for a, _ in sent.values() if a in askers)
    assert all(asked[uid] <= turns[uid] - 1 <= asked[uid] + 1 for uid in turns), "every question answered, at most one twice"
    missing = [words for person, words in sent.values() if person in talkers and relayed[words] == 0]
    assert missing == [], "every message to staff was relayed"
    while_down = [words for update_id, (person, words) in sent.items() if update_id > last_before_kill and person in talkers]
    assert while_down and all(relayed[words] == 1 for words in while_down), "what was written while the bot was down, once"
    repeats = Counter(words.split("-")[0] for words, count in relayed.items() if count > 1)
    assert all(count <= 1 for count in repeats.values()), f"more than the message in handling was repeated: {repeats}"
    staff_seen = Counter(t.split("\n", 1)[1] for t in staff_texts if "\n" in t)
    assert all(staff_seen[words] == count for words, count in relayed.items()), "staff got each relay as queued"
    replayed = re.search(r"inbox replayed=(\d+)", second.log_text())
    assert database_problems(database, flow_steps(catalog)) == []
    print(
        f"\nkill under load: {len(sent)} updates sent ({len(sent) - len([u for u in sent if u < confirmed_at_kill])} still with Telegram at the kill), "
        f"{replayed.group(1) if replayed else 0} received but not yet handled, replayed from the inbox; "
        f"{len(relayed) - 2} handoff messages relayed, none lost, {sum(repeats.values())} in handling at the kill relayed again; "
        f"back and caught up {recovered:.1f}s after the restart"
    )


async def test_updates_fetched_but_not_confirmed_at_the_kill_are_handled_once(
    holding: HoldingStandIn, tmp_path: Path, catalog: Catalog
) -> None:
    standin = holding
    group = standin.add_group("Alumaura staff", forum=True)
    database = tmp_path / "bot.sqlite3"
    env = bot_environment(standin, database, group.id)
    index = EventIndex(standin)
    first, second = BotProcess(standin, env, tmp_path, "first"), BotProcess(standin, env, tmp_path, "second")

    def remote(name: str) -> Remote:
        return Remote(standin, index, standin.new_user(name))

    booker, saver, talker, typist, asker = remote("Bina"), remote("Rhea"), remote("Tara"), remote("Yash"), remote("Qadir")
    await first.start()
    try:
        await book_to_summary(booker, "note tokbooker")
        await reflect_to_feelings(saver)
        await reflect_to_end(saver)
        await open_chat(talker, "first words toktalker")
        await typist.says("/start", text="What would help right now?")
        await typist.says("/reflect", label="Something else")
        await typist.presses("Something else", text="In a few words")
        await asker.says("/start", text="What would help right now?")
        await standin.wait_until(lambda: standin.polling, timeout=STEP_TIMEOUT)

        # One batch: the bot handles it, but cannot confirm it (Telegram answers its next poll with a flood wait).
        standin.faults.then("getUpdates", Fault.flood(8))
        mark = {p.user.id: len(index.of(p.user.id)) for p in (booker, saver, talker, typist, asker)}
        standin.user_presses(booker.user, booker.message_with("✅ Confirm and send"), "✅ Confirm and send")
        standin.user_presses(saver.user, saver.message_with("📓 Save to my journal"), "📓 Save to my journal")
        standin.user_sends(talker.user, "again toktalker")
        standin.user_sends(typist.user, "tokyash at the party")
        standin.user_sends(asker.user, "what does micro cheating mean")
        batch = list(range(standin.last_update_id - 4, standin.last_update_id + 1))

        def answered() -> bool:
            seen = {p.user.id: [e.text for e in index.of(p.user.id)[mark[p.user.id]:]] for p in (booker, saver, typist, asker)}
            return (
                any("safely with the centre" in t for t in seen[booker.user.id])
                and any(t.startswith("Saved to your private journal") for t in seen[saver.user.id])
                and any(t.startswith("How does it make you feel") for t in seen[typist.user.id])
                and bool(seen[asker.user.id])
                and relayed_texts(database)["again toktalker"] == 1
            )

        await standin.wait_until(answered, timeout=STEP_TIMEOUT)
        await asyncio.sleep(0.5)  # let the last reply of each turn go out
        assert standin.confirmed_below <= min(batch), "the batch is handled but not confirmed"
        first.kill()
        await first.wait()
        standin.faults.script.clear()
        before = {p.user.id: [e.text for e in index.of(p.user.id)] for p in (booker, saver, talker, typist, asker)}

        await second.start()
        await quiet(standin, database)
        assert all(standin.fetched[u] == 2 for u in batch), "Telegram delivered the batch again"
        assert await second.stop() == 0, second.log_text()[-2000:]
    finally:
        for process in (first, second):
            if process.process is not None and not process.exited:
                process.kill()
                await process.wait()

    after = {p.user.id: [e.text for e in index.of(p.user.id)] for p in (booker, saver, talker, typist, asker)}
    again = {uid: [t[:60] for t in texts[len(before[uid]):]] for uid, texts in after.items() if texts != before[uid]}
    with closing_db(database) as db:
        assert db.execute("SELECT status FROM bookings").fetchall() == [("requested",)], "booked once"
        assert db.execute("SELECT COUNT(*) FROM journal_entries").fetchone() == (1,), "saved once"
    assert relayed_texts(database)["again toktalker"] == 1, "relayed to staff once"
    assert again == {}, "nobody got a second answer to the same message"
    assert staff_cards_sent(standin, group) == Counter({f"{CARD_PREFIX}1": 1})
    assert database_problems(database, flow_steps(catalog)) == []
