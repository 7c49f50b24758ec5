"""Schema of outbox faults (migration: a delivery that keeps failing is set aside, not retried forever).

`faults` counts the tries that failed for a reason other than Telegram being unreachable
(a reply that cannot be rendered, an answer the library cannot read); `fault` is the
exception's type name (never a message text); `set_aside_at` marks a delivery given up
after too many faults: it is no longer due, so nothing behind it waits, and it is shown
by `python -m bot doctor` and the staff's `/stats` until maintenance deletes it.
"""

from __future__ import annotations

from typing import Final

OUTBOX_FAULTS_SQL: Final[str] = """
ALTER TABLE outbox ADD COLUMN faults INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN fault TEXT;
ALTER TABLE outbox ADD COLUMN set_aside_at TEXT;
CREATE INDEX outbox_set_aside ON outbox(set_aside_at) WHERE set_aside_at IS NOT NULL;
"""
