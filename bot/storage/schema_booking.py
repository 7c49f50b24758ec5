"""Schema of bookings (migration 3) and human handoffs (migration 4)."""

from __future__ import annotations

from typing import Final

BOOKING_SQL: Final[str] = """
CREATE TABLE bookings (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER,
    created_at  TEXT    NOT NULL
);
"""

HANDOFF_SQL: Final[str] = """
CREATE TABLE handoffs (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER,
    created_at  TEXT    NOT NULL
);
"""
