"""Handoffs to staff, bans, unanswered questions, staff statistics; and the staff channel's links to people.

`StaffLinkStore` keeps what the Telegram staff channel needs (`bot.telegram.staff_channel.StaffLinks`):
each person's forum topic and the map from posted staff-group messages to the person they are about.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from bot.storage.connection import iso, now_utc
from bot.storage.store import Store


@dataclass(frozen=True)
class HandoffRow:
    """One conversation of a person with the centre's team (a row of `handoffs`)."""

    id: int
    user_id: int | None
    status: str
    display_name: str
    opened_by: str
    person_messages: int
    staff_messages: int
    opened_at: str
    closed_at: str | None
    closed_by: str | None


def _row(row: aiosqlite.Row | None) -> HandoffRow | None:
    return HandoffRow(**dict(row)) if row is not None else None


class HandoffStore:
    """Every read and write behind the human handoff and the staff tools."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # --- handoffs ---------------------------------------------------------------------------

    async def open(self, user_id: int, display_name: str, opened_by: str, now: datetime) -> tuple[HandoffRow, bool]:
        """Open a handoff, or return the one already open; the bool says whether it is new."""

        async def work(db: aiosqlite.Connection) -> tuple[HandoffRow, bool]:
            created = True
            try:
                await db.execute(
                    "INSERT INTO handoffs(user_id, status, display_name, opened_by, opened_at) VALUES (?, 'open', ?, ?, ?)",
                    (user_id, display_name, opened_by, iso(now)),
                )
            except sqlite3.IntegrityError:
                created = False
            async with db.execute("SELECT * FROM handoffs WHERE user_id = ? AND status = 'open'", (user_id,)) as cursor:
                row = _row(await cursor.fetchone())
            assert row is not None
            return row, created

        return await self.store.transaction(work)

    async def open_of(self, user_id: int) -> HandoffRow | None:
        return _row(await self.store.fetchone("SELECT * FROM handoffs WHERE user_id = ? AND status = 'open'", (user_id,)))

    async def last_of(self, user_id: int) -> HandoffRow | None:
        return _row(await self.store.fetchone("SELECT * FROM handoffs WHERE user_id = ? ORDER BY id DESC LIMIT 1", (user_id,)))

    async def close(self, user_id: int, closed_by: str, now: datetime) -> HandoffRow | None:
        """Close the person's open handoff; None when none was open (a second close does nothing)."""

        async def work(db: aiosqlite.Connection) -> HandoffRow | None:
            async with db.execute("SELECT * FROM handoffs WHERE user_id = ? AND status = 'open'", (user_id,)) as cursor:
                row = _row(await cursor.fetchone())
            if row is None:
                return None
            await db.execute(
                "UPDATE handoffs SET status = 'closed', closed_at = ?, closed_by = ? WHERE id = ?",
                (iso(now), closed_by, row.id),
            )
            return row

        return await self.store.transaction(work)

    async def count_message(self, handoff_id: int, *, from_staff: bool) -> int:
        """Count a relayed message; returns the new count for that side."""
        column = "staff_messages" if from_staff else "person_messages"

        async def work(db: aiosqlite.Connection) -> int:
            await db.execute(f"UPDATE handoffs SET {column} = {column} + 1 WHERE id = ?", (handoff_id,))
            async with db.execute(f"SELECT {column} FROM handoffs WHERE id = ?", (handoff_id,)) as cursor:
                row = await cursor.fetchone()
            return int(row[0]) if row else 0

        return await self.store.transaction(work)

    async def opened_since(self, since: datetime) -> int:
        row = await self.store.fetchone("SELECT COUNT(*) AS n FROM handoffs WHERE opened_at >= ?", (iso(since),))
        return int(row["n"]) if row else 0

    # --- bans ---------------------------------------------------------------------------------

    async def ban(self, user_id: int, by: int, now: datetime) -> bool:
        async def work(db: aiosqlite.Connection) -> bool:
            cursor = await db.execute(
                "INSERT OR IGNORE INTO banned_users(user_id, banned_by, banned_at) VALUES (?, ?, ?)", (user_id, by, iso(now))
            )
            return cursor.rowcount == 1

        return await self.store.transaction(work)

    async def unban(self, user_id: int) -> bool:
        async def work(db: aiosqlite.Connection) -> bool:
            cursor = await db.execute("DELETE FROM banned_users WHERE user_id = ?", (user_id,))
            return cursor.rowcount == 1

        return await self.store.transaction(work)

    async def is_banned(self, user_id: int) -> bool:
        return await self.store.fetchone("SELECT 1 FROM banned_users WHERE user_id = ?", (user_id,)) is not None

    # --- unanswered questions -----------------------------------------------------------------

    async def add_unanswered(self, user_hash: str, text: str, now: datetime, keep_after: datetime) -> None:
        """Store one normalised question and drop the ones older than the retention period."""

        async def work(db: aiosqlite.Connection) -> None:
            await db.execute("DELETE FROM unanswered WHERE created_at < ?", (iso(keep_after),))
            await db.execute(
                "INSERT INTO unanswered(user_hash, text, created_at) VALUES (?, ?, ?)", (user_hash, text, iso(now))
            )

        await self.store.transaction(work)

    async def top_unanswered(self, since: datetime, limit: int = 15) -> list[tuple[str, int, int]]:
        """(question, times asked, distinct people), most asked first."""
        rows = await self.store.fetchall(
            "SELECT text, COUNT(*) AS n, COUNT(DISTINCT user_hash) AS people FROM unanswered WHERE created_at >= ? "
            "GROUP BY text ORDER BY n DESC, people DESC, MAX(created_at) DESC LIMIT ?",
            (iso(since), limit),
        )
        return [(str(row["text"]), int(row["n"]), int(row["people"])) for row in rows]

    async def purge_unanswered(self, keep_after: datetime) -> int:
        async def work(db: aiosqlite.Connection) -> int:
            cursor = await db.execute("DELETE FROM unanswered WHERE created_at < ?", (iso(keep_after),))
            return max(cursor.rowcount, 0)

        return await self.store.transaction(work)

    # --- statistics (anonymous: the turns table holds routes and intents, never text) ------------------

    async def people_helped(self, since: datetime) -> int:
        row = await self.store.fetchone("SELECT COUNT(DISTINCT user_hash) AS n FROM turns WHERE created_at >= ?", (iso(since),))
        return int(row["n"]) if row else 0

    async def answered_by_intent(self, since: datetime, limit: int = 10) -> list[tuple[str, int]]:
        rows = await self.store.fetchall(
            "SELECT intent, COUNT(*) AS n FROM turns WHERE created_at >= ? AND route = 'faq' AND intent IS NOT NULL "
            "GROUP BY intent ORDER BY n DESC, intent LIMIT ?",
            (iso(since), limit),
        )
        return [(str(row["intent"]), int(row["n"])) for row in rows]

    async def route_count(self, since: datetime, route: str) -> int:
        row = await self.store.fetchone(
            "SELECT COUNT(*) AS n FROM turns WHERE created_at >= ? AND route = ?", (iso(since), route)
        )
        return int(row["n"]) if row else 0

    async def safety_by_label(self, since: datetime) -> dict[str, int]:
        rows = await self.store.fetchall(
            "SELECT label, COUNT(*) AS n FROM safety_events WHERE created_at >= ? GROUP BY label", (iso(since),)
        )
        return {str(row["label"]): int(row["n"]) for row in rows}

    # --- erasure --------------------------------------------------------------------------------

    async def forget(self, user_id: int, user_hash: str) -> dict[str, int]:
        """Erase a person's handoff records; returns counts per kind (the staff channel erases its own links)."""

        async def work(db: aiosqlite.Connection) -> dict[str, int]:
            erased: dict[str, int] = {}
            for kind, sql, params in (
                ("conversations with staff", "DELETE FROM handoffs WHERE user_id = ?", (user_id,)),
                ("unanswered questions", "DELETE FROM unanswered WHERE user_hash = ?", (user_hash,)),
            ):
                cursor = await db.execute(sql, params)
                erased[kind] = erased.get(kind, 0) + max(cursor.rowcount, 0)
            return erased

        return await self.store.transaction(work)


class StaffLinkStore:
    """The Telegram staff channel's links (`bot.telegram.staff_channel.StaffLinks`): topics and posted messages.

    Tables `staff_topics` (a person's forum topic, by its thread id) and `staff_messages` (a posted
    message id -> the person it is about), both in `bot.storage.schema_booking`.
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    async def thread_of(self, user_id: int) -> int | None:
        row = await self.store.fetchone("SELECT thread_id FROM staff_topics WHERE user_id = ?", (user_id,))
        return int(row["thread_id"]) if row else None

    async def person_in_thread(self, thread_id: int) -> int | None:
        row = await self.store.fetchone("SELECT user_id FROM staff_topics WHERE thread_id = ?", (thread_id,))
        return int(row["user_id"]) if row else None

    async def keep_thread(self, user_id: int, thread_id: int) -> None:
        await self.store.execute(
            "INSERT INTO staff_topics(user_id, thread_id, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT(user_id) DO UPDATE SET thread_id = excluded.thread_id, created_at = excluded.created_at",
            (user_id, thread_id, iso(now_utc())),
        )

    async def drop_thread(self, user_id: int, thread_id: int) -> bool:
        """Forget a topic staff deleted; only if it is still the recorded one (a newer topic is kept)."""

        async def work(db: aiosqlite.Connection) -> bool:
            cursor = await db.execute("DELETE FROM staff_topics WHERE user_id = ? AND thread_id = ?", (user_id, thread_id))
            return cursor.rowcount == 1

        return await self.store.transaction(work)

    async def keep_messages(self, user_id: int, message_ids: Sequence[int]) -> None:
        now = iso(now_utc())

        async def work(db: aiosqlite.Connection) -> None:
            for message_id in message_ids:
                await db.execute(
                    "INSERT OR REPLACE INTO staff_messages(message_id, user_id, created_at) VALUES (?, ?, ?)",
                    (message_id, user_id, now),
                )

        await self.store.transaction(work)

    async def person_of_message(self, message_id: int) -> int | None:
        row = await self.store.fetchone("SELECT user_id FROM staff_messages WHERE message_id = ?", (message_id,))
        return int(row["user_id"]) if row else None

    async def forget(self, user_id: int, farewell: dict[str, Any] | None) -> int:
        """Erase the person's topic and message links in one transaction, queueing `farewell` into that topic.

        The farewell's outbox row names no person (user_id NULL): only its thread says where it goes.
        """

        async def work(db: aiosqlite.Connection) -> int:
            async with db.execute("SELECT thread_id FROM staff_topics WHERE user_id = ?", (user_id,)) as cursor:
                topic = await cursor.fetchone()
            erased = 0
            for sql in ("DELETE FROM staff_messages WHERE user_id = ?", "DELETE FROM staff_topics WHERE user_id = ?"):
                cursor = await db.execute(sql, (user_id,))
                erased += max(cursor.rowcount, 0)
            if farewell is not None:
                now = iso(now_utc())
                await db.execute(
                    "INSERT INTO outbox(user_id, chat_id, thread_id, payload, created_at, next_attempt_at) VALUES (NULL, NULL, ?, ?, ?, ?)",
                    (int(topic[0]) if topic else None, json.dumps(farewell, ensure_ascii=False), now, now),
                )
            return erased

        return await self.store.transaction(work)

    async def thread_of_delivery(self, delivery_id: int) -> int | None:
        row = await self.store.fetchone("SELECT thread_id FROM outbox WHERE id = ?", (delivery_id,))
        return int(row["thread_id"]) if row and row["thread_id"] is not None else None
