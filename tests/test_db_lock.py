"""The database file locked by another process (a backup, an inspection, a stuck script).

A short lock is waited for: every reply arrives and every state is saved. A lock held longer
than the retries gives a kind "please try again" with a way to a person, never a crash, and a
message about a crisis still gets the crisis lines; once the lock goes, the same step works
and nothing from before was lost.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

import bot.storage.connection as connection_module
from bot.app import build_engine
from bot.catalog.loader import Catalog
from bot.engine.core import Engine
from bot.errors import StorageError
from bot.storage.journal_store import JournalStore
from bot.storage.store import Store
from tests.conftest import keys, make_incoming, make_settings, payloads_of, press

CRISIS = "i don't want to be alive anymore"

# Another process takes the write lock, says so, holds it, then commits.
HOLDER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
db.execute("BEGIN EXCLUSIVE")
db.execute("CREATE TABLE IF NOT EXISTS holder_was_here(x)")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("COMMIT")
db.close()
"""


@asynccontextmanager
async def locked_by_another_process(path: Path, seconds: float) -> AsyncIterator[subprocess.Popen[str]]:
    """Yield once the other process holds the lock; afterwards wait for it (or end it, if still holding)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), str(seconds)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(holder.stdout.readline), timeout=20)
        assert line.strip() == "locked", holder.stderr.read() if holder.stderr else line
        yield holder
    finally:
        if holder.poll() is None and seconds > 5:
            holder.kill()  # the long holder is ended by us: its lock goes with it
        await asyncio.to_thread(holder.wait, 20)
        for stream in (holder.stdout, holder.stderr):
            if stream is not None:
                stream.close()


async def started(tmp_path: Path, catalog: Catalog) -> Engine:
    engine = build_engine(make_settings(tmp_path), catalog)
    await engine.start()
    return engine


async def test_a_short_lock_is_waited_for_and_every_reply_and_state_arrives(tmp_path: Path, catalog: Catalog) -> None:
    engine = await started(tmp_path, catalog)
    people = [3001, 3002, 3003, 3004]
    try:
        for person in people:
            await engine.handle(make_incoming("/start", user_id=person))
        # One person is one step from saving a reflection to the journal.
        saver = people[0]
        for payload in ("flow:reflection", "fl:reflection:noticed:0", "fl:reflection:feelings:0", "fl:reflection:feelings:d",
                        "fl:reflection:intensity:3", "fl:reflection:need:0"):
            await engine.handle(press(payload, user_id=saver))

        async with locked_by_another_process(engine.store.path, 1.5) as holder:
            began = time.monotonic()
            results = await asyncio.gather(
                engine.handle(press("jr:save", user_id=saver)),
                *(engine.handle(press("flow:reflection", user_id=person)) for person in people[1:]),
                engine.handle(make_incoming("what is micro cheating", user_id=people[1])),
            )
            waited = time.monotonic() - began
        assert holder.returncode == 0, "the other process kept its lock to the end and committed"
        assert waited > 0.8, "the lock really held the bot up (else this test proves nothing)"

        saved, *started_flows, answered = results
        assert keys(saved) == ["text.journal_saved"]
        for replies in started_flows:
            assert keys(replies) == ["flow.reflection.noticed", "flow.reflection.noticed"]
        assert answered and "text.internal_error" not in keys(answered)

        assert await JournalStore(engine.store).count(saver) == 1
        for person in people[1:]:
            session = await engine.store.load_session(person)
            assert session is not None and session["flow"]["flow_id"] == "reflection"
            # The step they are on still answers: nothing was lost in the wait.
            assert keys(await engine.handle(press("fl:reflection:noticed:1", user_id=person))) == ["flow.reflection.feelings"]
    finally:
        await engine.close()


@pytest.fixture
def few_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give up after well under a second, so "longer than the retries" stays quick to test."""
    monkeypatch.setattr(connection_module, "BUSY_TIMEOUT_MS", 100)
    monkeypatch.setattr(connection_module, "LOCK_RETRIES", 3)


@pytest.mark.usefixtures("few_retries")
async def test_a_lock_longer_than_the_retries_gets_a_kind_reply_and_loses_nothing(tmp_path: Path, catalog: Catalog) -> None:
    engine = await started(tmp_path, catalog)
    person = 3101
    try:
        await engine.handle(make_incoming("/start", user_id=person))
        await engine.handle(press("consent:yes", user_id=person))
        before = await engine.store.load_session(person)

        async with locked_by_another_process(engine.store.path, 60):
            step = await engine.handle(press("flow:reflection", user_id=person))
            crisis = await engine.handle(make_incoming(CRISIS, user_id=person))

        assert keys(step) == ["text.internal_error"], "a kind 'please try again', not a crash"
        assert "human" in payloads_of(step), "with a way to a person"
        assert "safety.lines.crisis" in keys(crisis), "a crisis still gets the lines while the database is locked"
        assert "human" in payloads_of(crisis)

        # The lock is gone: the same step works, and what was there before is still there.
        assert await engine.store.load_session(person) == before
        again = await engine.handle(press("flow:reflection", user_id=person))
        assert keys(again) == ["flow.reflection.noticed", "flow.reflection.noticed"]
        session = await engine.store.load_session(person)
        assert session is not None and session["consent"] is True and session["flow"]["flow_id"] == "reflection"
    finally:
        await engine.close()


async def test_an_unreadable_session_still_answers_kindly(tmp_path: Path, catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    """When even reading fails (a disk error, a lock on reads), a crisis still gets its answer."""
    engine = await started(tmp_path, catalog)
    try:

        async def unreadable(user_id: int) -> None:
            raise StorageError("the database stayed locked")

        monkeypatch.setattr(engine.store, "load_session", unreadable)
        crisis = await engine.handle(make_incoming(CRISIS, user_id=3201))
        assert "safety.lines.crisis" in keys(crisis) and "human" in payloads_of(crisis)
        other = await engine.handle(make_incoming("is liking photos cheating", user_id=3201))
        assert keys(other) == ["text.internal_error"] and "human" in payloads_of(other)
    finally:
        await engine.close()


async def test_a_database_that_cannot_be_opened_is_named_and_leaves_no_thread(tmp_path: Path) -> None:
    """A folder where the file should be: a clear StorageError, and aiosqlite's worker is gone before we return
    (otherwise it reports to a closed event loop later, in whatever runs next)."""
    store = Store(tmp_path)
    with pytest.raises(StorageError, match="cannot open the database"):
        await store.open()
    workers = [t for t in threading.enumerate() if "_connection_worker_thread" in t.name and t.is_alive()]
    assert workers == []
