"""Bookings in SQLite: slot holds, requests and their status (drafts: `booking_drafts.py`, reminders: `booking_reminders.py`).

The one rule that matters most lives in the schema: a partial UNIQUE index on
(therapist, slot_start) over active rows. Taking a slot is an UPDATE inside one
IMMEDIATE transaction; if another person holds it, SQLite refuses and we say so.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Final

import aiosqlite

from bot.storage.booking_drafts import BookingDrafts
from bot.storage.booking_reminders import BookingReminders, drop_pending_reminders
from bot.storage.booking_row import OPEN_STATUSES, BookingRow, row_of
from bot.storage.connection import iso, now_utc
from bot.storage.store import Store

# A change the person asked for after sending (migration: BOOKING_CHANGE_SQL), pending until staff act.
CHANGE_FIELDS: Final = frozenset({"change_start", "change_note", "change_wait"})
_CLEAR_CHANGE: Final = "change_start = NULL, change_note = NULL, change_wait = NULL"
_RELEASE_STALE = "UPDATE bookings SET active = 0 WHERE active = 1 AND status = 'draft' AND hold_until < ?"


class BookingStore(BookingDrafts, BookingReminders):
    """Every read and write of bookings; times are passed in (UTC) so a test clock works."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def current_of(self, user_id: int) -> BookingRow | None:
        """The person's latest booking the centre has not closed (what /mybooking shows)."""
        marks = ",".join("?" * len(OPEN_STATUSES))
        return row_of(
            await self.store.fetchone(
                f"SELECT * FROM bookings WHERE user_id = ? AND status IN ({marks}) ORDER BY id DESC LIMIT 1",
                (user_id, *OPEN_STATUSES),
            )
        )

    # --- slots -------------------------------------------------------------------------------

    async def taken(self, start: datetime, end: datetime, now: datetime, exclude_id: int | None = None) -> set[tuple[str, str]]:
        """(therapist, slot_start) pairs held or booked between `start` and `end`; lapsed holds count as free."""
        rows = await self.store.fetchall(
            "SELECT therapist, slot_start FROM bookings WHERE active = 1 AND slot_start >= ? AND slot_start < ? "
            "AND id IS NOT ? AND NOT (status = 'draft' AND hold_until < ?)",
            (iso(start), iso(end), exclude_id, iso(now)),
        )
        return {(str(row["therapist"]), str(row["slot_start"])) for row in rows}

    async def hold(
        self, booking_id: int, therapists: Sequence[str], start: datetime, end: datetime, hold_until: datetime, now: datetime
    ) -> str | None:
        """Hold the first of `therapists` free at `start` for this draft; None when every one is taken."""

        async def work(db: aiosqlite.Connection) -> str | None:
            await db.execute(_RELEASE_STALE, (iso(now),))
            for therapist in therapists:
                try:
                    cursor = await db.execute(
                        "UPDATE bookings SET therapist = ?, slot_start = ?, slot_end = ?, hold_until = ?, active = 1, "
                        "updated_at = ? WHERE id = ? AND status = 'draft'",
                        (therapist, iso(start), iso(end), iso(hold_until), iso(now), booking_id),
                    )
                except sqlite3.IntegrityError:
                    continue
                return therapist if cursor.rowcount == 1 else None
            return None

        return await self.store.transaction(work)

    async def submit(self, booking_id: int, now: datetime, card: dict[str, Any] | None = None) -> bool:
        """Turn a complete draft into a request, keeping (or re-taking) its slot; False if the slot was lost.

        `card`, an outbox payload for the staff group, is queued in the same transaction: a
        request is never stored without its card, nor a card sent for a request that failed.
        """

        async def work(db: aiosqlite.Connection) -> bool:
            await db.execute(_RELEASE_STALE + " AND id != ?", (iso(now), booking_id))
            try:
                cursor = await db.execute(
                    "UPDATE bookings SET status = 'requested', active = 1, hold_until = NULL, consent_at = ?, "
                    "step = NULL, updated_at = ? WHERE id = ? AND status = 'draft' AND slot_start IS NOT NULL",
                    (iso(now), iso(now), booking_id),
                )
            except sqlite3.IntegrityError:
                await db.execute(
                    "UPDATE bookings SET active = 0, therapist = NULL, slot_start = NULL, slot_end = NULL WHERE id = ?",
                    (booking_id,),
                )
                return False
            if cursor.rowcount != 1:
                return False
            if card is not None:
                async with db.execute("SELECT user_id FROM bookings WHERE id = ?", (booking_id,)) as read:
                    owner = await read.fetchone()
                await db.execute(
                    "INSERT INTO outbox(user_id, chat_id, thread_id, payload, created_at, next_attempt_at) "
                    "VALUES (?, NULL, NULL, ?, ?, ?)",
                    (owner[0] if owner else None, json.dumps(card, ensure_ascii=False), iso(now_utc()), iso(now_utc())),
                )
            return True

        return await self.store.transaction(work)

    async def move(
        self, booking_id: int, therapists: Sequence[str], start: datetime, end: datetime, status: str,
        expected: Iterable[str], now: datetime,
    ) -> str | None:
        """Move an open request to another slot (staff proposing a time); None if taken or not movable."""
        allowed = tuple(expected)

        async def work(db: aiosqlite.Connection) -> str | None:
            await db.execute(_RELEASE_STALE, (iso(now),))
            marks = ",".join("?" * len(allowed))
            for therapist in therapists:
                try:
                    cursor = await db.execute(
                        "UPDATE bookings SET therapist = ?, slot_start = ?, slot_end = ?, status = ?, active = 1, "
                        f"updated_at = ? WHERE id = ? AND status IN ({marks})",
                        (therapist, iso(start), iso(end), status, iso(now), booking_id, *allowed),
                    )
                except sqlite3.IntegrityError:
                    continue
                return therapist if cursor.rowcount == 1 else None
            return None

        return await self.store.transaction(work)

    # --- status -------------------------------------------------------------------------------

    async def set_status(
        self, booking_id: int, status: str, *, expected: Iterable[str], now: datetime,
        claimed_by: int | None = None, release: bool = False, settle_change: bool = False,
    ) -> BookingRow | None:
        """Change the status if it is one of `expected` (a stale button changes nothing); returns the new row.

        `settle_change`: the change the person asked for is no longer pending (staff confirmed or
        closed, or the person accepted or cancelled).
        """
        allowed = tuple(expected)
        marks = ",".join("?" * len(allowed))
        settle = f", {_CLEAR_CHANGE}" if settle_change else ""

        async def work(db: aiosqlite.Connection) -> BookingRow | None:
            cursor = await db.execute(
                f"UPDATE bookings SET status = ?, updated_at = ?, claimed_by = COALESCE(?, claimed_by), "
                f"active = CASE WHEN ? THEN 0 ELSE active END{settle} WHERE id = ? AND status IN ({marks})",
                (status, iso(now), claimed_by, int(release), booking_id, *allowed),
            )
            if cursor.rowcount != 1:
                return None
            async with db.execute("SELECT * FROM bookings WHERE id = ?", (booking_id,)) as read:
                return row_of(await read.fetchone())

        return await self.store.transaction(work)

    async def update_change(self, booking_id: int, now: datetime, **fields: object) -> BookingRow | None:
        """Set what the person asks to change on an open request; returns the new row (None if no longer open)."""
        unknown = set(fields) - CHANGE_FIELDS
        if unknown or not fields:
            raise ValueError(f"not change fields: {sorted(unknown)}")
        columns = ", ".join(f"{name} = ?" for name in sorted(fields))
        values = tuple(fields[name] for name in sorted(fields))
        marks = ",".join("?" * len(OPEN_STATUSES))

        async def work(db: aiosqlite.Connection) -> BookingRow | None:
            cursor = await db.execute(
                f"UPDATE bookings SET {columns}, updated_at = ? WHERE id = ? AND status IN ({marks})",
                (*values, iso(now), booking_id, *OPEN_STATUSES),
            )
            if cursor.rowcount != 1:
                return None
            async with db.execute("SELECT * FROM bookings WHERE id = ?", (booking_id,)) as read:
                return row_of(await read.fetchone())

        return await self.store.transaction(work)

    async def settle_change(self, booking_id: int) -> None:
        """The asked change is no longer pending (staff moved the booking to another time)."""
        await self.store.execute(f"UPDATE bookings SET {_CLEAR_CHANGE} WHERE id = ?", (booking_id,))

    async def waiting_change(self, user_id: int, since: datetime) -> BookingRow | None:
        """The open request whose change note the person was asked to write since `since`, if any."""
        marks = ",".join("?" * len(OPEN_STATUSES))
        return row_of(
            await self.store.fetchone(
                f"SELECT * FROM bookings WHERE user_id = ? AND status IN ({marks}) AND change_wait >= ? "
                "ORDER BY id DESC LIMIT 1",
                (user_id, *OPEN_STATUSES, iso(since)),
            )
        )

    async def open_requests(self, limit: int = 30) -> list[BookingRow]:
        rows = await self.store.fetchall(
            "SELECT * FROM bookings WHERE status IN ('requested', 'claimed', 'proposed') ORDER BY slot_start LIMIT ?",
            (limit,),
        )
        return [BookingRow(**dict(row)) for row in rows]

    async def count_by_status(self, since: datetime) -> dict[str, int]:
        rows = await self.store.fetchall(
            "SELECT status, COUNT(*) AS n FROM bookings WHERE status != 'draft' AND created_at >= ? GROUP BY status",
            (iso(since),),
        )
        return {str(row["status"]): int(row["n"]) for row in rows}

    # --- erasure -------------------------------------------------------------------------------

    async def forget(self, user_id: int, now: datetime) -> tuple[int, list[BookingRow]]:
        """Erase a person's booking details; open requests are withdrawn. Returns (rows erased, open ones withdrawn)."""

        async def work(db: aiosqlite.Connection) -> tuple[int, list[BookingRow]]:
            marks = ",".join("?" * len(OPEN_STATUSES))
            async with db.execute(
                f"SELECT * FROM bookings WHERE user_id = ? AND status IN ({marks})", (user_id, *OPEN_STATUSES)
            ) as cursor:
                withdrawn = [BookingRow(**dict(row)) for row in await cursor.fetchall()]
            for row in withdrawn:
                await drop_pending_reminders(db, row.id)
            drafts = await db.execute("DELETE FROM bookings WHERE user_id = ? AND status = 'draft'", (user_id,))
            erased = await db.execute(
                f"UPDATE bookings SET user_id = NULL, phone = NULL, note = NULL, answers = NULL, first_name = NULL, username = NULL, {_CLEAR_CHANGE}, "
                "status = CASE WHEN status IN ('requested', 'claimed', 'proposed', 'confirmed') THEN 'withdrawn' ELSE status END, "
                "active = 0, updated_at = ? WHERE user_id = ?",
                (iso(now), user_id),
            )
            return max(drafts.rowcount, 0) + max(erased.rowcount, 0), withdrawn

        return await self.store.transaction(work)
