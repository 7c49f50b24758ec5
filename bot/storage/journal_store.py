"""Journal rows: the only SQL for the private journal. Every read and delete is scoped to its owner."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.storage.connection import iso
from bot.storage.store import Store


@dataclass(frozen=True)
class JournalRow:
    """One stored entry; `body` is opaque here (sealed or plain JSON, see `bot.features.journal.feature`)."""

    id: int
    created_at: str
    intensity: int | None
    body: bytes


class JournalStore:
    """Journal entries in the bot's database."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def add(self, user_id: int, created_at: datetime, intensity: int | None, body: bytes) -> int:
        return await self.store.execute(
            "INSERT INTO journal_entries(user_id, created_at, intensity, body) VALUES (?, ?, ?, ?)",
            (user_id, iso(created_at), intensity, body),
        )

    async def latest(self, user_id: int, limit: int) -> list[JournalRow]:
        """The newest entries of one person, newest first."""
        rows = await self.store.fetchall(
            "SELECT id, created_at, intensity, body FROM journal_entries WHERE user_id = ? "
            "ORDER BY created_at DESC, id DESC LIMIT ?",
            (user_id, limit),
        )
        return [_row(row) for row in rows]

    async def count(self, user_id: int) -> int:
        row = await self.store.fetchone("SELECT COUNT(*) AS n FROM journal_entries WHERE user_id = ?", (user_id,))
        return int(row["n"]) if row else 0

    async def get(self, user_id: int, entry_id: int) -> JournalRow | None:
        """One entry, only if it belongs to `user_id` (a forged id of someone else's finds nothing)."""
        row = await self.store.fetchone(
            "SELECT id, created_at, intensity, body FROM journal_entries WHERE id = ? AND user_id = ?",
            (entry_id, user_id),
        )
        return _row(row) if row else None

    async def delete(self, user_id: int, entry_id: int) -> bool:
        async def work(db: aiosqlite.Connection) -> bool:
            cursor = await db.execute("DELETE FROM journal_entries WHERE id = ? AND user_id = ?", (entry_id, user_id))
            return cursor.rowcount == 1

        return await self.store.transaction(work)

    async def delete_all(self, user_id: int) -> int:
        async def work(db: aiosqlite.Connection) -> int:
            cursor = await db.execute("DELETE FROM journal_entries WHERE user_id = ?", (user_id,))
            return max(cursor.rowcount, 0)

        return await self.store.transaction(work)

    async def delete_older_than(self, cutoff: datetime) -> int:
        async def work(db: aiosqlite.Connection) -> int:
            cursor = await db.execute("DELETE FROM journal_entries WHERE created_at < ?", (iso(cutoff),))
            return max(cursor.rowcount, 0)

        return await self.store.transaction(work)


def _row(row: aiosqlite.Row) -> JournalRow:
    intensity = row["intensity"]
    body = row["body"]
    return JournalRow(
        id=int(row["id"]),
        created_at=str(row["created_at"]),
        intensity=int(intensity) if intensity is not None else None,
        body=bytes(body) if isinstance(body, (bytes, bytearray, memoryview)) else str(body).encode(),
    )
