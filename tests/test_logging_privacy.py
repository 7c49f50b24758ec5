"""Logs at INFO and above never hold what people wrote, their phone number, their name, or
the bot's secrets; and the settings never show the token in a repr.

A conversation runs through the engine (with the production wiring: journal, booking,
handoff) and through the terminal channel, with a distinctive phrase in several messages,
a crisis message, a saved journal entry, a phone number typed and shared as a contact,
and a message relayed to staff. Every log record is captured from the root logger.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.__main__ import configure_logging
from bot.app import build_engine
from bot.catalog.loader import Catalog
from bot.config import Settings
from bot.console import ConsoleChat
from bot.engine.core import Engine
from bot.engine.replies import Incoming, Reply
from tests.conftest import keys, make_incoming, make_settings, press

TOKEN = "123456:SECRETTOKEN-Zq9"
DATA_KEY = Fernet.generate_key().decode()
WEBHOOK_SECRET = "hook-secret-Kx81"
SECRET_PHRASE = "marmalade lighthouse 4711"
CRISIS = "i don't want to be alive anymore"
PHONE = "+44 7700 900123"
PHONE_DIGITS = "447700900123"
CONSOLE_PHONE = "910000000000"
PERSON = 918_273_645
FIRST_NAME = "Zephyrine"
STAFF_CHAT = -100_555_111


def secret_settings(tmp_path: Path) -> Settings:
    return make_settings(
        tmp_path, telegram_bot_token=TOKEN, data_encryption_key=DATA_KEY, webhook_secret=WEBHOOK_SECRET,
        staff_chat_id=STAFF_CHAT,
    )


def formatted(records: list[logging.LogRecord]) -> list[str]:
    """Each record as a handler would write it, traceback included."""
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    return [formatter.format(record) for record in records if record.levelno >= logging.INFO]


def leaks(lines: list[str], secrets: list[str]) -> list[tuple[str, str]]:
    return [(secret, line) for line in lines for secret in secrets if secret.casefold() in line.casefold()]


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every record of every logger, down to DEBUG (the assertions look at INFO and above)."""
    caplog.set_level(logging.DEBUG)
    yield caplog


async def say(engine: Engine, text: str, **fields: object) -> list[Reply]:
    return await engine.handle(make_incoming(text, user_id=PERSON, first_name=FIRST_NAME, **fields))


async def tap(engine: Engine, payload: str) -> list[Reply]:
    return await engine.handle(Incoming(user_id=PERSON, kind="button", button=payload, first_name=FIRST_NAME))


def first_payload(replies: list[Reply], prefix: str) -> str | None:
    return next((b.payload for r in replies for b in r.all_buttons() if b.payload.startswith(prefix)), None)


async def private_conversation(engine: Engine) -> list[str]:
    """Everything a person might say in private; returns the texts that must never be logged."""
    said = [
        f"my partner keeps texting someone called {SECRET_PHRASE} every night",
        f"is it micro cheating if he hides {SECRET_PHRASE} from me",
        CRISIS,
        f"{SECRET_PHRASE} is all I think about",
    ]
    await say(engine, "/start")
    await tap(engine, "consent:yes")  # with consent, more is stored: still nothing in the logs
    for text in said:
        await say(engine, text)
    # A reflection in their own words, saved to the journal, listed, opened.
    await tap(engine, "flow:reflection")
    await tap(engine, "fl:reflection:noticed:o")
    own_words = f"the messages to {SECRET_PHRASE}"
    await say(engine, own_words)
    for payload in ("fl:reflection:feelings:0", "fl:reflection:feelings:d", "fl:reflection:intensity:3", "fl:reflection:need:0"):
        await tap(engine, payload)
    assert keys(await tap(engine, "jr:save")) == ["text.journal_saved"]
    listing = await say(engine, "/journal")
    entry = first_payload(listing, "jr:open:")
    assert entry is not None
    assert any(SECRET_PHRASE in reply.text for reply in await tap(engine, entry))
    # A phone number, shared as a contact and typed, and a booking walked as far as it goes.
    await engine.handle(Incoming(user_id=PERSON, kind="contact", contact_phone=PHONE, first_name=FIRST_NAME))
    replies = await say(engine, "/book")
    for _ in range(10):
        phone = next((b.payload for r in replies for b in r.all_buttons() if b.payload.endswith(":contact:phone")), None)
        if phone is not None:
            await tap(engine, phone)
            # Shared through the channel's own button (the one a booking keeps), then typed.
            replies = await engine.handle(Incoming(user_id=PERSON, kind="contact", contact_phone=PHONE, first_name=FIRST_NAME))
            if not any(b.payload.startswith("bk:") for r in replies for b in r.all_buttons()):
                replies = await say(engine, PHONE)
            break
        step = first_payload(replies, "bk:")
        if step is None:
            break
        replies = await tap(engine, step)
    for _ in range(4):  # on to the request: skip the note, confirm (the staff card carries the phone)
        step = next((b.payload for r in replies for b in r.all_buttons() if b.payload.endswith(("skip", "confirm"))), None)
        if step is None:
            break
        replies = await tap(engine, step)
    # A conversation with a person: what they write is relayed to staff.
    await tap(engine, "human:go")
    relayed = f"please help, {SECRET_PHRASE} again"
    await say(engine, relayed)
    await tap(engine, "human:end")
    return [*said, own_words, relayed]


async def test_logs_hold_no_words_phone_name_or_secrets(tmp_path: Path, catalog: Catalog, all_logs: pytest.LogCaptureFixture) -> None:
    engine = build_engine(secret_settings(tmp_path), catalog)
    await engine.start()
    try:
        said = await private_conversation(engine)
        booked = await engine.store.fetchall("SELECT phone FROM bookings WHERE status != 'draft'")
        assert [row["phone"] for row in booked] == [PHONE], "the phone went all the way into a booking request"
        await tap(engine, "forget:yes")
    finally:
        await engine.close()
    lines = formatted(all_logs.records)
    assert any("turn user=" in line for line in lines), "the engine logs its turns (else this test proves nothing)"
    secrets = [*said, SECRET_PHRASE, PHONE, PHONE_DIGITS, FIRST_NAME, str(PERSON), TOKEN, "SECRETTOKEN", DATA_KEY, WEBHOOK_SECRET]
    assert leaks(lines, secrets) == []


async def test_the_terminal_chat_logs_nothing_private(tmp_path: Path, catalog: Catalog, all_logs: pytest.LogCaptureFixture) -> None:
    engine = build_engine(secret_settings(tmp_path), catalog)
    await engine.start()
    out = io.StringIO()
    chat = ConsoleChat(engine, out, user_id=PERSON, first_name=FIRST_NAME)
    lines_said = [f"I found {SECRET_PHRASE} in his phone", CRISIS, "share contact", f"what do I do about {SECRET_PHRASE}"]
    try:
        for line in ["/start", *lines_said]:
            await chat.say(line)
    finally:
        await engine.close()
    assert SECRET_PHRASE in out.getvalue() or "staff" in out.getvalue()  # the chat itself ran
    lines = formatted(all_logs.records)
    assert any("turn user=" in line for line in lines)
    secrets = [*lines_said, SECRET_PHRASE, CONSOLE_PHONE, FIRST_NAME, str(PERSON), "SECRETTOKEN", DATA_KEY]
    assert leaks(lines, [s for s in secrets if s != "share contact"]) == []


def test_settings_never_show_their_secrets(tmp_path: Path) -> None:
    settings = secret_settings(tmp_path)
    shown = [repr(settings), str(settings), f"{settings!r}", repr(settings.model_dump()), settings.model_dump_json()]
    for text in shown:
        for secret in ("SECRETTOKEN", DATA_KEY, WEBHOOK_SECRET):
            assert secret not in text
    assert settings.telegram_bot_token is not None and settings.telegram_bot_token.get_secret_value() == TOKEN


def test_the_engine_never_shows_the_keys_in_a_repr(tmp_path: Path, catalog: Catalog) -> None:
    """An engine or its options printed in a traceback or a debug line must not carry the encryption key."""
    engine = build_engine(secret_settings(tmp_path), catalog)
    for text in (repr(engine.options), str(engine.options)):
        assert DATA_KEY not in text and "SECRETTOKEN" not in text
        assert repr(engine.options.user_hash_key) not in text
    assert engine.options.data_encryption_key == DATA_KEY, "the key is still there, just not shown"


def test_http_request_logs_are_quieted_because_their_urls_carry_the_token() -> None:
    names = ("httpx", "httpcore")
    saved = {name: logging.getLogger(name).level for name in names}
    try:
        configure_logging("DEBUG")
        for name in names:
            assert logging.getLogger(name).getEffectiveLevel() >= logging.WARNING
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)
