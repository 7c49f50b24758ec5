"""The database schema as an ordered list of migrations, tracked with PRAGMA user_version.

Append a new script to MIGRATIONS to change the schema; never edit a shipped one.
What is stored, and why, is listed in the privacy text (content/texts.yaml) and the README.
"""

from __future__ import annotations

from typing import Final

from bot.storage.schema_booking import BOOKING_ANSWERS_SQL, BOOKING_CHANGE_SQL, BOOKING_SQL, HANDOFF_SQL
from bot.storage.schema_inbox import INBOX_SQL
from bot.storage.schema_journal import JOURNAL_SQL
from bot.storage.schema_meta import META_SQL
from bot.storage.schema_outbox import OUTBOX_FAULTS_SQL
from bot.storage.schema_safety import SAFETY_TIERS_SQL

CORE_SQL: Final[tuple[str, ...]] = (
    # 1: conversation state, anonymous statistics, safety events, the outbox.
    """
    CREATE TABLE sessions (
        user_id     INTEGER PRIMARY KEY,
        data        TEXT    NOT NULL,
        updated_at  TEXT    NOT NULL
    );
    CREATE TABLE once_keys (
        key         TEXT PRIMARY KEY,
        created_at  TEXT NOT NULL
    );
    -- "Was this helpful?" answers per intent, without who gave them.
    CREATE TABLE feedback (
        id          INTEGER PRIMARY KEY,
        intent      TEXT    NOT NULL,
        helpful     INTEGER NOT NULL,
        created_at  TEXT    NOT NULL
    );
    -- One row per handled message for the staff's statistics: the route taken, never the text.
    CREATE TABLE turns (
        id          INTEGER PRIMARY KEY,
        user_hash   TEXT    NOT NULL,
        route       TEXT    NOT NULL,
        intent      TEXT,
        created_at  TEXT    NOT NULL
    );
    CREATE INDEX turns_created ON turns(created_at);
    CREATE INDEX turns_user ON turns(user_hash);
    -- Safety events: what fired, for review; the text only if the person consented.
    CREATE TABLE safety_events (
        id          INTEGER PRIMARY KEY,
        user_id     INTEGER,
        label       TEXT    NOT NULL,
        pattern     TEXT    NOT NULL,
        text        TEXT,
        alerted     INTEGER NOT NULL DEFAULT 0,
        created_at  TEXT    NOT NULL
    );
    CREATE INDEX safety_user ON safety_events(user_id, created_at);
    -- Messages to staff or to people that must survive a restart or an unreachable chat.
    CREATE TABLE outbox (
        id              INTEGER PRIMARY KEY,
        user_id         INTEGER,
        chat_id         INTEGER,
        thread_id       INTEGER,
        payload         TEXT    NOT NULL,
        created_at      TEXT    NOT NULL,
        next_attempt_at TEXT    NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        delivered_at    TEXT
    );
    CREATE INDEX outbox_due ON outbox(delivered_at, next_attempt_at);
    """,
)

# The order is the schema history: append, never reorder. Each feature keeps its SQL in its own file.
MIGRATIONS: Final[tuple[str, ...]] = (*CORE_SQL, JOURNAL_SQL, BOOKING_SQL, HANDOFF_SQL, INBOX_SQL, SAFETY_TIERS_SQL, META_SQL, OUTBOX_FAULTS_SQL, BOOKING_CHANGE_SQL, BOOKING_ANSWERS_SQL)
