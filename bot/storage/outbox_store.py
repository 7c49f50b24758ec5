"""The outbox's faults: deliveries that failed for a reason other than Telegram being down, and those set aside.

Queueing, the due list and "delivered" live in `bot.storage.store.Store`; this is the part
that keeps one broken delivery from holding up the rest. A faulted delivery is retried
with backoff; after too many faults it is set aside: no longer due (so nothing waits
behind it), counted for `python -m bot doctor` and the staff's `/stats`, and deleted by
maintenance like the copies of delivered messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from typing import Final

import aiosqlite

from bot.storage.connection import iso, now_utc
from bot.storage.store import Store

# Long enough for the centre to notice (doctor, /stats) and look into it; short, since they hold words people wrote.
SET_ASIDE_KEEP: Final = timedelta(days=14)


@dataclass(frozen=True)
class SetAside:
    """What was set aside: how many per kind (a staff card, a relay, a reminder...) and since when."""

    by_kind: tuple[tuple[str, int], ...]
    oldest: datetime | None

    @property
    def total(self) -> int:
        return sum(count for _, count in self.by_kind)


class OutboxStore:
    """Every read and write behind the outbox's faults."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def fault(self, item_id: int, retry_in_seconds: float, fault: str) -> None:
        """Count one fault of a delivery (`fault`: an exception's type name) and retry it later."""
        retry_at = iso(now_utc() + timedelta(seconds=retry_in_seconds))
        await self.store.execute(
            "UPDATE outbox SET attempts = attempts + 1, faults = faults + 1, fault = ?, next_attempt_at = ? WHERE id = ?",
            (fault, retry_at, item_id),
        )

    async def set_aside(self, item_id: int, fault: str) -> None:
        """Give up on a delivery that keeps failing: it is no longer due, and is reported instead."""
        await self.store.execute(
            "UPDATE outbox SET attempts = attempts + 1, faults = faults + 1, fault = ?, set_aside_at = ? "
            "WHERE id = ? AND delivered_at IS NULL",
            (fault, iso(now_utc()), item_id),
        )

    async def set_aside_summary(self) -> SetAside:
        """The deliveries set aside and not yet purged, counted per kind."""
        rows = await self.store.fetchall(
            "SELECT CASE WHEN json_valid(payload) THEN coalesce(json_extract(payload, '$.kind'), '?') ELSE 'unreadable' END AS kind, "
            "count(*) AS n, min(set_aside_at) AS oldest FROM outbox WHERE set_aside_at IS NOT NULL GROUP BY 1 ORDER BY 1"
        )
        oldest = min((row["oldest"] for row in rows if row["oldest"]), default=None)
        return SetAside(
            by_kind=tuple((str(row["kind"]), int(row["n"])) for row in rows),
            oldest=datetime.fromisoformat(oldest) if oldest else None,
        )

    async def purge_set_aside(self, older_than: datetime) -> int:
        """Delete deliveries set aside before `older_than` (they hold words people or staff wrote)."""

        async def work(db: aiosqlite.Connection) -> int:
            cursor = await db.execute("DELETE FROM outbox WHERE set_aside_at IS NOT NULL AND set_aside_at < ?", (iso(older_than),))
            return max(cursor.rowcount, 0)

        return await self.store.transaction(work)
