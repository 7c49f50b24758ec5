"""Schema of the private journal (migration 2)."""

from __future__ import annotations

from typing import Final

JOURNAL_SQL: Final[str] = """
CREATE TABLE journal_entries (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL,
    created_at  TEXT    NOT NULL,
    feelings    TEXT    NOT NULL DEFAULT '',
    intensity   INTEGER,
    body        BLOB    NOT NULL
);
CREATE INDEX journal_user ON journal_entries(user_id, created_at);
"""
