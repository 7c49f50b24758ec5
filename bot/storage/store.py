"""The Store: every read and write of the bot's SQLite database, as one object.

Its parts live beside it, each for one reason: the connection and its transactions
(`connection.py`), emptying the write-ahead log (`wal.py`), the statistics and safety
events (`events.py`), and the outbox queue (`outbox_queue.py`). What stays here belongs to
a person as a whole: their session, the once-only keys, and /forget, which erases across
every table in one transaction.
"""

from __future__ import annotations

import json
from typing import Any

import aiosqlite

from bot.storage.connection import iso, now_utc
from bot.storage.events import Events
from bot.storage.outbox_queue import OutboxQueue
from bot.storage.wal import WriteAheadLog


class Store(Events, OutboxQueue, WriteAheadLog):
    """Async access to the database; open with `await store.open()`, close with `await store.close()`."""

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
