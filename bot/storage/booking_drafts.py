"""A booking while the person fills it in: the draft row, its answers, and its end when never sent.

Kept apart from `booking_store.py` (holding a time, sending, what staff do) because a draft
is the person's own form: it may be changed field by field, dropped, or purged unsent.
`BookingStore` takes these methods as a base class, so callers still ask the one store.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final

import aiosqlite

from bot.storage.booking_row import COLUMNS, BookingRow, row_of
from bot.storage.connection import iso
from bot.storage.store import Store

DRAFT_FIELDS: Final = frozenset({"step", "who", "mode", "contact", "phone", "note", "first_name", "username"})
# A step's answer without a column of its own is kept in `answers` (JSON, migration BOOKING_ANSWERS_SQL) by its name.
ANSWER_NAME: Final = re.compile(r"[a-z][a-z0-9_]{0,19}")


class BookingDrafts:
    """The draft part of `BookingStore` (the store of the database is `self.store`)."""

    store: Store

    async def get(self, booking_id: int) -> BookingRow | None:
        return row_of(await self.store.fetchone("SELECT * FROM bookings WHERE id = ?", (booking_id,)))

    async def new_draft(self, user_id: int, first_name: str, username: str | None, now: datetime, *, step: str) -> int:
        """Start a draft at `step`; an older unfinished draft of the same person is dropped (its hold released)."""

        async def work(db: aiosqlite.Connection) -> int:
            await db.execute("DELETE FROM bookings WHERE user_id = ? AND status = 'draft'", (user_id,))
            cursor = await db.execute(
                "INSERT INTO bookings(user_id, status, step, first_name, username, created_at, updated_at) "
                "VALUES (?, 'draft', ?, ?, ?, ?, ?)",
                (user_id, step, first_name, username, iso(now), iso(now)),
            )
            return int(cursor.lastrowid or 0)

        return await self.store.transaction(work)

    async def draft(self, booking_id: int, user_id: int) -> BookingRow | None:
        """The booking, if it is this person's draft (a button of someone else's, or of a sent one, finds nothing)."""
        row = await self.get(booking_id)
        return row if row is not None and row.user_id == user_id and row.status == "draft" else None

    async def draft_of(self, user_id: int) -> BookingRow | None:
        return row_of(
            await self.store.fetchone(
                "SELECT * FROM bookings WHERE user_id = ? AND status = 'draft' ORDER BY id DESC LIMIT 1", (user_id,)
            )
        )

    async def update_draft(self, booking_id: int, now: datetime, **fields: object) -> None:
        """Set draft fields: the known columns, or answers kept by name in `answers` (never a column name from input)."""
        extra = sorted(set(fields) - DRAFT_FIELDS)
        unknown = [name for name in extra if name in COLUMNS or not ANSWER_NAME.fullmatch(name)]
        if unknown:
            raise ValueError(f"not draft fields: {unknown}")
        if not fields:
            return
        named = sorted(set(fields) - set(extra))
        columns = ", ".join(f"{name} = ?" for name in named)
        values: tuple[object, ...] = tuple(fields[name] for name in named)
        if extra:
            pairs = ", ".join("?, ?" for _ in extra)
            columns += (", " if columns else "") + f"answers = json_set(COALESCE(answers, '{{}}'), {pairs})"
            values += tuple(part for name in extra for part in (f"$.{name}", fields[name]))
        await self.store.execute(
            f"UPDATE bookings SET {columns}, updated_at = ? WHERE id = ? AND status = 'draft'",
            (*values, iso(now), booking_id),
        )

    async def release(self, booking_id: int) -> None:
        """Let go of a draft's held time (it no longer fits what the person chose)."""
        await self.store.execute(
            "UPDATE bookings SET active = 0, therapist = NULL, slot_start = NULL, slot_end = NULL, hold_until = NULL "
            "WHERE id = ? AND status = 'draft'",
            (booking_id,),
        )

    async def drop_draft(self, booking_id: int) -> bool:
        """Delete an unsent draft (its hold goes with it)."""

        async def work(db: aiosqlite.Connection) -> bool:
            cursor = await db.execute("DELETE FROM bookings WHERE id = ? AND status = 'draft'", (booking_id,))
            return cursor.rowcount == 1

        return await self.store.transaction(work)

    async def purge_drafts(self, older_than: datetime) -> int:
        """Unfinished drafts are not kept: nothing was sent, so nothing is worth keeping."""

        async def work(db: aiosqlite.Connection) -> int:
            cursor = await db.execute("DELETE FROM bookings WHERE status = 'draft' AND updated_at < ?", (iso(older_than),))
            return max(cursor.rowcount, 0)

        return await self.store.transaction(work)
