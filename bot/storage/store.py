"""The Store: every read and write of the bot's SQLite database.

One aiosqlite connection (its own thread) in WAL mode; statements that must agree run
in one transaction. A database locked by another process is waited for (busy_timeout)
and retried, so a backup or an inspection never loses a person's message.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.errors import StorageError
from bot.storage.schema import MIGRATIONS

log = logging.getLogger(__name__)
T = TypeVar("T")

BUSY_TIMEOUT_MS = 5000
LOCK_RETRIES = 8


def iso(moment: datetime) -> str:
    """Times are stored as ISO-8601 UTC text, which sorts correctly."""
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


async def _worker_stopped(connection: aiosqlite.Connection) -> None:
    """Wait for the worker thread of a connection that failed to open.

    aiosqlite stops that thread itself, and the thread then reports to our event loop: if the
    loop had closed by then (a short-lived command such as `doctor`), it dies with "Event loop
    is closed". Joining it here, while the loop still runs, avoids that.
    """
    thread = getattr(connection, "_thread", None)
    if thread is not None and thread.is_alive():
        await asyncio.to_thread(thread.join, 5)


class Store:
    """Async access to the database; open with `await store.open()`, close with `await store.close()`."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._db: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StorageError("the store is not open")
        return self._db

    async def open(self) -> None:
        """Open (creating the folder and file if needed) and migrate to the latest schema."""
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            connection = aiosqlite.connect(str(self.path), isolation_level=None)
            try:
                self._db = await connection
            except sqlite3.Error:
                await _worker_stopped(connection)
                raise
            self._db.row_factory = aiosqlite.Row
            await self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await self._retry(lambda: self.db.execute("PRAGMA journal_mode = WAL"))
            await self._db.execute("PRAGMA foreign_keys = ON")
            # Erased rows are overwritten, not left in free pages of the file.
            await self._db.execute("PRAGMA secure_delete = ON")
            await self._db.execute("PRAGMA synchronous = NORMAL")
            await self._migrate()
        except sqlite3.Error as error:
            raise StorageError(f"cannot open the database at {self.path}: {error}") from error

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    async def schema_version(self) -> int:
        async with self.db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def _migrate(self) -> None:
        version = await self.schema_version()
        for number, script in enumerate(MIGRATIONS, start=1):
            if number <= version:
                continue
            log.info("migrating database to schema version %d", number)

            async def apply(script: str = script, number: int = number) -> None:
                await self.db.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")

            await self._retry(apply)

    async def _retry(self, operation: Callable[[], Awaitable[T]]) -> T:
        """Run `operation`, waiting and retrying while another process holds the database lock."""
        delay = 0.05
        for attempt in range(LOCK_RETRIES):
            try:
                return await operation()
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) and "busy" not in str(error):
                    raise
                if self._db is not None and self._db.in_transaction:
                    await self._db.rollback()
                if attempt == LOCK_RETRIES - 1:
                    raise StorageError("the database stayed locked") from error
                log.warning("database locked, retrying in %.2fs", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
        raise StorageError("unreachable")

    async def transaction(self, work: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
        """Run `work` in one IMMEDIATE transaction (all or nothing), retried while locked."""

        async def run() -> T:
            async with self._write_lock:
                await self.db.execute("BEGIN IMMEDIATE")
                try:
                    result = await work(self.db)
                except BaseException:
                    await self.db.rollback()
                    raise
                await self.db.commit()
                return result

        return await self._retry(run)

    async def execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        """One write statement in its own transaction; returns lastrowid."""

        async def work(db: aiosqlite.Connection) -> int:
            cursor = await db.execute(sql, params)
            return int(cursor.lastrowid or 0)

        return await self.transaction(work)

    async def fetchall(self, sql: str, params: tuple[Any, ...] = ()) -> list[aiosqlite.Row]:
        async def read() -> list[aiosqlite.Row]:
            async with self.db.execute(sql, params) as cursor:
                return list(await cursor.fetchall())

        return await self._retry(read)

    async def fetchone(self, sql: str, params: tuple[Any, ...] = ()) -> aiosqlite.Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    # --- sessions -------------------------------------------------------------------------

    async def load_session(self, user_id: int) -> dict[str, Any] | None:
        row = await self.fetchone("SELECT data FROM sessions WHERE user_id = ?", (user_id,))
        return json.loads(row["data"]) if row else None

    async def save_session(self, user_id: int, data: dict[str, Any]) -> None:
        await self.execute(
            "INSERT INTO sessions(user_id, data, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(user_id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
            (user_id, json.dumps(data, ensure_ascii=False), iso(now_utc())),
        )

    # --- small facts -----------------------------------------------------------------------

    async def remember_once(self, key: str) -> bool:
        """True the first time `key` is seen, False afterwards (persisted)."""

        async def work(db: aiosqlite.Connection) -> bool:
            cursor = await db.execute(
                "INSERT OR IGNORE INTO once_keys(key, created_at) VALUES (?, ?)", (key, iso(now_utc()))
            )
            return cursor.rowcount == 1

        return await self.transaction(work)

    async def record_feedback(self, intent: str, helpful: bool) -> None:
        await self.execute(
            "INSERT INTO feedback(intent, helpful, created_at) VALUES (?, ?, ?)", (intent, int(helpful), iso(now_utc()))
        )

    async def feedback_counts(self) -> dict[str, tuple[int, int]]:
        """Per intent: (helpful, not helpful)."""
        rows = await self.fetchall(
            "SELECT intent, SUM(helpful) AS yes, SUM(1 - helpful) AS no FROM feedback GROUP BY intent"
        )
        return {row["intent"]: (int(row["yes"]), int(row["no"])) for row in rows}

    async def record_turn(self, user_hash: str, route: str, intent: str | None) -> None:
        await self.execute(
            "INSERT INTO turns(user_hash, route, intent, created_at) VALUES (?, ?, ?, ?)",
            (user_hash, route, intent, iso(now_utc())),
        )

    # --- safety ----------------------------------------------------------------------------

    async def add_safety_event(
        self, user_id: int, label: str, pattern: str, text: str | None, alerted: bool
    ) -> int:
        return await self.execute(
            "INSERT INTO safety_events(user_id, label, pattern, text, alerted, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (user_id, label, pattern, text, int(alerted), iso(now_utc())),
        )

    async def last_staff_alert(self, user_id: int) -> datetime | None:
        row = await self.fetchone(
            "SELECT MAX(created_at) AS at FROM safety_events WHERE user_id = ? AND alerted = 1", (user_id,)
        )
        return datetime.fromisoformat(row["at"]) if row and row["at"] else None

    async def safety_events(self, user_id: int | None = None) -> list[dict[str, Any]]:
        if user_id is None:
            rows = await self.fetchall("SELECT * FROM safety_events ORDER BY id")
        else:
            rows = await self.fetchall("SELECT * FROM safety_events WHERE user_id = ? ORDER BY id", (user_id,))
        return [dict(row) for row in rows]

    # --- outbox ----------------------------------------------------------------------------

    async def enqueue(self, payload: dict[str, Any], chat_id: int | None, thread_id: int | None = None, user_id: int | None = None) -> int:
        """Queue a message for delivery; chat_id None means the staff chat."""
        now = iso(now_utc())
        return await self.execute(
            "INSERT INTO outbox(user_id, chat_id, thread_id, payload, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?)",
            (user_id, chat_id, thread_id, json.dumps(payload, ensure_ascii=False), now, now),
        )

    async def due_outbox(self, limit: int = 20) -> list[aiosqlite.Row]:
        return await self.fetchall(
            "SELECT * FROM outbox WHERE delivered_at IS NULL AND next_attempt_at <= ? ORDER BY id LIMIT ?",
            (iso(now_utc()), limit),
        )

    async def outbox_done(self, item_id: int) -> None:
        await self.execute("UPDATE outbox SET delivered_at = ? WHERE id = ?", (iso(now_utc()), item_id))

    async def outbox_failed(self, item_id: int, retry_in_seconds: float) -> None:
        retry_at = iso(now_utc() + timedelta(seconds=retry_in_seconds))
        await self.execute(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ?", (retry_at, item_id)
        )

    async def purge_delivered(self, older_than: datetime) -> int:
        """Delete delivered outbox rows (copies of what was sent) older than `older_than`."""

        async def work(db: aiosqlite.Connection) -> int:
            cursor = await db.execute(
                "DELETE FROM outbox WHERE delivered_at IS NOT NULL AND delivered_at < ?", (iso(older_than),)
            )
            return max(cursor.rowcount, 0)

        return await self.transaction(work)

    async def purge_turns(self, older_than: datetime) -> int:
        """Delete statistics rows older than `older_than`."""

        async def work(db: aiosqlite.Connection) -> int:
            cursor = await db.execute("DELETE FROM turns WHERE created_at < ?", (iso(older_than),))
            return max(cursor.rowcount, 0)

        return await self.transaction(work)

    # --- erasure ---------------------------------------------------------------------------

    async def forget_user(self, user_id: int, user_hash: str) -> dict[str, int]:
        """Erase everything stored about one person, in one transaction; returns counts per kind."""

        async def work(db: aiosqlite.Connection) -> dict[str, int]:
            erased: dict[str, int] = {}
            for kind, sql, params in (
                ("conversation state", "DELETE FROM sessions WHERE user_id = ?", (user_id,)),
                ("activity records", "DELETE FROM turns WHERE user_hash = ?", (user_hash,)),
                ("safety event details", "UPDATE safety_events SET user_id = NULL, text = NULL WHERE user_id = ?", (user_id,)),
                # An undelivered safety alert still reaches staff: a person's safety outweighs erasing it a minute early.
                (
                    "message copies",
                    "DELETE FROM outbox WHERE user_id = ? AND "
                    "(delivered_at IS NOT NULL OR json_extract(payload, '$.kind') IS NOT 'safety_alert')",
                    (user_id,),
                ),
            ):
                cursor = await db.execute(sql, params)
                erased[kind] = erased.get(kind, 0) + max(cursor.rowcount, 0)
            return erased

        return await self.transaction(work)
