"""Schema of the private journal (migration 2).

`body` holds the entry's words (feelings, reflection text) as JSON, encrypted with Fernet
when DATA_ENCRYPTION_KEY is set; `intensity` (1-5) stays readable so old entries can be
charted without decrypting. Rows are deleted by /forget, by the person, and after the
retention period.
"""

from __future__ import annotations

from typing import Final

JOURNAL_SQL: Final[str] = """
CREATE TABLE journal_entries (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL,
    created_at  TEXT    NOT NULL,
    intensity   INTEGER,
    body        BLOB    NOT NULL
);
CREATE INDEX journal_user ON journal_entries(user_id, created_at);
CREATE INDEX journal_created ON journal_entries(created_at);
"""
