"""The Store: every read and write of the bot's SQLite database.

One aiosqlite connection (its own thread) in WAL mode; statements that must agree run
in one transaction. A database locked by another process is waited for (busy_timeout)
and retried, so a backup or an inspection never loses a person's message.

Every fault of the database (a full disk, a read-only file, an I/O error) leaves the
Store as a StorageError, the one error its callers handle. The file and its folder are
created private (0600, 0700): they hold what people confided.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
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
# Cleared words (an update's text once handled, a /forget) leave the write-ahead log within
# this many seconds: at most one TRUNCATE checkpoint per period, so throughput is kept.
SCRUB_EVERY = 1.0
PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700


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


def _is_lock(error: sqlite3.OperationalError) -> bool:
    return "locked" in str(error) or "busy" in str(error)


def create_private(path: Path) -> None:
    """Create the database's folder (0700) and empty file (0600) unless they exist.

    SQLite would create the file 0644 (readable by every account on the machine), and it
    gives the -wal and -shm files the mode of the database file, so this covers all three.
    """
    if str(path) == ":memory:":
        return
    path.parent.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    except FileExistsError:
        pass


class Store:
    """Async access to the database; open with `await store.open()`, close with `await store.close()`."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._db: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        # Run after the schema is current, before the store is used (e.g. the encryption key check).
        self.on_open: list[Callable[[Store], Awaitable[None]]] = []
        self._scrub_task: asyncio.Task[None] | None = None
        self._last_scrub = float("-inf")

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StorageError("the store is not open")
        return self._db

    async def open(self) -> None:
        """Open (creating a private folder and file if needed), migrate, and make sure it can be written.

        Raises StorageError naming the path when it cannot; whatever was opened is closed
        first, since aiosqlite's worker thread would otherwise keep the process alive.
        """
        try:
            create_private(self.path)
            connection = aiosqlite.connect(str(self.path), isolation_level=None)
            # A connection someone forgets to close must never hang the interpreter's exit.
            thread = getattr(connection, "_thread", None)
            if thread is not None:
                thread.daemon = True
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
            await self._check_writable()
            for hook in self.on_open:
                await hook(self)
        except (sqlite3.Error, OSError, StorageError) as error:
            await self.close()
            cause = error.__cause__ if isinstance(error, StorageError) and error.__cause__ is not None else error
            raise StorageError(f"cannot open the database at {self.path}: {_reason(cause)}") from error
        except BaseException:
            await self.close()
            raise

    async def _check_writable(self) -> None:
        """Fail now, not at the first person's message, when the file is read-only.

        SQLite opens a read-only file without complaint and even begins a write transaction;
        only a write statement fails. Nothing is kept: the probe is rolled back.
        """

        async def probe(db: aiosqlite.Connection) -> None:
            await db.execute("INSERT OR REPLACE INTO once_keys(key, created_at) VALUES ('store:probe', '')")
            raise _Probed

        try:
            await self.transaction(probe)
        except _Probed:
            pass

    async def close(self) -> None:
        """Close the connection. Never raises and is safe to call twice, so every shutdown path can call it."""
        task, self._scrub_task = self._scrub_task, None
        if task is not None and not task.done():
            task.cancel()
        db, self._db = self._db, None
        if db is None:
            return
        try:
            await db.close()
        except Exception as error:  # noqa: BLE001 - a failed close is logged; the worker thread is stopped anyway
            log.warning("database close failed: %s", _reason(error))

    async def schema_version(self) -> int:
        row = await self.fetchone("PRAGMA user_version")
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
        """Run `operation`, waiting and retrying while another process holds the database lock.

        Any other fault of the database or its file becomes a StorageError here: callers
        handle one error, and a full disk is never mistaken for a bug.
        """
        delay = 0.05
        for attempt in range(LOCK_RETRIES):
            try:
                return await operation()
            except sqlite3.OperationalError as error:
                if not _is_lock(error):
                    raise StorageError(f"database error: {_reason(error)}") from error
                await self._rollback_quietly()
                if attempt == LOCK_RETRIES - 1:
                    raise StorageError("the database stayed locked") from error
                log.warning("database locked, retrying in %.2fs", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
            except (sqlite3.Error, OSError) as error:
                raise StorageError(f"database error: {_reason(error)}") from error
        raise StorageError("unreachable")

    async def _rollback_quietly(self) -> None:
        """Roll back an open transaction; SQLite may already have done so (a full disk), which is fine."""
        if self._db is None or not self._db.in_transaction:
            return
        try:
            await self._db.rollback()
        except (sqlite3.Error, ValueError) as error:
            log.warning("rollback failed: %s", _reason(error))

    async def transaction(self, work: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
        """Run `work` in one IMMEDIATE transaction (all or nothing), retried while locked."""

        async def run() -> T:
            async with self._write_lock:
                await self.db.execute("BEGIN IMMEDIATE")
                try:
                    result = await work(self.db)
                    # A commit that fails (a full disk) must not leave the transaction open for the next caller.
                    await self.db.commit()
                except BaseException:
                    await self._rollback_quietly()
                    raise
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
            # In one call on the worker thread: no statement stays open between awaits.
            return list(await self.db.execute_fetchall(sql, params))

        return await self._retry(read)

    # --- the write-ahead log -----------------------------------------------------------------

    def scrub_soon(self) -> None:
        """Empty the write-ahead log soon: words just cleared from a row are still in it until then."""
        if self._db is None or (self._scrub_task is not None and not self._scrub_task.done()):
            return
        loop = asyncio.get_running_loop()
        delay = max(0.0, self._last_scrub + SCRUB_EVERY - loop.time())
        self._scrub_task = loop.create_task(self._scrub_after(delay))

    async def scrubbed(self) -> None:
        """Wait for a scrub that `scrub_soon` scheduled (tests, and anyone who must know it happened)."""
        task = self._scrub_task
        if task is not None:
            await asyncio.shield(task)

    async def _scrub_after(self, delay: float) -> None:
        await asyncio.sleep(delay)
        self._last_scrub = asyncio.get_running_loop().time()
        try:
            busy = await self.checkpoint()
        except StorageError as error:
            log.warning("write-ahead log not emptied: %s", error)
            return
        if busy:
            log.info("write-ahead log not emptied: another process is reading; retried at the next clear")

    async def checkpoint(self) -> bool:
        """Copy the write-ahead log into the file and truncate it; True when another process kept it busy.

        It never waits for other processes (a backup reading the file): that would stall every write.
        """

        async def run() -> bool:
            async with self._write_lock:
                await self.db.execute("PRAGMA busy_timeout = 0")
                try:
                    rows = await self.db.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
                finally:
                    await self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                first = next(iter(rows), None)
                return bool(first[0]) if first is not None else False

        return await self._retry(run)

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
        self,
        user_id: int,
        label: str,
        pattern: str,
        text: str | None,
        alerted: bool,
        *,
        tier: str = "alert",
        means: bool = False,
        reason: str | None = None,
    ) -> int:
        return await self.execute(
            "INSERT INTO safety_events(user_id, label, pattern, text, alerted, created_at, tier, means, reason) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (user_id, label, pattern, text, int(alerted), iso(now_utc()), tier, int(means), reason),
        )

    async def set_safety_outcome(self, event_id: int, user_id: int, outcome: str) -> None:
        """Record how a person answered a check-in (only their own event)."""
        await self.execute(
            "UPDATE safety_events SET outcome = ? WHERE id = ? AND user_id = ?", (outcome, event_id, user_id)
        )

    async def last_staff_alert(self, user_id: int, label: str | None = None) -> datetime | None:
        """When staff were last alerted about this person (about this label, when given)."""
        if label is None:
            row = await self.fetchone(
                "SELECT MAX(created_at) AS at FROM safety_events WHERE user_id = ? AND alerted = 1", (user_id,)
            )
        else:
            row = await self.fetchone(
                "SELECT MAX(created_at) AS at FROM safety_events WHERE user_id = ? AND alerted = 1 AND label = ?",
                (user_id, label),
            )
        return datetime.fromisoformat(row["at"]) if row and row["at"] else None

    async def recent_alerts(self, user_id: int, since: datetime) -> list[dict[str, Any]]:
        """The alerts staff got about this person since `since`: label and whether a means was named."""
        rows = await self.fetchall(
            "SELECT label, means, created_at FROM safety_events "
            "WHERE user_id = ? AND alerted = 1 AND created_at >= ? ORDER BY id",
            (user_id, iso(since)),
        )
        return [dict(row) for row in rows]

    async def safety_events(self, user_id: int | None = None) -> list[dict[str, Any]]:
        if user_id is None:
            rows = await self.fetchall("SELECT * FROM safety_events ORDER BY id")
        else:
            rows = await self.fetchall("SELECT * FROM safety_events WHERE user_id = ? ORDER BY id", (user_id,))
        return [dict(row) for row in rows]

    # --- outbox ----------------------------------------------------------------------------

    async def enqueue(self, payload: dict[str, Any], *, person: int | None, about: int | None = None) -> int:
        """Queue a message for a person (`person`), or for the staff (`person` None) about `about` or no one.

        The row keeps the person's chat in `chat_id` (NULL: for the staff, as rows always did) and the
        person it is for or about in `user_id`, which `/forget` erases by.
        """
        now = iso(now_utc())
        return await self.execute(
            "INSERT INTO outbox(user_id, chat_id, payload, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?)",
            (person if person is not None else about, person, json.dumps(payload, ensure_ascii=False), now, now),
        )

    async def due_outbox(self, limit: int = 20) -> list[aiosqlite.Row]:
        return await self.fetchall(
            "SELECT * FROM outbox WHERE delivered_at IS NULL AND set_aside_at IS NULL AND next_attempt_at <= ? ORDER BY id LIMIT ?",
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
                    "(delivered_at IS NOT NULL OR set_aside_at IS NOT NULL OR json_extract(payload, '$.kind') IS NOT 'safety_alert')",
                    (user_id,),
                ),
            ):
                cursor = await db.execute(sql, params)
                erased[kind] = erased.get(kind, 0) + max(cursor.rowcount, 0)
            return erased

        erased = await self.transaction(work)
        self.scrub_soon()  # what was erased must not linger in the write-ahead log either
        return erased


class _Probed(Exception):
    """Raised inside the write probe's transaction so that it rolls back."""


def _reason(error: BaseException) -> str:
    """An error's own words (SQLite's or the OS's), without a traceback: "database or disk is full"."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__
