"""Schema of the database's own facts (migration 7): small named values, one row each.

`key_check` holds a Fernet token of a known constant, written with DATA_ENCRYPTION_KEY:
at start-up it tells in one decryption whether the configured key is the one the stored
words were sealed with (see `bot.engine.key_check`). It holds no personal data.
"""

from __future__ import annotations

from typing import Final

META_SQL: Final[str] = """
CREATE TABLE meta (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
"""
