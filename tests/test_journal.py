"""The private journal: save, list, chart, delete, ownership, /forget, encryption at rest, retention."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.app import build_engine
from bot.catalog.loader import Catalog
from bot.config import Settings
from bot.engine.core import Engine
from bot.features.journal.feature import (
    Journal,
    purge_old_journal_entries,
    sparkline,
    trend_of,
)
from bot.engine.replies import Reply
from bot.engine.sealing import Sealer
from bot.errors import ConfigError
from bot.storage.connection import now_utc
from bot.storage.journal_store import JournalStore
from tests.conftest import keys, make_incoming, make_settings, payloads_of, press

USER = 1001
OTHER = 2002
SECRET_WORDS = "the purple umbrella at the station"


async def started(settings: Settings, catalog: Catalog) -> Engine:
    engine = build_engine(settings, catalog)
    await engine.start()
    return engine


@pytest.fixture
async def journal_engine(settings: Settings, catalog: Catalog) -> AsyncIterator[Engine]:
    engine = await started(settings, catalog)
    try:
        yield engine
    finally:
        await engine.close()


async def tap(engine: Engine, payload: str, user_id: int = USER) -> list[Reply]:
    return await engine.handle(press(payload, user_id=user_id))


def button(replies: list[Reply], label: str) -> str:
    for reply in replies:
        for candidate in reply.all_buttons():
            if candidate.label.removeprefix("✓ ") == label:
                return candidate.payload
    raise AssertionError(f"no button {label!r}")


async def reflect_and_save(engine: Engine, *, user_id: int = USER, intensity: str = "4", noticed: str = SECRET_WORDS) -> list[Reply]:
    """A whole reflection ending with "Save to my journal"."""
    await engine.handle(make_incoming("/start", user_id=user_id))
    replies = await tap(engine, "flow:reflection", user_id)
    await tap(engine, button(replies, "Something else"), user_id)
    replies = await engine.handle(make_incoming(noticed, user_id=user_id))
    replies = await tap(engine, button(replies, "Hurt"), user_id)
    replies = await tap(engine, button(replies, "Confused"), user_id)
    replies = await tap(engine, button(replies, "Done ✓"), user_id)
    replies = await tap(engine, button(replies, intensity), user_id)
    replies = await tap(engine, button(replies, "Clarity"), user_id)
    return await tap(engine, button(replies, "📓 Save to my journal"), user_id)


def entry_ids(replies: list[Reply]) -> list[int]:
    return [int(p.split(":")[2]) for p in payloads_of(replies) if p.startswith("jr:open:")]


async def test_save_then_list_shows_date_feelings_and_intensity(journal_engine: Engine) -> None:
    saved = await reflect_and_save(journal_engine)
    assert keys(saved) == ["text.journal_saved"]
    assert "delete" in saved[0].text.lower()  # the person is told it can go any time
    assert keys(await tap(journal_engine, "jr:save")) == ["text.journal_already_saved"]
    listing = await journal_engine.handle(make_incoming("/journal"))
    assert keys(listing) == ["journal.list"]
    line = listing[0].text.splitlines()[-1]
    assert "hurt and confused" in line and "4/5" in line and now_utc().strftime("%Y") in line
    opened = await tap(journal_engine, f"jr:open:{entry_ids(listing)[0]}")
    assert SECRET_WORDS in opened[0].text and "some clarity" in opened[0].text


async def test_an_entry_is_deleted_after_confirming(journal_engine: Engine) -> None:
    await reflect_and_save(journal_engine)
    entry = entry_ids(await tap(journal_engine, "journal"))[0]
    confirm = await tap(journal_engine, f"jr:del:{entry}")
    assert keys(confirm) == ["text.journal_delete_confirm"]
    assert keys(await tap(journal_engine, button(confirm, "No, keep it"))) == ["journal.list"]
    done = await tap(journal_engine, button(confirm, "Yes, delete it"))
    assert keys(done) == ["text.journal_deleted"]
    assert keys(await tap(journal_engine, "journal")) == ["text.journal_empty"]
    assert keys(await tap(journal_engine, f"jr:dely:{entry}")) == ["text.button_expired"]


async def test_someone_elses_entry_cannot_be_read_or_deleted(journal_engine: Engine) -> None:
    await reflect_and_save(journal_engine, user_id=USER)
    entry = entry_ids(await tap(journal_engine, "journal"))[0]
    await journal_engine.handle(make_incoming("/start", user_id=OTHER))
    for forged in (f"jr:open:{entry}", f"jr:del:{entry}", f"jr:dely:{entry}", "jr:dely:abc", "jr:open", "jr:nope:1"):
        replies = await tap(journal_engine, forged, OTHER)
        assert keys(replies) == ["text.button_expired"], forged
        assert SECRET_WORDS not in replies[0].text
    assert entry_ids(await tap(journal_engine, "journal", USER)) == [entry]


async def test_nothing_to_save_outside_a_finished_reflection(journal_engine: Engine) -> None:
    await journal_engine.handle(make_incoming("/start"))
    assert keys(await tap(journal_engine, "jr:save")) == ["text.journal_nothing_to_save"]
    await tap(journal_engine, "flow:reflection")
    assert keys(await tap(journal_engine, "jr:save")) == ["text.journal_nothing_to_save"]


async def test_after_three_entries_the_intensity_trend_is_shown_in_words_and_a_chart(journal_engine: Engine) -> None:
    rows = JournalStore(journal_engine.store)
    sealer = Sealer(None)
    start = now_utc() - timedelta(days=20)
    for day, intensity in ((0, 5), (7, 4), (14, 2)):
        body = sealer.seal({"feelings": ["hurt"], "text": "x"})
        await rows.add(USER, start + timedelta(days=day), intensity, body)
    await journal_engine.handle(make_incoming("/start"))
    listing = await tap(journal_engine, "journal")
    assert keys(listing) == ["journal.list", "text.journal_trend_eased"]
    assert "█▆▃" in listing[-1].text
    assert len(entry_ids(listing)) == 3


async def test_fewer_than_three_entries_show_no_trend(journal_engine: Engine) -> None:
    await reflect_and_save(journal_engine)
    assert keys(await tap(journal_engine, "journal")) == ["journal.list"]


def test_trend_words_follow_the_numbers() -> None:
    assert trend_of([2, 3, 5]) == "grew"
    assert trend_of([5, 4, 4, 3, 2, 1]) == "eased"
    assert trend_of([3, 4, 3]) == "steady"
    assert sparkline([1, 3, 5]) == "▁▄█"


# --- privacy -------------------------------------------------------------------------------------------


def raw_database_bytes(path: Path) -> bytes:
    """Everything on disk for the database: the file and its write-ahead log."""
    return b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())


@pytest.mark.parametrize("encrypted", [True, False])
async def test_journal_words_are_encrypted_at_rest_when_a_key_is_set(tmp_path: Path, catalog: Catalog, encrypted: bool) -> None:
    key = Fernet.generate_key().decode() if encrypted else None
    settings = make_settings(tmp_path, data_encryption_key=key)
    engine = await started(settings, catalog)
    try:
        await reflect_and_save(engine)
        listing = await tap(engine, "journal")
        assert "hurt and confused" in listing[0].text
        opened = await tap(engine, f"jr:open:{entry_ids(listing)[0]}")
        assert SECRET_WORDS in opened[0].text
        # While running too: the session (a finished flow's answers) and the write-ahead log.
        assert (SECRET_WORDS.encode() in raw_database_bytes(settings.database_path)) is not encrypted
    finally:
        await engine.close()
    raw = raw_database_bytes(settings.database_path)
    with sqlite3.connect(settings.database_path) as db:
        (body,) = db.execute("SELECT body FROM journal_entries").fetchone()
    if encrypted:
        assert SECRET_WORDS.encode() not in raw and b"purple" not in bytes(body)
        assert b"hurt" not in bytes(body)
    else:  # the control: without a key the same check would catch the words
        assert SECRET_WORDS.encode() in raw


async def test_forget_leaves_nothing_of_that_person_in_the_journal(journal_engine: Engine) -> None:
    await reflect_and_save(journal_engine, user_id=USER)
    await reflect_and_save(journal_engine, user_id=USER, intensity="2")
    await reflect_and_save(journal_engine, user_id=OTHER, noticed="someone else's words")
    confirm = await journal_engine.handle(make_incoming("/forget"))
    assert "forget:yes" in payloads_of(confirm)
    done = await tap(journal_engine, "forget:yes")
    assert "journal entries (2)" in done[0].text
    store = journal_engine.store
    assert await store.fetchall("SELECT id FROM journal_entries WHERE user_id = ?", (USER,)) == []
    assert await store.load_session(USER) is None
    assert len(await store.fetchall("SELECT id FROM journal_entries WHERE user_id = ?", (OTHER,))) == 1


async def test_retention_purge_deletes_only_old_entries(tmp_path: Path, catalog: Catalog) -> None:
    engine = await started(make_settings(tmp_path, retention_days=30), catalog)
    try:
        rows = JournalStore(engine.store)
        body = Sealer(None).seal({"feelings": [], "text": "x"})
        now = now_utc()
        await rows.add(USER, now - timedelta(days=45), 3, body)
        await rows.add(OTHER, now - timedelta(days=31), 3, body)
        kept = await rows.add(USER, now - timedelta(days=5), 3, body)
        assert await purge_old_journal_entries(engine, now=now) == 2
        assert [row.id for row in await rows.latest(USER, 10)] == [kept]
        assert await rows.latest(OTHER, 10) == []
        assert await purge_old_journal_entries(engine, now=now) == 0
    finally:
        await engine.close()


def test_a_malformed_key_fails_loudly_at_start_without_printing_it() -> None:
    with pytest.raises(ConfigError) as raised:
        Sealer("not-a-fernet-key")
    assert "not-a-fernet-key" not in str(raised.value)


def test_entries_sealed_with_another_key_read_as_unreadable_not_a_crash() -> None:
    sealed = Sealer(Fernet.generate_key().decode()).seal({"text": "hello"})
    assert Sealer(Fernet.generate_key().decode()).unseal(sealed) is None
    assert Sealer(None).unseal(sealed) is None
    assert Sealer(Fernet.generate_key().decode()).unseal(Sealer(None).seal({"text": "old"})) == {"text": "old"}


async def test_the_journal_is_declared_once(journal_engine: Engine) -> None:
    # One feature, so /forget erases (and reports) the entries once.
    assert sum(isinstance(feature, Journal) for feature in journal_engine.features) == 1
