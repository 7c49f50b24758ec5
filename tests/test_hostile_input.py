"""Hostile input: whatever a person types or whatever button data arrives, the engine answers
kindly within Telegram's limits, and never touches what belongs to someone else.

Property-based (hypothesis): random conversations mixing arbitrary text (huge, empty,
control and invisible characters, right-to-left marks, emoji only, other scripts), forged
button data and real button presses, so the hostile input lands mid-flow, after /start and
after a crisis. One engine per test (on a tmp database), a fresh person per example.
The `heavy` variants run many more examples (`pytest --heavy`). As the engine is shared,
hypothesis may report a failure as FlakyFailure (a replay meets other state, e.g. a slot now
held by an earlier person); the falsifying conversation is printed either way.

Then SQL-like and markup-like words typed into a reflection and saved to the journal come
back exactly as typed, the database keeps all its tables, and a `{centre_name}` typed by a
person is never filled in (no template injection).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import build_engine
from bot.catalog.loader import Catalog
from bot.engine.core import Engine
from bot.engine.replies import Incoming, Reply
from tests.conftest import keys, make_incoming, make_settings, press

STAFF_CHAT = -100_424_242
OWNER = 7_000_001  # the person whose journal entry others try to reach
OWNER_WORDS = "a green teapot on the windowsill"
CRISIS = "i don't want to be alive anymore"
TELEGRAM_TEXT_LIMIT = 4096
PAYLOAD_LIMIT_BYTES = 48
FAST_EXAMPLES = 150
HEAVY_EXAMPLES = 1500

# --- strategies: what people (and forgers) send ----------------------------------------------

INVISIBLE = "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff\u00a0\u2028\u2029"
CONTROL = "\x00\x01\x07\x08\x0b\x0c\x1b\x7f\r\n\t"
SCRIPTS = {
    "devanagari": (0x0900, 0x097F),
    "arabic": (0x0600, 0x06FF),
    "hebrew": (0x0590, 0x05FF),
    "cjk": (0x4E00, 0x9FFF),
    "emoji": (0x1F300, 0x1FAFF),
    "combining": (0x0300, 0x036F),
}
KNOWN_WORDS = [
    "", " ", "\n", "/start", "/menu", "/reflect", "/signs", "/journal", "/forget", "/privacy", "/stop",
    "/book", "/human", "/mybooking", "/help", "/", "/@", "/start@", "stop", "back", "done", "next",
    "skip", "yes", "other", "1", "2", "3/5", "5 out of 5", "hurt, confused and anxious", "hi",
    "what is micro cheating", "is liking photos cheating", CRISIS, "he hits me when he is drunk",
    "'); DROP TABLE sessions;--", "<b>hi</b>", "*_[]()~`", "{centre_name}", "{0}", "{", "}", "%s %d",
    "{emergency}{{}}", "\\", "\x00", "²", "①", "٣", "Ⅻ", "hurt, ²", "1" * 5_000, "3" * 4_301 + "/5",
]

script_text = st.one_of(
    *(st.text(st.characters(min_codepoint=lo, max_codepoint=hi), min_size=1, max_size=60) for lo, hi in SCRIPTS.values())
)
invisible_text = st.text(st.sampled_from(INVISIBLE + CONTROL), min_size=1, max_size=40)
odd_categories = st.text(st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me", "Co", "So"]), max_size=60)
# Characters Python calls digits that int() refuses ("²", "①"), and numbers too long for int().
digit_like = st.one_of(
    st.text(st.characters(categories=["Nd", "No", "Nl"]), min_size=1, max_size=6),
    st.integers(1, 6_000).map(lambda length: "7" * length),
)
huge_text = st.builds(
    lambda chunk, times: (chunk * times)[:20_000], st.text(min_size=1, max_size=40), st.integers(50, 2_000)
)
texts = st.one_of(
    st.sampled_from(KNOWN_WORDS),
    st.text(max_size=200),
    script_text,
    invisible_text,
    odd_categories,
    digit_like,
    huge_text,
    st.text(max_size=60).map(lambda rest: "/" + rest),
    st.lists(st.one_of(st.sampled_from(KNOWN_WORDS), script_text, invisible_text), min_size=2, max_size=4).map("".join),
)

PAYLOAD_KINDS = [
    "menu", "ask", "answer", "more", "fb", "consent", "privacy", "forget", "lines", "flow", "signs", "reflect",
    "resume", "fl", "journal", "jr", "book", "bk", "mybooking", "human", "staff", "expired",
]
PAYLOAD_ARGS = [
    "", "x", "y", "yes", "no", "go", "end", "stop", "new", "save", "open", "del", "dely", "o", "d", "s", "b", "c",
    "n", "0", "1", "99", "-1", "999999", "999999999999", "99999999999999999999", "reflection", "signs",
    "crossed_line", "noticed", "feelings", "summary", "starter", "rebuild_trust", "../..", "../../etc/passwd",
    "crisis", "unsafe_at_home", "claim", "confirm", "cancel", "cancelyes", "accept", "slot", "note", "who",
    str(OWNER), "%s", "{centre_name}", "' OR 1=1 --",
]
# Ids and times as text: small, real-looking, and too big for SQLite's 64-bit integers.
numbers = st.one_of(st.integers(-5, 10**13), st.integers(2**63 - 2, 10**40)).map(str)
forged_payloads = st.one_of(
    st.text(max_size=70),
    st.builds(
        lambda kind, args: ":".join([kind, *args]),
        st.sampled_from(PAYLOAD_KINDS),
        st.lists(st.one_of(st.sampled_from(PAYLOAD_ARGS), numbers, st.text(max_size=8)), max_size=4),
    ),
    # Shaped like the bot's own id-carrying buttons, with someone else's id or an impossible one.
    st.builds(
        lambda kind, action, number, id_first: f"{kind}:{number}:{action}" if id_first else f"{kind}:{action}:{number}",
        st.sampled_from(["jr", "bk", "mybooking", "staff"]),
        st.sampled_from(["open", "del", "dely", "confirm", "cancel", "cancelyes", "accept", "change", "claim", "who", "slot"]),
        numbers,
        st.booleans(),
    ),
    st.sampled_from(["jr:dely:999999", "fl:reflection:x:y", "answer:../../", "jr:open:0", "fl:reflection:noticed:99"]),
)


@dataclass(frozen=True)
class Step:
    """One event of a random conversation: typed text, forged button data, a real button, or odd media."""

    kind: str  # "text" | "forged" | "tap" | "owner" | "edited" | "media" | "contact"
    value: Any = None


events = st.one_of(
    st.builds(Step, st.just("text"), texts),
    st.builds(Step, st.just("forged"), forged_payloads),
    st.builds(Step, st.just("owner"), st.sampled_from(["jr:dely", "jr:del", "jr:open"])),
    st.builds(Step, st.just("edited"), texts),
    st.builds(Step, st.just("media"), st.sampled_from(["sticker", "photo", "voice", "video", "document", ""])),
    st.builds(Step, st.just("contact"), st.text(max_size=30)),
)
# Before each hostile event, a short walk over real buttons of the last replies, so the event
# lands deep in a flow, a booking or a handoff, not only at the menu.
walks = st.lists(st.integers(0, 30).map(lambda index: Step("tap", index)), max_size=5)
steps = st.builds(lambda walk, event: [*walk, event], walks, events)
conversations = st.tuples(
    st.sampled_from([(), ("/start",), (CRISIS,), ("/start", "/reflect"), ("/reflect", CRISIS), ("/book",), ("/human",)]),
    st.text(max_size=80),  # first name, as Telegram gives it
    # At most 32 events: below the flood gate (over 40 a minute pauses a person, tested on its own below).
    st.lists(steps, min_size=1, max_size=5).map(lambda parts: [step for part in parts for step in part]),
)


# --- the checks --------------------------------------------------------------------------------


def utf16_units(text: str) -> int:
    """Telegram counts message length in UTF-16 code units (an emoji is two)."""
    return len(text.encode("utf-16-le")) // 2


def assert_sendable(replies: list[Reply], what: str) -> None:
    """What a person would notice: an answer, never the crash apology, each message Telegram would accept."""
    assert replies, f"no reply to {what}"
    assert "text.internal_error" not in keys(replies), f"hidden crash on {what}"
    for reply in replies:
        assert reply.text.strip(), f"empty message {reply.key} after {what}"
        assert len(reply.text) < TELEGRAM_TEXT_LIMIT and utf16_units(reply.text) <= TELEGRAM_TEXT_LIMIT, reply.key
        for button in reply.all_buttons():
            assert button.label.strip(), f"a button without a label in {reply.key}"
            if button.url is None:
                assert 0 < len(button.payload.encode("utf-8")) <= PAYLOAD_LIMIT_BYTES, button.payload


class ErrorLog(logging.Handler):
    """Collects ERROR records: a failure the engine swallowed still fails the test."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def errors_logged() -> Iterator[ErrorLog]:
    handler = ErrorLog()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


def user_tables(db: sqlite3.Connection) -> list[str]:
    tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return [t for t in tables if any(col[1] == "user_id" for col in db.execute(f"PRAGMA table_info({t})"))]


def others_data(path: Path, user_id: int) -> dict[str, list[tuple]]:
    """Every stored row that belongs to someone other than `user_id` (read through a second connection)."""
    db = sqlite3.connect(path)
    try:
        return {
            table: sorted(map(tuple, db.execute(f"SELECT * FROM {table} WHERE user_id IS NOT NULL AND user_id != ?", (user_id,))))
            for table in user_tables(db)
        }
    finally:
        db.close()


# --- the engine under test ---------------------------------------------------------------------


async def full_engine(tmp_path: Path, catalog: Catalog) -> Engine:
    """The production wiring: journal, booking, handoff and staff tools, a staff chat configured."""
    engine = build_engine(make_settings(tmp_path, staff_chat_id=STAFF_CHAT), catalog)
    await engine.start()
    return engine


async def owner_saves_a_reflection(engine: Engine) -> int:
    """The owner walks a reflection in their own words and saves it; returns the entry id."""
    await engine.handle(make_incoming("/start", user_id=OWNER))
    await engine.handle(press("flow:reflection", user_id=OWNER))
    await engine.handle(press("fl:reflection:noticed:o", user_id=OWNER))
    if "text.safety_check_in" in keys(await engine.handle(make_incoming(OWNER_WORDS, user_id=OWNER))):
        # The safety check may ask first about any words (a gentle question is cheap); "I'm okay"
        # carries the words on into the flow, as a person would answer.
        await engine.handle(press("chk:ok", user_id=OWNER))
    for payload in ("fl:reflection:feelings:0", "fl:reflection:feelings:d", "fl:reflection:intensity:4", "fl:reflection:need:1"):
        await engine.handle(press(payload, user_id=OWNER))
    assert keys(await engine.handle(press("jr:save", user_id=OWNER))) == ["text.journal_saved"]
    listing = await engine.handle(make_incoming("/journal", user_id=OWNER))
    ids = [b.payload.split(":")[2] for r in listing for b in r.all_buttons() if b.payload.startswith("jr:open:")]
    assert len(ids) == 1
    return int(ids[0])


async def play(engine: Engine, user_id: int, conversation: tuple, entry_id: int) -> None:
    """Run one random conversation as `user_id`, checking every answer and every queued message."""
    openers, first_name, events = conversation
    last: list[Reply] = []
    for opener in openers:
        last = await engine.handle(Incoming(user_id=user_id, text=opener, first_name=first_name))
        assert_sendable(last, repr(opener))
    for step in events:
        incoming = incoming_for(step, user_id, first_name, last, entry_id)
        relayed = await relays_to_staff(engine, user_id)
        replies = await engine.handle(incoming)
        if not replies:
            # Only in a live conversation with the centre: the message went to a person, who answers it.
            assert await relays_to_staff(engine, user_id) > relayed, f"{step!r} was neither answered nor passed on"
            continue
        assert_sendable(replies, repr(step)[:200])
        assert all(OWNER_WORDS not in reply.text for reply in replies), "saw another person's words"
        last = replies
    for delivery in await engine.due_deliveries(limit=500):
        if delivery.user_id != user_id:
            continue  # someone else's queued message is theirs to receive
        assert_sendable([delivery.reply], f"queued {delivery.kind}")
        await engine.delivery_done(delivery.id)


async def relays_to_staff(engine: Engine, user_id: int) -> int:
    row = await engine.store.fetchone(
        "SELECT COUNT(*) AS n FROM outbox WHERE user_id = ? AND json_extract(payload, '$.kind') = 'handoff_relay'", (user_id,)
    )
    return int(row["n"]) if row else 0


def incoming_for(step: Step, user_id: int, first_name: str, last: list[Reply], entry_id: int) -> Incoming:
    if step.kind == "text":
        return Incoming(user_id=user_id, text=step.value, first_name=first_name)
    if step.kind == "edited":
        return Incoming(user_id=user_id, kind="edited", text=step.value, first_name=first_name)
    if step.kind == "media":
        return Incoming(user_id=user_id, kind="unsupported", media=step.value or None, first_name=first_name)
    if step.kind == "contact":
        return Incoming(user_id=user_id, kind="contact", contact_phone=step.value, first_name=first_name)
    if step.kind == "owner":
        return Incoming(user_id=user_id, kind="button", button=f"{step.value}:{entry_id}", first_name=first_name)
    if step.kind == "tap":
        real = [b.payload for r in last for b in r.all_buttons() if b.url is None]
        payload = real[step.value % len(real)] if real else "menu"
        return Incoming(user_id=user_id, kind="button", button=payload, first_name=first_name)
    return Incoming(user_id=user_id, kind="button", button=step.value, first_name=first_name)


def run_property(tmp_path: Path, catalog: Catalog, examples: int) -> None:
    """Random conversations, one fresh person each, against one engine; the owner's data stays put."""
    person_ids = itertools.count(8_000_000)
    with asyncio.Runner() as runner, errors_logged() as errors:
        engine = runner.run(full_engine(tmp_path, catalog))
        db_path = engine.store.path
        try:
            entry_id = runner.run(owner_saves_a_reflection(engine))

            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
            )
            @given(conversation=conversations)
            def conversation_holds(conversation: tuple) -> None:
                user_id = next(person_ids)
                errors.records.clear()
                before = others_data(db_path, user_id)
                runner.run(play(engine, user_id, conversation, entry_id))
                assert others_data(db_path, user_id) == before, "one person's actions changed another's data"
                assert not errors.records, [r.getMessage() for r in errors.records]

            conversation_holds()
            opened = runner.run(engine.handle(press(f"jr:open:{entry_id}", user_id=OWNER)))
            assert OWNER_WORDS in opened[0].text, "the owner's entry survived everyone else"
        finally:
            runner.run(engine.close())


def test_random_conversations_always_get_a_kind_sendable_answer(tmp_path: Path, catalog: Catalog) -> None:
    run_property(tmp_path, catalog, FAST_EXAMPLES)


@pytest.mark.heavy
def test_random_conversations_heavy(tmp_path: Path, catalog: Catalog) -> None:
    run_property(tmp_path, catalog, HEAVY_EXAMPLES)


# --- targeted: other people's data and odd data ------------------------------------------------


async def test_someone_elses_journal_entry_cannot_be_opened_or_deleted(tmp_path: Path, catalog: Catalog) -> None:
    engine = await full_engine(tmp_path, catalog)
    try:
        entry_id = await owner_saves_a_reflection(engine)
        intruder = 7_000_002
        await engine.handle(make_incoming("/start", user_id=intruder))
        for action in ("jr:open", "jr:del", "jr:dely"):
            replies = await engine.handle(press(f"{action}:{entry_id}", user_id=intruder))
            assert keys(replies) == ["text.button_expired"]
            assert all(OWNER_WORDS not in reply.text for reply in replies)
        opened = await engine.handle(press(f"jr:open:{entry_id}", user_id=OWNER))
        assert OWNER_WORDS in opened[0].text
    finally:
        await engine.close()


@pytest.mark.parametrize(
    "payload",
    ["jr:dely:999999", "fl:reflection:x:y", "answer:../../", "fl:reflection:noticed:99", "jr:open:99999999999999",
     "flow:reflection:new:extra", "resume:yes", "consent:", "x" * 49, "é" * 30, ":", "\x00"],
)
async def test_forged_button_data_mid_flow_expires_kindly_and_keeps_the_step(engine: Engine, payload: str) -> None:
    await engine.handle(make_incoming("/start"))
    await engine.handle(press("flow:reflection"))
    replies = await engine.handle(press(payload))
    assert_sendable(replies, payload)
    assert keys(replies) == ["text.button_expired"]
    # The flow was not disturbed: its real next button still works.
    assert keys(await engine.handle(press("fl:reflection:noticed:0"))) == ["flow.reflection.feelings"]


# --- SQL-like and markup-like words are kept and shown exactly -----------------------------------

HOSTILE_WORDS = [
    "'); DROP TABLE sessions;--",
    "<b>hi</b> <a href='tg://x'>link</a>",
    "*_[]()~`>#+-=|{}.!\\",
    "{centre_name}",
    "%s %d %(name)s {0} {{x}}",
    "nul\x00inside",
    "Robert'); DELETE FROM journal_entries WHERE 1=1;--",
]


def tables(path: Path) -> set[str]:
    db = sqlite3.connect(path)
    try:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'index')")}
    finally:
        db.close()


async def reflect_in_own_words(engine: Engine, words: str) -> list[Reply]:
    """A reflection answered in the person's own words at every "something else"; returns the summary."""
    await engine.handle(make_incoming("/start"))
    await engine.handle(press("flow:reflection"))
    assert keys(await engine.handle(press("fl:reflection:noticed:o"))) == ["flow.reflection.noticed.other"]
    assert keys(await engine.handle(make_incoming(words))) == ["flow.reflection.feelings"]
    await engine.handle(press("fl:reflection:feelings:0"))
    assert keys(await engine.handle(press("fl:reflection:feelings:o"))) == ["flow.reflection.feelings.other"]
    assert keys(await engine.handle(make_incoming(words))) == ["flow.reflection.feelings"]
    await engine.handle(press("fl:reflection:feelings:d"))
    await engine.handle(press("fl:reflection:intensity:2"))
    assert keys(await engine.handle(press("fl:reflection:need:o"))) == ["flow.reflection.need.other"]
    return await engine.handle(make_incoming(words))


@pytest.mark.parametrize("words", HOSTILE_WORDS)
async def test_sql_and_markup_words_are_stored_and_echoed_verbatim(engine: Engine, words: str) -> None:
    before = tables(engine.store.path)
    summary = await reflect_in_own_words(engine, words)
    summary_text = "\n".join(reply.text for reply in summary)
    assert f"What you noticed: “{words}”. How it makes you feel: hurt and “{words}”." in summary_text
    assert f"What you need most: “{words}”." in summary_text

    assert keys(await engine.handle(press("jr:save"))) == ["text.journal_saved"]
    listing = await engine.handle(make_incoming("/journal"))
    assert f"hurt and {words}" in listing[0].text
    entry_button = next(b.payload for r in listing for b in r.all_buttons() if b.payload.startswith("jr:open:"))
    entry = await engine.handle(press(entry_button))
    assert f"Noticed: “{words}”. Felt: hurt and “{words}” (2/5). Needed: “{words}”." in entry[0].text

    assert tables(engine.store.path) == before, "the database lost or gained a table"
    db = sqlite3.connect(engine.store.path)
    try:
        assert db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 1
        assert db.execute("SELECT COUNT(*) FROM journal_entries").fetchone()[0] == 1
    finally:
        db.close()


async def test_a_typed_placeholder_is_never_filled_in(engine: Engine, catalog: Catalog) -> None:
    typed = "{centre_name} {centre_phone} {emergency} {retention_days}"
    summary = await reflect_in_own_words(engine, typed)
    await engine.handle(press("jr:save"))
    listing = await engine.handle(make_incoming("/journal"))
    entry = await engine.handle(press(next(b.payload for r in listing for b in r.all_buttons() if b.payload.startswith("jr:open:"))))
    summary_text = "\n".join(reply.text for reply in summary)
    assert summary_text.count(typed) == 3, "noticed, felt and needed, each as typed"
    centre = catalog.centre
    for text in (summary_text, listing[0].text, entry[0].text):
        assert typed in text
        assert centre.name not in text and centre.phone not in text


async def test_sql_like_words_as_plain_messages_leave_the_database_whole(engine: Engine) -> None:
    before = tables(engine.store.path)
    await engine.handle(make_incoming("/start"))
    for words in HOSTILE_WORDS:
        replies = await engine.handle(make_incoming(words))
        assert_sendable(replies, words)
    assert tables(engine.store.path) == before
    assert await engine.store.load_session(1001) is not None


@pytest.mark.parametrize("typed", ["²", "①", "Ⅻ", "1" * 5_000, "hurt, ²", "٣"])
async def test_digit_like_characters_at_a_choice_step_are_read_kindly(engine: Engine, typed: str) -> None:
    """"²" and "①" count as digits to Python but not to int(), and int() refuses 4,300+ digits."""
    await engine.handle(make_incoming("/start"))
    await engine.handle(press("flow:reflection"))
    for step in ("noticed", "feelings"):
        replies = await engine.handle(make_incoming(typed))
        assert_sendable(replies, f"{typed[:10]!r} at {step}")
        if step == "noticed" and keys(replies) != ["flow.reflection.feelings"]:
            await engine.handle(press("fl:reflection:noticed:0"))


@pytest.mark.parametrize(
    "payload",
    ["mybooking:cancel:99999999999999999999", "bk:99999999999999999999:confirm", "bk:9223372036854775808:who:individual",
     "staff:claim:99999999999999999999", "jr:open:9223372036854775808", "menu\n", "jr:open:1\n"],
)
async def test_ids_too_big_for_the_database_expire_kindly(tmp_path: Path, catalog: Catalog, payload: str) -> None:
    engine = await full_engine(tmp_path, catalog)
    try:
        await engine.handle(make_incoming("/start"))
        replies = await engine.handle(press(payload))
        assert_sendable(replies, payload)
        assert keys(replies) == ["text.button_expired"]
    finally:
        await engine.close()


async def test_a_flood_is_slowed_down_but_never_silences_a_crisis(tmp_path: Path, catalog: Catalog) -> None:
    """Over 40 messages a minute: told once to slow down, then paused; a crisis still gets the lines."""
    engine = await full_engine(tmp_path, catalog)
    try:
        answered = [await engine.handle(make_incoming("is liking photos cheating")) for _ in range(44)]
        told = [index for index, replies in enumerate(answered) if keys(replies) == ["text.handoff_flood_note"]]
        assert len(told) == 1, "told once"
        assert all(replies for replies in answered[: told[0]]), "every message before the limit was answered"
        crisis = await engine.handle(make_incoming(CRISIS))
        assert "safety.lines.crisis" in keys(crisis) and "human" in [b.payload for r in crisis for b in r.all_buttons()]
    finally:
        await engine.close()


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def at_the_phone_step(engine: Engine) -> None:
    """Walk a booking to "share your number", pressing the first choice at each step."""
    replies = await engine.handle(make_incoming("/book"))
    for _ in range(6):
        payloads = [b.payload for r in replies for b in r.all_buttons() if b.payload.startswith("bk:")]
        phone = next((p for p in payloads if p.endswith(":contact:phone")), None)
        if phone is not None:
            assert keys(await engine.handle(press(phone))) == ["text.book_contact_phone_ask"]
            return
        assert payloads, keys(replies)
        replies = await engine.handle(press(payloads[0]))
    raise AssertionError("the booking never asked for a phone number")


@pytest.mark.parametrize("hours_later, phone", [(0, ""), (3, "+44 7700 900123")])
async def test_a_contact_no_step_takes_still_gets_an_answer(tmp_path: Path, catalog: Catalog, hours_later: int, phone: str) -> None:
    """An empty contact, or one sent after the booking step timed out, is never met with silence."""
    clock = Clock(datetime(2030, 3, 4, 8, 0, tzinfo=timezone.utc))
    engine = build_engine(make_settings(tmp_path, staff_chat_id=STAFF_CHAT), catalog, clock=clock)
    await engine.start()
    try:
        await engine.handle(make_incoming("/start"))
        await at_the_phone_step(engine)
        clock.now += timedelta(hours=hours_later)
        replies = await engine.handle(make_incoming(kind="contact", contact_phone=phone))
        assert_sendable(replies, f"contact {phone!r} {hours_later}h later")
    finally:
        await engine.close()
