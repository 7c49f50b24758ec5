"""Posting the outbox's messages for the staff into each person's forum topic (`StaffDeliveries`).

Kept apart from `staff.py` (updates from the staff group) because it is the other direction:
the person's topic is created once (again if staff deleted it, reopened if they closed it),
every posted message id is recorded so staff replies find the person, and when the group's
details or a new topic cannot be read it falls back to the plain-group mode (a header on each
message). Telegram's errors are answered here; anything else is the drainer's to isolate.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from telegram import Bot
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot.engine.outbox import Delivery
from bot.engine.replies import Reply
from bot.features.handoff.feature import HANDOFF_STAFF_KINDS, HandoffDesk
from bot.telegram.errors import retry_after_seconds, with_retries
from bot.telegram.render import render_reply
from bot.telegram.staff_channel import FAREWELL_KINDS, TelegramStaffChannel
from bot.telegram.staff_updates import LOGGER, SEND_ATTEMPTS

if TYPE_CHECKING:
    from bot.telegram.channel import TelegramChannel

FORUM_CHECK_SECONDS: Final = 600.0
STAFF_RETRY_SECONDS: Final = 60.0
NETWORK_RETRY_SECONDS: Final = 5.0
# Telegram allows 128 characters in a topic's name.
TOPIC_TITLE_LIMIT: Final = 120


def _thread_gone(error: BadRequest) -> bool:
    return "thread not found" in error.message.lower() or "topic_deleted" in error.message.lower()


def _topic_closed(error: BadRequest) -> bool:
    return "topic_closed" in error.message.lower()


class StaffDeliveries:
    """The delivery half of `StaffTelegram`: the outbox's messages about a person, into their topic."""

    staff_chat_id: int
    conversations: TelegramStaffChannel
    pseudonym: Callable[[int], str]
    handoff: HandoffDesk
    _forum: bool | None
    _forum_checked: float
    _topic_locks: dict[int, asyncio.Lock]

    def _channel(self) -> TelegramChannel:
        raise NotImplementedError

    def handles(self, delivery: Delivery) -> bool:
        """Whether the drainer should hand this delivery to `deliver`.

        Messages for the staff that belong in a person's conversation (the handoff's), and the
        farewell of a conversation whose person erased their data (queued with its topic).
        """
        return delivery.for_staff and (delivery.kind in HANDOFF_STAFF_KINDS or delivery.kind in FAREWELL_KINDS)

    async def is_forum(self, bot: Bot) -> bool:
        """Whether the staff group has topics enabled (asked again every few minutes: staff may switch it).

        On any error the answer is the plain-group mode (or the last known one while Telegram is
        briefly unreachable): a person's message is better posted with a header than held back.
        """
        if self._forum is not None and time.monotonic() - self._forum_checked < FORUM_CHECK_SECONDS:
            return self._forum
        try:
            chat = await with_retries(lambda: bot.get_chat(self.staff_chat_id), attempts=SEND_ATTEMPTS, what="get_chat")
            forum = bool(chat.is_forum)
        except TelegramError as error:
            LOGGER.warning("staff chat not readable error=%s", type(error).__name__)
            return bool(self._forum)
        except Exception as error:  # noqa: BLE001 - an answer the library cannot read: asking again soon will not help
            self._plain_group_mode(f"staff chat answer unreadable error={type(error).__name__}")
            return False
        self._forum, self._forum_checked = forum, time.monotonic()
        return forum

    def _plain_group_mode(self, why: str) -> None:
        """Use the plain-group mode (a header on each message, no topics) until the next forum check."""
        LOGGER.warning("%s; posting in the staff group without topics for now", why)
        self._forum, self._forum_checked = False, time.monotonic()

    async def deliver(self, bot: Bot, delivery: Delivery) -> float | None:
        """Send one handoff delivery to the staff group; None when settled, else seconds until a retry.

        Telegram's errors are answered here; anything else is raised for the drainer, which retries
        this delivery alone and sets it aside if it keeps failing. Once sent, it is settled.
        """
        user_id = delivery.about
        lock = self._topic_locks.setdefault(user_id or 0, asyncio.Lock())
        # One delivery per person at a time: a burst of first messages creates one topic, not several.
        async with lock:
            try:
                sent = await self._send_routed(bot, delivery, user_id)
            except RetryAfter as error:
                return retry_after_seconds(error)
            except (BadRequest, Forbidden) as error:
                LOGGER.warning("handoff delivery=%s refused error=%s; retrying later", delivery.id, type(error).__name__)
                return STAFF_RETRY_SECONDS
            except TelegramError as error:
                LOGGER.warning("handoff delivery=%s failed error=%s; retrying", delivery.id, type(error).__name__)
                return NETWORK_RETRY_SECONDS
        LOGGER.info("handoff delivery=%s kind=%s sent", delivery.id, delivery.kind)
        if user_id is not None:
            await self._remember_sent(delivery, user_id, sent)
        return None

    async def _remember_sent(self, delivery: Delivery, user_id: int, message_ids: list[int]) -> None:
        """Map the posted messages to the person; failing that costs only reply routing, never a second send."""
        try:
            await self.conversations.posted(user_id, message_ids)
        except Exception as error:  # noqa: BLE001 - the message is out: sending it again would be worse
            LOGGER.warning(
                "handoff delivery=%s sent but not mapped error=%s: a reply to it will not reach user=%s",
                delivery.id, type(error).__name__, self.pseudonym(user_id),
            )

    async def _thread(self, bot: Bot, delivery: Delivery, user_id: int | None) -> int | None:
        """Where a delivery goes: the person's topic (created now if they have none), or the group itself.

        A message about no one (a farewell) goes where it was queued for; in a plain group, nowhere but the group.
        """
        if user_id is None:
            return await self.conversations.thread_of_delivery(delivery.id)
        if not await self.is_forum(bot):
            return None
        thread = await self.conversations.thread_of(user_id)
        if thread is not None:
            return thread
        return await self._new_topic(bot, user_id, await self._title(user_id))

    async def _title(self, user_id: int) -> str:
        return (await self.handoff.conversation_title(user_id))[:TOPIC_TITLE_LIMIT]

    async def _send_routed(self, bot: Bot, delivery: Delivery, user_id: int | None) -> list[int]:
        thread = await self._thread(bot, delivery, user_id)
        try:
            return await self._send(bot, delivery.reply, thread)
        except BadRequest as error:
            if thread is None:
                raise
            if _topic_closed(error):
                await with_retries(lambda: bot.reopen_forum_topic(self.staff_chat_id, thread), attempts=SEND_ATTEMPTS, what="reopen_topic")
                return await self._send(bot, delivery.reply, thread)
            if not _thread_gone(error):
                raise
            if user_id is None:
                # The topic of a farewell is gone: the group itself still tells the staff.
                return await self._send(bot, delivery.reply, None)
            LOGGER.info("staff topic of user=%s was deleted; creating it again", self.pseudonym(user_id))
            await self.conversations.thread_lost(user_id, thread)
            fresh = await self._new_topic(bot, user_id, await self._title(user_id))
            return await self._send(bot, delivery.reply, fresh)

    async def _new_topic(self, bot: Bot, user_id: int, title: str) -> int | None:
        """Create the person's topic and record it; None (post in the group) if the bot may not create topics."""
        try:
            topic = await with_retries(lambda: bot.create_forum_topic(self.staff_chat_id, title), attempts=SEND_ATTEMPTS, what="create_topic")
        except BadRequest as error:
            LOGGER.warning("staff topic not created error=%s; posting in the group", type(error).__name__)
            return None
        except TelegramError:
            raise
        except Exception as error:  # noqa: BLE001 - an unreadable answer: trying again would leave a topic each time
            self._plain_group_mode(f"staff topic answer unreadable error={type(error).__name__}")
            return None
        await self.conversations.thread_created(user_id, topic.message_thread_id)
        return topic.message_thread_id

    async def _send(self, bot: Bot, reply: Reply, thread: int | None) -> list[int]:
        """Send a reply's messages into the staff group (and topic); returns their message ids."""
        ids: list[int] = []
        for message in render_reply(reply, self._channel().codec, self.staff_chat_id):
            sent = await with_retries(
                lambda message=message: bot.send_message(  # type: ignore[misc]
                    chat_id=self.staff_chat_id, text=message.text, reply_markup=message.markup, message_thread_id=thread
                ),
                attempts=SEND_ATTEMPTS,
                what="send_message",
            )
            ids.append(sent.message_id)
        return ids
