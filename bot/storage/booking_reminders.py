"""A booking's reminders: due rows in the outbox, so they survive a restart.

Kept apart from the bookings' own SQL (`booking_store.py`): reminders live in another table
(the outbox), tagged with their booking, and are replaced, listed and erased as a set.
`BookingStore` takes these methods as a base class, so callers still ask the one store.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

import aiosqlite

from bot.storage.connection import iso
from bot.storage.store import Store

REMINDER_KIND: Final = "booking_reminder"


class BookingReminders:
    """The reminder part of `BookingStore` (the store of the database is `self.store`)."""

    store: Store

    async def add_reminders(self, booking_id: int, user_id: int, items: Sequence[tuple[dict[str, Any], datetime]], now: datetime) -> int:
        """Queue reminder messages to the person, each due at its time; replaces earlier ones of this booking."""

        async def work(db: aiosqlite.Connection) -> int:
            await drop_pending_reminders(db, booking_id)
            for payload, due in items:
                body = {**payload, "kind": REMINDER_KIND, "booking_id": booking_id}
                await db.execute(
                    "INSERT INTO outbox(user_id, chat_id, thread_id, payload, created_at, next_attempt_at) "
                    "VALUES (?, ?, NULL, ?, ?, ?)",
                    (user_id, user_id, json.dumps(body, ensure_ascii=False), iso(now), iso(due)),
                )
            return len(items)

        return await self.store.transaction(work)

    async def drop_reminders(self, booking_id: int) -> int:
        async def work(db: aiosqlite.Connection) -> int:
            return await drop_pending_reminders(db, booking_id)

        return await self.store.transaction(work)

    async def reminders(self, booking_id: int) -> list[dict[str, Any]]:
        """Pending reminders of a booking, earliest first (for /mybooking and the tests)."""
        rows = await self.store.fetchall(
            "SELECT id, next_attempt_at, payload FROM outbox WHERE delivered_at IS NULL "
            "AND json_extract(payload, '$.kind') = ? AND json_extract(payload, '$.booking_id') = ? ORDER BY next_attempt_at",
            (REMINDER_KIND, booking_id),
        )
        return [dict(row) for row in rows]


async def drop_pending_reminders(db: aiosqlite.Connection, booking_id: int) -> int:
    """Remove a booking's reminders not sent yet (inside the caller's transaction)."""
    cursor = await db.execute(
        "DELETE FROM outbox WHERE delivered_at IS NULL AND json_extract(payload, '$.kind') = ? "
        "AND json_extract(payload, '$.booking_id') = ?",
        (REMINDER_KIND, booking_id),
    )
    return max(cursor.rowcount, 0)
