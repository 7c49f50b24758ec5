"""What happened, recorded: answers rated, turns routed, and safety events.

The statistics (`feedback`, `turns`) keep no words: an intent, a route, at most a keyed
hash of the person. The safety events keep who and what until /forget clears them, and are
read back to pace the alerts to staff. Both are records of what happened, written once and
then only counted, consulted or purged: apart from a person's working state (`store.py`).
`Store` takes these methods as a base class, so callers still ask the one store.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiosqlite

from bot.storage.connection import Connection, iso, now_utc


class Events(Connection):
    """The statistics and safety-event part of `Store`."""

    # --- statistics ------------------------------------------------------------------------

    async def record_feedback(self, intent: str, helpful: bool) -> None:
        await self.execute(
            "INSERT INTO feedback(intent, helpful, created_at) VALUES (?, ?, ?)", (intent, int(helpful), iso(now_utc()))
        )

    async def feedback_counts(self) -> dict[str, tuple[int, int]]:
        """Per intent: (helpful, not helpful)."""
        rows = await self.fetchall(
            "SELECT intent, SUM(helpful) AS yes, SUM(1 - helpful) AS no FROM feedback GROUP BY intent"
        )
        return {row["intent"]: (int(row["yes"]), int(row["no"])) for row in rows}

    async def record_turn(self, user_hash: str, route: str, intent: str | None) -> None:
        await self.execute(
            "INSERT INTO turns(user_hash, route, intent, created_at) VALUES (?, ?, ?, ?)",
            (user_hash, route, intent, iso(now_utc())),
        )

    async def purge_turns(self, older_than: datetime) -> int:
        """Delete statistics rows older than `older_than`."""

        async def work(db: aiosqlite.Connection) -> int:
            cursor = await db.execute("DELETE FROM turns WHERE created_at < ?", (iso(older_than),))
            return max(cursor.rowcount, 0)

        return await self.transaction(work)

    # --- safety ----------------------------------------------------------------------------

    async def add_safety_event(
        self,
        user_id: int,
        label: str,
        pattern: str,
        text: str | None,
        alerted: bool,
        *,
        tier: str = "alert",
        means: bool = False,
        reason: str | None = None,
    ) -> int:
        return await self.execute(
            "INSERT INTO safety_events(user_id, label, pattern, text, alerted, created_at, tier, means, reason) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (user_id, label, pattern, text, int(alerted), iso(now_utc()), tier, int(means), reason),
        )

    async def set_safety_outcome(self, event_id: int, user_id: int, outcome: str) -> None:
        """Record how a person answered a check-in (only their own event)."""
        await self.execute(
            "UPDATE safety_events SET outcome = ? WHERE id = ? AND user_id = ?", (outcome, event_id, user_id)
        )

    async def last_staff_alert(self, user_id: int, label: str | None = None) -> datetime | None:
        """When staff were last alerted about this person (about this label, when given)."""
        if label is None:
            row = await self.fetchone(
                "SELECT MAX(created_at) AS at FROM safety_events WHERE user_id = ? AND alerted = 1", (user_id,)
            )
        else:
            row = await self.fetchone(
                "SELECT MAX(created_at) AS at FROM safety_events WHERE user_id = ? AND alerted = 1 AND label = ?",
                (user_id, label),
            )
        return datetime.fromisoformat(row["at"]) if row and row["at"] else None

    async def recent_alerts(self, user_id: int, since: datetime) -> list[dict[str, Any]]:
        """The alerts staff got about this person since `since`: label and whether a means was named."""
        rows = await self.fetchall(
            "SELECT label, means, created_at FROM safety_events "
            "WHERE user_id = ? AND alerted = 1 AND created_at >= ? ORDER BY id",
            (user_id, iso(since)),
        )
        return [dict(row) for row in rows]

    async def safety_events(self, user_id: int | None = None) -> list[dict[str, Any]]:
        if user_id is None:
            rows = await self.fetchall("SELECT * FROM safety_events ORDER BY id")
        else:
            rows = await self.fetchall("SELECT * FROM safety_events WHERE user_id = ? ORDER BY id", (user_id,))
        return [dict(row) for row in rows]
