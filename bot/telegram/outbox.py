"""Drain the engine's outbox (staff cards, messages to people from staff actions) into Telegram.

The engine stores a delivery before anyone is told it happened; this drainer sends it
and reports back, so a staff group that is briefly unreachable only delays a card.
It runs as a repeating job and, nudged after every turn, once more straight away.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Final, Protocol

from telegram import Bot
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes

from bot.engine.replies import Reply
from bot.telegram.channel import TelegramChannel
from bot.telegram.errors import retry_after_seconds

LOGGER: Final = logging.getLogger("bot.telegram.outbox")
BATCH: Final = 20
MAX_BATCHES_PER_RUN: Final = 10
SEND_ATTEMPTS: Final = 2
NETWORK_RETRY_SECONDS: Final = 5.0
STAFF_UNREACHABLE_RETRY_SECONDS: Final = 60.0
# A nudged drain waits this long, so a burst of turns costs one outbox query, not one each.
NUDGE_DELAY_SECONDS: Final = 0.2


class Delivery(Protocol):
    """One queued message: `chat_id` None means the staff group; `thread_id` a forum topic."""

    @property
    def id(self) -> int: ...

    @property
    def chat_id(self) -> int | None: ...

    @property
    def thread_id(self) -> int | None: ...

    @property
    def reply(self) -> Reply: ...


class Outbox(Protocol):
    """The engine's side of the outbox."""

    async def due_deliveries(self, limit: int = BATCH) -> list[Delivery]: ...

    async def delivery_done(self, delivery_id: int) -> None: ...

    async def delivery_failed(self, delivery_id: int, retry_in_seconds: float) -> None: ...


class DeliveryRouter(Protocol):
    """Takes over some deliveries (e.g. handoff relays that go to a person's forum topic)."""

    def handles(self, delivery: Delivery) -> bool: ...

    async def deliver(self, bot: Bot, delivery: Delivery) -> float | None:
        """Send it; None when settled, else seconds until the next try."""
        ...


class OutboxDrainer:
    """Sends due deliveries one at a time (never two drains at once, so nothing goes out twice)."""

    def __init__(
        self,
        outbox: Outbox,
        channel: TelegramChannel,
        *,
        staff_chat_id: int | None,
        router: DeliveryRouter | None = None,
    ) -> None:
        self.outbox = outbox
        self.channel = channel
        self.staff_chat_id = staff_chat_id
        self.router = router
        self._lock = asyncio.Lock()
        self._nudge_pending = False

    async def drain(self, bot: Bot) -> int:
        """Send what is due now; returns how many deliveries were settled (done or rescheduled)."""
        settled = 0
        async with self._lock:
            for _ in range(MAX_BATCHES_PER_RUN):
                try:
                    due = await self.outbox.due_deliveries(BATCH)
                except Exception:
                    LOGGER.exception("outbox could not be read")
                    return settled
                for delivery in due:
                    await self._deliver(bot, delivery)
                    settled += 1
                if len(due) < BATCH:
                    break
        return settled

    async def _deliver(self, bot: Bot, delivery: Delivery) -> None:
        to_staff = delivery.chat_id is None
        target = self.staff_chat_id if to_staff else delivery.chat_id
        if target is None:
            LOGGER.info("outbox delivery=%s key=%s dropped: STAFF_CHAT_ID is not set", delivery.id, delivery.reply.key)
            await self.outbox.delivery_done(delivery.id)
            return
        if self.router is not None and self.router.handles(delivery):
            retry_in = await self.router.deliver(bot, delivery)
        else:
            retry_in = await self._send(bot, delivery, target, to_staff)
        if retry_in is None:
            await self.outbox.delivery_done(delivery.id)
        else:
            await self.outbox.delivery_failed(delivery.id, retry_in)

    async def _send(self, bot: Bot, delivery: Delivery, target: int, to_staff: bool) -> float | None:
        """Send one delivery; None when it is settled, else seconds until the next try."""
        where = "staff" if to_staff else self.channel.pseudonym(target)
        try:
            await self.channel.send_replies(
                bot, target, [delivery.reply], thread_id=delivery.thread_id, attempts=SEND_ATTEMPTS
            )
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
