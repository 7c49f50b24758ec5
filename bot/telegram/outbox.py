"""Drain the engine's outbox (staff cards, messages to people from staff actions) into Telegram.

The engine stores a delivery before anyone is told it happened; this drainer sends it
and reports back, so a staff group that is briefly unreachable only delays a card.
It runs as a repeating job and, nudged after every turn, once more straight away.

A person's own replies come here too when Telegram did not take them at once
(`bot.telegram.late`): they go out in order (a later delivery to the same person waits
for an earlier one that failed), a stale ordinary reply is dropped, a safety answer never.

Every delivery is isolated: whatever goes wrong with one (a reply that cannot be
rendered, an answer the library cannot read, a database error in its bookkeeping) is
logged by type, never by text, and that delivery alone is retried with backoff; after
`MAX_FAULTS` faults it is set aside (kept out of the queue and reported by
`python -m bot doctor` and the staff's `/stats`), so nothing behind it waits. Only
Telegram itself being unreachable ends a run early. A delivery Telegram took is never
sent again, even when recording that it went out fails.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Final, Protocol

from telegram import Bot
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes

from bot.engine.replies import Reply
from bot.telegram.channel import TelegramChannel
from bot.telegram.errors import retry_after_seconds
from bot.telegram.late import LATE_KINDS, still_worth_sending

LOGGER: Final = logging.getLogger("bot.telegram.outbox")
BATCH: Final = 20
MAX_BATCHES_PER_RUN: Final = 10
SEND_ATTEMPTS: Final = 2
NETWORK_RETRY_SECONDS: Final = 5.0
STAFF_UNREACHABLE_RETRY_SECONDS: Final = 60.0
# A nudged drain waits this long, so a burst of turns costs one outbox query, not one each.
NUDGE_DELAY_SECONDS: Final = 0.2
# A delivery that fails for a reason other than Telegram being down is tried this many times in all
# (after 10 s, 30 s, 90 s, 270 s: about seven minutes), then set aside.
MAX_FAULTS: Final = 5
FIRST_FAULT_RETRY_SECONDS: Final = 10.0
MAX_FAULT_RETRY_SECONDS: Final = 3600.0


def fault_backoff(faults: int) -> float:
    """Seconds before the next try of a delivery that has failed `faults` times: 10, 30, 90, 270..."""
    return min(FIRST_FAULT_RETRY_SECONDS * 3 ** max(faults - 1, 0), MAX_FAULT_RETRY_SECONDS)


def raised_at(error: BaseException) -> str:
    """Where an exception was raised ("codec.py:52 in encode"): enough to find the bug, and no data."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    return f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno} in {last.name}"


class Delivery(Protocol):
    """One queued message (`bot.engine.outbox.Delivery`): for a person (their private chat), or `person` None: for the staff."""

    @property
    def id(self) -> int: ...

    @property
    def person(self) -> int | None: ...

    @property
    def reply(self) -> Reply: ...


class Outbox(Protocol):
    """The engine's side of the outbox."""

    async def due_deliveries(self, limit: int = BATCH) -> list[Delivery]: ...

    async def delivery_done(self, delivery_id: int) -> None: ...

    async def delivery_failed(self, delivery_id: int, retry_in_seconds: float) -> None: ...

    async def delivery_faulted(self, delivery_id: int, retry_in_seconds: float, fault: str) -> None: ...

    async def delivery_set_aside(self, delivery_id: int, fault: str) -> None: ...


class DeliveryRouter(Protocol):
    """Takes over some deliveries (`bot.telegram.staff.StaffTelegram`: those for a person's conversation with the staff, in its forum topic)."""

    def handles(self, delivery: Delivery) -> bool: ...

    async def deliver(self, bot: Bot, delivery: Delivery) -> float | None:
        """Send it; None when settled, else seconds until the next try."""
        ...


@dataclass(frozen=True)
class Paused:
    """A person's chat whose delivery `failed_id` failed: their later deliveries wait until `until` (monotonic)."""

    failed_id: int
    until: float


class OutboxDrainer:
    """Sends due deliveries one at a time (never two drains at once, so nothing goes out twice)."""

    def __init__(
        self,
        outbox: Outbox,
        channel: TelegramChannel,
        *,
        staff_chat_id: int | None,
        router: DeliveryRouter | None = None,
        max_faults: int = MAX_FAULTS,
        backoff: Callable[[int], float] = fault_backoff,
    ) -> None:
        self.outbox = outbox
        self.channel = channel
        self.staff_chat_id = staff_chat_id
        self.router = router
        self.max_faults = max_faults
        self.backoff = backoff
        self._lock = asyncio.Lock()
        self._nudge_pending = False
        self._paused: dict[int, Paused] = {}
        self._unreachable = False
        # Sent (or dropped) but not yet recorded as such: never sent again, only recorded again.
        self._sent: set[int] = set()

    async def drain(self, bot: Bot) -> int:
        """Send what is due now; returns how many deliveries were settled (done or rescheduled)."""
        settled = 0
        async with self._lock:
            self._unreachable = False
            for _ in range(MAX_BATCHES_PER_RUN):
                try:
                    due = await self.outbox.due_deliveries(BATCH)
                except Exception:
                    LOGGER.exception("outbox could not be read")
                    return settled
                for delivery in due:
                    await self._deliver_in_order(bot, delivery)
                    settled += 1
                    if self._unreachable:
                        # Telegram is down: the rest stays due for the next run instead of each failing in turn.
                        return settled
                if len(due) < BATCH:
                    break
        return settled

    async def _deliver_in_order(self, bot: Bot, delivery: Delivery) -> None:
        """A person's messages keep their order: after one failed, their later ones wait until it is retried."""
        chat = delivery.person
        if chat is None:
            await self._deliver(bot, delivery)
            return
        now = time.monotonic()
        paused = self._paused.get(chat)
        if paused is not None and now < paused.until and delivery.id > paused.failed_id:
            wait = paused.until - now
            await self._record(delivery, "rescheduled", lambda: self.outbox.delivery_failed(delivery.id, wait))
            return
        retry_in = await self._deliver(bot, delivery)
        if retry_in is not None:
            self._paused[chat] = Paused(failed_id=delivery.id, until=time.monotonic() + retry_in)
        elif paused is not None and paused.failed_id == delivery.id:
            del self._paused[chat]

    async def _deliver(self, bot: Bot, delivery: Delivery) -> float | None:
        """Deliver (or drop) one delivery and record it; returns the seconds until its retry, None when settled.

        Nothing raised here leaves this delivery: the run goes on with the next one.
        """
        if delivery.id not in self._sent:
            try:
                retry_in = await self._attempt(bot, delivery)
            except Exception as error:  # noqa: BLE001 - one broken delivery must not hold up the others
                return await self._faulted(delivery, error)
            if retry_in is not None:
                await self._record(delivery, "rescheduled", lambda: self.outbox.delivery_failed(delivery.id, retry_in))
                return retry_in
            self._sent.add(delivery.id)
        if await self._record(delivery, "delivered", lambda: self.outbox.delivery_done(delivery.id)):
            self._sent.discard(delivery.id)
        self._settled_late(delivery)
        return None

    async def _attempt(self, bot: Bot, delivery: Delivery) -> float | None:
        """Send or drop one delivery, recording nothing; None when it is settled, else seconds until a retry."""
        to_staff = delivery.person is None
        target = self.staff_chat_id if to_staff else delivery.person
        kind = str(getattr(delivery, "kind", ""))
        if target is None:
            LOGGER.info("outbox delivery=%s key=%s dropped: STAFF_CHAT_ID is not set", delivery.id, delivery.reply.key)
            return None
        if kind in LATE_KINDS and not still_worth_sending(kind, getattr(delivery, "created_at", None), datetime.now(timezone.utc)):
            LOGGER.info("outbox delivery=%s key=%s dropped: a late reply no longer fresh", delivery.id, delivery.reply.key)
            return None
        if self.router is not None and self.router.handles(delivery):
            return await self.router.deliver(bot, delivery)
        return await self._send(bot, delivery, target, to_staff)

    async def _faulted(self, delivery: Delivery, error: Exception) -> float | None:
        """Retry a delivery that raised, with backoff; set it aside after `max_faults` (None: it holds nothing up)."""
        faults = int(getattr(delivery, "faults", 0)) + 1
        fault, where = type(error).__name__, raised_at(error)
        kind = getattr(delivery, "kind", "")
        LOGGER.debug("outbox delivery=%s fault traceback", delivery.id, exc_info=error)
        if faults >= self.max_faults:
            LOGGER.error(
                "outbox delivery=%s kind=%s key=%s set aside after %d faults error=%s at=%s",
                delivery.id, kind, delivery.reply.key, faults, fault, where,
            )
            await self._record(delivery, "set aside", lambda: self.outbox.delivery_set_aside(delivery.id, fault))
            self._settled_late(delivery)
            return None
        retry_in = self.backoff(faults)
        LOGGER.warning(
            "outbox delivery=%s kind=%s key=%s fault %d/%d error=%s at=%s; retrying in %.0fs",
            delivery.id, kind, delivery.reply.key, faults, self.max_faults, fault, where, retry_in,
        )
        await self._record(delivery, "faulted", lambda: self.outbox.delivery_faulted(delivery.id, retry_in, fault))
        return retry_in

    async def _record(self, delivery: Delivery, what: str, write: Callable[[], Awaitable[None]]) -> bool:
        """Write a delivery's outcome to the outbox; a failure is logged and tried again on a later run."""
        try:
            await write()
        except Exception as error:  # noqa: BLE001 - the database failing must not stop the run either
            LOGGER.warning("outbox delivery=%s not recorded as %s error=%s", delivery.id, what, type(error).__name__)
            return False
        return True

    def _settled_late(self, delivery: Delivery) -> None:
        """A person's late reply is out of the queue: their new replies no longer wait behind it."""
        if getattr(delivery, "kind", "") in LATE_KINDS and delivery.person is not None:
            self.channel.backlog.settled(delivery.person, delivery.id)

    async def _send(self, bot: Bot, delivery: Delivery, target: int, to_staff: bool) -> float | None:
        """Send one delivery; None when it is settled, else seconds until the next try."""
        where = "staff" if to_staff else self.channel.pseudonym(target)
        try:
            await self.channel.send_replies(bot, target, [delivery.reply], attempts=SEND_ATTEMPTS)
        except RetryAfter as error:
            return retry_after_seconds(error)
        except (Forbidden, BadRequest) as error:
            if to_staff:
                LOGGER.warning("outbox delivery=%s to staff refused error=%s; retrying later", delivery.id, type(error).__name__)
                return STAFF_UNREACHABLE_RETRY_SECONDS
            LOGGER.info("outbox delivery=%s to=%s undeliverable error=%s", delivery.id, where, type(error).__name__)
            return None
        except TelegramError as error:
            LOGGER.warning("outbox delivery=%s to=%s failed error=%s; retrying", delivery.id, where, type(error).__name__)
            self._unreachable = True
            return NETWORK_RETRY_SECONDS
        LOGGER.info("outbox delivery=%s to=%s key=%s sent", delivery.id, where, delivery.reply.key)
        return None

    async def job(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The repeating JobQueue callback."""
        await self.drain(context.bot)

    def nudge(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """Drain soon, after a turn that may have queued something; a burst of nudges makes one run.

        A plain application task rather than a one-off job: the scheduler would log every run at INFO.
        """
        if self._nudge_pending or not application.running:
            return
        self._nudge_pending = True
        application.create_task(self._nudged(application.bot), name="outbox-nudge")

    async def _nudged(self, bot: Bot) -> None:
        await asyncio.sleep(NUDGE_DELAY_SECONDS)
        self._nudge_pending = False
        await self.drain(bot)
