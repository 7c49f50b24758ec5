"""The update inbox in SQLite: received before Telegram is told, marked handled, purged after two days."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.storage.connection import iso, now_utc
from bot.storage.store import Store


class InboxStore:
    """Every read and write of the `inbox` table (see `bot.storage.schema_inbox`)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def receive(self, update_id: int, body: str) -> bool:
        """Keep an update until it is handled; False when this id arrived before (a second delivery)."""

        async def work(db: aiosqlite.Connection) -> bool:
            cursor = await db.execute(
                "INSERT OR IGNORE INTO inbox(update_id, body, received_at) VALUES (?, ?, ?)", (update_id, body, iso(now_utc()))
            )
            return cursor.rowcount == 1

        return await self.store.transaction(work)

    async def handled(self, update_id: int) -> None:
        """The update was handled: drop its words, keep its id (a later delivery of it is dropped).

        The words also leave the write-ahead log, where SQLite keeps the old row until a
        checkpoint: `Store.scrub_soon` empties it within `SCRUB_EVERY` seconds.
        """
        now = iso(now_utc())
        await self.store.execute(
            "INSERT INTO inbox(update_id, received_at, handled_at) VALUES (?, ?, ?) "
            "ON CONFLICT(update_id) DO UPDATE SET body = NULL, handled_at = excluded.handled_at",
            (update_id, now, now),
        )
        self.store.scrub_soon()

    async def waiting(self) -> list[tuple[int, str]]:
        """Updates received but not handled (the bot stopped first), oldest first."""
        rows = await self.store.fetchall("SELECT update_id, body FROM inbox WHERE handled_at IS NULL ORDER BY update_id")
        return [(int(row["update_id"]), str(row["body"])) for row in rows if row["body"] is not None]

    async def purge(self, older_than: datetime) -> int:
        """Forget handled update ids older than `older_than` (Telegram redelivers for a day at most)."""

        async def work(db: aiosqlite.Connection) -> int:
            cursor = await db.execute("DELETE FROM inbox WHERE handled_at IS NOT NULL AND handled_at < ?", (iso(older_than),))
            return max(cursor.rowcount, 0)

        return await self.store.transaction(work)
