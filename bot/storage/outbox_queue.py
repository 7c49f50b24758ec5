"""The outbox queue: what the bot will say outside a turn, until it is delivered.

Queueing, the due list, "delivered" and "retry later", and the purge of delivered copies:
the life of a row in `outbox`. What happens to deliveries that keep failing (set aside,
counted) is `outbox_store.py`. `Store` takes these methods as a base class, so callers
still ask the one store (`store.enqueue(...)`).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import aiosqlite

from bot.storage.connection import Connection, iso, now_utc


class OutboxQueue(Connection):
    """The outbox part of `Store`."""

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
