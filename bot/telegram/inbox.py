"""The application's update queue, made durable: an update is stored before Telegram hears it arrived.

python-telegram-bot's updater confirms a batch to Telegram (the offset of its next
getUpdates) as soon as it has put the batch in this queue, long before the updates are
handled: with a plain queue, a bot killed under load loses its whole backlog. Here `put`
writes the update to the inbox first, a second delivery of an update already received is
dropped, and `replay` queues again what a stopped bot had not finished handling.

An update is marked handled when its handling ends, so the one a person had in handling at
the instant of a kill is handled again after the restart: a message to staff may then
reach them twice, but none is lost (bookings and flows refuse to act twice on their own).

A handled update keeps only its id, so a second delivery of it is still dropped; `purge_handled`
forgets those ids after `HANDLED_UPDATES_KEEP` (run on the application's job queue).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from datetime import datetime, timedelta, timezone
from typing import Final, Protocol

from telegram import Bot, Update

from bot.errors import StorageError

LOGGER: Final = logging.getLogger("bot.telegram.inbox")
# Telegram redelivers an unconfirmed update for at most a day; after a week without updates it
# may even reuse ids, so remembering handled ones longer would drop new messages.
HANDLED_UPDATES_KEEP: Final = timedelta(days=2)


def stored_body(update: Update) -> str:
    """The update as JSON text SQLite can always store.

    Readable UTF-8 when possible; a string no encoder accepts (a lone surrogate, which
    ingress normally replaces) is kept as a JSON escape, and reads back unchanged.
    """
    body = json.dumps(update.to_dict(), ensure_ascii=False)
    try:
        body.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(update.to_dict(), ensure_ascii=True)
    return body


class UpdateInbox(Protocol):
    """Where received updates are kept until handled (`bot.storage.inbox_store.InboxStore`, wired in `bot/app.py`)."""

    async def receive(self, update_id: int, body: str) -> bool:
        """Keep an update; False when it was received before."""
        ...

    async def waiting(self) -> list[tuple[int, str]]:
        """Updates received but not handled, in order: (update id, stored body)."""
        ...

    async def handled(self, update_id: int) -> None:
        """Its handling ended."""
        ...

    async def purge(self, older_than: datetime) -> int:
        """Forget the ids of updates handled before `older_than`; returns how many went."""
        ...


class DurableUpdateQueue(asyncio.Queue[object]):
    """An `asyncio.Queue` for `ApplicationBuilder.update_queue` that keeps updates in the inbox."""

    def __init__(self, inbox: UpdateInbox) -> None:
        super().__init__()
        self.inbox = inbox

    async def put(self, item: object) -> None:
        """Store, then queue; an update received before is not queued again.

        Never raises for an update: the updater calls this inside its polling loop, and an
        exception here would end polling for everyone. An update that cannot be stored is
        still handled now; it is only not kept for a restart.
        """
        if isinstance(item, Update):
            try:
                if not await self.inbox.receive(item.update_id, stored_body(item)):
                    LOGGER.info("update=%s received again; dropped", item.update_id)
                    return
            except (StorageError, sqlite3.Error) as error:
                LOGGER.warning("update=%s not stored in the inbox error=%s", item.update_id, type(error).__name__)
            except Exception:  # noqa: BLE001 - see the docstring: polling must go on
                LOGGER.exception("update=%s not stored in the inbox", item.update_id)
        await super().put(item)

    async def replay(self, bot: Bot) -> int:
        """Queue the updates a previous run received but did not finish; returns how many."""
        waiting = await self.inbox.waiting()
        for update_id, body in waiting:
            try:
                update = Update.de_json(json.loads(body), bot)
            except Exception:  # a row this version cannot read must not keep the bot from starting
                update = None
            if update is None:
                LOGGER.warning("update=%s in the inbox is unreadable; skipped", update_id)
                await self.handled(update_id)
                continue
            await super().put(update)
        if waiting:
            LOGGER.info("inbox replayed=%d updates received before the restart", len(waiting))
        return len(waiting)

    async def handled(self, update_id: int) -> None:
        """Mark an update handled (`TelegramChannel.on_handled`); unmarked, it is handled again after a restart."""
        try:
            await self.inbox.handled(update_id)
        except (StorageError, sqlite3.Error):
            LOGGER.warning("update=%s not marked handled", update_id)

    async def purge_handled(self, now: datetime | None = None) -> int:
        """Forget handled update ids older than `HANDLED_UPDATES_KEEP`; a database fault waits for the next run."""
        moment = now or datetime.now(timezone.utc)
        try:
            purged = await self.inbox.purge(moment - HANDLED_UPDATES_KEEP)
        except (StorageError, sqlite3.Error) as error:
            LOGGER.warning("handled update ids not purged error=%s", type(error).__name__)
            return 0
        LOGGER.info("inbox purged handled_update_ids=%d", purged)
        return purged
