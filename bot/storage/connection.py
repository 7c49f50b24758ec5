"""The connection and its transactions: how the bot reaches its SQLite file at all.

One aiosqlite connection (its own thread) in WAL mode; statements that must agree run
in one transaction. A database locked by another process is waited for (busy_timeout)
and retried, so a backup or an inspection never loses a person's message.

Every fault of the database (a full disk, a read-only file, an I/O error) leaves here as
a StorageError, the one error callers handle. The file and its folder are created private
(0600, 0700): they hold what people confided. Kept apart from the tables' queries (the
`Store` in `store.py` and its parts) because every one of them stands on this.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import aiosqlite

from bot.errors import StorageError
from bot.storage.schema import MIGRATIONS

if TYPE_CHECKING:
    from bot.storage.store import Store

log = logging.getLogger(__name__)
T = TypeVar("T")

BUSY_TIMEOUT_MS = 5000
LOCK_RETRIES = 8
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


class Connection:
    """The open database and the ways to use it (transaction, execute, fetch); `Store` builds on it."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._db: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        # Run after the schema is current, before the store is used (e.g. the encryption key check).
        self.on_open: list[Callable[[Store], Awaitable[None]]] = []

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
                await hook(self)  # type: ignore[arg-type]  # self is always a Store
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

    async def fetchone(self, sql: str, params: tuple[Any, ...] = ()) -> aiosqlite.Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None


class _Probed(Exception):
    """Raised inside the write probe's transaction so that it rolls back."""


def _reason(error: BaseException) -> str:
    """An error's own words (SQLite's or the OS's), without a traceback: "database or disk is full"."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__
