"""Scheduled housekeeping: delete what the bot no longer needs, on the retention it promises.

Run every few hours by the Telegram job queue and once when the terminal chat starts. What a channel
keeps for itself (Telegram's handled update ids) it purges itself (`bot/telegram/inbox.py`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.engine.core import Engine
from bot.storage.connection import now_utc
from bot.storage.outbox_store import SET_ASIDE_KEEP, OutboxStore

log = logging.getLogger(__name__)

# Delivered staff cards, relays and reminders are copies of what Telegram already shows: a week
# is enough to investigate a delivery problem.
DELIVERED_KEEP = timedelta(days=7)
# The staff statistics look back 30 days; activity rows older than that serve nothing.
TURNS_KEEP = timedelta(days=31)


async def run_maintenance(engine: Engine, now: datetime | None = None) -> dict[str, int]:
    """Purge every table with a retention; returns how many rows went, per kind (logged, never content)."""
    now = now or now_utc()
    purged: dict[str, int] = {}
    for feature in engine.features:  # journal entries, booking drafts, unanswered questions
        purged.update(await feature.on_housekeeping(now))
    purged |= {
        "delivered messages": await engine.store.purge_delivered(now - DELIVERED_KEEP),
        "set-aside messages": await OutboxStore(engine.store).purge_set_aside(now - SET_ASIDE_KEEP),
        "activity records": await engine.store.purge_turns(now - TURNS_KEEP),
    }
    log.info("maintenance %s", " ".join(f"{kind.replace(' ', '_')}={count}" for kind, count in purged.items()))
    return purged
