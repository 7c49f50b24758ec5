"""One turn's bookkeeping: what it decided (`Turn`), the session kept after it, its statistics row.

Kept apart from the routing (`core.py`): these read and write the person's session and the
anonymous statistics (route and intent, never text), and answer "which language does this
person read" for what is said outside their turn. `Engine` takes these methods as a base class.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from bot.engine.session import Session
from bot.errors import StorageError
from bot.storage.store import Store

# The engine's log lines keep one logger name, wherever in the engine they are written.
log = logging.getLogger("bot.engine.core")

MAX_TEXT_CHARS: Final = 4096


@dataclass
class Turn:
    """What one turn decided, for the statistics row (never the text)."""

    route: str = "none"
    intent: str | None = None
    # The language this message itself is written in, when it shows one (a safety answer follows it).
    language: str | None = None


class TurnRecords:
    """The session and statistics part of `Engine` (`self.store` and `self.user_hash` are the engine's)."""

    store: Store
    user_hash: Callable[[int], str]

    async def language_of(self, user_id: int) -> str | None:
        """A person's language, for what is said to them outside their own turn (staff actions, reminders)."""
        try:
            stored = await self.store.load_session(user_id) or {}
        except StorageError:
            return None
        language = stored.get("language")
        return language if isinstance(language, str) else None

    async def remember_once(self, key: str) -> bool:
        return await self.store.remember_once(key)

    async def _save(self, user_id: int, session: Session, turn: Turn) -> bool:
        """Keep the session (False when the database stayed locked); the statistics row is best effort."""
        try:
            await self.store.save_session(user_id, session.to_dict())
        except StorageError:
            log.error("session not saved user=%s route=%s", self.user_hash(user_id), turn.route)
            return False
        try:
            await self.store.record_turn(self.user_hash(user_id), turn.route, turn.intent)
        except StorageError:
            log.warning("turn statistics not recorded user=%s", self.user_hash(user_id))
        return True
