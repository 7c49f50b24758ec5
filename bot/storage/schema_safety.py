"""Schema of safety tiers (migration: check-ins, their outcomes, and why staff were alerted).

A safety event is now one of two tiers: `alert` (the full answer and, when due, a staff
alert) or `check_in` (a gentle question first). A check-in's `outcome` is the person's
answer (`confirmed_crisis`, `confirmed_unsafe`, `okay`, `human`, or `followed_by_worry`: the
next message was worrying too and got the full answer); `means` marks a message
that spoke of a plan or a means; `reason` says why staff were alerted (`first`,
`escalation_check_in`, `escalation_unsafe_to_crisis`, `escalation_means`).
"""

from __future__ import annotations

from typing import Final

SAFETY_TIERS_SQL: Final[str] = """
ALTER TABLE safety_events ADD COLUMN tier TEXT NOT NULL DEFAULT 'alert';
ALTER TABLE safety_events ADD COLUMN outcome TEXT;
ALTER TABLE safety_events ADD COLUMN means INTEGER NOT NULL DEFAULT 0;
ALTER TABLE safety_events ADD COLUMN reason TEXT;
CREATE INDEX safety_user_label ON safety_events(user_id, label, created_at);
"""
