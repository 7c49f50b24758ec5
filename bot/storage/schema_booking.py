"""Schema of bookings (migration 3), human handoffs with the staff tools (migration 4), and a change asked for (later).

Times are ISO-8601 UTC text (see `bot.storage.connection.iso`), shown in the centre's zone only
when rendered. Personal details (name, phone, note, user id) are erased by /forget; the
anonymous rest of a booking stays for the staff's counts.
"""

from __future__ import annotations

from typing import Final

BOOKING_SQL: Final[str] = """
-- One row per booking, from the first tap (status 'draft') to the end of its life.
-- `active` = 1 while the row holds its therapist's slot: a draft holding a chosen time
-- (until hold_until), and every request the centre has not closed.
CREATE TABLE bookings (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER,
    status          TEXT    NOT NULL DEFAULT 'draft',
    step            TEXT,
    who             TEXT,
    mode            TEXT,
    therapist       TEXT,
    slot_start      TEXT,
    slot_end        TEXT,
    hold_until      TEXT,
    active          INTEGER NOT NULL DEFAULT 0,
    contact         TEXT,
    phone           TEXT,
    note            TEXT,
    first_name      TEXT,
    username        TEXT,
    claimed_by      INTEGER,
    consent_at      TEXT,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL
);
-- Two people can never hold the same therapist's slot: enforced here, not in Python.
CREATE UNIQUE INDEX bookings_one_per_slot ON bookings(therapist, slot_start) WHERE active = 1;
CREATE INDEX bookings_user ON bookings(user_id, status);
CREATE INDEX bookings_status ON bookings(status, created_at);
"""

HANDOFF_SQL: Final[str] = """
-- A person talking to the centre's staff through the bot; one open conversation per person.
CREATE TABLE handoffs (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER,
    status          TEXT    NOT NULL DEFAULT 'open',
    display_name    TEXT    NOT NULL DEFAULT '',
    opened_by       TEXT    NOT NULL DEFAULT 'person',
    person_messages INTEGER NOT NULL DEFAULT 0,
    staff_messages  INTEGER NOT NULL DEFAULT 0,
    opened_at       TEXT    NOT NULL,
    closed_at       TEXT,
    closed_by       TEXT
);
CREATE UNIQUE INDEX handoffs_one_open ON handoffs(user_id) WHERE status = 'open';
CREATE INDEX handoffs_opened ON handoffs(opened_at);
-- Forum mode: the staff-group topic of each person, created once and reused.
CREATE TABLE staff_topics (
    user_id         INTEGER PRIMARY KEY,
    thread_id       INTEGER NOT NULL,
    created_at      TEXT    NOT NULL
);
CREATE INDEX staff_topics_thread ON staff_topics(thread_id);
-- The bot's own map from a message it posted in the staff group to the person it is about
-- (replies are routed with this, never with forwarded-from, which people can hide).
CREATE TABLE staff_messages (
    message_id      INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL,
    created_at      TEXT    NOT NULL
);
CREATE INDEX staff_messages_user ON staff_messages(user_id);
-- People staff blocked from booking and writing to staff (safety answers still reach them).
CREATE TABLE banned_users (
    user_id         INTEGER PRIMARY KEY,
    banned_by       INTEGER,
    banned_at       TEXT    NOT NULL
);
-- Questions the bot could not answer, kept only with consent, normalised and redacted,
-- so the content can grow where people need it; deleted after the retention period.
CREATE TABLE unanswered (
    id              INTEGER PRIMARY KEY,
    user_hash       TEXT    NOT NULL,
    text            TEXT    NOT NULL,
    created_at      TEXT    NOT NULL
);
CREATE INDEX unanswered_created ON unanswered(created_at);
CREATE INDEX unanswered_user ON unanswered(user_hash);
"""

BOOKING_CHANGE_SQL: Final[str] = """
-- A change the person asked for after sending a request, pending until staff confirm, move
-- or close it: another free time (UTC), and/or a note; change_wait is when the bot asked for
-- that note (a message within the step's time is taken as it). Erased by /forget.
ALTER TABLE bookings ADD COLUMN change_start TEXT;
ALTER TABLE bookings ADD COLUMN change_note TEXT;
ALTER TABLE bookings ADD COLUMN change_wait TEXT;
"""

BOOKING_ANSWERS_SQL: Final[str] = """
-- Answers of booking steps without a column of their own (a step added to
-- content/forms/booking.yaml): a JSON object {field: answer}. Erased by /forget, like the note.
ALTER TABLE bookings ADD COLUMN answers TEXT;
"""
