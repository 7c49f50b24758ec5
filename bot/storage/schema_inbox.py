"""Schema of the update inbox (migration 5).

python-telegram-bot confirms a batch of updates to Telegram as soon as it has queued it in
memory, long before the updates are handled, so a bot killed with a backlog would lose it.
Each update is written here first; `body` (the update, with the person's words) is cleared
once it is handled, and the bare id is kept two days so a second delivery is recognised.
"""

from __future__ import annotations

from typing import Final

INBOX_SQL: Final[str] = """
CREATE TABLE inbox (
    update_id   INTEGER PRIMARY KEY,
    body        TEXT,
    received_at TEXT    NOT NULL,
    handled_at  TEXT
);
CREATE INDEX inbox_waiting ON inbox(update_id) WHERE handled_at IS NULL;
CREATE INDEX inbox_handled ON inbox(handled_at);
"""
