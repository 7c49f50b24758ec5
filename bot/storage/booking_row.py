"""A booking as the code sees it: the typed `BookingRow` of the `bookings` table, and the statuses of an open request.

Kept apart from `booking_store.py` (the SQL) because every part of the booking feature reads
rows, while only the store writes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any, Final

import aiosqlite

OPEN_STATUSES: Final = ("requested", "claimed", "proposed", "confirmed")


@dataclass(frozen=True)
class BookingRow:
    """A booking (a row of `bookings`): a draft while the person fills it in, then a request staff act on.

    Times are UTC ISO text; `who`, `mode`, `contact` and the slot stay None until chosen.
    `change_*`: a change the person asked for after sending, until staff answer it.
    """

    id: int
    user_id: int | None
    status: str
    step: str | None
    who: str | None
    mode: str | None
    therapist: str | None
    slot_start: str | None
    slot_end: str | None
    hold_until: str | None
    active: int
    contact: str | None
    phone: str | None
    note: str | None
    first_name: str | None
    username: str | None
    claimed_by: int | None
    consent_at: str | None
    created_at: str
    updated_at: str
    change_start: str | None = None
    change_note: str | None = None
    change_wait: str | None = None
    answers: str | None = None

    def answer(self, name: str) -> Any:
        """A step's answer: its column, or its entry in `answers` (a step added without a column)."""
        if name in COLUMNS:
            return getattr(self, name)
        kept = json.loads(self.answers) if self.answers else {}
        return kept.get(name) if isinstance(kept, dict) else None


COLUMNS: Final = frozenset(f.name for f in fields(BookingRow))


def row_of(row: aiosqlite.Row | None) -> BookingRow | None:
    return BookingRow(**dict(row)) if row is not None else None
