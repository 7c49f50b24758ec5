"""The staff group on Telegram: staff updates -> `StaffRouter`, and handoff deliveries -> topics.

Two jobs, both thin around the engine's channel-neutral staff side:
  * `StaffTelegram.on_update` is the channel's staff hook: it turns an update from the
    staff group into a `StaffIncoming`, asks Telegram whether the sender is a member of
    the staff group (every time: membership can change at any moment), and shows the
    result (a new message, an edited card, a notice on the pressed button).
  * `StaffTelegram.deliver` sends handoff messages from the outbox: in a forum it creates
    the person's topic once (again if staff deleted it, reopening it if they closed it),
    and reports every posted message id so staff replies find the person. When the staff
    group's details or a new topic cannot be read (a Bot API server answering in a form
    the library does not know), it falls back to the plain-group mode: one header per
    message instead of topics. Anything else it raises is the drainer's to isolate.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Final

from telegram import Bot, CallbackQuery, ChatMember, Message, Update
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import ContextTypes

from bot.engine.core import Delivery, Engine
from bot.engine.replies import Reply
from bot.features.handoff.feature import HANDOFF_STAFF_KINDS, HandoffDesk
from bot.features.staff.router import CentreDesk, StaffIncoming, StaffResult, centre_desk
from bot.telegram.codec import CallbackCodec
from bot.telegram.errors import hash_id, retry_after_seconds, with_retries
from bot.telegram.render import render_reply

if TYPE_CHECKING:
    from bot.telegram.channel import TelegramChannel

LOGGER: Final = logging.getLogger("bot.telegram.staff")
FORUM_CHECK_SECONDS: Final = 600.0
STAFF_RETRY_SECONDS: Final = 60.0
NETWORK_RETRY_SECONDS: Final = 5.0
SEND_ATTEMPTS: Final = 2
MEMBER_STATUSES: Final = frozenset({ChatMember.OWNER, ChatMember.ADMINISTRATOR, ChatMember.MEMBER})


def thread_of(message: Message) -> int | None:
    """The forum topic a message is in; None in the General topic and in plain groups."""
    return message.message_thread_id if message.is_topic_message else None


def reply_target(message: Message) -> int | None:
    """The message this one answers; in a topic, the topic's own root message does not count."""
    replied = message.reply_to_message
    if replied is None:
        return None
    if message.is_topic_message and replied.message_id == message.message_thread_id:
        return None
    return replied.message_id


def staff_incoming(update: Update, *, staff_chat_id: int, codec: CallbackCodec, verified: bool) -> StaffIncoming | None:
    """An update from the staff group as a `StaffIncoming`; None for anything staff did not write or press."""
    query = update.callback_query
    if query is not None:
        return _from_query(query, staff_chat_id=staff_chat_id, codec=codec, verified=verified)
    message = update.message
    if message is None or message.chat.id != staff_chat_id or message.text is None:
        return None
    user = message.from_user
    if user is None:
        return None
    return StaffIncoming(
        user_id=user.id,
        chat_id=message.chat.id,
        kind="text",
        text=message.text,
        thread_id=thread_of(message),
        reply_to_message_id=reply_target(message),
        message_id=message.message_id,
        verified_member=verified,
        first_name=user.first_name or "",
    )


def _from_query(query: CallbackQuery, *, staff_chat_id: int, codec: CallbackCodec, verified: bool) -> StaffIncoming | None:
    pressed = query.message
    if pressed is None or pressed.chat.id != staff_chat_id:
        return None
    # Staff buttons are signed for the staff group: a button from anywhere else decodes to nothing.
    payload = codec.decode(query.data, owner_id=staff_chat_id)
    if payload is None:
        return None
    thread = thread_of(pressed) if isinstance(pressed, Message) else None
    return StaffIncoming(
        user_id=query.from_user.id,
        chat_id=staff_chat_id,
        kind="button",
        button=payload,
        thread_id=thread,
        message_id=pressed.message_id,
        verified_member=verified,
        first_name=query.from_user.first_name or "",
    )


def addressed(incoming: StaffIncoming) -> bool:
    """Whether a staff update is for the bot: a button, a command, a reply, or a message in a topic.

    Staff talking among themselves in the group costs no membership check and does nothing.
    """
    return (
        incoming.kind == "button"
        or incoming.text.startswith("/")
        or incoming.thread_id is not None
        or incoming.reply_to_message_id is not None
    )


def speaks_as_the_group(message: Message | None, staff_chat_id: int) -> bool:
    """An anonymous admin of the staff group writes as the group itself: that is staff too."""
    return message is not None and message.sender_chat is not None and message.sender_chat.id == staff_chat_id


async def is_staff_member(bot: Bot, staff_chat_id: int, user_id: int, pseudonym: Callable[[int], str] = hash_id) -> bool:
    """Whether Telegram says `user_id` is in the staff group right now (owner, admin, member)."""
    try:
        member = await with_retries(lambda: bot.get_chat_member(staff_chat_id, user_id), attempts=SEND_ATTEMPTS, what="get_chat_member")
    except TelegramError as error:
        LOGGER.info("staff membership unknown user=%s error=%s", pseudonym(user_id), type(error).__name__)
        return False
    if member.status in MEMBER_STATUSES:
        return True
    return member.status == ChatMember.RESTRICTED and bool(getattr(member, "is_member", False))


def _thread_gone(error: BadRequest) -> bool:
    return "thread not found" in error.message.lower() or "topic_deleted" in error.message.lower()


def _topic_closed(error: BadRequest) -> bool:
    return "topic_closed" in error.message.lower()


class StaffTelegram:
    """The staff group's side of the Telegram channel (see the module docstring)."""

    def __init__(self, desk: CentreDesk, *, staff_chat_id: int) -> None:
        self.desk = desk
        self.staff_chat_id = staff_chat_id
        # The engine's pseudonym, so staff-side log lines name a person as the engine's do.
        self.pseudonym: Callable[[int], str] = desk.staff.engine.user_hash
        self.channel: TelegramChannel | None = None
        self._forum: bool | None = None
        self._forum_checked = 0.0
        self._topic_locks: dict[int, asyncio.Lock] = {}

    def bind(self, channel: TelegramChannel) -> None:
        """Use this channel's codec (buttons signed for the staff group) and send path."""
        self.channel = channel

    @property
    def handoff(self) -> HandoffDesk:
        return self.desk.handoff

    # --- updates from the staff group ---------------------------------------------------------

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The channel's staff hook: verify, route, show; the pressed button always stops spinning."""
        channel = self._channel()
        bot = context.bot
        query = update.callback_query
        incoming = staff_incoming(update, staff_chat_id=self.staff_chat_id, codec=channel.codec, verified=False)
        result = StaffResult(authorised=False)
        if incoming is not None and addressed(incoming):
            verified = await self._verify(bot, update, incoming.user_id)
            result = await self.desk.staff.handle(replace(incoming, verified_member=verified))
        if query is not None:
            await self._answer(bot, query, result.notice if result.authorised else None)
        if result.replies:
            await self._show(bot, channel, result, pressed=query.message.message_id if query and query.message else None)
        if channel.on_replied is not None:
            channel.on_replied()

    async def _verify(self, bot: Bot, update: Update, user_id: int) -> bool:
        """Asked for every command, button and relay: membership can change at any moment."""
        if speaks_as_the_group(update.message, self.staff_chat_id):
            return True
        user = update.effective_user
        if user is None or user.is_bot:
            return False
        # An admin needs no membership call; whether someone is one is the staff router's to say.
        return self.desk.staff.is_admin(user_id) or await is_staff_member(bot, self.staff_chat_id, user_id, self.pseudonym)

    async def _answer(self, bot: Bot, query: CallbackQuery, notice: str | None) -> None:
        try:
            await with_retries(lambda: bot.answer_callback_query(query.id, text=notice[:190] if notice else None), attempts=SEND_ATTEMPTS, what="answer_query")
        except BadRequest as error:
            LOGGER.debug("staff callback not answered: %s", type(error).__name__)

    async def _show(self, bot: Bot, channel: TelegramChannel, result: StaffResult, pressed: int | None) -> None:
        for item in result.replies:
            reply = replace(item.reply, edit_previous=item.edit_pressed)
            try:
                await channel.send_replies(
                    bot, self.staff_chat_id, [reply], pressed_message_id=pressed if item.edit_pressed else None, thread_id=item.thread_id
                )
            except (BadRequest, Forbidden) as error:
                LOGGER.warning("staff reply not shown error=%s", type(error).__name__)

    def _channel(self) -> TelegramChannel:
        if self.channel is None:
            raise RuntimeError("StaffTelegram.bind(channel) was not called")
        return self.channel

    # --- handoff deliveries from the outbox -----------------------------------------------------

    def handles(self, delivery: Delivery) -> bool:
        """Whether the drainer should hand this delivery to `deliver` (handoff messages for staff)."""
        return delivery.chat_id is None and getattr(delivery, "kind", "") in HANDOFF_STAFF_KINDS

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
        user_id = delivery.user_id
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
            await self.handoff.relay_sent(user_id, message_ids)
        except Exception as error:  # noqa: BLE001 - the message is out: sending it again would be worse
            LOGGER.warning(
                "handoff delivery=%s sent but not mapped error=%s: a reply to it will not reach user=%s",
                delivery.id, type(error).__name__, self.pseudonym(user_id),
            )

    async def _send_routed(self, bot: Bot, delivery: Delivery, user_id: int | None) -> list[int]:
        forum = await self.is_forum(bot)
        route = await self.handoff.staff_route(user_id, forum)
        thread = route.thread_id
        if route.new_topic is not None and user_id is not None:
            thread = await self._new_topic(bot, user_id, route.new_topic)
        try:
            return await self._send(bot, delivery.reply, thread)
        except BadRequest as error:
            if thread is None or user_id is None:
                raise
            if _topic_closed(error):
                await with_retries(lambda: bot.reopen_forum_topic(self.staff_chat_id, thread), attempts=SEND_ATTEMPTS, what="reopen_topic")
                return await self._send(bot, delivery.reply, thread)
            if not _thread_gone(error):
                raise
            LOGGER.info("staff topic of user=%s was deleted; creating it again", self.pseudonym(user_id))
            await self.handoff.topic_lost(user_id, thread)
            fresh = await self._new_topic(bot, user_id, await self.handoff.topic_title(user_id))
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
        await self.handoff.topic_created(user_id, topic.message_thread_id)
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


def staff_side(engine: Engine, *, staff_chat_id: int | None) -> StaffTelegram | None:
    """The staff group's side for an engine that declares booking and handoff; None without a staff group.

    Wire it with `build_application(..., staff_handler=side.on_update, delivery_router=side)`,
    then `side.bind(channel_of(application))` before the application starts.
    """
    desk = centre_desk(engine)
    if desk is None or staff_chat_id is None:
        return None
    return StaffTelegram(desk, staff_chat_id=staff_chat_id)
