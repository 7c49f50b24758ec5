"""The write-ahead log: emptying it soon after words were cleared from a row.

SQLite keeps a changed page in the `-wal` file until a checkpoint copies it into the
database, so words cleared from a row (an update's text once handled, a /forget) would
linger there. This part of the `Store` schedules a TRUNCATE checkpoint, at most one per
SCRUB_EVERY seconds, and never waits for another process to get it: a separate concern
from the transactions, with its own task and clock.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from bot.errors import StorageError
from bot.storage import connection
from bot.storage.connection import Connection

log = logging.getLogger(__name__)

# Cleared words (an update's text once handled, a /forget) leave the write-ahead log within
# this many seconds: at most one TRUNCATE checkpoint per period, so throughput is kept.
SCRUB_EVERY = 1.0


class WriteAheadLog(Connection):
    """The scrubbing part of `Store`: `scrub_soon`, `scrubbed`, `checkpoint`."""

    def __init__(self, path: Path | str) -> None:
        super().__init__(path)
        self._scrub_task: asyncio.Task[None] | None = None
        self._last_scrub = float("-inf")

    async def close(self) -> None:
        """Stop a scheduled scrub, then close the connection (never raises; safe to call twice)."""
        task, self._scrub_task = self._scrub_task, None
        if task is not None and not task.done():
            task.cancel()
        await super().close()

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
                    await self.db.execute(f"PRAGMA busy_timeout = {connection.BUSY_TIMEOUT_MS}")
                first = next(iter(rows), None)
                return bool(first[0]) if first is not None else False

        return await self._retry(run)
